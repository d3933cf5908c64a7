import numpy as np
import pytest

from cclib.spectrogram import (FrontEnd, compute_spectrogram, count_slices, find_silent_slices,
                               hz_to_mel, mel_filterbank, mel_to_hz, power_spectrogram,
                               slice_spectrogram)
from tests.conftest import SR, chirp_piece, tone


def test_sine_peaks_in_its_fft_bin():
    n_fft = 2048
    freq = 100 * SR / n_fft  # exactly bin 100
    S = power_spectrogram(tone(2.0, freq=freq), n_fft=n_fft, hop_length=512)
    assert S.shape == (1 + n_fft // 2, 1 + int(2.0 * SR) // 512)
    assert np.all(S[:, 5:-5].argmax(axis=0) == 100)


@pytest.mark.parametrize("freq", [220.0, 440.0, 1760.0, 5000.0])
def test_sine_peaks_in_the_mel_band_covering_it(freq):
    front_end = FrontEnd()
    S_db = compute_spectrogram(tone(2.0, freq=freq), front_end=front_end)
    band = int(np.median(S_db[:, 5:-5].argmax(axis=0)))
    edges = mel_to_hz(np.linspace(hz_to_mel(0), hz_to_mel(SR / 2), front_end.n_mels + 2))
    assert edges[band] < freq < edges[band + 2]


def test_mel_filterbank_is_triangular_with_unit_area():
    weights = mel_filterbank(sr=SR, n_fft=2048, n_mels=64)
    assert weights.shape == (64, 1025)
    assert (weights >= 0).all()
    hz_per_bin = SR / 2048
    areas = weights.sum(axis=1) * hz_per_bin
    np.testing.assert_allclose(areas[8:], 1.0, rtol=0.05)  # the narrowest low bands are ragged
    assert not weights.flags.writeable  # cached and shared


def test_mel_scale_round_trips():
    f = np.array([0.0, 200.0, 999.0, 1000.0, 4000.0, 11025.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, atol=1e-6)


def test_linear_kind_gives_fft_bins():
    front_end = FrontEnd(kind="linear", n_fft=512)
    S_db = compute_spectrogram(tone(4.0), front_end=front_end)
    assert S_db.shape[0] == 257 == front_end.n_bins


def test_db_range_is_capped_at_top_db():
    S_db = compute_spectrogram(tone(2.0), front_end=FrontEnd(top_db=60))
    assert S_db.max() - S_db.min() == pytest.approx(60, abs=1e-3)


@pytest.mark.parametrize("seconds, expected", [(2.99, 0), (3.0, 1), (8.9, 2), (9.0, 3), (60.0, 20)])
def test_slice_count_drops_the_last_partial_slice(seconds, expected):
    y = tone(seconds)
    n = count_slices(len(y))
    assert n == expected
    slices = slice_spectrogram(compute_spectrogram(y), n, front_end=FrontEnd())
    assert slices.shape == (expected, 128, FrontEnd().frames_per_slice)


def test_slices_are_taken_at_multiples_of_three_seconds():
    # A click every 3 s lands at the same column of every slice, however long the piece.
    y = np.zeros(SR * 300, dtype=np.float32)
    y[(np.arange(100) * 3 * SR) + SR] = 1.0  # one click 1 s into each slice
    front_end = FrontEnd()
    slices = slice_spectrogram(compute_spectrogram(y, front_end=front_end), 100,
                               front_end=front_end)
    click_columns = slices.mean(axis=1).argmax(axis=1)
    expected = round(SR / front_end.hop_length)
    assert np.all(np.abs(click_columns - expected) <= 1)


def test_slice_length_follows_seconds():
    front_end = FrontEnd(seconds=1.5)
    y = chirp_piece(6.0)
    slices = slice_spectrogram(compute_spectrogram(y, front_end=front_end),
                               count_slices(len(y), front_end=front_end), front_end=front_end)
    assert slices.shape == (4, 128, int(1.5 * SR // 512))


def test_silence_threshold_is_relative_to_the_piece():
    front_end = FrontEnd()
    loud = np.concatenate([tone(6.0, amplitude=0.5), np.zeros(3 * SR, dtype=np.float32)])
    quiet = loud * 1e-3  # the same piece recorded 60 dB lower
    for y in (loud, quiet):
        assert find_silent_slices(y, 3, front_end=front_end).tolist() == [False, False, True]


def test_front_end_round_trips_through_a_dict():
    front_end = FrontEnd(kind="linear", n_fft=512, seconds=2.0)
    assert FrontEnd.from_dict(front_end.to_dict()) == front_end


@pytest.mark.parametrize("params", [{"kind": "cqt"}, {"seconds": 0.01}])
def test_front_end_rejects_bad_parameters(params):
    with pytest.raises(ValueError):
        FrontEnd(**params)
