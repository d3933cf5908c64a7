"""Classification speed with the model loaded, and the input-size trade-off.

For each input size: milliseconds per slice in batches of 64 (MobileNetV2 with
the ported ImageNet weights and a period head), and the time to classify a
5-minute audio file end to end (decode, log-mel, slice, network). Reference in
the same process: the study's "Evaluation time (1-image): 0.472s".

Usage: python bench/bench_classify.py [--audio FILE]  (default: a default-corpus file, cut to 5 min)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from cclib import paths
from cclib.audio import find_audio_files, load_audio
from cclib.classify import PeriodModel, classify_path
from cclib.model import build_period_model, predict_in_batches
from cclib.spectrogram import FrontEnd


def five_minute_file(folder: Path, source: Path | None) -> Path:
    """A 5-minute WAV: the given file, or default-corpus pieces joined, cut to 300 s."""
    sources = [source] if source else find_audio_files(paths.audio_dir())
    if not sources:
        raise SystemExit("no audio: run `make corpus` or pass --audio FILE")
    parts, total = [], 0
    for path in sources:
        y = load_audio(path)
        parts.append(y)
        total += len(y)
        if total >= 300 * 22050:
            break
    y = np.concatenate(parts)[: 300 * 22050]
    target = folder / "five_minutes.wav"
    sf.write(target, y, 22050)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=None)
    args = parser.parse_args()
    front_end = FrontEnd()
    slices = np.random.default_rng(0).uniform(-80, 0, (512, front_end.n_bins,
                                                      front_end.frames_per_slice))
    with tempfile.TemporaryDirectory() as scratch:
        audio = five_minute_file(Path(scratch), args.audio)
        print(f"{'input':>6}  {'ms per slice (batched)':>24}  {'5-minute file':>14}")
        for size in (224, 160, 128, 96):
            model = build_period_model(6, n_bins=front_end.n_bins,
                                       frames=front_end.frames_per_slice, input_size=size)
            predict_in_batches(model, slices[:64])  # compile once, as load_period_model does
            started = time.perf_counter()
            predict_in_batches(model, slices)
            per_slice = (time.perf_counter() - started) / len(slices) * 1000
            period_model = PeriodModel(model, [str(i) for i in range(6)], front_end)
            result = min((classify_path(period_model, str(audio)) for _ in range(3)),
                         key=lambda r: r["seconds"])
            print(f"{size:>4}px  {per_slice:>21.2f} ms  {result['seconds']:>12.2f} s "
                  f"({result['n_slices']} slices)")
    print("\nthe study: 472 ms for one image (Figure 4)")


if __name__ == "__main__":
    main()
