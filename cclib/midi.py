"""MIDI files as the importers leave them: each note track's names, and one program per track.

LilyPond and music21 write a MIDI file with one track per staff or part. The
importers (:mod:`cclib.mutopia`, :mod:`cclib.polish`) read each note track's
names to find its instrument, then give the track that instrument's General
MIDI program (:func:`with_programs`), so that ``cclib corpus --instrument
score`` plays every part as the score writes it.

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations


def _read(data: bytes):
    from music21 import midi

    midi_file = midi.MidiFile()
    midi_file.readstr(data)
    tracks = [track for track in midi_file.tracks if any(
        event.type == midi.ChannelVoiceMessages.NOTE_ON for event in track.events)]
    return midi_file, tracks


def track_names(data: bytes) -> list[tuple[str, str]]:
    """Each note track's name and instrument name (``("Voice:A", "cello")``; "" where none).

    Tracks without notes (a conductor track of tempo and metre) are left out.
    """
    from music21 import midi

    _, tracks = _read(data)
    return [(_text(track, midi.MetaEvents.SEQUENCE_TRACK_NAME),
             _text(track, midi.MetaEvents.INSTRUMENT_NAME)) for track in tracks]


def _text(track, kind) -> str:
    for event in track.events:
        if event.type == kind and event.data:
            return event.data.decode("utf-8", "replace")
    return ""


def with_programs(data: bytes, programs) -> bytes:
    """A MIDI file with each note track's program changes replaced by one at its start.

    Parameters
    ----------
    data : bytes
        A standard MIDI file.
    programs : sequence of int
        One General MIDI program (0-127) per note track, in order.

    Returns
    -------
    data : bytes
        The file, each note track starting with a program change on each of
        its channels; the time an earlier program change stood at is kept.
    """
    midi_file, tracks = _read(data)
    if len(programs) != len(tracks):
        raise ValueError(f"{len(programs)} programs for {len(tracks)} note tracks")
    for track, program in zip(tracks, programs):
        _set_program(track, program)
    return midi_file.writestr()


def _set_program(track, program: int) -> None:
    from music21 import midi

    pairs, pending = [], 0  # a track's events alternate: delta time, event
    for delta, event in zip(track.events[0::2], track.events[1::2]):
        if event.type == midi.ChannelVoiceMessages.PROGRAM_CHANGE:
            pending += delta.time  # the next event keeps the time this one stood for
            continue
        delta.time += pending
        pending = 0
        pairs.extend([delta, event])
    channels = sorted({event.channel for event in pairs[1::2]
                       if event.type == midi.ChannelVoiceMessages.NOTE_ON})
    start = []
    for channel in channels:
        change = midi.MidiEvent(track, type=midi.ChannelVoiceMessages.PROGRAM_CHANGE,
                                channel=channel)
        change.data = program
        start.extend([midi.DeltaTime(track, time=0), change])
    track.events = start + pairs
