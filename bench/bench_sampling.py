"""Sampling speed: the "all spectrograms" dataset from a manifest of 100,000 slices.

The manifest is synthetic but shaped like a real archive: 7 periods, 12
composers each, pieces of 20 to 120 slices. Prints the time to draw and split
it under each protocol (target: under 5 s for "all"), against the time pandas
needs just to sort the same table, as a reference in the same process.

Usage: python bench/bench_sampling.py [--slices 100000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cclib.sampling import make_dataset, write_dataset


def synthetic_manifest(n_slices: int, *, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    periods = ["renaissance", "baroque", "classical", "romantic", "impressionist",
               "20thcentury", "21stcentury"]
    rows, total, number = [], 0, 0
    while total < n_slices:
        period = periods[number % len(periods)]
        composer = f"{period[:4].title()}{(number // len(periods)) % 12}"
        n = int(min(rng.integers(20, 121), n_slices - total))
        rows.append((f"{composer}_{number}", composer, period, n))
        total += n
        number += 1
    pieces = pd.DataFrame(rows, columns=["piece", "composer", "period", "n"])
    manifest = pieces.loc[pieces.index.repeat(pieces.n)].drop(columns="n").reset_index(drop=True)
    manifest["index"] = manifest.groupby("piece").cumcount()
    manifest["slice_id"] = manifest.piece + "_" + (manifest["index"] + 1).astype(str)
    manifest["start_s"] = manifest["index"] * 3.0
    manifest["path"] = "slices/" + manifest.piece + ".npy"
    manifest["row"] = manifest["index"]
    return manifest


def best_of(func, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=100_000)
    args = parser.parse_args()
    manifest = synthetic_manifest(args.slices)
    print(f"{len(manifest)} slices, {manifest.piece.nunique()} pieces, "
          f"{manifest.composer.nunique()} composers\n")
    reference = best_of(lambda: manifest.sort_values(["piece", "index"]))
    print(f"{'pandas sort of the manifest (reference)':<44} {reference:6.3f} s")
    for method, split in [("all", "slice"), ("all", "piece"), ("all", "composer"),
                          ("per-composer", "piece")]:
        seconds = best_of(lambda: make_dataset(manifest, method=method, split=split, seed=0))
        print(f"{f'{method} / {split}':<44} {seconds:6.3f} s   "
              f"({seconds / reference:5.1f}x the sort)")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "dataset"

        def sample_and_write():
            shutil.rmtree(out, ignore_errors=True)
            dataset, summary = make_dataset(manifest, method="all", split="piece", seed=0)
            write_dataset(dataset, summary, Path(scratch) / "store", out)

        seconds = best_of(sample_and_write)
        print(f"{'all / piece, written (cclib sample end to end)':<44} {seconds:6.3f} s   "
              f"({seconds / reference:5.1f}x the sort)")


if __name__ == "__main__":
    main()
