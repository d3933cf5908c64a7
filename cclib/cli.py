"""The ``cclib`` command: one subcommand per pipeline stage.

    cclib corpus        render the default corpus (music21's and OpenScore's scores)
    cclib spectrograms  convert audio files into 3-second spectrogram slices
    cclib sample        draw a train/test/validation dataset from the slices
    cclib train         retrain MobileNetV2 on a dataset
    cclib classify      print the period hierarchy of audio files or slices
    cclib evaluate      score a model on a folder of labelled recordings
    cclib trials        execute a notebook once per seed, headless, and tabulate
    cclib notebook      execute one notebook headless (what make demo runs)
    cclib protocols     train without a soundfont, texture, source or composers, test on it

Each prints a progress bar on a terminal and a one-line summary at the end.
Exit status: 0 when something was produced, 1 when nothing was, 2 for bad
arguments or unusable inputs. Every error a user can cause is a
:class:`~cclib.errors.CclibError`, caught here once and printed as one line,
``cclib COMMAND: WHAT: REASON``; ``CCLIB_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from cclib import paths
from cclib.errors import CclibError


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _natural_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 1, not {text}")
    return value


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _add_scheduler(parser) -> None:
    parser.add_argument("--scheduler", default="local", metavar="local|dask|ADDRESS",
                        help="where the work runs: local processes (default), a Dask cluster "
                             "started here (needs cclib[dask]), or a Dask scheduler address "
                             "such as tcp://HOST:8786 whose workers share these paths")


def _add_corpus(subparsers) -> None:
    from cclib.corpus import (DEFAULT_MAX_SECONDS, DEFAULT_MAX_WORKS, DEFAULT_TIMEOUT,
                              INSTRUMENT_PROGRAMS)
    from cclib.scores import SOURCES

    parser = subparsers.add_parser(
        "corpus", help="render the default corpus (music21's and OpenScore's scores)",
        description="Render music21's bundled scores and the OpenScore songs and quartets to "
                    "audio with FluidSynth, each work through one of the training soundfonts. "
                    "Resumable: re-running renders only what is missing.")
    parser.add_argument("--out", type=Path, default=None,
                        help="audio folder (default: data/audio for piano, "
                             "data/audio-INSTRUMENT otherwise)")
    parser.add_argument("--max-works", type=_positive_int, default=DEFAULT_MAX_WORKS,
                        help=f"works per composer (default {DEFAULT_MAX_WORKS})")
    parser.add_argument("--all-works", action="store_true", help="render every work (slow)")
    parser.add_argument("--instrument", choices=list(INSTRUMENT_PROGRAMS), default="piano",
                        help="one instrument for every part, or the scores' own (default piano)")
    parser.add_argument("--composers", default=None,
                        help="comma-separated composers to render (default: all)")
    parser.add_argument("--sources", type=_names, default=list(SOURCES),
                        help=f"score sources (default {','.join(SOURCES)})")
    parser.add_argument("--soundfonts", type=_names, default=None,
                        help="soundfonts to choose from per work, by name or .sf2/.sf3 path "
                             "(default: TimGM6mb and MuseScore_General_Lite where installed)")
    parser.add_argument("--max-seconds", type=_positive_float, default=DEFAULT_MAX_SECONDS,
                        help=f"seconds of each work rendered (default {DEFAULT_MAX_SECONDS:g})")
    parser.add_argument("--whole-works", action="store_true",
                        help="render every work to its end")
    parser.add_argument("--seed", type=_natural_int, default=0,
                        help="which works a cap picks, and their soundfonts (default 0)")
    parser.add_argument("--jobs", type=_positive_int, default=None,
                        help="worker processes (default: one per core)")
    parser.add_argument("--timeout", type=_positive_float, default=DEFAULT_TIMEOUT,
                        help=f"seconds one work may take to convert (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--retry-failed", action="store_true",
                        help="try again the works listed in corpus-failed.csv")
    parser.set_defaults(run=_run_corpus)


def _run_corpus(args) -> int:
    from cclib.corpus import build_corpus

    out = args.out or (paths.audio_dir() if args.instrument == "piano"
                       else paths.data_dir() / f"audio-{args.instrument}")
    composers = _names(args.composers) if args.composers else None
    summary = build_corpus(out, max_works=None if args.all_works else args.max_works,
                           instrument=args.instrument, composers=composers, seed=args.seed,
                           sources=args.sources, soundfonts=args.soundfonts,
                           max_seconds=None if args.whole_works else args.max_seconds,
                           jobs=args.jobs, timeout=args.timeout, retry_failed=args.retry_failed)
    print(summary.line())
    return 0 if summary.done + summary.already_done > 0 else 1


def _add_spectrograms(subparsers) -> None:
    parser = subparsers.add_parser(
        "spectrograms", help="convert audio files into 3-second spectrogram slices",
        description="Convert every audio file below AUDIO_DIR into spectrogram slices and a "
                    "manifest. Resumable: re-running converts only what is missing.")
    parser.add_argument("audio_dir", type=Path, metavar="AUDIO_DIR")
    parser.add_argument("--out", type=Path, default=None,
                        help="slice store folder (default: data/spectrograms)")
    parser.add_argument("--kind", choices=["mel", "linear"], default="mel",
                        help="log-mel (default) or the study's linear spectrogram")
    parser.add_argument("--seconds", type=_positive_float, default=3.0,
                        help="slice length in seconds (default 3)")
    parser.add_argument("--png", action="store_true",
                        help="also write the study's images, Composer_N_spectrograms/*.png")
    parser.add_argument("--labels", type=Path, default=None, metavar="CSV",
                        help="file,composer[,period] rows for files not named Composer_N")
    parser.add_argument("--periods-dir", type=Path, default=None,
                        help="folder of period lists (default: the project's periods/)")
    parser.add_argument("--jobs", type=_positive_int, default=None,
                        help="worker processes (default: one per core; 1 runs in-process)")
    _add_scheduler(parser)
    parser.set_defaults(run=_run_spectrograms)


def _run_spectrograms(args) -> int:
    from cclib.spectrogram import FrontEnd
    from cclib.store import convert_folder

    front_end = FrontEnd.for_kind(args.kind, seconds=args.seconds)
    summary = convert_folder(args.audio_dir, args.out or paths.spectrograms_dir(),
                             front_end=front_end, png=args.png, labels_csv=args.labels,
                             periods_dir=args.periods_dir, jobs=args.jobs,
                             scheduler=args.scheduler)
    print(summary.line())
    return 0 if summary.done + summary.already_done > 0 else 1


def _add_sample(subparsers) -> None:
    from cclib.sampling import METHODS, SPLITS

    parser = subparsers.add_parser(
        "sample", help="draw a train/test/validation dataset from the slice store",
        description="Draw the study's '100 spectrograms' (per-composer) or 'all spectrograms' "
                    "dataset from a slice store and split it by slice, piece or composer.")
    parser.add_argument("spec_dir", type=Path, metavar="SPEC_DIR", help="the slice store")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.add_argument("--method", choices=METHODS, default="per-composer",
                        help="'per-composer' (the 100 spectrograms model, default) or 'all'")
    parser.add_argument("--per-composer", type=_positive_int, default=100,
                        help="slices per composer for --method per-composer (default 100)")
    parser.add_argument("--per-period", type=_positive_int, default=None,
                        help="at most this many slices per period, each composer's first draws "
                             "in turn (default: no cap)")
    parser.add_argument("--split", choices=SPLITS, default="piece",
                        help="slice (the study's, leaky), piece (default) or composer")
    parser.add_argument("--fractions", default="0.7,0.1,0.2",
                        help="train,test,validation shares (default 0.7,0.1,0.2)")
    parser.add_argument("--periods", default=None,
                        help="comma-separated periods to use as classes (default: all with data)")
    parser.add_argument("--min-pieces", type=_positive_int, default=2,
                        help="drop composers with fewer pieces (default 2, the study's rule)")
    parser.add_argument("--hold-out", default=None, metavar="COLUMN=VALUE",
                        help="test on the slices whose manifest COLUMN is VALUE, train on the "
                             "rest (e.g. ensemble=string quartet, soundfont=TimGM6mb)")
    parser.add_argument("--max-ensemble-share", type=_share, default=None,
                        help="at most this share of a period's training slices from one "
                             "ensemble (e.g. 0.6)")
    parser.add_argument("--seed", type=_natural_int, default=0, help="random seed (default 0)")
    parser.set_defaults(run=_run_sample)


def _run_sample(args) -> int:
    import time

    from cclib.sampling import SamplingError, make_dataset, parse_fractions, write_dataset
    from cclib.store import read_manifest

    started = time.perf_counter()
    periods = _names(args.periods) if args.periods else None
    hold_out = None
    if args.hold_out:
        column, sep, value = args.hold_out.partition("=")
        if not sep or not column or not value:
            raise SamplingError(f"--hold-out: {args.hold_out!r} is not COLUMN=VALUE")
        hold_out = (column.strip(), value.strip())
    dataset, summary = make_dataset(
        read_manifest(args.spec_dir), method=args.method, per_composer=args.per_composer,
        per_period=args.per_period, split=args.split, fractions=parse_fractions(args.fractions), periods=periods,
        min_pieces=args.min_pieces, hold_out=hold_out,
        max_ensemble_share=args.max_ensemble_share, seed=args.seed)
    write_dataset(dataset, summary, args.spec_dir, args.out)
    counts = dataset["split"].value_counts()
    leak = summary["leakage"]
    print(f"sample: {len(dataset)} slices ({counts.get('train', 0)} train, "
          f"{counts.get('test', 0)} test, {counts.get('validation', 0)} validation), "
          f"{len(summary['classes'])} periods, test pieces also in train "
          f"{leak['test_piece_in_train']:.0%}, test composers also in train "
          f"{leak['test_composer_in_train']:.0%}, {time.perf_counter() - started:.1f} s")
    for period in summary["periods_without_data"]:
        print(f"note: period {period} has no data and is not a class", file=sys.stderr)
    for period, why in summary["periods_left_out"].items():
        print(f"note: period {period} is left out of the {args.split} split ({why})",
              file=sys.stderr)
    return 0


def _add_train(subparsers) -> None:
    from cclib.spectrogram import NORMALIZATIONS
    from cclib.training import MODES, TrainConfig

    defaults = TrainConfig()
    parser = subparsers.add_parser(
        "train", help="retrain MobileNetV2 on a sampled dataset",
        description="Train a period classifier on a dataset made by cclib sample and write "
                    "model.keras, config.json, history.csv and metrics.json.")
    parser.add_argument("dataset_dir", type=Path, metavar="DATASET_DIR")
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    parser.add_argument("--weights", default=defaults.weights,
                        help="imagenet (ported offline, default), keras-imagenet, none, or a file")
    parser.add_argument("--mode", choices=MODES, default=defaults.mode,
                        help="retrain the head only (the study's recipe, default), finetune the "
                             "top of the network too, or train from scratch")
    parser.add_argument("--steps", type=_positive_int, default=defaults.steps,
                        help=f"training steps (default {defaults.steps})")
    parser.add_argument("--batch-size", type=_positive_int, default=defaults.batch_size)
    parser.add_argument("--learning-rate", type=_positive_float, default=defaults.learning_rate)
    parser.add_argument("--input-size", type=_positive_int, default=defaults.input_size,
                        help=f"network input in pixels (default {defaults.input_size})")
    parser.add_argument("--normalize", choices=NORMALIZATIONS, default=defaults.normalize,
                        help="remove each band's mean over the slice before the network "
                             f"(default {defaults.normalize})")
    parser.add_argument("--balance", action=argparse.BooleanOptionalAction,
                        default=defaults.balance,
                        help="draw training batches with every period equally likely")
    parser.add_argument("--augment", type=_natural_int, default=defaults.augment,
                        help="augmented copies (room, EQ, noise, gain) of each training slice, "
                             f"retrain mode (default {defaults.augment})")
    parser.add_argument("--study", action="store_true",
                        help="the study's recipe: no balance, no augmentation, no normalisation")
    parser.add_argument("--export", action=argparse.BooleanOptionalAction,
                        default=defaults.export,
                        help="also write model.tflite, which cclib classify runs under LiteRT")
    parser.add_argument("--seed", type=_natural_int, default=defaults.seed)
    parser.set_defaults(run=_run_train)


def _run_train(args) -> int:
    from cclib.training import TrainConfig, train_model

    recipe = TrainConfig.study if args.study else TrainConfig
    options = {} if args.study else dict(normalize=args.normalize, balance=args.balance,
                                         augment=args.augment)
    config = recipe(weights=args.weights, mode=args.mode, steps=args.steps,
                    batch_size=args.batch_size, learning_rate=args.learning_rate,
                    input_size=args.input_size, seed=args.seed, export=args.export, **options)
    metrics = train_model(args.dataset_dir, args.out, config)
    test = metrics.get("test", {})
    net, ref = test.get("mobilenet", {}), test.get("reference", {})
    print(f"train: test accuracy {net['slice']['accuracy']:.3f} (balanced "
          f"{net['slice']['balanced_accuracy']:.3f}, piece {net['piece']['accuracy']:.3f}); "
          f"reference {ref['slice']['accuracy']:.3f} (balanced "
          f"{ref['slice']['balanced_accuracy']:.3f}); chance {net['chance']:.3f}; "
          f"{metrics['timings']['total_s']:.1f} s -> {args.out}")
    return 0


def _add_classify(subparsers) -> None:
    parser = subparsers.add_parser(
        "classify", help="print the period hierarchy of audio files or stored slices",
        description="Classify audio files (whole-piece verdict) or stored slices (file.npy or "
                    "file.npy#ROW) with a trained model folder.")
    parser.add_argument("model_dir", type=Path, metavar="MODEL")
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--top", type=_positive_int, default=None, help="show the N best periods")
    parser.add_argument("--slices", action="store_true",
                        help="for audio files, also list the verdict of every slice")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    _add_runtime(parser)
    parser.set_defaults(run=_run_classify)


def _add_runtime(parser) -> None:
    from cclib.classify import RUNTIMES

    parser.add_argument("--runtime", choices=RUNTIMES, default="auto",
                        help="auto (default): the model's LiteRT export when it has a verified "
                             "one, else Keras; keras; or litert")


def _run_classify(args) -> int:
    import json

    from cclib.classify import classify_path, format_result, load_period_model, result_json

    period_model = load_period_model(args.model_dir, runtime=args.runtime)
    results, failures = [], 0
    for path in args.paths:
        try:
            result = classify_path(period_model, path)
        except CclibError as error:
            print(f"skipped {error}", file=sys.stderr)
            failures += 1
            continue
        if args.json:
            results.append(result_json(result, period_model, top=args.top,
                                        per_slice=args.slices))
            continue
        if len(args.paths) > 1:
            print(f"== {path}")
        print("\n".join(format_result(result, period_model, top=args.top,
                                       per_slice=args.slices)))
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if failures < len(args.paths) else 1


def _add_evaluate(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="score a model on a folder of labelled recordings",
        description="Classify every audio file below AUDIO_DIR (named Composer_N.ext, or given "
                    "a composer by --labels) as cclib classify does, and compare the verdicts "
                    "with the composers' periods: slice and piece accuracy and balanced "
                    "accuracy, a bootstrap interval over pieces, per-period counts, the "
                    "confusion matrix, the majority baseline, and every piece of a period the "
                    "model does not know with what it was heard as.")
    parser.add_argument("model_dir", type=Path, metavar="MODEL")
    parser.add_argument("audio_dir", type=Path, metavar="AUDIO_DIR")
    parser.add_argument("--labels", type=Path, default=None, metavar="CSV",
                        help="file,composer[,period] rows for files not named Composer_N")
    parser.add_argument("--periods-dir", type=Path, default=None,
                        help="folder of period lists (default: the project's periods/)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write evaluation.json and confusion.png here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--seed", type=_natural_int, default=0,
                        help="seed of the bootstrap (default 0)")
    _add_runtime(parser)
    parser.set_defaults(run=_run_evaluate)


def _run_evaluate(args) -> int:
    import json

    from cclib.classify import load_period_model
    from cclib.evaluation import evaluate_folder, evaluation_lines

    if not args.audio_dir.is_dir():
        raise CclibError(f"{args.audio_dir}: no such folder")
    period_model = load_period_model(args.model_dir, runtime=args.runtime)
    report = evaluate_folder(period_model, args.audio_dir, args.labels,
                             periods_dir=args.periods_dir, seed=args.seed)
    for line in report["skipped"]:
        print(f"skipped {line}", file=sys.stderr)
    if args.out:
        write_evaluation(report, args.out)
    print(json.dumps(report, indent=2) if args.json else "\n".join(evaluation_lines(report)))
    return 0 if report["pieces"] else 1


def write_evaluation(report: dict, out: Path) -> None:
    """``evaluation.json`` and ``confusion.png`` (pieces of the periods the model knows)."""
    from cclib.fileio import atomic_path, write_json
    from cclib.plots import plot_confusion

    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "evaluation.json", report)
    ax = plot_confusion(report["piece_confusion_matrix"], report["classes"],
                        title=f"{report['n_pieces']} pieces")
    with atomic_path(out / "confusion.png") as tmp:
        ax.figure.savefig(tmp, format="png", dpi=120, bbox_inches="tight")


def _add_trials(subparsers) -> None:
    from cclib.trials import DEFAULT_METRIC

    parser = subparsers.add_parser(
        "trials", help="execute a notebook once per seed with papermill and tabulate the results",
        description="Run NOTEBOOK headless once per trial, each with its own seed and out "
                    "folder (OUT/trial-XX), and write OUT/summary.csv and OUT/summary.json "
                    "(mean, median, min, max of every metric). Re-running completes only "
                    "missing or failed trials.")
    parser.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    parser.add_argument("--n", type=_positive_int, default=20, help="trials (default 20)")
    parser.add_argument("--out", type=Path, required=True, help="runs folder, e.g. data/runs/NAME")
    parser.add_argument("--seed", type=_natural_int, default=0,
                        help="seed of the first trial; trial i gets SEED+i (default 0)")
    parser.add_argument("--jobs", type=_positive_int, default=1,
                        help="trials at once (default 1)")
    parser.add_argument("--threads", type=_positive_int, default=None,
                        help="threads per trial (default: cores // jobs)")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="a notebook parameter for every trial")
    parser.add_argument("--metric", default=DEFAULT_METRIC,
                        help=f"metric the progress bar averages (default {DEFAULT_METRIC})")
    _add_scheduler(parser)
    parser.set_defaults(run=_run_trials)


def _run_trials(args) -> int:
    from cclib.trials import parse_value, run_trials

    parameters = {name: parse_value(value) for name, value in args.parameter}
    summary = run_trials(args.notebook, args.n, args.out, parameters=parameters,
                         first_seed=args.seed, jobs=args.jobs, scheduler=args.scheduler,
                         threads=args.threads, metric=args.metric)
    print(summary.line())
    return 0 if summary.done + summary.already_done > 0 else 1


def _add_notebook(subparsers) -> None:
    parser = subparsers.add_parser(
        "notebook", help="execute one notebook headless with papermill",
        description="Run NOTEBOOK headless into OUTPUT, an executed copy, with its parameters "
                    "set by -p (the way make demo runs the series). A failing cell is named "
                    "in one line; OUTPUT keeps the notebook up to it.")
    parser.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    parser.add_argument("output", type=Path, metavar="OUTPUT")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="a parameter of the notebook")
    parser.set_defaults(run=_run_notebook)


def _run_notebook(args) -> int:
    import time

    from cclib.trials import parse_value, run_notebook

    started = time.perf_counter()
    run_notebook(args.notebook, args.output,
                 {name: parse_value(value) for name, value in args.parameter})
    print(f"notebook: {args.notebook} -> {args.output}, {time.perf_counter() - started:.0f} s")
    return 0


def _add_protocols(subparsers) -> None:
    parser = subparsers.add_parser(
        "protocols", help="does it hear the period? train without something, test on it",
        description="For each protocol (unseen pieces, unseen composers, each unseen soundfont, "
                    "texture and source of scores), each seed and each recipe, train a model "
                    "and score it on the protocol's test pieces: piece-level balanced "
                    "accuracy, the reference classifier beside MobileNet. Writes OUT/runs.csv "
                    "as it goes and prints the mean (min-max) over seeds; a second run "
                    "resumes. Notebook 08 runs the same.")
    parser.add_argument("store", type=Path, metavar="SPEC_DIR", help="the slice store to test on")
    parser.add_argument("--recipe", action="append", metavar="NAME[:key=value,...]",
                        help="a recipe (default: project); keys: study=1, balance, augment, "
                             "normalize, erase, mode, steps, share, per, store (train on another "
                             "store, e.g. the corpus as it was); the first without a store "
                             "draws the test")
    parser.add_argument("--seeds", type=_positive_int, default=5, help="seeds (default 5)")
    parser.add_argument("--first-seed", type=_natural_int, default=0)
    parser.add_argument("--steps", type=_positive_int, default=6000,
                        help="training steps of every recipe (default 6000, the recipe's)")
    parser.add_argument("--protocols", type=_names, default=None,
                        help="comma-separated protocol names (default: all the store allows)")
    parser.add_argument("--out", type=Path, default=None,
                        help="runs folder (default data/runs/generalization)")
    parser.set_defaults(run=_run_protocols)


def _run_protocols(args) -> int:
    import time

    import pandas as pd

    from cclib.protocols import Recipe, run_protocols, select_protocols, summarise
    from cclib.store import read_manifest

    started = time.perf_counter()
    recipes = [Recipe.parse(text, steps=args.steps) for text in args.recipe or ["project"]]
    if all(recipe.store is not None for recipe in recipes):
        recipes.insert(0, Recipe.parse("project", steps=args.steps))
    protocols = select_protocols(read_manifest(args.store), args.protocols)
    out = args.out or paths.runs_dir() / "generalization"

    def report(protocol, seed, rows) -> None:
        scores = ", ".join(f"{r['recipe']}/{r['model']} {100 * r['piece_balanced']:.1f}%"
                           for r in rows)
        print(f"{protocol.name}, seed {seed}: {scores} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)

    rows = run_protocols(args.store, recipes, protocols, out=out, report=report,
                         seeds=range(args.first_seed, args.first_seed + args.seeds))
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(f"\npiece- and slice-level balanced accuracy (%), {args.seeds} seeds, "
              f"{args.steps} steps; every run in {out / 'runs.csv'}\n")
        print(summarise(rows).to_string())
    return 0 if rows else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cclib`` command."""
    parser = argparse.ArgumentParser(
        prog="cclib", description="Class(ical) Registration: hear the periods of classical music.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_corpus(subparsers)
    _add_spectrograms(subparsers)
    _add_sample(subparsers)
    _add_train(subparsers)
    _add_classify(subparsers)
    _add_evaluate(subparsers)
    _add_trials(subparsers)
    _add_notebook(subparsers)
    _add_protocols(subparsers)
    return parser


def main(argv=None) -> int:
    """Run the ``cclib`` command; return its exit status.

    Every :class:`~cclib.errors.CclibError` ends here as one line on stderr,
    ``cclib COMMAND: WHAT: REASON``, with exit status 2.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CclibError as error:
        if os.environ.get("CCLIB_DEBUG"):
            raise
        print(f"cclib {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cclib {args.command}: interrupted; run it again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
