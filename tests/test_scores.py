"""The four score sources: music21's corpus and the OpenScore, Mutopia and Polish archives."""

import csv

import pytest

from cclib.corpus import load_score
from cclib.fileio import read_csv
from cclib.instruments import ENSEMBLES
from cclib.periods import load_periods
from cclib.scores import (SOURCES, ScoresError, all_scores, archive_scores, music21_scores,
                          openscore_dir, openscore_midi, openscore_scores, score_midi, score_title,
                          source_dir, work_group)


def test_openscore_lists_every_file_of_its_metadata_with_a_known_ensemble():
    with open(openscore_dir() / "metadata.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    scores = openscore_scores()
    assert len(scores) == len(rows) == 1459
    assert {score.ensemble for score in scores} == {"voice and piano", "string quartet"}
    assert all(score.ensemble in ENSEMBLES and score.title and score.group for score in scores)
    lang = [score for score in scores if score.path.startswith("midi/Lang_")]
    assert lang and {score.composer for score in lang} == {"Lang-Josephine"}


def test_every_openscore_file_is_midi_in_its_archive():
    scores = openscore_scores()
    for score in scores[::97]:  # a spread of the 1,459, across the four archives
        assert openscore_midi(score.path)[:4] == b"MThd", score.path
    with pytest.raises(ScoresError, match="not in scores/openscore/'s archives"):
        openscore_midi("midi/Nobody_1.mid")


def test_music21_scores_are_listed_once_in_their_preferred_format():
    scores = music21_scores()
    stems = [score.path.rsplit(".", 1)[0] for score in scores]
    assert len(stems) == len(set(stems))
    bwv277 = [score.path for score in scores if "bwv277" in score.path]
    assert bwv277 == ["bach/bwv277.mxl"]  # also in the corpus as .krn
    assert {s.ensemble for s in scores if s.path.startswith("palestrina/")} == {"voices"}


def test_a_work_in_several_sources_is_taken_from_one_only():
    both = {score.group for score in openscore_scores()} & {s.group for s in music21_scores()}
    assert both, "the sources share some works (Schubert's Lindenbaum, Beethoven's Op. 18)"
    scores = all_scores()
    for group in both:
        assert {score.origin for score in scores if score.group == group} == {"openscore"}, group
    origins: dict = {}
    for score in scores:
        origins.setdefault(score.group, set()).add(score.origin)
    assert all(len(found) == 1 for found in origins.values())
    mutopia = {score.group for score in archive_scores("mutopia")}
    assert mutopia & {s.group for s in music21_scores()}, "Bach's chorales are in both"
    assert [s.origin for s in all_scores(["music21"])] == ["music21"] * len(music21_scores())
    with pytest.raises(ScoresError, match="--sources: unknown source 'imslp'"):
        all_scores(["music21", "imslp"])
    assert SOURCES == ("music21", "openscore", "mutopia", "polish")


@pytest.mark.parametrize("source", ["mutopia", "polish"])
def test_an_imported_source_has_its_licences_credits_and_placed_composers(source):
    rows = read_csv(source_dir(source) / "metadata.csv")
    assert len(rows) > 500
    assert {row["licence"].rsplit("-", 1)[0] for row in rows} <= {"PD", "CC-BY", "CC-BY-SA"}
    assert all(row["source"].split()[-1].startswith("@") and row["ensemble"] in ENSEMBLES
               for row in rows)
    if source == "polish":
        assert all("Chopin Institute" in row["credit"] for row in rows)
    table = load_periods()
    unplaced = sorted({row["composer"] for row in rows if table.period_of(row["composer"]) is None})
    assert not unplaced, f"composers in no periods/ list: {unplaced[:10]}"
    scores = archive_scores(source)
    for score in scores[::max(1, len(scores) // 12)]:
        assert score_midi(score.source)[:4] == b"MThd", score.source


def test_a_composer_is_one_name_across_sources():
    names = {score.composer for score in all_scores()}
    assert "Mendelssohn" in names and "Mendelssohn-Bartholdy" not in names
    origins: dict = {}
    for score in all_scores():
        origins.setdefault(score.composer, set()).add(score.origin)
    assert {"mutopia", "polish"} <= origins["Handel"]  # "HandelGF" and "Händel, Georg Friedrich"
    assert {"mutopia", "polish"} <= origins["Lassus"]  # "LassusOd" and "Lasso, Orlando di"


@pytest.mark.parametrize("composer, text, group", [
    ("Schubert", "Winterreise, D.911: Der Lindenbaum", "Schubert d911"),
    ("Haydn", "String Quartet in C major, Hob.III:77", "Haydn hobiii77"),
    ("Beethoven", "beethoven/opus59no3/movement2.mxl", "Beethoven op59"),
    ("Debussy", "Ariettes oubliées: Green", "Debussy ariettes oubliees"),
])
def test_work_groups_come_from_catalogue_numbers_then_collections(composer, text, group):
    assert work_group(composer, text) == group


def test_a_title_comes_from_the_scores_metadata_or_its_file_name():
    from music21 import metadata, stream

    score = stream.Score()
    score.metadata = metadata.Metadata(title="String Quartet No. 2", movementName="Andante")
    assert score_title(score, "mozart/k156/movement2.mxl") == "String Quartet No. 2: Andante"
    score.metadata = metadata.Metadata(title="movement2.mxl")  # a file name is no title
    assert score_title(score, "mozart/k156/movement2.mxl") == "movement2"
    assert score_title(load_score("bach/bwv66.6"), "bach/bwv66.6.mxl") == "bwv66.6"
