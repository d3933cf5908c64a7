"""Music no model here has heard: works the default corpus leaves out, through the evaluation soundfont.

The default corpus takes the first 16 works (in its seeded order) of every
composer. This renders the next ones (numbers 17 and up) with FluidR3_GM,
the soundfont kept for testing (Debian's fluid-soundfont-gm; never used to
train or tune), once as piano (the corpus's instrument) and once with the
scores' own instruments (voices, strings: further from the training sound),
then scores each model on them with `cclib evaluate`'s code: piece-level
balanced accuracy over the periods present, its bootstrap interval, and the
share of pieces the out-of-domain score flags.

Usage:
    python experiments/evaluate_unseen.py --model project=data/models/default \
        --model study=data/runs/study-model [--extra 8] [--out data/runs/unseen]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from cclib import paths
from cclib.classify import load_period_model
from cclib.corpus import DEFAULT_MAX_WORKS, build_corpus
from cclib.errors import CclibError
from cclib.evaluation import evaluate_folder
from cclib.fileio import write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--extra", type=int, default=8, help="works per composer past the cap")
    parser.add_argument("--instruments", default="piano,score")
    parser.add_argument("--soundfont", default="FluidR3_GM")
    parser.add_argument("--out", type=Path, default=paths.runs_dir() / "unseen")
    args = parser.parse_args()
    folders = {}
    for instrument in args.instruments.split(","):
        folder = args.out / f"audio-{args.soundfont}-{instrument}"
        summary = build_corpus(folder, max_works=DEFAULT_MAX_WORKS + args.extra,
                               after=DEFAULT_MAX_WORKS, instrument=instrument,
                               soundfonts=[args.soundfont], progress=False)
        print(f"{folder.name}: {summary.line()}", flush=True)
        folders[instrument] = folder
    rows, reports = [], {}
    for text in args.model:
        name, _, model_dir = text.partition("=")
        model = load_period_model(model_dir)
        for instrument, folder in folders.items():
            report = evaluate_folder(model, folder, progress=False)
            low, high = report["piece_balanced_accuracy_95"]
            rows.append({"model": name, "instrument": instrument, "pieces": report["n_pieces"],
                         "periods": len(report["counts"]),
                         "piece balanced": 100 * report["piece"]["balanced_accuracy"],
                         "95% interval": f"{100 * low:.0f}-{100 * high:.0f}",
                         "slice balanced": 100 * report["slice"]["balanced_accuracy"],
                         "piece accuracy": 100 * report["piece"]["accuracy"],
                         "majority": 100 * report["majority_baseline"]["accuracy"],
                         "flagged out of domain": 100 * report["out_of_domain"][
                             "pieces_over_threshold"] / max(1, len(report["pieces"]))})
            write_json(args.out / f"evaluation-{name}-{instrument}.json", report)
            reports.setdefault(name, report)
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).round(1).to_string(index=False))
    first = next(iter(reports.values()))
    print("\nper period (pieces):", ", ".join(f"{p} {c['pieces']}"
                                            for p, c in first["counts"].items()))


if __name__ == "__main__":
    try:
        main()
    except CclibError as error:  # a model or folder that cannot be used: one line
        raise SystemExit(f"evaluate_unseen: {error}") from None
