"""The front end against librosa, the field's reference implementation.

cclib computes its STFT, Slaney mel filterbank, mel scale and decibels itself
(so the slice store needs no numba); these tests hold them to librosa's on a
few signals, within the tolerances stated in each test. librosa is a test
dependency only (``pip install -e .[test]``).
"""

import librosa
import numpy as np
import pytest

from cclib.spectrogram import (FrontEnd, compute_spectrogram, hz_to_mel, mel_filterbank,
                               mel_to_hz, power_spectrogram, power_to_db)
from tests.conftest import SR, chirp_piece, tone

# librosa's first STFT compiles its numba functions (about 18 s of CPU where their cache is
# cold, as in a fresh clone): under make test these tests share one worker, so that happens once.
pytestmark = pytest.mark.xdist_group("librosa")


def signals() -> dict:
    """A tone, a piece-like chirp, seeded white noise and a click train, 2 s each."""
    rng = np.random.default_rng(0)
    clicks = np.zeros(2 * SR, dtype=np.float32)
    clicks[::SR // 8] = 1.0
    return {"tone": tone(2.0, freq=261.6), "chirp": chirp_piece(2.0, seed=3),
            "noise": (0.1 * rng.standard_normal(2 * SR)).astype(np.float32), "clicks": clicks}


@pytest.mark.parametrize("sr, n_fft, n_mels, fmin, fmax",
                         [(22050, 2048, 128, 0.0, None), (16000, 1024, 64, 50.0, 7000.0),
                          (44100, 4096, 96, 20.0, 16000.0)])
def test_the_mel_filterbank_is_librosas_slaney_filterbank(sr, n_fft, n_mels, fmin, fmax):
    ours = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                                 htk=False, norm="slaney")
    assert ours.shape == theirs.shape
    # float32 weights: within 1e-6 of the largest weight
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6 * theirs.max())


def test_the_mel_scale_is_librosas_slaney_scale():
    hz = np.array([0.0, 55.0, 440.0, 999.0, 1000.0, 1001.0, 4000.0, 11025.0])
    np.testing.assert_allclose(hz_to_mel(hz), librosa.hz_to_mel(hz, htk=False), rtol=1e-12)
    mels = np.linspace(0, 40, 9)
    np.testing.assert_allclose(mel_to_hz(mels), librosa.mel_to_hz(mels, htk=False), rtol=1e-12)


@pytest.mark.parametrize("name", ["tone", "chirp", "noise", "clicks"])
def test_the_power_spectrogram_is_librosas_centred_stft(name):
    y = signals()[name]
    ours = power_spectrogram(y, n_fft=2048, hop_length=512)
    theirs = np.abs(librosa.stft(y, n_fft=2048, hop_length=512, window="hann", center=True,
                                 pad_mode="constant")) ** 2
    assert ours.shape == theirs.shape
    # float32 FFTs of different libraries: within 1e-5 of the loudest bin
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5 * theirs.max())


@pytest.mark.parametrize("name", ["tone", "chirp", "noise", "clicks"])
def test_log_mel_spectrograms_match_librosa_within_a_hundredth_of_a_decibel(name):
    y = signals()[name]
    front_end = FrontEnd()
    ours = compute_spectrogram(y, front_end=front_end)
    mel = librosa.feature.melspectrogram(
        y=y, sr=front_end.sr, n_fft=front_end.n_fft, hop_length=front_end.hop_length,
        n_mels=front_end.n_mels, fmin=front_end.fmin, fmax=front_end.fmax, power=2.0,
        center=True, pad_mode="constant", htk=False, norm="slaney")
    theirs = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=front_end.top_db)
    assert ours.shape == theirs.shape
    # within 0.01 dB wherever either is above the floor (top_db below the maximum)
    audible = np.maximum(ours, theirs) > theirs.max() - front_end.top_db + 1
    np.testing.assert_allclose(ours[audible], theirs[audible], rtol=0, atol=0.01)


def test_decibels_are_librosas_power_to_db():
    S = np.abs(np.random.default_rng(1).standard_normal((64, 50))) ** 4
    S[0, :5] = 0.0
    for top_db in (80.0, 40.0):
        np.testing.assert_allclose(power_to_db(S, top_db=top_db),
                                   librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=top_db),
                                   rtol=0, atol=1e-4)
