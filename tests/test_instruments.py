"""One instrument table for every source: part names and Humdrum codes to programs and ensembles."""

import pytest

from cclib.instruments import (ENSEMBLES, as_choir, ensemble, humdrum_instrument, instrument,
                               name_instrument, part_instruments)


@pytest.mark.parametrize("name, expected", [
    ("Violino I", "violin"), ("Violoncello", "cello"), ("Bratsche", "viola"),
    ("Kontrabass", "double bass"), ("Cembalo", "harpsichord"), ("Orgel", "organ"),
    ("Flauto traverso", "flute"), ("Corno in F", "horn"), ("Trompete", "trumpet"),
    ("Soprano", "voice"), ("Tenore Vagante.", "voice"), ("Chor", "choir"),
    ("Eb Alto Saxophone", "saxophone"), ("Tenor trombone", "trombone"),
    ("Basso continuo", "organ"), ("acoustic grand", "piano"), ("choir aahs", "choir"),
])
def test_a_part_name_in_several_languages_names_its_instrument(name, expected):
    assert name_instrument(name).name == expected


def test_unnamed_staves_and_bare_basses_are_placed_by_their_neighbours():
    assert name_instrument("up:A") is None
    sung = part_instruments(["Sopran", "Alt", "Tenor", "Bass"])
    assert {i.kind for i in sung} == {"voice"}
    assert [i.name for i in part_instruments(["Violino", "Basso"])] == ["violin", "double bass"]
    assert part_instruments(["up", "down"], default=instrument("piano"))[0].program == 0


def test_humdrum_codes_of_the_polish_scores_are_read():
    assert humdrum_instrument("*Ivioln").program == 40
    assert humdrum_instrument("*Iclrno").name == "trumpet"
    assert humdrum_instrument("*Icello&Icbass").name == "cello"
    assert humdrum_instrument("*Iempty") is None


def test_a_choir_sings_with_the_choir_program_a_soloist_with_the_voice():
    assert {i.program for i in as_choir([instrument("voice")] * 4)} == {52}
    assert [i.program for i in as_choir([instrument("voice"), instrument("piano")])] == [53, 0]


@pytest.mark.parametrize("kinds, hint, expected", [
    (["keyboard"], "", "keyboard"), (["keyboard", "keyboard"], "", "keyboard"),
    (["organ"], "", "organ"), (["voice"] * 4, "", "voices"),
    (["voice", "keyboard"], "", "voice and piano"),
    (["voice"] * 4 + ["organ", "string", "string"], "", "voices and instruments"),
    (["string"] * 4, "", "string quartet"), (["string", "string", "string"], "", "strings and chamber"),
    (["string", "keyboard"], "", "strings and chamber"), (["pluck"], "", "guitar and lute"),
    (["string"] * 6 + ["wind"] * 4 + ["brass"] * 2, "", "orchestra"),
    (["string", "string"], "Orchestra", "orchestra"), (["percussion"], "", "other"),
    ([None, None], "", "other"),
])
def test_the_parts_kinds_give_the_ensemble(kinds, hint, expected):
    assert ensemble(kinds, hint=hint) == expected
    assert expected in ENSEMBLES
