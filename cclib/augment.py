"""Acoustic variety that recordings have and renders lack, applied to spectrogram slices.

A rendered score is dry, noiseless and equalised the same way every time; a
recording has a room, a microphone, a noise floor and a level. Each
augmented copy of a training slice gets, from a seeded random draw:

- room reverberation: each band's power smeared forward in time with an
  exponential decay (reverberation time 0.3 to 2.5 s, shorter for high
  bands, as in a real room), mixed with the dry sound;
- a gentle EQ tilt: up to ±3 dB per octave around 1 kHz;
- noise: a pink-ish noise floor 20 to 45 dB below the slice's mean power,
  with the random fluctuation of a real noise spectrogram;
- gain: ±6 dB.

All of it works on the power spectrogram that a slice's decibels stand for,
so no audio is decoded again. Augmentation is for training slices only.

Notebook: notebooks/08_does_it_hear_the_period.ipynb
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np

from cclib.spectrogram import FrontEnd, band_frequencies


@dataclass(frozen=True)
class Augmentation:
    """The ranges random augmentations are drawn from, and how many copies a slice gets.

    Attributes
    ----------
    copies : int >= 1
        Augmented copies of each training slice (the original is kept too).
    reverb_s : (float, float)
        Range of the reverberation time (RT60) at low frequencies, in seconds.
    reverb_mix : (float, float)
        Range of the share of reverberant sound.
    tilt_db_per_octave : float
        EQ tilt drawn from ``[-tilt, +tilt]`` dB per octave around 1 kHz.
    noise_db : (float, float)
        Range of the noise floor relative to the slice's mean power, in dB.
    gain_db : float
        Level change drawn from ``[-gain, +gain]`` dB.
    seed : int
        With the slice's content and number, fixes every draw.
    """

    copies: int = 2
    reverb_s: tuple = (0.3, 2.5)
    reverb_mix: tuple = (0.2, 0.7)
    tilt_db_per_octave: float = 3.0
    noise_db: tuple = (-45.0, -20.0)
    gain_db: float = 6.0
    seed: int = 0

    def __post_init__(self):
        if self.copies < 1:
            raise ValueError(f"copies must be at least 1, not {self.copies}")

    def key(self) -> str:
        """A short name for these settings (part of the bottleneck cache's file names).

        Examples
        --------
        >>> Augmentation().key() == Augmentation().key() != Augmentation(seed=1).key()
        True
        """
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, params: dict) -> "Augmentation":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})


def _reverberate(P: np.ndarray, band_hz: np.ndarray, *, front_end: FrontEnd, rt60: float,
                 mix: float) -> np.ndarray:
    """Mix power ``P`` [shape=(n_bins, frames)] with its exponentially decaying echo."""
    from scipy.signal import lfilter  # scipy.signal costs 0.7 s to import: only when used

    frame_s = front_end.hop_length / front_end.sr
    rt60_band = rt60 * (1.0 - 0.6 * band_hz / band_hz.max())  # highs die away sooner
    decay = 10.0 ** (-6.0 * frame_s / rt60_band)  # power factor per frame: -60 dB in rt60
    wet = np.empty_like(P)
    for band in range(P.shape[0]):
        wet[band] = lfilter([1.0 - decay[band]], [1.0, -decay[band]], P[band])
    return (1.0 - mix) * P + mix * wet


def augment_slice(S_db: np.ndarray, rng: np.random.Generator, *, front_end: FrontEnd = FrontEnd(),
                  settings: Augmentation = Augmentation()) -> np.ndarray:
    """One augmented copy of a dB slice: reverberation, EQ tilt, noise and gain.

    Parameters
    ----------
    S_db : np.ndarray [shape=(n_bins, frames)]
        A slice in dB, as the slice store holds it.
    rng : numpy.random.Generator
    front_end : FrontEnd
        The front end that made the slice (band frequencies, hop).
    settings : Augmentation

    Returns
    -------
    S_aug : np.ndarray [shape=(n_bins, frames), dtype=float32]
        In dB, the slice's dynamic range (``front_end.top_db``) kept.

    Examples
    --------
    >>> S = np.full((128, 129), -20.0, dtype=np.float32)
    >>> out = augment_slice(S, np.random.default_rng(0))
    >>> out.shape, bool(np.isfinite(out).all()), bool(np.abs(out - S).max() > 0.1)
    ((128, 129), True, True)
    """
    band_hz = np.maximum(band_frequencies(front_end), 20.0)
    P = 10.0 ** (np.asarray(S_db, dtype=np.float64) / 10.0)
    P = _reverberate(P, band_hz, front_end=front_end, rt60=rng.uniform(*settings.reverb_s),
                     mix=rng.uniform(*settings.reverb_mix))
    tilt = rng.uniform(-1, 1) * settings.tilt_db_per_octave * np.log2(band_hz / 1000.0)
    P *= 10.0 ** (tilt[:, None] / 10.0)
    floor = P.mean() * 10.0 ** (rng.uniform(*settings.noise_db) / 10.0)
    pink = 1000.0 / band_hz  # power falling 3 dB per octave
    P += floor * (pink / pink.mean())[:, None] * rng.exponential(1.0, size=P.shape)
    S_aug = 10.0 * np.log10(np.maximum(P, 1e-10)) + rng.uniform(-1, 1) * settings.gain_db
    return np.maximum(S_aug, S_aug.max() - front_end.top_db).astype(np.float32)


def augment_rows(slices: np.ndarray, rows, digest: str, *, front_end: FrontEnd,
                 settings: Augmentation) -> np.ndarray:
    """Every augmented copy of some rows of one store array, reproducibly.

    A copy depends only on the settings, the array's content (``digest``),
    the row and the copy number, never on which other rows are asked for.

    Parameters
    ----------
    slices : np.ndarray [shape=(n_rows, n_bins, frames)]
        A store array (one piece).
    rows : array of int
        The rows to augment.
    digest : str
        The array's content digest (hex), from the manifest.

    Returns
    -------
    augmented : np.ndarray [shape=(settings.copies, len(rows), n_bins, frames), dtype=float32]
    """
    rows = np.asarray(rows, dtype=int)
    out = np.empty((settings.copies, len(rows)) + slices.shape[1:], dtype=np.float32)
    content = int(digest[:15], 16)
    for j, row in enumerate(rows):
        for copy in range(settings.copies):
            rng = np.random.default_rng([settings.seed, content, int(row), copy])
            out[copy, j] = augment_slice(slices[row], rng, front_end=front_end, settings=settings)
    return out
