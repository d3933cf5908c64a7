"""FluidSynth through its library: real renders of real MIDI, the same every time.

How the corpus uses it (instruments, hanging notes, the command-line
comparison) is in test_corpus.py; here, the Synth object itself.
"""

import numpy as np
import pytest
import soundfile as sf

from cclib.corpus import find_soundfont
from cclib.scores import openscore_midi
from cclib.synth import Synth, SynthError, synth_for

pytestmark = pytest.mark.slow

#: A song from the OpenScore archives (voice and piano), rendered from its bytes.
SONG = "midi/Schubert_1.mid"


def test_midi_bytes_render_to_audible_16_bit_audio_at_the_asked_rate(tmp_path):
    synth = Synth(find_soundfont(), sr=16000)
    try:
        synth.render(openscore_midi(SONG), tmp_path / "song.wav", max_seconds=5)
    finally:
        synth.close()
    info = sf.info(tmp_path / "song.wav")
    assert (info.samplerate, info.subtype, info.channels) == (16000, "PCM_16", 2)
    assert abs(info.duration - 5.0) < 0.05
    y, _ = sf.read(tmp_path / "song.wav")
    assert np.sqrt(np.mean(y ** 2)) > 1e-3  # music, not silence


def test_the_same_file_renders_to_the_same_samples_whatever_came_before(tmp_path):
    synth = synth_for(find_soundfont())
    assert synth_for(find_soundfont()) is synth  # loaded once per process
    synth.render(openscore_midi(SONG), tmp_path / "first.wav", max_seconds=3)
    synth.render(openscore_midi("midi/Haydn_1.mid"), tmp_path / "other.wav", max_seconds=3)
    synth.render(openscore_midi(SONG), tmp_path / "again.wav", max_seconds=3)
    first, again = (sf.read(tmp_path / f"{n}.wav", dtype="int16")[0] for n in ("first", "again"))
    np.testing.assert_array_equal(first, again)


def test_a_program_plays_every_channel_with_one_instrument(tmp_path):
    synth = synth_for(find_soundfont())
    synth.render(openscore_midi(SONG), tmp_path / "as-written.wav", max_seconds=3)
    synth.render(openscore_midi(SONG), tmp_path / "strings.wav", max_seconds=3, program=48)
    written, strings = (sf.read(tmp_path / f"{n}.wav")[0] for n in ("as-written", "strings"))
    assert written.shape == strings.shape and np.abs(written - strings).max() > 0.01


def test_what_fluidsynth_cannot_use_is_a_synth_error_naming_the_file(tmp_path):
    broken = tmp_path / "broken.sf2"
    broken.write_bytes(b"RIFF not a soundfont")
    with pytest.raises(SynthError, match=f"{broken}: FluidSynth cannot load this soundfont"):
        Synth(broken)
    with pytest.raises(SynthError, match="MIDI data: FluidSynth played nothing"):
        synth_for(find_soundfont()).render(b"MThd not really MIDI", tmp_path / "x.wav")
