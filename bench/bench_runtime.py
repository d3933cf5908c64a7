"""`cclib classify` under Keras and under LiteRT: a whole process, and batched.

For a trained model folder that holds a LiteRT export (``model.tflite``, written
by ``cclib train``), measures

- the CPU time (user + sys) of the whole process ``cclib classify MODEL
  FILE --runtime R`` on a 30-second WAV, best of 3 with a warm disk cache
  (what a user waits for: imports, model load, decode, slices, network);
- milliseconds per slice in batches of 64 with the model loaded;
- the largest difference between the two runtimes' probabilities.

Usage: python bench/bench_runtime.py MODEL [--audio FILE]
       (default audio: the first default-corpus file, cut to 30 s)
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from cclib import paths
from cclib.audio import find_audio_files, load_audio
from cclib.classify import load_period_model


def thirty_second_file(folder: Path, source: Path | None) -> Path:
    sources = [source] if source else find_audio_files(paths.audio_dir())[:1]
    if not sources:
        raise SystemExit("no audio: run `make corpus` or pass --audio FILE")
    target = folder / "thirty_seconds.wav"
    sf.write(target, load_audio(sources[0])[: 30 * 22050], 22050)
    return target


def process_cpu(model: Path, audio: Path, runtime: str) -> float:
    """User + sys seconds of one ``cclib classify`` process (its children included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "cclib.cli", "classify", str(model), str(audio),
                    "--runtime", runtime], check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def per_slice_ms(period_model, slices: np.ndarray) -> float:
    period_model.predict(slices[:64])  # warm
    started = time.perf_counter()
    period_model.predict(slices)
    return (time.perf_counter() - started) / len(slices) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--audio", type=Path, default=None)
    args = parser.parse_args()
    keras_model = load_period_model(args.model, runtime="keras")
    litert_model = load_period_model(args.model, runtime="litert")
    front_end = keras_model.front_end
    slices = np.random.default_rng(0).uniform(-60, 20, (512, front_end.n_bins,
                                                       front_end.frames_per_slice))
    difference = np.abs(keras_model.predict(slices) - litert_model.predict(slices)).max()
    print(f"{os.cpu_count()} cores; largest probability difference, 512 slices: "
          f"{difference:.2g}")
    with tempfile.TemporaryDirectory() as scratch:
        audio = thirty_second_file(Path(scratch), args.audio)
        print(f"{'runtime':>8}  {'classify, 30 s file (CPU s, best of 3)':>40}  "
              f"{'ms per slice (batched)':>24}")
        for runtime, period_model in (("keras", keras_model), ("litert", litert_model)):
            cpu = min(process_cpu(args.model, audio, runtime) for _ in range(3))
            print(f"{runtime:>8}  {cpu:>40.2f}  {per_slice_ms(period_model, slices):>24.2f}")


if __name__ == "__main__":
    main()
