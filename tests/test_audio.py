import numpy as np
import pytest

from cclib.audio import AudioError, find_audio_files, load_audio, normalize_loudness
from tests.conftest import SR, tone, write_audio


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_wav_of_every_sample_format_decodes_to_float32(tmp_path, subtype):
    path = write_audio(tmp_path / f"x_{subtype}.wav", tone(1.0), subtype=subtype)
    y = load_audio(path, sr=SR)
    assert y.dtype == np.float32 and y.ndim == 1
    np.testing.assert_allclose(y, tone(1.0), atol=0.02)


@pytest.mark.parametrize("suffix, fmt", [(".flac", "FLAC"), (".ogg", "OGG"), (".mp3", "MP3")])
def test_compressed_formats_decode(tmp_path, suffix, fmt):
    path = write_audio(tmp_path / f"x{suffix}", tone(2.0), format=fmt)
    y = load_audio(path, sr=SR)
    assert abs(len(y) - 2 * SR) < 0.1 * SR  # MP3 adds encoder padding
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(spectrum.argmax() * SR / len(y) - 440) < 5


def test_stereo_is_mixed_to_mono(tmp_path):
    left_right = np.stack([tone(1.0), tone(1.0, freq=880)], axis=1)
    y = load_audio(write_audio(tmp_path / "s.wav", left_right), sr=SR)
    np.testing.assert_allclose(y, left_right.mean(axis=1), atol=1e-4)


def test_resampling_keeps_pitch_and_duration(tmp_path):
    y44 = tone(2.0, sr=44100, freq=1000)
    y = load_audio(write_audio(tmp_path / "hi.wav", y44, sr=44100), sr=SR)
    assert len(y) == 2 * SR
    assert abs(np.abs(np.fft.rfft(y)).argmax() * SR / len(y) - 1000) < 2


def test_loudness_normalisation_removes_level():
    quiet, loud = tone(3.0, amplitude=0.01), tone(3.0, amplitude=0.8)
    np.testing.assert_allclose(normalize_loudness(quiet), normalize_loudness(loud), atol=1e-4)


@pytest.mark.parametrize("content, reason", [(b"", "empty file"),
                                             (b"this is not audio at all" * 50, "not readable audio")])
def test_bad_files_raise_one_line_audio_errors(tmp_path, content, reason):
    path = tmp_path / "Bad_1.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError) as info:
        load_audio(path)
    message = str(info.value)
    assert message.startswith(str(path)) and reason in message and "\n" not in message


def test_find_audio_files_recurses_and_skips_hidden(tmp_path):
    for name in ["a/Bach_1.wav", ".hidden/Bach_3.wav", "a/.Bach_4.wav"]:
        write_audio(tmp_path / name, tone(0.1))
    write_audio(tmp_path / "Bach_2.FLAC", tone(0.1), format="FLAC")
    (tmp_path / "notes.txt").write_text("not audio")
    found = [p.relative_to(tmp_path).as_posix() for p in find_audio_files(tmp_path)]
    assert found == ["Bach_2.FLAC", "a/Bach_1.wav"]


def test_a_missing_file_is_named_as_missing_by_both_readers(tmp_path):
    from cclib.audio import stream_audio

    missing = tmp_path / "Bach_9.wav"
    with pytest.raises(AudioError, match=f"^{missing}: no such file$"):
        load_audio(missing, sr=22050)
    with pytest.raises(AudioError, match=f"^{missing}: no such file$"):
        list(stream_audio(missing, sr=22050))
