"""Preprocessing throughput: cclib's slice store against the study's method, same files, one worker.

Measures audio-seconds converted per wall-second, end to end (decode, mono,
resample, spectrogram, slice, write), for:

* the study's method: matplotlib ``specgram`` and ``savefig`` of a 224-pixel
  PNG for every 3-second slice;
* ``cclib spectrograms`` writing the array store (the default);
* ``cclib spectrograms --png`` (arrays plus the study's images);
* the spectrogram computation alone, in memory (the compute bound of this code).

Usage: python bench/bench_preprocess.py [--audio DIR] [--files N]
(default: N files of data/audio spread evenly over its sorted list, so every
composer's kind of piece is in the mix; run ``make corpus`` first).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one worker means one core, BLAS included
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from cclib import paths  # noqa: E402
from cclib.audio import find_audio_files, load_audio, normalize_loudness  # noqa: E402
from cclib.spectrogram import FrontEnd, compute_spectrogram  # noqa: E402
from cclib.store import convert_folder  # noqa: E402


def study_method(files, out: Path) -> None:
    """The study's pipeline: read, mono, then one specgram figure saved per 3-second slice."""
    for path in files:
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        y = y.mean(axis=1)
        folder = out / f"{path.stem}_spectrograms"
        folder.mkdir(parents=True)
        width = 3 * sr
        for k in range(len(y) // width):
            fig = plt.figure(figsize=(2.24, 2.24), dpi=100)
            ax = fig.add_axes((0, 0, 1, 1))
            ax.specgram(y[k * width:(k + 1) * width], Fs=sr)
            ax.set_axis_off()
            fig.savefig(folder / f"{path.stem}_{k + 1}.png")
            plt.close(fig)


def compute_only(files) -> None:
    """Decode and spectrogram in memory, nothing written."""
    for path in files:
        compute_spectrogram(normalize_loudness(load_audio(path)), front_end=FrontEnd())


def timed(label: str, func, audio_seconds: float, *, repeats: int = 1) -> float:
    best = min(_once(func) for _ in range(repeats))
    speed = audio_seconds / best
    print(f"{label:<42} {best:8.2f} s   {speed:8.0f}x real time")
    return speed


def _once(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=paths.audio_dir())
    parser.add_argument("--files", type=int, default=12)
    args = parser.parse_args()

    every = find_audio_files(args.audio)
    files = every[:: max(1, len(every) // args.files)][: args.files]
    if not files:
        raise SystemExit(f"no audio in {args.audio}: run `make corpus` (or pass --audio DIR)")
    audio_seconds = sum(sf.info(f).duration for f in files)
    print(f"{len(files)} files, {audio_seconds / 60:.1f} minutes of audio, one worker "
          f"({', '.join(f.name for f in files)})\n")

    np.seterr(divide="ignore")  # the study's specgram takes log10 of silent bins
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        subset = scratch / "audio"
        subset.mkdir()
        for f in files:
            os.symlink(f.resolve(), subset / f.name)

        def fresh(name: str) -> Path:
            shutil.rmtree(scratch / name, ignore_errors=True)
            return scratch / name

        compute_only(files[:1])  # warm caches (imports, filterbank)
        study = timed("study: specgram + savefig per slice", lambda: study_method(
            files, fresh("study")), audio_seconds)
        store = timed("cclib spectrograms (array store)", lambda: convert_folder(
            subset, fresh("store"), jobs=1, progress=False), audio_seconds, repeats=3)
        png = timed("cclib spectrograms --png", lambda: convert_folder(
            subset, fresh("png"), png=True, jobs=1, progress=False), audio_seconds, repeats=2)
        bound = timed("decode + log-mel only (in memory)", lambda: compute_only(files),
                      audio_seconds, repeats=3)

    print(f"\narray store / study: {store / study:5.1f}x   (target >= 5x)")
    print(f"--png       / study: {png / study:5.1f}x   (target >= 2x)")
    print(f"array store / in-memory compute: {store / bound:5.2f}")


if __name__ == "__main__":
    main()
