"""The Mutopia import: LilyPond sources of a tiny repository made here, converted end to end."""

import shutil

import pytest
from music21 import converter

from cclib.archives import read_archives
from cclib.fileio import read_csv
from cclib.mutopia import (field_ensemble, import_mutopia, licence_class, list_pieces,
                           select_pieces)
from cclib.archives import SourceTree

needs_lilypond = pytest.mark.skipif(shutil.which("lilypond") is None,
                                    reason="LilyPond is not installed (make setup installs it)")

HEADER = """\\version "2.18.2"
\\header {{
  mutopiatitle = "{title}"
  mutopiacomposer = "{code}"
  mutopiaopus = "{opus}"
  mutopiainstrument = "{instruments}"
  composer = "J. S. Bach (1685-1750)"
  style = "{style}"
  {licence}
  maintainer = "A. Tester"
}}
"""

SONG = """\\score {
  <<
    \\new Staff = "Voice" { \\set Staff.midiInstrument = "flute" c''4 d'' e'' f'' g''1 }
    \\new PianoStaff <<
      \\new Staff = "up" { <c' e' g'>1 <d' f' b'>1 }
      \\new Staff = "down" { \\clef bass c1 g,1 }
    >>
  >>
  \\layout { }
  \\midi { \\tempo 4 = 120 }
}
"""


def write_piece(root, key, *, title="A Song", code="BachJS", opus="BWV 9999",
                instruments="Voice and Piano", style="Baroque", music=SONG,
                licence='license = "Creative Commons Attribution-ShareAlike 4.0"'):
    folder = root / "ftp" / key
    folder.mkdir(parents=True)
    name = key.rsplit("/", 1)[1]
    (folder / f"{name}.ly").write_text(HEADER.format(title=title, code=code, opus=opus,
                                                     instruments=instruments, style=style,
                                                     licence=licence) + music)


@pytest.fixture
def repository(tmp_path):
    root = tmp_path / "MutopiaProject"
    write_piece(root, "BachJS/BWV9999/song")
    write_piece(root, "BachJS/BWV9998/broken", title="Broken", opus="BWV 9998",
                music="\\score { { c'4 d'' <<< } \\midi { } }\n")
    write_piece(root, "SousaJP/march", code="SousaJP", style="March")
    write_piece(root, "BachJS/BWV9997/unlicensed", licence="")
    return root


def test_pieces_are_read_with_their_headers_and_left_out_for_what_they_are(repository):
    pieces = {piece.key: piece for piece in list_pieces(SourceTree(repository))}
    assert sorted(pieces) == ["BachJS/BWV9997/unlicensed", "BachJS/BWV9998/broken",
                              "BachJS/BWV9999/song", "SousaJP/march"]
    song = pieces["BachJS/BWV9999/song"]
    assert (song.composer, song.licence, song.ensemble) == ("Bach", "CC-BY-SA-4.0",
                                                            "voice and piano")
    assert pieces["BachJS/BWV9997/unlicensed"].licence is None


@needs_lilypond
def test_a_piece_is_converted_end_to_end_and_a_broken_one_named_and_skipped(repository, tmp_path):
    out = tmp_path / "scores" / "mutopia"
    counts = import_mutopia(repository, out, progress=False)
    assert counts == {"pieces": 4, "eligible": 2, "selected": 2, "converted": 1, "skipped": 1,
                      "files": 1}
    (row,) = read_csv(out / "metadata.csv")
    assert row["file"] == "midi/BachJS__BWV9999__song__song.mid"
    assert (row["composer"], row["ensemble"], row["licence"]) == ("Bach", "voice and piano",
                                                                  "CC-BY-SA-4.0")
    assert row["programs"] == "53 0 0"  # the voice sings (LilyPond gave it a flute), piano below
    assert (row["work"], row["born"], row["died"]) == ("Bach bwv9999", "1685", "1750")
    (skipped,) = read_csv(out / "skipped.csv")
    assert skipped["piece"] == "BachJS/BWV9998/broken" and "no MIDI" in skipped["reason"]
    midi = read_archives(out)[row["file"]]
    voice = converter.parse(midi, format="midi").parts[0]
    assert [n.nameWithOctave for n in voice.recurse().notes][:5] == ["C5", "D5", "E5", "F5", "G5"]


@needs_lilypond
def test_the_same_repository_imported_twice_gives_identical_archives(repository, tmp_path):
    import_mutopia(repository, tmp_path / "first", progress=False)
    import_mutopia(repository, tmp_path / "second", progress=False, jobs=2)
    for name in ("midi-1.tar.xz", "metadata.csv", "skipped.csv"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()


def test_licences_that_forbid_commercial_use_are_refused():
    assert licence_class("Creative Commons Attribution-NonCommercial-ShareAlike 3.0") is None
    assert licence_class("Public Domain") == "PD"
    assert licence_class("Creative Commons Attribution 2.5") == "CC-BY-2.5"


def test_a_cap_per_composer_and_ensemble_keeps_the_first_in_a_seeded_order(repository):
    pieces = list_pieces(SourceTree(repository))
    assert len(select_pieces(pieces, cap=1)) == 2  # Bach's songs, Sousa's march
    assert select_pieces(pieces, cap=1, seed=0) == select_pieces(pieces, cap=1, seed=0)
    assert field_ensemble("Harpsichord, Piano, Clavichord") == "keyboard"
