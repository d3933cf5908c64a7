"""Spectrograms and 3-second slices, as pure array functions.

The same :class:`FrontEnd` serves training and later inference: it is saved
with the slice store and travels with every model trained on it.

Notebooks: notebooks/01_audio_to_spectrograms.ipynb,
notebooks/02_slicing_3s_samples.ipynb
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.sparse

#: Frames transformed at once: small enough to stay in cache, and memory stays
#: bounded on hour-long files.
_BLOCK_FRAMES = 512
#: What the network input may do to a slice's bands before the image: nothing, or remove
#: each band's mean over the slice (cclib.model.SpectrogramToImage).
NORMALIZATIONS = ("none", "bands")


@dataclass(frozen=True)
class FrontEnd:
    """Every parameter that turns samples into spectrogram slices.

    Attributes
    ----------
    kind : {"mel", "linear"}
        Log-mel power (default) or the study's linear log-power spectrogram.
    sr : int > 0
        Sampling rate in Hz.
    n_fft : int > 0
        FFT length in samples.
    hop_length : int > 0
        Samples between frames.
    n_mels : int > 0
        Mel bands (``kind="mel"`` only).
    fmin, fmax : float
        Mel filterbank range in Hz; ``fmax=None`` means ``sr / 2``.
    seconds : float > 0
        Length of one slice.
    top_db : float > 0
        Dynamic range kept below the piece's loudest bin.
    silence_db : float < 0
        A slice whose RMS is this far below the piece's RMS is dropped.
    """

    kind: str = "mel"
    sr: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    seconds: float = 3.0
    top_db: float = 80.0
    silence_db: float = -40.0

    def __post_init__(self):
        if self.kind not in ("mel", "linear"):
            raise ValueError(f"kind must be 'mel' or 'linear', not {self.kind!r}")
        if self.seconds <= 0 or self.seconds * self.sr < self.n_fft:
            raise ValueError(f"seconds must cover at least one FFT frame, not {self.seconds}")

    @property
    def n_bins(self) -> int:
        """Rows of a spectrogram: mel bands or FFT bins."""
        return self.n_mels if self.kind == "mel" else 1 + self.n_fft // 2

    @property
    def slice_samples(self) -> float:
        """Samples in one slice (may be fractional)."""
        return self.seconds * self.sr

    @property
    def frames_per_slice(self) -> int:
        """Columns of a slice: the whole frames that fit in ``seconds``."""
        return int(self.slice_samples // self.hop_length)

    def filterbank(self):
        """The mel filterbank [shape=(n_mels, 1 + n_fft // 2), scipy.sparse], or None (linear)."""
        if self.kind != "mel":
            return None
        return _sparse_mel_filterbank(sr=self.sr, n_fft=self.n_fft, n_mels=self.n_mels,
                                      fmin=self.fmin, fmax=self.fmax)

    @classmethod
    def for_kind(cls, kind: str = "mel", **params) -> "FrontEnd":
        """The default front end of a kind: the linear one uses a 512-point FFT
        (257 bins, near the study's matplotlib ``specgram``), the mel one 2048.

        Examples
        --------
        >>> FrontEnd.for_kind("linear").n_bins, FrontEnd.for_kind("mel").n_bins
        (257, 128)
        """
        defaults = {"n_fft": 512} if kind == "linear" else {}
        return cls(kind=kind, **{**defaults, **params})

    def to_dict(self) -> dict:
        """The parameters as a plain dict (for JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, params: dict) -> "FrontEnd":
        """Rebuild a front end from :meth:`to_dict` output."""
        return cls(**params)


def hz_to_mel(f):
    """Convert Hz to mels on the Slaney scale (linear below 1 kHz, log above).

    Examples
    --------
    >>> float(hz_to_mel(1000.0))
    15.0
    """
    f = np.asarray(f, dtype=np.float64)
    linear = f / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log_part, linear)


def mel_to_hz(m):
    """Inverse of :func:`hz_to_mel`.

    Examples
    --------
    >>> round(float(mel_to_hz(hz_to_mel(440.0))), 6)
    440.0
    """
    m = np.asarray(m, dtype=np.float64)
    linear = m * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    return np.where(m >= 15.0, log_part, linear)


@lru_cache(maxsize=8)
def mel_filterbank(*, sr: int, n_fft: int, n_mels: int, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Triangular mel filters, each normalised to unit area (Slaney style).

    Parameters
    ----------
    sr : int > 0
        Sampling rate in Hz.
    n_fft : int > 0
        FFT length.
    n_mels : int > 0
        Number of bands.
    fmin, fmax : float
        Frequency range in Hz (``fmax=None``: ``sr / 2``).

    Returns
    -------
    weights : np.ndarray [shape=(n_mels, 1 + n_fft // 2), dtype=float32]

    Examples
    --------
    >>> mel_filterbank(sr=22050, n_fft=2048, n_mels=128).shape
    (128, 1025)
    """
    fmax = sr / 2 if fmax is None else fmax
    fft_freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_points = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    hz_points = mel_to_hz(mel_points)
    lower, centre, upper = hz_points[:-2, None], hz_points[1:-1, None], hz_points[2:, None]
    rising = (fft_freqs - lower) / (centre - lower)
    falling = (upper - fft_freqs) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights = (weights * (2.0 / (upper - lower))).astype(np.float32)
    weights.setflags(write=False)  # shared by every caller through the cache
    return weights


@lru_cache(maxsize=8)
def _sparse_mel_filterbank(**params):
    """:func:`mel_filterbank` as a sparse matrix: each band touches few FFT bins."""
    return scipy.sparse.csr_matrix(mel_filterbank(**params))


def band_frequencies(front_end: FrontEnd) -> np.ndarray:
    """Centre frequency in Hz of each row of a spectrogram made by ``front_end``.

    Returns
    -------
    frequencies : np.ndarray [shape=(front_end.n_bins,)]

    Examples
    --------
    >>> band_frequencies(FrontEnd(kind="linear", n_fft=512))[[0, -1]].tolist()
    [0.0, 11025.0]
    """
    if front_end.kind == "linear":
        return np.linspace(0, front_end.sr / 2, front_end.n_bins)
    fmax = front_end.fmax or front_end.sr / 2
    mels = np.linspace(hz_to_mel(front_end.fmin), hz_to_mel(fmax), front_end.n_mels + 2)
    return mel_to_hz(mels[1:-1])


def _hann(n_fft: int) -> np.ndarray:
    """Periodic Hann window, as used for spectral analysis."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)


def power_spectrogram(y: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512,
                      weights=None) -> np.ndarray:
    """Short-time power spectrum, frames centred on multiples of ``hop_length``.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio.
    n_fft : int > 0
        FFT length (Hann window of the same length).
    hop_length : int > 0
        Samples between frames.
    weights : matrix [shape=(n_out, 1 + n_fft // 2)], optional
        Applied to every frame's power as it is computed (a mel filterbank,
        dense or scipy.sparse), so the full-resolution spectrum is never stored.

    Returns
    -------
    S : np.ndarray [shape=(n_out or 1 + n_fft // 2, 1 + n // hop_length), dtype=float32]
        ``|STFT|**2`` (times ``weights``); the signal is zero-padded by
        ``n_fft // 2`` at both ends.

    Examples
    --------
    >>> power_spectrogram(np.zeros(22050, dtype=np.float32)).shape
    (1025, 44)
    """
    y = np.asarray(y, dtype=np.float32)
    padded = np.pad(y, n_fft // 2)
    n_frames = 1 + len(y) // hop_length
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop_length][:n_frames]
    return _frame_power(frames, n_fft, weights)


def _frame_power(frames: np.ndarray, n_fft: int, weights=None) -> np.ndarray:
    """Power spectra [shape=(n_out, n_frames)] of windowed frames, in cache-sized blocks."""
    window = _hann(n_fft)
    n_out = 1 + n_fft // 2 if weights is None else weights.shape[0]
    S = np.empty((n_out, len(frames)), dtype=np.float32)
    for start in range(0, len(frames), _BLOCK_FRAMES):
        spectrum = scipy.fft.rfft(frames[start:start + _BLOCK_FRAMES] * window, axis=-1)
        power = np.abs(spectrum)
        power *= power
        S[:, start:start + len(power)] = power.T if weights is None else weights @ power.T
    return S


def power_to_db(S: np.ndarray, *, top_db: float = 80.0, amin: float = 1e-10,
                top=None, out: np.ndarray | None = None) -> np.ndarray:
    """Convert power to decibels (re 1.0), keeping ``top_db`` below the maximum.

    Parameters
    ----------
    S : np.ndarray
        Power.
    top_db, amin : float
    top : float, optional
        The largest power of the whole piece when ``S`` holds only part of it
        (default: ``S``'s own maximum).
    out : np.ndarray, optional
        Where to write the decibels (``S`` itself, to convert in place).

    Returns
    -------
    S_db : np.ndarray [shape=S.shape, dtype=float32]

    Examples
    --------
    >>> power_to_db(np.array([1.0, 1e-3, 0.0]), top_db=50).tolist()
    [0.0, -30.0, -50.0]
    >>> power_to_db(np.array([1e-3, 0.0]), top_db=50, top=1.0).tolist()
    [-30.0, -50.0]
    """
    S_db = np.maximum(S, amin, out=out)
    np.log10(S_db, out=S_db)
    np.multiply(S_db, 10.0, out=S_db)
    if S_db.size:
        ceiling = S_db.max() if top is None else (
            10.0 * np.log10(np.maximum(np.asarray(top, S_db.dtype), amin)))
        np.maximum(S_db, ceiling - top_db, out=S_db)
    return S_db.astype(np.float32, copy=False)


def compute_spectrogram(y: np.ndarray, *, front_end: FrontEnd = FrontEnd()) -> np.ndarray:
    """The log spectrogram of a whole piece, in one vectorised pass.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at ``front_end.sr``.
    front_end : FrontEnd
        ``kind="mel"`` gives log-mel power, ``"linear"`` log power per FFT bin.

    Returns
    -------
    S_db : np.ndarray [shape=(front_end.n_bins, 1 + n // hop_length), dtype=float32]
        Decibels re full-scale power.

    Examples
    --------
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    >>> compute_spectrogram(y).shape
    (128, 44)
    """
    S = power_spectrogram(y, n_fft=front_end.n_fft, hop_length=front_end.hop_length,
                          weights=front_end.filterbank())
    return power_to_db(S, top_db=front_end.top_db)


def count_slices(n_samples: int, *, front_end: FrontEnd = FrontEnd()) -> int:
    """Whole slices in ``n_samples`` of audio; the last partial slice is dropped.

    Examples
    --------
    >>> count_slices(22050 * 10)
    3
    """
    return int(n_samples // front_end.slice_samples)


def slice_spectrogram(S_db: np.ndarray, n_slices: int, *,
                      front_end: FrontEnd = FrontEnd()) -> np.ndarray:
    """Cut a piece's spectrogram into consecutive slices of ``front_end.seconds``.

    Slice ``k`` starts at the frame nearest below ``k * seconds``, so starts
    never drift however long the piece.

    Parameters
    ----------
    S_db : np.ndarray [shape=(n_bins, t)]
        Output of :func:`compute_spectrogram`.
    n_slices : int >= 0
        From :func:`count_slices` of the piece's sample count.
    front_end : FrontEnd

    Returns
    -------
    slices : np.ndarray [shape=(n_slices, n_bins, front_end.frames_per_slice)]

    Examples
    --------
    >>> y = np.zeros(22050 * 7, dtype=np.float32)
    >>> S_db = compute_spectrogram(y)
    >>> slice_spectrogram(S_db, count_slices(len(y)), front_end=FrontEnd()).shape
    (2, 128, 129)
    """
    width, starts = front_end.frames_per_slice, slice_start_frames(n_slices, front_end)
    if n_slices and starts[-1] + width > S_db.shape[1]:
        raise ValueError(f"{n_slices} slices need more than the {S_db.shape[1]} frames given")
    return np.stack([S_db[:, s:s + width] for s in starts]) if n_slices else \
        np.empty((0, S_db.shape[0], width), dtype=S_db.dtype)


def find_silent_slices(y: np.ndarray, n_slices: int, *,
                       front_end: FrontEnd = FrontEnd()) -> np.ndarray:
    """Mark slices whose RMS is ``front_end.silence_db`` below the piece's own RMS.

    The threshold is relative, so a quiet recording keeps its slices while its
    pauses and fades are dropped.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    n_slices : int >= 0
    front_end : FrontEnd

    Returns
    -------
    silent : np.ndarray [shape=(n_slices,), dtype=bool]

    Examples
    --------
    >>> y = np.concatenate([np.ones(66150), np.zeros(66150)]).astype(np.float32)
    >>> find_silent_slices(y, 2).tolist()
    [False, True]
    """
    piece_power = float(np.mean(np.square(y, dtype=np.float64)))
    if n_slices == 0:
        return np.zeros(0, dtype=bool)
    bounds = slice_bounds(n_slices, front_end)
    energy = np.add.reduceat(np.square(y[: bounds[-1]], dtype=np.float64), bounds[:-1])
    return _silent(energy, bounds, piece_power, front_end)


def slice_bounds(n_slices: int, front_end: FrontEnd = FrontEnd()) -> np.ndarray:
    """First sample of every slice and the end of the last [shape=(n_slices + 1,)].

    Examples
    --------
    >>> slice_bounds(2).tolist()
    [0, 66150, 132300]
    """
    return (np.arange(n_slices + 1) * front_end.slice_samples).astype(int)


def slice_start_frames(n_slices: int, front_end: FrontEnd = FrontEnd()) -> np.ndarray:
    """The spectrogram frame each slice starts at: the one nearest below ``k * seconds``.

    Returns
    -------
    frames : np.ndarray [shape=(n_slices,), dtype=int]

    Examples
    --------
    >>> slice_start_frames(3).tolist()
    [0, 129, 258]
    """
    return (np.arange(n_slices) * front_end.slice_samples // front_end.hop_length).astype(int)


def _silent(energy: np.ndarray, bounds: np.ndarray, piece_power: float,
            front_end: FrontEnd) -> np.ndarray:
    """The silence rule: a slice's mean power below the piece's by ``silence_db``."""
    if piece_power == 0.0:
        return np.ones(len(energy), dtype=bool)
    slice_power = energy / np.diff(bounds)
    return slice_power < piece_power * 10.0 ** (front_end.silence_db / 10.0)


@dataclass(frozen=True)
class PieceSlices:
    """The slices of one piece that a model sees, and which slices they are.

    Attributes
    ----------
    slices : np.ndarray [shape=(n_kept, n_bins, frames_per_slice), dtype=float32]
        Log spectrogram slices in dB.
    index : np.ndarray [shape=(n_kept,), dtype=int]
        Each kept slice's number in the piece (0 is the first ``seconds``).
    n_silent : int
        Slices dropped for being far quieter than the piece.
    y : np.ndarray [shape=(n,), dtype=float32]
        The loudness-normalised audio the slices were cut from.
    """

    slices: np.ndarray
    index: np.ndarray
    n_silent: int
    y: np.ndarray

    def starts(self, front_end: FrontEnd) -> np.ndarray:
        """Start time of each kept slice, in seconds [shape=(n_kept,)]."""
        return self.index * front_end.seconds


def cut_piece(y: np.ndarray, *, front_end: FrontEnd = FrontEnd(), name: str = "audio") -> PieceSlices:
    """Turn a decoded piece into the slices a model sees: the one slicing rule.

    The slice store (training), ``cclib classify``, ``cclib evaluate`` and
    the listening demo all call this, so a piece is judged on exactly the
    kind of slices the model was trained on: loudness normalised, cut at
    ``k * seconds``, the last partial slice dropped, and slices
    ``front_end.silence_db`` below the piece's level dropped.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
        Mono audio at ``front_end.sr`` (from :func:`cclib.audio.load_audio`).
    front_end : FrontEnd
    name : str
        Names the piece in error messages (a file name).

    Returns
    -------
    piece : PieceSlices

    Raises
    ------
    cclib.audio.AudioError
        If the piece holds non-finite samples, is shorter than one slice,
        is silent, or has no slice at the piece's level.

    Examples
    --------
    >>> y = np.sin(np.arange(22050 * 10) * 0.05).astype(np.float32)
    >>> y[22050 * 3:22050 * 6] = 0.0  # the second slice is silent
    >>> piece = cut_piece(y)
    >>> piece.slices.shape, piece.index.tolist(), piece.n_silent
    ((2, 128, 129), [0, 2], 1)
    """
    from cclib.audio import check_finite, normalize_loudness

    check_finite(y, name)
    n_slices = _check_level(len(y), float(np.max(np.abs(y))), front_end, name)
    y = normalize_loudness(y)
    kept = _kept(~find_silent_slices(y, n_slices, front_end=front_end), name)
    S_db = compute_spectrogram(y, front_end=front_end)
    slices = slice_spectrogram(S_db, n_slices, front_end=front_end)[kept]
    return PieceSlices(slices, kept, n_slices - len(kept), y)


def _check_level(n_samples: int, peak: float, front_end: FrontEnd, name: str) -> int:
    """The piece's number of slices; refuse a piece too short for one, or silent."""
    from cclib.audio import SILENT_PEAK_DB, AudioError

    n_slices = count_slices(n_samples, front_end=front_end)
    if n_slices == 0:
        raise AudioError(f"{name}: shorter than one {front_end.seconds:g}-second slice "
                         f"({n_samples / front_end.sr:.2f} s)")
    if peak <= 10 ** (SILENT_PEAK_DB / 20):
        raise AudioError(f"{name}: silent (peak below {SILENT_PEAK_DB:g} dBFS)")
    return n_slices


def _kept(audible: np.ndarray, name: str) -> np.ndarray:
    from cclib.audio import AudioError

    kept = np.flatnonzero(audible)
    if len(kept) == 0:
        raise AudioError(f"{name}: silent (every slice is far below the piece's level)")
    return kept


def cut_stream(chunks, *, front_end: FrontEnd = FrontEnd(), name: str = "audio") -> PieceSlices:
    """:func:`cut_piece` for a piece read in chunks, in memory that does not grow with its length.

    The same rule, in two passes over the audio: the first measures the
    piece (length, peak, level, non-finite samples), the second normalises
    each chunk, measures its slices' levels and computes its spectrogram
    frames, keeping only the frames that fall in slices. A two-hour
    recording needs its slices' power (about 160 MB), never its samples.
    The frames and levels equal :func:`cut_piece`'s up to floating-point
    summation order.

    Parameters
    ----------
    chunks : callable
        Returns a new iterator over the piece's consecutive mono float32
        chunks at ``front_end.sr`` (see :func:`cclib.audio.stream_audio`);
        called twice.
    front_end : FrontEnd
    name : str

    Returns
    -------
    piece : PieceSlices
        With ``y`` None: the audio is never held whole.
    """
    from cclib.audio import TARGET_RMS, AudioError

    n, power, peak, bad = 0, 0.0, 0.0, 0
    for chunk in chunks():
        bad += int(chunk.size - np.isfinite(chunk).sum())
        if len(chunk) and not bad:
            n, power = n + len(chunk), power + float(np.sum(np.square(chunk, dtype=np.float64)))
            peak = max(peak, float(np.max(np.abs(chunk))))
    if bad:
        raise AudioError(f"{name}: holds {bad} non-finite samples (NaN or infinity)")
    n_slices = _check_level(n, peak, front_end, name)
    gain = TARGET_RMS / float(np.sqrt(power / n))
    power_slices, energy, piece_power, top = _stream_slices(chunks, gain, n, n_slices, front_end)
    bounds = slice_bounds(n_slices, front_end)
    kept = _kept(~_silent(energy, bounds, piece_power, front_end), name)
    for i, k in enumerate(kept):  # keep the audible slices in place (k >= i), no copy
        power_slices[i] = power_slices[k]
    slices = power_slices[: len(kept)]
    power_to_db(slices, top_db=front_end.top_db, top=top, out=slices)
    return PieceSlices(slices, kept, n_slices - len(kept), None)


def _stream_slices(chunks, gain: float, n: int, n_slices: int, front_end: FrontEnd):
    """Second pass of :func:`cut_stream`: every slice's power frames, every slice's energy,
    the piece's mean power and its largest frame power, all after normalisation."""
    width, bounds = front_end.frames_per_slice, slice_bounds(n_slices, front_end)
    starts = slice_start_frames(n_slices, front_end)
    power_slices = np.zeros((n_slices, front_end.n_bins, width), dtype=np.float32)
    energy, total, top, position = np.zeros(n_slices), 0.0, np.float32(0.0), 0
    frames = FrameStream(n, front_end)
    for chunk in chunks():
        y = (chunk * gain).astype(np.float32, copy=False)
        total += float(np.sum(np.square(y, dtype=np.float64)))
        _add_energy(energy, y, position, bounds)
        position += len(y)
        for first, S in frames.feed(y):
            top = max(top, S.max()) if S.size else top
            for k in np.flatnonzero((starts < first + S.shape[1]) & (starts + width > first)):
                lo, hi = max(starts[k], first), min(starts[k] + width, first + S.shape[1])
                power_slices[k][:, lo - starts[k]:hi - starts[k]] = S[:, lo - first:hi - first]
    return power_slices, energy, total / n, top


def _add_energy(energy: np.ndarray, y: np.ndarray, position: int, bounds: np.ndarray) -> None:
    """Add the squared samples of a chunk starting at sample ``position`` to the slices it covers."""
    hi = min(position + len(y), int(bounds[-1]))
    if hi <= position:
        return
    first = int(np.searchsorted(bounds, position, side="right")) - 1
    last = int(np.searchsorted(bounds, hi, side="left"))
    cuts = np.maximum(bounds[first:last], position) - position
    energy[first:last] += np.add.reduceat(np.square(y[: hi - position], dtype=np.float64), cuts)


class FrameStream:
    """The frames of :func:`power_spectrogram` (or its mel version) for audio fed in chunks.

    Frames are centred on multiples of ``hop_length`` with ``n_fft // 2``
    zeros before the first sample and after the last, as in
    :func:`power_spectrogram`; each is computed as soon as its samples are in.

    Parameters
    ----------
    n_samples : int
        The piece's length (needed to pad its end).
    front_end : FrontEnd

    Examples
    --------
    >>> y = np.random.default_rng(0).normal(size=22050).astype(np.float32)
    >>> stream = FrameStream(len(y), FrontEnd())
    >>> parts = [S for piece in (y[:5000], y[5000:]) for _, S in stream.feed(piece)]
    >>> whole = power_spectrogram(y, weights=FrontEnd().filterbank())
    >>> bool(np.allclose(np.concatenate(parts, axis=1), whole, rtol=1e-5))
    True
    """

    def __init__(self, n_samples: int, front_end: FrontEnd):
        self.n_fft, self.hop = front_end.n_fft, front_end.hop_length
        self.weights = front_end.filterbank()
        self.n_samples, self.n_frames = n_samples, 1 + n_samples // self.hop
        self.buffer = np.zeros(self.n_fft // 2, dtype=np.float32)
        self.offset = self.received = self.next_frame = 0  # offset: padded index of buffer[0]

    def feed(self, y: np.ndarray):
        """Yield ``(first_frame, S)`` for every frame that the samples so far complete."""
        self.received += len(y)
        tail = [np.zeros(self.n_fft // 2, np.float32)] if self.received >= self.n_samples else []
        self.buffer = np.concatenate([self.buffer, np.asarray(y, np.float32), *tail])
        ready = min(self.n_frames, (self.offset + len(self.buffer) - self.n_fft) // self.hop + 1)
        if ready > self.next_frame:
            start = self.next_frame * self.hop - self.offset
            stop = (ready - 1) * self.hop - self.offset + self.n_fft
            frames = np.lib.stride_tricks.sliding_window_view(
                self.buffer[start:stop], self.n_fft)[::self.hop]
            yield self.next_frame, _frame_power(frames, self.n_fft, self.weights)
            self.next_frame = ready
        drop = self.next_frame * self.hop - self.offset
        self.buffer, self.offset = self.buffer[drop:], self.offset + drop
