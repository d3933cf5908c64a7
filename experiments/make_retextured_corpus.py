"""The default corpus's OpenScore works again, each re-written in another texture.

For the experiment "hear each period in several textures" (issue 10): in the
default corpus a period comes in nearly one ensemble, so a model learns the
ensemble. This script takes every OpenScore work of a rendered corpus (its
``corpus.csv``), reads the same MIDI, reduces it to one chord a quarter
note (the pitch classes that sound in it at least a quarter as long as the
longest-sounding one, at most four, over the lowest such note) and writes the
chords out again in one of two textures, chosen per work by a seeded draw:

- ``block``: held chords, a bass in the second octave under close-position
  upper notes from G3 (a hymn's or a chorale's texture), a chord repeated on
  the next quarter held on;
- ``broken``: the same chords broken into four sixteenths a quarter, bass
  first (an Alberti or arpeggio accompaniment).

The melody, the rhythm of the parts and the register are gone; harmony,
harmonic rhythm and tempo stay. Each work is rendered with its own soundfont
as piano, for at most the corpus's ``max_seconds``, into ``--out`` with a
``corpus.csv`` that keeps the work's group and ensemble, so
``cclib spectrograms`` and experiments/make_union_store.py treat it as a rendering of
the same work (the protocols then leave a test work out in every texture, and
a held-out ensemble's works out of training in every texture). music21's
works (chorales, Renaissance and medieval voices, music21's quartets) are not
re-written: they need music21's slow conversion.

Usage:
    python experiments/make_retextured_corpus.py --corpus data/audio --out data/variants/audio-retextured
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from cclib.corpus import find_soundfonts, render_midi, soundfont_name
from cclib.errors import CclibError
from cclib.fileio import atomic_path, write_csv, write_json
from cclib.scores import openscore_midi

TEXTURES = ("block", "broken")
BASS_LOW, UPPER_LOW, VELOCITY = 36, 55, 64


def midi_notes(data: bytes):
    """The notes of a MIDI file as ``(start, end, pitch)`` in ticks, its tempo
    events as ``(tick, data)`` and its ticks per quarter note (drums left out)."""
    from music21 import midi

    file = midi.MidiFile()
    file.readstr(data)
    notes, tempi = [], []
    for track in file.tracks:
        tick, sounding = 0, {}
        for event in track.events:
            if isinstance(event, midi.DeltaTime):
                tick += event.time
            elif event.type == midi.MetaEvents.SET_TEMPO:
                tempi.append((tick, event.data))
            elif event.type in (midi.ChannelVoiceMessages.NOTE_ON,
                                midi.ChannelVoiceMessages.NOTE_OFF) and event.channel != 10:
                key = (event.channel, event.pitch)
                if event.type == midi.ChannelVoiceMessages.NOTE_ON and event.velocity > 0:
                    sounding.setdefault(key, []).append(tick)
                elif sounding.get(key):
                    notes.append((sounding[key].pop(0), tick, event.pitch))
    return notes, sorted(tempi), file.ticksPerQuarterNote


def beat_chords(notes, beat: int) -> list:
    """One chord a quarter note (``beat`` ticks): ``(bass, upper pitch classes)``, or None where nothing sounds."""
    if not notes:
        return []
    n_beats = max(end for _, end, _ in notes) // beat + 1
    weight = np.zeros((n_beats, 128))
    for start, end, pitch in notes:
        for b in range(start // beat, (end - 1) // beat + 1):
            weight[b, pitch] += min(end, (b + 1) * beat) - max(start, b * beat)
    chords = []
    for row in weight:
        if not row.any():
            chords.append(None)
            continue
        classes = np.bincount(np.arange(128) % 12, weights=row, minlength=12)
        strong = [int(pc) for pc in np.argsort(-classes, kind="stable")[:4]
                  if classes[pc] >= 0.25 * classes.max()]
        bass = int(np.flatnonzero(row >= 0.25 * row.max())[0]) % 12
        chords.append((bass, tuple(sorted(strong))))
    return chords


def voiced(chord) -> list[int]:
    """MIDI pitches of a chord: the bass from C2, the upper classes closed from G3."""
    bass, classes = chord
    return [BASS_LOW + bass] + sorted(UPPER_LOW + (pc - UPPER_LOW) % 12 for pc in classes)


def texture_events(chords, beat: int, texture: str) -> list:
    """The re-written notes ``(start, end, pitch)`` in ticks."""
    notes = []
    for b, chord in enumerate(chords):
        if chord is None:
            continue
        pitches = voiced(chord)
        if texture == "block":
            if b and chords[b - 1] == chord:
                notes[-len(pitches):] = [(s, e + beat, p) for s, e, p in notes[-len(pitches):]]
            else:
                notes += [(b * beat, (b + 1) * beat, p) for p in pitches]
        else:
            step = beat // 4
            upper = pitches[1:]
            order = [pitches[0], upper[0], upper[-1], upper[len(upper) // 2]]
            notes += [(b * beat + i * step, b * beat + (i + 1) * step, p)
                      for i, p in enumerate(order)]
    return notes


def write_notes(notes, tempi, ticks_per_quarter: int) -> bytes:
    """A one-track MIDI file of the notes, with the original's tempo changes."""
    from music21 import midi

    file = midi.MidiFile()
    file.ticksPerQuarterNote = ticks_per_quarter
    track = midi.MidiTrack(1)
    timed = [(tick, 0, "tempo", data) for tick, data in tempi]
    timed += [(end, 1, "off", pitch) for _, end, pitch in notes]
    timed += [(start, 2, "on", pitch) for start, _, pitch in notes]
    now = 0
    for tick, _, kind, value in sorted(timed, key=lambda item: item[:2]):
        track.events.append(midi.DeltaTime(track, time=tick - now))
        now = tick
        if kind == "tempo":
            event = midi.MidiEvent(track, type=midi.MetaEvents.SET_TEMPO)
            event.data = value
        else:
            event = midi.MidiEvent(track, type=midi.ChannelVoiceMessages.NOTE_ON, channel=1)
            event.pitch, event.velocity = value, VELOCITY if kind == "on" else 0
        track.events.append(event)
    track.events.append(midi.DeltaTime(track, time=0))
    end = midi.MidiEvent(track, type=midi.MetaEvents.END_OF_TRACK)
    end.data = b""
    track.events.append(end)
    track.updateEvents()
    file.tracks.append(track)
    return file.writestr()


def retexture(data: bytes, texture: str) -> bytes:
    """A MIDI file's music re-written in ``texture`` (one of TEXTURES)."""
    notes, tempi, ticks_per_quarter = midi_notes(data)
    chords = beat_chords(notes, ticks_per_quarter)
    return write_notes(texture_events(chords, ticks_per_quarter, texture), tempi,
                       ticks_per_quarter)


def render_one(job) -> str | None:
    """Render one work's re-written MIDI; an error line instead of raising."""
    row, soundfont, out, max_seconds = job
    wav = Path(out) / row["file"]
    if wav.exists():
        return None
    try:
        midi = retexture(openscore_midi(row["source"].removeprefix("openscore:")),
                         row["texture"])
        with atomic_path(wav) as partial:
            render_midi(midi, partial, soundfont=Path(soundfont), max_seconds=max_seconds,
                        instrument="piano", timeout=120)
    except CclibError as error:
        return f"{row['file']}: {error}"
    except Exception as error:  # a MIDI file music21 cannot read: report it and go on
        return f"{row['file']}: cannot be re-written ({type(error).__name__}: {error})"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    try:
        corpus = pd.read_csv(args.corpus / "corpus.csv")
        settings = json.loads((args.corpus / "corpus.json").read_text())
    except (OSError, ValueError) as error:
        raise SystemExit(f"make_retextured_corpus: {args.corpus}: not a rendered corpus "
                         f"({error})") from None
    works = corpus[corpus["source"].str.startswith("openscore:")].reset_index(drop=True)
    rng = np.random.default_rng(args.seed)
    works["texture"] = np.asarray(TEXTURES)[rng.integers(len(TEXTURES), size=len(works))]
    fonts = {soundfont_name(path): str(path) for path in find_soundfonts()}
    missing = sorted(set(works["soundfont"]) - set(fonts))
    if missing:
        raise SystemExit(f"make_retextured_corpus: {args.corpus}: rendered with "
                         f"{', '.join(missing)}, not installed here")
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [(row, fonts[row["soundfont"]], str(args.out), settings["max_seconds"])
            for _, row in works.iterrows()]
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        failed = [line for line in pool.map(render_one, jobs, chunksize=8) if line]
    for line in failed:
        print(f"make_retextured_corpus: {line}")
    done = works[[(args.out / name).exists() for name in works["file"]]]
    done = done.assign(instrument=done["texture"], seconds=[
        round(sf.info(args.out / name).duration, 2) for name in done["file"]])
    done = done.drop(columns="texture")
    write_csv(args.out / "corpus.csv", done.columns, done.to_dict("records"))
    write_json(args.out / "corpus.json", {**settings, "textures": TEXTURES, "seed": args.seed})
    print(f"{len(done)} of {len(works)} OpenScore works re-written into {args.out}")


if __name__ == "__main__":
    main()
