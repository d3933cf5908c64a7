"""The default corpus: work selection, instruments, repeats, real FluidSynth rendering."""

import json

import numpy as np
import pytest
import soundfile as sf
from music21 import bar, instrument, note, stream
from music21.midi import (ChannelVoiceMessages, DeltaTime, MetaEvents, MidiEvent, MidiFile,
                          MidiTrack)

from cclib.corpus import (CORPUS_COMPOSERS, CorpusError, _release_notes_at_end, build_corpus,
                          find_soundfont, list_works, load_score, render_midi, set_instrument,
                          write_midi)


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
    works = list_works(max_works=1)
    assert {w.composer for w in works} == set(CORPUS_COMPOSERS.values())
    assert not any(w.source.endswith(".rntxt") for w in list_works(max_works=None,
                                                                  composers=["Monteverdi"]))


@pytest.mark.parametrize("choice, programs", [("piano", {0}), ("strings", {48})])
def test_one_instrument_plays_every_part(tmp_path, choice, programs):
    score = load_score("bach/bwv66.6")
    set_instrument(score, choice)
    write_midi(score, tmp_path / "x.mid")
    assert midi_programs(tmp_path / "x.mid") == programs


def test_score_instrument_keeps_the_encoded_ones(tmp_path):
    score = load_score("palestrina/Agnus_01.krn")
    set_instrument(score, "score")
    write_midi(score, tmp_path / "x.mid")
    assert 0 not in midi_programs(tmp_path / "x.mid")  # Palestrina is encoded as voices


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
    assert (tmp_path / "x.mid").stat().st_size > 0


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
    summary = build_corpus(out, max_works=2, composers=["Bach"], jobs=2, progress=False)
    assert (summary.rendered, summary.failed) == (2, 0)
    for name in ("Bach_1.wav", "Bach_2.wav"):
        y, sr = sf.read(out / name)
        assert sr == 22050 and len(y) > 10 * sr
        assert np.sqrt(np.mean(y ** 2)) > 0.01  # real music, not silence
    assert sorted(p.name for p in out.iterdir()) == [
        "Bach_1.wav", "Bach_2.wav", "corpus-failed.csv", "corpus-summary.json", "corpus.csv",
        "corpus.json"]
    again = build_corpus(out, max_works=2, composers=["Bach"], jobs=1, progress=False)
    assert (again.rendered, again.already_done) == (0, 2)
    assert json.loads((out / "corpus.json").read_text())["instrument"] == "piano"
    with pytest.raises(CorpusError, match="choose another --out"):
        build_corpus(out, max_works=2, composers=["Bach"], instrument="strings", progress=False)


@pytest.mark.slow
def test_a_work_over_its_time_limit_is_skipped_remembered_and_retried_on_request(tmp_path):
    out = tmp_path / "audio"
    first = build_corpus(out, max_works=1, composers=["Bach"], jobs=1, timeout=0.001,
                         progress=False)
    assert (first.rendered, first.failed) == (0, 1)
    assert "took longer than 0.001 s" in first.failures[0]
    assert not list(out.glob("*.wav")) and not list(out.glob(".*"))  # nothing half-written
    second = build_corpus(out, max_works=1, composers=["Bach"], jobs=1, progress=False)
    assert (second.rendered, second.failed) == (0, 1)  # remembered, not retried
    third = build_corpus(out, max_works=1, composers=["Bach"], jobs=1, retry_failed=True,
                         progress=False)
    assert (third.rendered, third.failed) == (1, 0)
    assert (out / "corpus-failed.csv").read_text().strip() == "file,source,reason"


@pytest.mark.slow
def test_cli_renders_and_reports(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "strings"
    done = subprocess.run([sys.executable, "-m", "cclib.cli", "corpus", "--out", str(out),
                           "--composers", "Bach", "--max-works", "1", "--instrument", "strings",
                           "--jobs", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("corpus: 1 works rendered, 0 already done, 0 failed")
    assert json.loads((out / "corpus.json").read_text())["instrument"] == "strings"
    bad = subprocess.run([sys.executable, "-m", "cclib.cli", "corpus", "--max-works", "0"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "must be at least 1" in bad.stderr
