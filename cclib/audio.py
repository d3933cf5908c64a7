"""Reading audio: decode, mix to mono, resample, normalise loudness.

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from cclib.errors import CclibError

#: File endings the pipeline reads (soundfile decodes all four).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")

#: Loudness every piece is brought to: RMS of -20 dBFS.
TARGET_RMS = 0.1

#: A file whose peak is below this level (dBFS) is treated as silent.
SILENT_PEAK_DB = -60.0


class AudioError(CclibError, ValueError):
    """A file that cannot be used as audio; the message is one line for the user."""


def find_audio_files(audio_dir: str | Path, *, unusable: list | None = None) -> list[Path]:
    """List the audio files below ``audio_dir``, sorted, hidden files left out.

    Parameters
    ----------
    audio_dir : path
    unusable : list, optional
        Receives ``(path, reason)`` for every entry with an audio file's name
        that is not a regular file (a broken or looping symbolic link, a FIFO,
        a device), so that a batch can name it instead of passing it over.

    Examples
    --------
    >>> find_audio_files("/nonexistent")
    []
    """
    audio_dir = Path(audio_dir)
    found = []
    for path in audio_dir.rglob("*"):
        if (path.suffix.lower() not in AUDIO_EXTENSIONS or path.is_dir()
                or any(part.startswith(".") for part in path.relative_to(audio_dir).parts)):
            continue
        if path.is_file():
            found.append(path)
        elif unusable is not None:
            unusable.append((path, _not_a_file(path)))
    if unusable is not None:
        unusable.sort()
    return sorted(found)


def _not_a_file(path: Path) -> str:
    """Why an entry named like an audio file cannot be read as one."""
    if not path.is_symlink():
        return "not a regular file (a FIFO, socket or device)"
    try:
        path.resolve(strict=True)
    except FileNotFoundError:
        return f"broken symbolic link (to {os.readlink(path)})"
    except (OSError, RuntimeError):
        return "symbolic link loop"
    return "symbolic link to something that is not a regular file"


def load_audio(path: str | Path, *, sr: int = 22050) -> np.ndarray:
    """Decode an audio file to mono float32 at ``sr`` Hz.

    Parameters
    ----------
    path : str or Path
        A WAV (8/16/24/32-bit integer or float), FLAC, OGG or MP3 file.
    sr : int > 0
        Target sampling rate in Hz.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
        The samples, channels averaged.

    Raises
    ------
    AudioError
        If the file is empty, cannot be opened, or is not decodable audio.
    """
    path = Path(path)
    with _decoding(path):
        if path.stat().st_size == 0:
            raise AudioError(f"{path}: empty file")
        y, native_sr = sf.read(path, dtype="float32", always_2d=True)
    if y.size == 0:
        raise AudioError(f"{path}: no audio samples")
    check_finite(y, path)
    y = y.mean(axis=1, dtype=np.float32)
    if native_sr != sr:
        y = soxr.resample(y, native_sr, sr, quality="HQ").astype(np.float32, copy=False)
    return y


#: Files longer than this are cut in chunks (cclib.spectrogram.cut_stream), so memory
#: stays bounded however long a recording is.
LONG_SECONDS = 600.0


def audio_seconds(path: str | Path) -> float:
    """A file's duration in seconds, from its header; 0.0 when the header cannot be read
    (decoding then reports why)."""
    try:
        return float(sf.info(str(path)).duration)
    except (OSError, sf.LibsndfileError, RuntimeError, ValueError):
        return 0.0


def stream_audio(path: str | Path, *, sr: int = 22050, block_seconds: float = 30.0):
    """Decode an audio file in blocks: mono float32 chunks at ``sr`` Hz, in order.

    The blocks of :func:`load_audio`, one at a time (channels averaged, then
    resampled by one soxr stream), so memory does not grow with the file.

    Yields
    ------
    chunk : np.ndarray [shape=(m,), dtype=float32]

    Raises
    ------
    AudioError
        If the file cannot be opened or decoded.
    """
    path = Path(path)
    with _decoding(path), sf.SoundFile(str(path)) as handle:
        native_sr = handle.samplerate
        resampler = (soxr.ResampleStream(native_sr, sr, 1, dtype="float32", quality="HQ")
                     if native_sr != sr else None)
        block = max(1, int(block_seconds * native_sr))
        while True:
            data = handle.read(block, dtype="float32", always_2d=True)
            last = len(data) < block
            y = data.mean(axis=1, dtype=np.float32)
            if resampler is not None:
                y = resampler.resample_chunk(y, last=last).astype(np.float32, copy=False)
            yield y
            if last:
                return


@contextlib.contextmanager
def _decoding(path: Path):
    """Turn whatever opening or decoding ``path`` raises into one AudioError naming it."""
    if not Path(path).is_file():  # libsndfile would say only "System error"
        raise AudioError(f"{path}: no such file")
    try:
        yield
    except AudioError:
        raise
    except OSError as error:
        raise AudioError(f"{path}: cannot be read ({error.strerror or error})") from None
    except (sf.LibsndfileError, RuntimeError, ValueError) as error:
        raise AudioError(f"{path}: not readable audio ({_decoder_reason(error)})") from None


def check_finite(y: np.ndarray, name) -> None:
    """Refuse audio holding NaN or infinite samples (a broken float WAV): they poison every slice.

    Examples
    --------
    >>> check_finite(np.array([0.0, np.nan]), "x.wav")
    Traceback (most recent call last):
    ...
    cclib.audio.AudioError: x.wav: holds 1 non-finite samples (NaN or infinity)
    """
    finite = np.isfinite(y)
    if not finite.all():
        raise AudioError(f"{name}: holds {int(finite.size - finite.sum())} non-finite samples "
                         "(NaN or infinity)")


def _decoder_reason(error: Exception) -> str:
    """libsndfile's reason, without the path it repeats."""
    message = str(error).splitlines()[0] if str(error) else type(error).__name__
    reason = message.split("': ", 1)[-1].rstrip(".")
    if "not a regular file" in reason:  # what libsndfile says of an undecodable MP3
        return "format not recognised"
    return reason


def normalize_loudness(y: np.ndarray, *, target_rms: float = TARGET_RMS) -> np.ndarray:
    """Scale a piece so its RMS level is ``target_rms``, so level is no cue.

    Parameters
    ----------
    y : np.ndarray [shape=(n,)]
    target_rms : float > 0

    Returns
    -------
    y_norm : np.ndarray [shape=(n,), dtype=float32]
        Unchanged if ``y`` is digital silence.

    Examples
    --------
    >>> y = 0.01 * np.sin(np.linspace(0, 100, 1000)).astype(np.float32)
    >>> round(float(np.sqrt(np.mean(normalize_loudness(y) ** 2))), 3)
    0.1
    """
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    if rms == 0.0:
        return y.astype(np.float32, copy=False)
    return (y * (target_rms / rms)).astype(np.float32, copy=False)
