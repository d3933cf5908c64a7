"""Retraining time: from slice store to trained head, cold and warm bottleneck cache.

Samples the "all spectrograms" dataset (piece split) from the slice store,
then runs the study's recipe (frozen ImageNet MobileNetV2, 6,000 steps of
100) twice: once with an empty bottleneck cache, once with it warm. Prints
both, and the cold time scaled to the study's 24,000 slices from the measured
rate (the default corpus has about 11,000).

Usage: python bench/bench_retrain.py [--store data/spectrograms] [--steps 6000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from cclib import paths
from cclib.sampling import make_dataset, write_dataset
from cclib.store import read_manifest
from cclib.training import TrainConfig, train_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=paths.spectrograms_dir())
    parser.add_argument("--steps", type=int, default=6000)
    args = parser.parse_args()
    manifest = read_manifest(args.store)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        dataset, summary = make_dataset(manifest, method="all", split="piece", seed=0)
        write_dataset(dataset, summary, args.store, scratch / "dataset")
        n_store = len(manifest[manifest.piece.isin(dataset.piece)])
        config = TrainConfig(steps=args.steps)
        cold = train_model(scratch / "dataset", scratch / "cold", config, cache_root=scratch / "cache")
        warm = train_model(scratch / "dataset", scratch / "warm", config, cache_root=scratch / "cache")
    rate = n_store / cold["timings"]["bottlenecks_s"]
    cold_24k = 24_000 / rate + cold["timings"]["total_s"] - cold["timings"]["bottlenecks_s"]
    print(f"dataset: {len(dataset)} slices ({n_store} embedded: every slice of the pieces used), "
          f"{args.steps} steps, input {config.input_size}px")
    print(f"cold cache: {cold['timings']['total_s']:7.1f} s  (bottlenecks "
          f"{cold['timings']['bottlenecks_s']:.1f} s, {rate:.0f} slices/s; head "
          f"{cold['timings']['head_s']:.1f} s)")
    print(f"warm cache: {warm['timings']['total_s']:7.1f} s  (target < 120 s)")
    print(f"cold, scaled to 24,000 slices: {cold_24k:7.1f} s  (target < 900 s)")


if __name__ == "__main__":
    main()
