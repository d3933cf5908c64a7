"""Augmented training slices: reproducible, finite, and each effect where it should be."""

import numpy as np

from cclib.augment import Augmentation, augment_rows, augment_slice
from cclib.spectrogram import FrontEnd, band_frequencies


def onset_slice(front_end=FrontEnd()):
    """A loud chord in every band for one frame, then silence (-80 dB)."""
    S = np.full((front_end.n_bins, front_end.frames_per_slice), -80.0, dtype=np.float32)
    S[:, 10] = 0.0
    return S


def test_a_copy_depends_on_the_slice_row_and_copy_only():
    slices = np.random.default_rng(0).normal(-30, 5, (5, 128, 129)).astype(np.float16)
    settings = Augmentation(copies=2)
    all_rows = augment_rows(slices, [0, 1, 2, 3, 4], "0123456789abcdef", front_end=FrontEnd(),
                            settings=settings)
    some = augment_rows(slices, [3, 1], "0123456789abcdef", front_end=FrontEnd(),
                        settings=settings)
    np.testing.assert_array_equal(some[:, 0], all_rows[:, 3])
    np.testing.assert_array_equal(some[:, 1], all_rows[:, 1])
    assert all_rows.shape == (2, 5, 128, 129) and np.isfinite(all_rows).all()
    assert not np.array_equal(all_rows[0], all_rows[1])  # two different rooms
    other = augment_rows(slices, [3], "fedcba9876543210", front_end=FrontEnd(), settings=settings)
    assert not np.array_equal(other[:, 0], all_rows[:, 3])
    assert Augmentation(seed=1).key() != settings.key()


def test_reverberation_carries_sound_past_its_end():
    dry = onset_slice()
    settings = Augmentation(noise_db=(-200.0, -199.0), gain_db=0.0, tilt_db_per_octave=0.0,
                            reverb_s=(2.0, 2.0), reverb_mix=(0.5, 0.5))
    wet = augment_slice(dry, np.random.default_rng(0), settings=settings)
    assert wet[:, 20].mean() > dry[:, 20].mean() + 20  # a tail where there was silence
    assert wet[:, 20].mean() > wet[:, 100].mean()  # ... that dies away


def test_the_eq_tilt_raises_one_end_of_the_spectrum_against_the_other():
    flat = np.full((128, 129), -30.0, dtype=np.float32)
    settings = Augmentation(reverb_mix=(0.0, 0.0), noise_db=(-200.0, -199.0), gain_db=0.0,
                            tilt_db_per_octave=3.0)
    tilted = augment_slice(flat, np.random.default_rng(3), settings=settings)
    low, high = band_frequencies(FrontEnd()) < 500, band_frequencies(FrontEnd()) > 4000
    assert abs(tilted[low].mean() - tilted[high].mean()) > 3


def test_noise_fills_silence_below_the_music():
    S = onset_slice()
    settings = Augmentation(reverb_mix=(0.0, 0.0), gain_db=0.0, tilt_db_per_octave=0.0,
                            noise_db=(-30.0, -30.0))
    noisy = augment_slice(S, np.random.default_rng(0), settings=settings)
    assert -75 < noisy[:, 50:].mean() < noisy[:, 10].mean() - 20
