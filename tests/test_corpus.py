"""The default corpus: work selection from both sources, soundfonts, instruments, repeats,
real FluidSynth rendering."""

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from music21 import bar, instrument, note, stream
from music21.midi import (ChannelVoiceMessages, DeltaTime, MetaEvents, MidiEvent, MidiFile,
                          MidiTrack)

from cclib.corpus import (CORPUS_COMPOSERS, CorpusError, _release_notes_at_end, build_corpus,
                          find_soundfont, find_soundfonts, list_works, load_score, render_midi,
                          set_instrument, soundfont_name, write_midi)
from cclib.periods import load_periods
from cclib.instruments import ENSEMBLES
from cclib.scores import all_scores, openscore_midi, score_ensemble


def midi_programs(path) -> set:
    midi = MidiFile()
    midi.open(str(path))
    midi.read()
    midi.close()
    return {event.data for track in midi.tracks for event in track.events
            if event.type == ChannelVoiceMessages.PROGRAM_CHANGE}


def test_selection_is_reproducible_and_numbers_are_stable():
    small = list_works(max_works=3, composers=["Bach", "mozart"], seed=0)
    assert [w.name for w in small] == ["Bach_1", "Bach_2", "Bach_3", "Mozart_1", "Mozart_2",
                                       "Mozart_3"]
    assert small == list_works(max_works=3, composers=["Bach", "mozart"], seed=0)
    larger = list_works(max_works=5, composers=["Bach", "mozart"], seed=0)
    assert set(small) <= set(larger)  # raising the cap adds works, renumbers none
    other_seed = list_works(max_works=3, composers=["Bach"], seed=1)
    assert [w.source for w in other_seed] != [w.source for w in small[:3]]


def test_every_corpus_folder_gives_works_and_singletons_are_kept():
    works = list_works(max_works=1, sources=["music21"])
    assert {w.composer for w in works} == set(CORPUS_COMPOSERS.values())
    assert not any(w.source.endswith(".rntxt") for w in list_works(max_works=None,
                                                                  composers=["Monteverdi"]))


def test_openscore_brings_songs_and_quartets_of_every_period_since_the_classical():
    scores = all_scores(["openscore"])
    assert len(scores) == 1459
    assert {s.ensemble for s in scores} == {"voice and piano", "string quartet"}
    table = load_periods()
    periods = {table.period_of(s.composer) for s in scores}
    assert periods == {"classical", "romantic", "impressionist", "20thcentury"}
    assert {table.period_of(s.composer) for s in scores if s.ensemble == "string quartet"} == \
        {"classical", "romantic", "impressionist", "20thcentury"}
    # Josephine Lang is not the 21st-century David Lang of periods/21stcentury.txt
    assert table.period_of(next(s.composer for s in scores if "Lang" in s.composer)) == "romantic"
    assert openscore_midi(scores[0].path)[:4] == b"MThd"


def test_a_work_in_both_sources_is_taken_once_with_its_movements_in_one_group():
    both = all_scores()
    music21_groups = {s.group for s in both if s.origin == "music21"}
    assert "Beethoven op18" not in music21_groups  # Op. 18 comes from OpenScore only
    assert any(s.group == "Beethoven op18" for s in both if s.origin == "openscore")
    alone = [s for s in all_scores(["music21"]) if s.path.startswith("mozart/k156/")]
    assert len(alone) == 4 and len({s.group for s in alone}) == 1  # four movements, one work
    masses = {s.group for s in all_scores(["music21"]) if "Agnus_I_34" in s.path or
              "Kyrie_34" in s.path}
    assert masses == {"Palestrina mass 34"}


def test_each_work_gets_a_seeded_soundfont_that_a_cap_does_not_change():
    fonts = ("TimGM6mb", "MuseScore_General_Lite")
    small = list_works(max_works=4, composers=["Brahms", "Bach"], soundfonts=fonts)
    large = list_works(max_works=8, composers=["Brahms", "Bach"], soundfonts=fonts)
    chosen = {w.name: w.soundfont for w in large}
    assert all(chosen[w.name] == w.soundfont for w in small)
    assert {w.soundfont for w in large} == set(fonts)
    assert [w.soundfont for w in list_works(max_works=8, composers=["Brahms"], soundfonts=fonts,
                                            seed=1)] != [w.soundfont for w in large[8:]]


def test_the_evaluation_soundfont_is_used_only_when_named(monkeypatch):
    monkeypatch.delenv("CCLIB_SOUNDFONT", raising=False)
    found = [soundfont_name(p) for p in find_soundfonts()]
    assert "FluidR3_GM" not in found and found[0] == "TimGM6mb"
    with pytest.raises(CorpusError, match="--soundfonts: 'NoSuchFont' is not installed"):
        find_soundfonts(["NoSuchFont"])


def test_ensembles_come_from_the_parts_of_the_score():
    assert score_ensemble(load_score("bach/bwv66.6")) == "voices"
    assert score_ensemble(load_score("mozart/k156/movement2.mxl")) == "string quartet"
    assert score_ensemble(load_score("schumann_robert/opus48no2.mxl")) == "voice and piano"
    assert score_ensemble(load_score("schoenberg/opus19/movement2.mxl")) == "keyboard"
    assert score_ensemble(load_score("webern/webern_dormi_jesu_op_16_no_2.mxl")) == \
        "voices and instruments"  # soprano, clarinet and bass clarinet
    assert set(ENSEMBLES) >= {"voices", "keyboard", "string quartet", "voice and piano"}


@pytest.mark.parametrize("choice, programs", [("piano", {0}), ("strings", {48})])
def test_one_instrument_plays_every_part(tmp_path, choice, programs):
    score = load_score("bach/bwv66.6")
    set_instrument(score, choice)
    write_midi(score, tmp_path / "x.mid")
    assert midi_programs(tmp_path / "x.mid") == programs


@pytest.mark.parametrize("path, programs", [
    ("palestrina/Agnus_01.krn", {52}),  # five voices: a choir
    ("mozart/k156/movement2.mxl", {40, 41, 42}),  # violins, viola, cello
    ("schumann_robert/opus48no2.mxl", {53, 0}),  # a voice (music21 says "Choir Aahs") and piano
])
def test_score_instrument_plays_each_part_as_written(tmp_path, path, programs):
    score = load_score(path)
    set_instrument(score, "score")
    write_midi(score, tmp_path / "x.mid")
    assert midi_programs(tmp_path / "x.mid") == programs


def test_josquin_voices_are_stacked_into_one_score():
    score = load_score("josquin/adieuMesAmours.abc")
    assert isinstance(score, stream.Score) and len(score.parts) == 4


def test_badly_formed_repeats_are_played_straight_through(tmp_path):
    part = stream.Part()
    for number in range(1, 5):
        measure = stream.Measure(number=number)
        measure.append(note.Note("C4", quarterLength=4))
        part.append(measure)
    measures = list(part.getElementsByClass("Measure"))
    measures[0].leftBarline = bar.Repeat(direction="start")
    measures[1].rightBarline = bar.Repeat(direction="end")
    measures[2].rightBarline = bar.Repeat(direction="end", times=2)
    measures[3].leftBarline = bar.Repeat(direction="start")
    score = stream.Score([part])
    part.insert(0, instrument.Piano())
    write_midi(score, tmp_path / "x.mid")  # music21 alone raises ExpanderException here
    midi = MidiFile()
    midi.open(str(tmp_path / "x.mid"))
    midi.read()
    midi.close()
    starts = [event for track in midi.tracks for event in track.events
              if event.type == ChannelVoiceMessages.NOTE_ON and event.velocity > 0]
    assert len(starts) == 4  # each measure once: straight through, no repeat taken


@pytest.mark.slow
def hanging_note_midi(path, *, release: bool) -> None:
    """Two seconds of a strings C4 whose note-off is missing (as music21 sometimes writes)."""
    midi = MidiFile()
    midi.ticksPerQuarterNote = 1024
    track = MidiTrack(1)
    events = [(0, ChannelVoiceMessages.PROGRAM_CHANGE, 48, None),
              (0, ChannelVoiceMessages.NOTE_ON, 60, 90),
              (4096, ChannelVoiceMessages.NOTE_ON, 64, 90),  # at 2 s (120 bpm): E4 ...
              (0, ChannelVoiceMessages.NOTE_OFF, 64, 0)]     # ... zero length
    for delta, kind, data1, data2 in events:
        track.events.append(DeltaTime(track, time=delta))
        event = MidiEvent(track, type=kind, channel=1)
        if kind == ChannelVoiceMessages.PROGRAM_CHANGE:
            event.data = data1
        else:
            event.pitch, event.velocity = data1, data2
        track.events.append(event)
    track.events.append(DeltaTime(track, time=0))
    end = MidiEvent(track, type=MetaEvents.END_OF_TRACK)
    end.data = b""
    track.events.append(end)
    midi.tracks.append(track)
    if release:
        _release_notes_at_end(midi)
    midi.open(str(path), "wb")
    midi.write()
    midi.close()


def test_the_library_renders_what_the_fluidsynth_command_renders(tmp_path):
    import subprocess

    score = load_score("bach/bwv66.6")
    write_midi(score, tmp_path / "x.mid")
    soundfont = find_soundfont()
    render_midi(tmp_path / "x.mid", tmp_path / "library.wav", soundfont=soundfont)
    subprocess.run(["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.6", "-r", "22050",
                    "-F", str(tmp_path / "command.wav"), str(soundfont), str(tmp_path / "x.mid")],
                   check=True, capture_output=True)
    library, _ = sf.read(tmp_path / "library.wav", dtype="int16")
    command, _ = sf.read(tmp_path / "command.wav", dtype="int16")
    assert library.shape == command.shape and np.abs(library - command).max() <= 1
    render_midi(tmp_path / "x.mid", tmp_path / "again.wav", soundfont=soundfont, max_seconds=4)
    again, _ = sf.read(tmp_path / "again.wav", dtype="int16")
    np.testing.assert_array_equal(again, library[:len(again)])  # the same opening, cut at 4 s
    assert abs(len(again) / 22050 - 4) < 0.01


def test_one_program_replaces_every_program_change_while_rendering(tmp_path):
    hanging_note_midi(tmp_path / "strings.mid", release=True)  # a strings (48) note
    strings_as_piano = tmp_path / "strings.mid"
    midi = MidiFile()
    midi.open(str(strings_as_piano))
    midi.read()
    midi.close()
    for track in midi.tracks:
        for event in track.events:
            if event.type == ChannelVoiceMessages.PROGRAM_CHANGE:
                event.data = 0
    midi.open(str(tmp_path / "piano.mid"), "wb")
    midi.write()
    midi.close()
    soundfont = find_soundfont()
    render_midi(tmp_path / "strings.mid", tmp_path / "forced.wav", soundfont=soundfont,
                instrument="piano")
    render_midi(tmp_path / "piano.mid", tmp_path / "piano.wav", soundfont=soundfont)
    render_midi(tmp_path / "strings.mid", tmp_path / "strings.wav", soundfont=soundfont)
    forced, piano, strings = (sf.read(tmp_path / f"{n}.wav")[0] for n in ("forced", "piano",
                                                                          "strings"))
    np.testing.assert_array_equal(forced, piano)
    assert forced.shape != strings.shape or np.abs(forced - strings).max() > 0.01


def test_a_note_left_on_is_released_at_the_end_so_strings_stop(tmp_path):
    hanging_note_midi(tmp_path / "fixed.mid", release=True)
    render_midi(tmp_path / "fixed.mid", tmp_path / "fixed.wav", soundfont=find_soundfont(),
                timeout=60)
    assert 2.0 <= sf.info(tmp_path / "fixed.wav").duration < 10.0  # the note and its release
    hanging_note_midi(tmp_path / "hanging.mid", release=False)
    from cclib.corpus import WorkTimeout
    with pytest.raises(WorkTimeout, match="FluidSynth took longer than 1 s"):
        render_midi(tmp_path / "hanging.mid", tmp_path / "hanging.wav",
                    soundfont=find_soundfont(), timeout=1)
    (tmp_path / "hanging.wav").unlink()  # hundreds of megabytes of one endless note


def test_build_renders_real_audio_and_resumes(tmp_path, capsys):
    out = tmp_path / "audio"
    summary = build_corpus(out, max_works=2, composers=["Bach"], sources=["music21"], jobs=2,
                           progress=False)
    assert (summary.done, summary.failed) == (2, 0)
    for name in ("Bach_1.wav", "Bach_2.wav"):
        y, sr = sf.read(out / name)
        assert sr == 22050 and len(y) > 10 * sr
        assert np.sqrt(np.mean(y ** 2)) > 0.01  # real music, not silence
    assert sorted(p.name for p in out.iterdir()) == [
        "Bach_1.wav", "Bach_2.wav", "corpus-failed.csv", "corpus-summary.json", "corpus.csv",
        "corpus.json"]
    again = build_corpus(out, max_works=2, composers=["Bach"], sources=["music21"], jobs=1,
                         progress=False)
    assert (again.done, again.already_done) == (0, 2)
    settings = json.loads((out / "corpus.json").read_text())
    assert settings["instrument"] == "piano" and settings["max_seconds"] == 180.0
    table = pd.read_csv(out / "corpus.csv", keep_default_na=False)
    assert table.columns.tolist() == ["file", "composer", "work", "source", "title", "ensemble",
                                      "soundfont", "instrument", "seconds"]
    assert set(table.ensemble) == {"voices"} and table.source.str.startswith("music21:bach/").all()
    with pytest.raises(CorpusError, match="instrument: 'piano' there, 'strings' asked"):
        build_corpus(out, max_works=2, composers=["Bach"], sources=["music21"],
                     instrument="strings", progress=False)


def test_openscore_works_render_their_opening_through_their_soundfont(tmp_path):
    out = tmp_path / "audio"
    summary = build_corpus(out, max_works=2, composers=["Ravel", "Satie"], max_seconds=6,
                           sources=["openscore"], jobs=1, progress=False)
    assert (summary.done, summary.failed) == (3, 0)  # Ravel wrote one quartet here
    table = pd.read_csv(out / "corpus.csv", keep_default_na=False).set_index("file")
    assert table.loc["Ravel_1.wav", "ensemble"] == "string quartet"
    assert table.loc["Satie_1.wav", "ensemble"] == "voice and piano"
    assert set(table.soundfont) <= {"TimGM6mb", "MuseScore_General_Lite"}
    for name in table.index:
        assert abs(sf.info(out / name).duration - 6) < 0.05


@pytest.mark.slow
def test_a_work_over_its_time_limit_is_skipped_remembered_and_retried_on_request(tmp_path):
    out = tmp_path / "audio"
    first = build_corpus(out, max_works=1, composers=["Bach"], sources=["music21"], jobs=1,
                         timeout=0.001, progress=False)
    assert (first.done, first.failed) == (0, 1)
    assert "took more than 0.001 s of CPU" in first.failures[0]
    assert not list(out.glob("*.wav")) and not list(out.glob(".*"))  # nothing half-written
    second = build_corpus(out, max_works=1, composers=["Bach"], sources=["music21"], jobs=1,
                          progress=False)
    assert (second.done, second.failed) == (0, 1)  # remembered, not retried
    third = build_corpus(out, max_works=1, composers=["Bach"], sources=["music21"], jobs=1,
                         retry_failed=True, progress=False)
    assert (third.done, third.failed) == (1, 0)
    assert (out / "corpus-failed.csv").read_text().strip() == "file,source,reason"


@pytest.mark.slow
def test_cli_renders_and_reports(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "strings"
    done = subprocess.run([sys.executable, "-m", "cclib.cli", "corpus", "--out", str(out),
                           "--composers", "Bach", "--max-works", "1", "--instrument", "strings",
                           "--sources", "music21", "--jobs", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("corpus: 1 works rendered, 0 already done, 0 failed")
    assert json.loads((out / "corpus.json").read_text())["instrument"] == "strings"
    bad = subprocess.run([sys.executable, "-m", "cclib.cli", "corpus", "--max-works", "0"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "must be at least 1" in bad.stderr
