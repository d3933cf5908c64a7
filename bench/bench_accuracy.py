"""Accuracy on the default corpus: one model per split protocol and seed, with the reference.

For each protocol (slice, piece, composer) and each seed, samples the "all
spectrograms" dataset, retrains MobileNetV2 with the study's recipe and
reports test accuracy and balanced accuracy, slice and piece level, for
MobileNet and the logistic-regression reference, as mean, median, min and
max over the seeds, with chance and the majority baseline. Bottlenecks are
cached, so only the first run pays for them.

Usage: python bench/bench_accuracy.py [--store data/spectrograms] [--seeds 5] [--steps 6000]
       [--splits slice,piece,composer] [--input-size 128]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from cclib import paths
from cclib.sampling import make_dataset, write_dataset
from cclib.store import read_manifest
from cclib.training import TrainConfig, train_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=paths.spectrograms_dir())
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--method", default="all")
    parser.add_argument("--splits", default="slice,piece,composer")
    parser.add_argument("--input-size", type=int, default=TrainConfig().input_size)
    args = parser.parse_args()
    manifest = read_manifest(args.store)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for split in args.splits.split(","):
            for seed in range(args.seeds):
                folder = Path(scratch) / f"{split}-{seed}"
                dataset, summary = make_dataset(manifest, method=args.method, split=split,
                                                seed=seed)
                write_dataset(dataset, summary, args.store, folder / "dataset")
                metrics = train_model(folder / "dataset", folder / "model",
                                      TrainConfig(steps=args.steps, seed=seed,
                                                  input_size=args.input_size))
                test = metrics["test"]
                for model in ("mobilenet", "reference"):
                    rows.append({"split": split, "seed": seed, "model": model,
                                 "classes": len(metrics["classes"]),
                                 "slice acc": test[model]["slice"]["accuracy"],
                                 "slice bal": test[model]["slice"]["balanced_accuracy"],
                                 "piece acc": test[model]["piece"]["accuracy"],
                                 "piece bal": test[model]["piece"]["balanced_accuracy"],
                                 "majority": test[model]["majority_baseline"]["accuracy"],
                                 "chance": test[model]["chance"]})
                print(f"{split:8} seed {seed}: mobilenet {rows[-2]['slice bal']:.3f} balanced, "
                      f"reference {rows[-1]['slice bal']:.3f}", flush=True)
    table = pd.DataFrame(rows)
    scores = ["slice acc", "slice bal", "piece acc", "piece bal"]
    summary = table.groupby(["split", "model"])[scores].agg(["mean", "median", "min", "max"])
    pd.set_option("display.width", 200)
    print(f"\n{args.method} spectrograms, {args.seeds} seeds, {args.steps} steps, "
          f"input {args.input_size}px\n")
    print((summary * 100).round(1).to_string())
    print("\nchance and majority baseline (test accuracy):")
    print(table.groupby("split")[["classes", "chance", "majority"]].mean().round(3).to_string())


if __name__ == "__main__":
    main()
