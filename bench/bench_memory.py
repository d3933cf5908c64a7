"""Peak memory of `cclib spectrograms` on a long recording.

Writes a two-hour 44.1 kHz stereo 16-bit WAV (1.3 GB: a slow chirp with
noise, quiet passages included) into a scratch folder, converts it with
``cclib spectrograms --jobs 1`` in a child process and reports the child's
peak resident memory (``ru_maxrss``) and its time. Files longer than
``cclib.audio.LONG_SECONDS`` are decoded and cut in chunks; before that,
memory grew with the file (3.8 GB for this one).

Usage: python bench/bench_memory.py [--hours 2] [--scratch DIR]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def write_long_wav(path: Path, hours: float, sr: int = 44100) -> None:
    """Minute by minute, so writing it needs no more memory than reading it should."""
    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=2, subtype="PCM_16") as out:
        for minute in range(int(hours * 60)):
            t = minute * 60 + np.arange(60 * sr) / sr
            tone = 0.3 * np.sin(2 * np.pi * (220 + 110 * np.sin(t / 90)) * t)
            level = 0.02 if minute % 10 == 9 else 1.0  # a quiet minute in every ten
            left = level * tone + 0.01 * rng.standard_normal(t.size)
            out.write(np.stack([left, 0.8 * left], axis=1).astype(np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--scratch", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
        audio = Path(scratch) / "audio"
        audio.mkdir()
        write_long_wav(audio / "Bach_1.wav", args.hours)
        size = (audio / "Bach_1.wav").stat().st_size
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "cclib.cli", "spectrograms", str(audio),
                               "--out", str(Path(scratch) / "store"), "--jobs", "1"],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(done.stdout.strip() or done.stderr.strip())
        print(f"{args.hours:g} h, 44.1 kHz stereo, {size / 1e9:.2f} GB: peak RSS {peak_mb:.0f} MB "
              f"(target < 500 MB), {seconds:.1f} s")


if __name__ == "__main__":
    main()
