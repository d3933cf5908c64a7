"""Twenty trials of the study's recipe, headless, on the default corpus.

Runs notebook 04 through ``cclib trials`` (retrain mode, 6,000 steps, one
seed per trial) with the slice store and the bottleneck cache warm (an
untimed one-trial batch warms the cache first), for the study's "100
spectrograms" dataset under the study's slice split and under the piece
split. Prints the wall time of each batch (target: 20 trials in under 30
minutes on 2 cores) and the study's figure 3 table next to ours.

Usage: python bench/bench_trials.py [--n 20] [--jobs 2] [--out data/runs/bench-trials]
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from cclib import paths
from cclib.trials import collect_trials, compare_with_study, run_trials

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "04_retrain_mobilenet.ipynb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--out", type=Path, default=paths.runs_dir() / "bench-trials")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)  # a benchmark times every trial, none resumed
    run_trials(NOTEBOOK, 1, args.out / "warm-up", parameters={"steps": 1}, progress=False)
    runs = []
    for split in ("slice", "piece"):
        out = args.out / f"per-composer-{split}"
        started = time.perf_counter()
        summary = run_trials(NOTEBOOK, args.n, out, jobs=args.jobs,
                             parameters={"split": split, "steps": args.steps})
        minutes = (time.perf_counter() - started) / 60
        done = summary.done + summary.already_done
        print(f"{split} split: {done} of {args.n} trials done in {minutes:.1f} min "
              f"with {args.jobs} jobs (target: 20 trials < 30 min)")
        runs.append(out)
    trials = collect_trials(runs)
    for metric in ("test.mobilenet.slice.accuracy", "test.mobilenet.slice.balanced_accuracy",
                   "test.reference.slice.balanced_accuracy", "test.mobilenet.piece.accuracy"):
        print(f"\n{metric} (%):")
        print(compare_with_study(trials, metric).to_string())


if __name__ == "__main__":
    main()
