"""FluidSynth through its C library: load a soundfont once, render many MIDI files.

The ``fluidsynth`` command loads the whole soundfont for every file it
renders: 0.1 s for TimGM6mb, but about 2.5 s for MuseScore_General_Lite,
whose samples are Ogg-compressed. Rendering a corpus of a thousand works
through the library keeps one synthesizer per soundfont and process, with
exactly the command's settings (``fluidsynth -ni -q -R 0 -C 0 -g 0.6 -r 22050
-F out.wav``): the same library renders the same samples.

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import time
from functools import lru_cache
from pathlib import Path

from cclib.errors import CclibError

#: fluid_player_get_status values of FluidSynth 2.x.
_PLAYER_PLAYING = 1
#: Blocks rendered between two looks at the clock.
_BLOCKS_PER_CHECK = 4096
#: Samples FluidSynth renders per block ("audio.period-size").
_BLOCK_SAMPLES = 64
#: int handle_midi_event(void *data, fluid_midi_event_t *event)
_EVENT_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
_PROGRAM_CHANGE = 0xC0
_PERCUSSION_CHANNEL = 9  # channel 10, counted from 0


class SynthError(CclibError, RuntimeError):
    """FluidSynth missing, a soundfont it cannot load, or a MIDI file it cannot play."""


class RenderTimeout(SynthError):
    """A render ran longer than its time limit."""


@lru_cache(maxsize=1)
def fluidsynth_library() -> ctypes.CDLL:
    """Load libfluidsynth (2.x) and declare the functions cclib calls.

    Raises
    ------
    SynthError
        With the install command for each platform.
    """
    candidates = [ctypes.util.find_library("fluidsynth"), "libfluidsynth.so.3",
                  "libfluidsynth.3.dylib", "libfluidsynth.dylib"]
    if os.environ.get("CONDA_PREFIX"):
        candidates.append(os.path.join(os.environ["CONDA_PREFIX"], "lib", "libfluidsynth.so.3"))
    for name in filter(None, candidates):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError:
            continue
    else:
        raise SynthError("libfluidsynth not found: install FluidSynth (Debian/Ubuntu: apt-get "
                         "install fluidsynth; macOS: brew install fluid-synth; conda: conda install "
                         "-c conda-forge fluidsynth)")
    p, c, i, d = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_double
    signatures = {
        "new_fluid_settings": ([], p), "delete_fluid_settings": ([p], None),
        "fluid_settings_setstr": ([p, c, c], i), "fluid_settings_setnum": ([p, c, d], i),
        "fluid_settings_setint": ([p, c, i], i),
        "new_fluid_synth": ([p], p), "delete_fluid_synth": ([p], None),
        "fluid_synth_sfload": ([p, c, i], i), "fluid_synth_get_sfont_by_id": ([p, i], p),
        "fluid_synth_add_sfont": ([p, p], i), "fluid_synth_remove_sfont": ([p, p], i),
        "new_fluid_player": ([p], p), "delete_fluid_player": ([p], None),
        "fluid_player_add": ([p, c], i), "fluid_player_play": ([p], i),
        "fluid_player_add_mem": ([p, c, ctypes.c_size_t], i),
        "fluid_player_set_playback_callback": ([p, _EVENT_HANDLER, p], i),
        "fluid_midi_event_get_type": ([p], i), "fluid_midi_event_set_program": ([p, i], i),
        "fluid_midi_event_get_channel": ([p], i),
        "fluid_synth_handle_midi_event": ([p, p], i),
        "fluid_player_get_status": ([p], i), "fluid_player_get_total_ticks": ([p], i),
        "new_fluid_file_renderer": ([p], p), "delete_fluid_file_renderer": ([p], None),
        "fluid_file_renderer_process_block": ([p], i),
        "fluid_set_log_function": ([i, p, p], p),
    }
    for name, (args, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = args, result
    for level in range(5):  # as `fluidsynth -q`: no log lines on the terminal
        lib.fluid_set_log_function(level, None, None)
    return lib


class Synth:
    """One FluidSynth synthesizer with one soundfont loaded, for fast offline rendering.

    Parameters
    ----------
    soundfont : path
        A ``.sf2`` or ``.sf3`` file.
    sr : int > 0
        Sampling rate of the WAV files written, in Hz.
    gain : float
        FluidSynth's master gain (0.6 keeps dense scores from clipping).

    Examples
    --------
    ``Synth("/usr/share/sounds/sf2/TimGM6mb.sf2").render("bwv66.mid", "Bach_1.wav")``
    """

    def __init__(self, soundfont: str | Path, *, sr: int = 22050, gain: float = 0.6):
        self.lib = lib = fluidsynth_library()
        self.soundfont, self.sr, self.gain = Path(soundfont), sr, gain
        self.settings = self._new_settings()
        self.loader = lib.new_fluid_synth(self.settings)
        sfont_id = (lib.fluid_synth_sfload(self.loader, os.fsencode(self.soundfont), 1)
                    if self.loader else -1)
        if sfont_id < 0:
            self.close()
            raise SynthError(f"{self.soundfont}: FluidSynth cannot load this soundfont")
        self.sfont = lib.fluid_synth_get_sfont_by_id(self.loader, sfont_id)

    def _new_settings(self):
        lib = self.lib
        settings = lib.new_fluid_settings()
        for key, value in (("player.timing-source", "sample"), ("audio.file.type", "wav"),
                           ("audio.file.format", "s16")):
            lib.fluid_settings_setstr(settings, key.encode(), value.encode())
        for key, value in (("synth.reverb.active", 0), ("synth.chorus.active", 0),
                           ("synth.lock-memory", 0), ("audio.period-size", _BLOCK_SAMPLES)):
            lib.fluid_settings_setint(settings, key.encode(), value)
        lib.fluid_settings_setnum(settings, b"synth.sample-rate", float(self.sr))
        lib.fluid_settings_setnum(settings, b"synth.gain", float(self.gain))
        return settings

    def render(self, midi: str | Path | bytes, wav_path: str | Path, *,
               timeout: float | None = None, max_seconds: float | None = None,
               program: int | None = None) -> None:
        """Render a MIDI file (a path, or its bytes) to a 16-bit WAV, as ``fluidsynth -F`` does.

        ``max_seconds`` stops after that much music: the opening of a long
        work, at a fraction of the cost of all of it. ``program`` plays every
        channel but percussion with one General MIDI instrument, whatever
        the file's program changes say (channels start on program 0, the piano).

        Raises
        ------
        RenderTimeout
            If rendering takes longer than ``timeout`` seconds (the WAV is left
            incomplete: write to a temporary name).
        SynthError
            If the MIDI file cannot be played.
        """
        lib = self.lib
        # A fresh synthesizer per file (sharing the loaded soundfont), so a work
        # renders to the same samples whatever this process rendered before.
        name = "MIDI data" if isinstance(midi, bytes) else midi
        settings = self._new_settings()
        lib.fluid_settings_setstr(settings, b"audio.file.name", os.fsencode(wav_path))
        synth = lib.new_fluid_synth(settings)
        lib.fluid_synth_add_sfont(synth, self.sfont)
        player = lib.new_fluid_player(synth)
        renderer = None
        handler = None if program is None else self._program_handler(synth, program)
        try:
            if handler is not None:
                lib.fluid_player_set_playback_callback(player, handler, None)
            added = (lib.fluid_player_add_mem(player, midi, len(midi)) if isinstance(midi, bytes)
                     else lib.fluid_player_add(player, os.fsencode(midi)))
            if added != 0:
                raise SynthError(f"{name}: FluidSynth cannot read this MIDI file")
            renderer = lib.new_fluid_file_renderer(synth)
            if not renderer:
                raise SynthError(f"{wav_path}: FluidSynth cannot write this file")
            lib.fluid_player_play(player)
            self._run(player, renderer, timeout, max_seconds)
            if lib.fluid_player_get_total_ticks(player) <= 0:  # it parsed no track
                raise SynthError(f"{name}: FluidSynth played nothing (not a MIDI file FluidSynth "
                                 "can read)")
        finally:
            if renderer:
                lib.delete_fluid_file_renderer(renderer)
            lib.delete_fluid_player(player)
            lib.fluid_synth_remove_sfont(synth, self.sfont)  # the soundfont stays loaded
            lib.delete_fluid_synth(synth)
            lib.delete_fluid_settings(settings)

    def _program_handler(self, synth, program: int):
        """A playback callback that turns every program change into ``program``."""
        lib = self.lib

        def handle(_, event):
            if (lib.fluid_midi_event_get_type(event) == _PROGRAM_CHANGE
                    and lib.fluid_midi_event_get_channel(event) != _PERCUSSION_CHANNEL):
                lib.fluid_midi_event_set_program(event, program)
            return lib.fluid_synth_handle_midi_event(synth, event)

        return _EVENT_HANDLER(handle)

    def _run(self, player, renderer, timeout: float | None, max_seconds: float | None) -> None:
        """Render block by block until the player stops (or ``max_seconds`` are written)."""
        lib = self.lib
        started, blocks = time.monotonic(), 0
        last_block = int(max_seconds * self.sr / _BLOCK_SAMPLES) if max_seconds else -1
        while lib.fluid_player_get_status(player) == _PLAYER_PLAYING and blocks != last_block:
            if lib.fluid_file_renderer_process_block(renderer) != 0:
                break
            blocks += 1
            if (timeout and blocks % _BLOCKS_PER_CHECK == 0
                    and time.monotonic() - started > timeout):
                raise RenderTimeout(f"FluidSynth took longer than {timeout:g} s to render "
                                    "(raise --timeout to wait)")

    def close(self) -> None:
        """Free the soundfont, its synthesizer and their settings."""
        if getattr(self, "loader", None):
            self.lib.delete_fluid_synth(self.loader)
            self.loader = None
        if getattr(self, "settings", None):
            self.lib.delete_fluid_settings(self.settings)
            self.settings = None


_SYNTHS: dict = {}


def synth_for(soundfont: str | Path, *, sr: int = 22050) -> Synth:
    """The synthesizer of this process for ``soundfont``, loaded on first use.

    A worker process renders many works; each soundfont is loaded once.
    """
    key = (str(Path(soundfont).resolve()), sr)
    if key not in _SYNTHS:
        _SYNTHS[key] = Synth(soundfont, sr=sr)
    return _SYNTHS[key]
