"""Does the model hear the period in music it has never heard? The cross-domain protocols, measured.

For each protocol of cclib.protocols (unseen pieces, unseen composers, each
unseen soundfont, each unseen texture), each seed and each recipe, trains a
model and scores it on the protocol's test slices: piece-level balanced
accuracy over the periods of the test (a period the model does not know
counts as missed), with the reference classifier beside MobileNet.
Prints the mean (min-max) over seeds and writes every run to a CSV.

Recipes are given as NAME[:key=value,...]; keys: balance (0/1), augment (copies),
normalize (none/bands), erase (columns joined by +, e.g. ensemble+soundfont), mode
(retrain/finetune/scratch),
share (max ensemble share), steps, store (another slice
store to train on: the study's corpus as it was), study (1: start from the
study's recipe instead of the project's). The first recipe without a store
defines the test split.

Usage:
    python bench/bench_generalization.py --store data/spectrograms \
        --recipe study:study=1 --recipe chosen --recipe baseline:study=1,store=data/spectrograms-m21 \
        [--seeds 5] [--steps 6000] [--protocols within,composer,...] [--out data/runs/generalization]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from cclib import paths
from cclib.errors import CclibError
from cclib.protocols import Recipe, list_protocols, run_protocol, summarise
from cclib.store import read_manifest
from cclib.training import TrainConfig


def parse_recipe(text: str, steps: int) -> Recipe:
    name, _, options = text.partition(":")
    values = dict(item.split("=", 1) for item in options.split(",") if item)
    base = TrainConfig.study if values.pop("study", "0") == "1" else TrainConfig
    try:
        config = {"steps": int(values.pop("steps", steps))}
        for key, cast in (("balance", lambda v: v == "1"), ("augment", int), ("normalize", str),
                          ("erase", lambda v: tuple(v.split("+"))), ("mode", str)):
            if key in values:
                config[key] = cast(values.pop(key))
        share = values.pop("share", None)
        store = values.pop("store", None)
        if values:
            raise ValueError(f"unknown options {sorted(values)}")
        return Recipe(name, base(**config), store=store,
                      max_ensemble_share=float(share) if share else None)
    except ValueError as error:
        raise SystemExit(f"bench_generalization: --recipe {text}: {error}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=paths.spectrograms_dir())
    parser.add_argument("--recipe", action="append", required=True)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--protocols", default=None,
                        help="comma-separated protocol names (default: all the store allows)")
    parser.add_argument("--out", type=Path, default=paths.runs_dir() / "generalization")
    args = parser.parse_args()

    recipes = [parse_recipe(text, args.steps) for text in args.recipe]
    protocols = list_protocols(read_manifest(args.store))
    if args.protocols:
        wanted = [name.strip() for name in args.protocols.split(",")]
        protocols = [p for p in protocols if p.name in wanted]
    rows, started = [], time.perf_counter()
    csv = args.out / "runs.csv"
    for protocol in protocols:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            found = run_protocol(args.store, protocol, recipes, seed=seed, out=args.out)
            rows += found
            line = ", ".join(f"{r['recipe']}/{r['model']} {r['piece_balanced']:.3f}" for r in found)
            print(f"{protocol.name:28} seed {seed}: {line} ({time.perf_counter() - started:.0f} s)",
                  flush=True)
            pd.DataFrame(rows).to_csv(csv, index=False)
    pd.set_option("display.width", 220)
    pd.set_option("display.max_rows", 200)
    print(f"\npiece- and slice-level balanced accuracy (%), {args.seeds} seeds, "
          f"{args.steps} steps; runs in {csv}\n")
    print(summarise(rows).to_string())


if __name__ == "__main__":
    try:
        main()
    except CclibError as error:  # a refused store or run folder: one line, as the cclib command
        raise SystemExit(f"bench_generalization: {error}") from None
