"""Batches of trials: one notebook executed headless many times, one seed each.

The study ran twenty trials and reported the mean, median, minimum and
maximum test accuracy. :func:`run_trials` executes a notebook (normally
``notebooks/04_retrain_mobilenet.ipynb``) once per trial through papermill,
giving each trial its own ``seed`` and ``out`` folder::

    data/runs/NAME/
        run.json            the notebook and parameters of the batch
        trial-00/           notebook.ipynb (executed), metrics.json (written by the
                            notebook), trial.json (status, error, seconds), the model
        trial-01/ ...
        summary.csv         one row per trial: status, seed, every metric
        summary.json        mean, median, min and max of every metric

A trial that fails keeps its executed notebook up to the failing cell and
its error in ``trial.json``; the others go on. Running the same batch again
runs only the trials that are missing or failed. Each trial's kernel gets
``threads`` threads for TensorFlow and BLAS, so that jobs × threads does not
exceed the cores.

Notebook: notebooks/05_results_and_plots.ipynb
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from cclib.errors import CclibError
from cclib.fileio import read_json, settings_guard, write_csv, write_json
from cclib.parallel import BatchSummary, check_scheduler, default_jobs, run_batch, say

#: The study's figure 3: final test accuracy of its twenty trials (2019 report, figure 3).
STUDY_TEST_ACCURACY = {"n": 20, "mean": 0.521, "median": 0.550, "min": 0.352, "max": 0.639}
#: Columns of summary.csv that describe a trial rather than measure it.
RECORD_COLUMNS = ("run", "folder", "trial", "seed", "status", "error", "threads", "attempts")
#: The dataset protocol (from metrics.json's "protocol"), copied into summary.csv.
PROTOCOL_COLUMNS = ("method", "per_composer", "split", "fractions", "periods", "min_pieces")
#: The metric the progress bar averages, when the notebook reports it.
DEFAULT_METRIC = "test.mobilenet.slice.accuracy"
#: Environment variables that cap a kernel's threads (BLAS, OpenMP, TensorFlow).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
#: Kernel start-ups to try per trial. Kernels started together over TCP can race
#: for the same port (nteract/papermill#511): on Linux and macOS each kernel talks
#: over Unix sockets in a folder of its own instead, and a lost race is retried.
KERNEL_START_ATTEMPTS = 3


class TrialsError(CclibError, ValueError):
    """A batch that cannot start: a notebook without the parameters, another batch's folder."""


@dataclass(frozen=True)
class TrialSpec:
    """Everything one trial needs; picklable, so it can travel to a worker process."""

    index: int
    seed: int
    notebook: str
    folder: str
    parameters: dict = field(default_factory=dict)
    threads: int = 1
    kernel_name: str = "python3"


def trial_folder(out: str | Path, index: int, n: int) -> Path:
    """``out/trial-07``: zero-padded to two digits, more when ``n`` needs them."""
    return Path(out) / f"trial-{index:0{max(2, len(str(n - 1)))}d}"


def trial_index(folder: str | Path) -> int:
    """The number of a trial folder: ``trial-07`` → 7."""
    return int(Path(folder).name.split("-")[1])


def trial_folders(out: str | Path) -> list[Path]:
    """A runs folder's trial folders in order; anything else named ``trial-*`` gets a line.

    Examples
    --------
    >>> trial_folders("/nonexistent")
    []
    """
    found = []
    for path in Path(out).glob("trial-*"):
        if path.is_dir() and re.fullmatch(r"trial-\d+", path.name):
            found.append(path)
        else:
            print(f"ignored {path}: not a trial folder of this batch", file=sys.stderr)
    return sorted(found, key=trial_index)


def clear_trial_folder(folder: Path) -> None:
    """Empty a trial folder for a new attempt, removing only what cclib wrote there.

    A folder of an earlier attempt holds ``trial.json``, which lists the
    entries the attempt left (an attempt that was killed lists none, and
    everything in its folder is its own). Anything else, such as a user's
    notes, is never deleted: the trial is refused instead.

    Raises
    ------
    TrialsError
        If the folder holds an entry cclib did not write.
    """
    if not folder.exists():
        return
    record, entries = read_trial(folder), {path.name for path in folder.iterdir()}
    ours = set(record.get("files", entries)) | {"trial.json"} if record else set()
    foreign = sorted(entries - ours)
    if foreign:
        raise TrialsError(f"{folder}: holds {', '.join(foreign[:3])}, which "
                          f"{'the trial did not write' if record else 'no trial wrote'}; "
                          "move it away to run this trial")
    shutil.rmtree(folder)


def read_trial(folder: str | Path) -> dict | None:
    """A trial's ``trial.json``, or None when the trial has not finished."""
    path = Path(folder) / "trial.json"
    return read_json(path, error=TrialsError) if path.exists() else None


def is_done(folder: str | Path) -> bool:
    """Whether a trial finished and its notebook wrote ``metrics.json``."""
    record = read_trial(folder)
    return bool(record and record["status"] == "done" and (Path(folder) / "metrics.json").exists())


def flatten_metrics(metrics: dict, prefix: str = "") -> dict:
    """The numbers of a nested ``metrics.json``, keyed by dotted paths.

    Examples
    --------
    >>> flatten_metrics({"test": {"slice": {"accuracy": 0.5}, "confusion_matrix": [[1]]}})
    {'test.slice.accuracy': 0.5}
    """
    flat = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_metrics(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = value
    return flat


def study_table(values) -> dict:
    """The study's figure 3 statistics of a list of numbers (NaNs ignored).

    Examples
    --------
    >>> study_table([0.5, 0.7, 0.6])
    {'n': 3, 'mean': 0.6, 'median': 0.6, 'min': 0.5, 'max': 0.7, 'std': 0.1}
    """
    values = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if not len(values):
        return {"n": 0}
    return {"n": int(len(values)), "mean": round(float(values.mean()), 6),
            "median": round(float(np.median(values)), 6), "min": round(float(values.min()), 6),
            "max": round(float(values.max()), 6),
            "std": round(float(values.std(ddof=1)), 6) if len(values) > 1 else 0.0}


@contextmanager
def thread_limits(threads: int):
    """Set the thread-capping environment variables (a kernel started inside inherits them)."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: str(threads) for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def kernel_config():
    """papermill's kernel settings: a private Unix-socket folder where the OS has them."""
    from traitlets.config import Config

    if os.name != "posix":
        yield Config()
        return
    sockets = tempfile.mkdtemp(prefix="cclib-kernel-")
    try:
        yield Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "k")}})
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


@contextmanager
def stderr_to(path: Path):
    """Send this process's standard error (file descriptor 2) to ``path``.

    A kernel inherits it, so TensorFlow's start-up lines and any crash
    message of a trial land in the trial's ``kernel.log``, not the terminal.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _executed_cells(notebook: Path) -> int:
    import nbformat

    if not notebook.exists():
        return 0
    cells = nbformat.read(notebook, as_version=4).cells
    return sum(1 for cell in cells if cell.get("execution_count"))


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"[:500]


def run_trial(spec: TrialSpec) -> dict:
    """Execute one trial and write its ``trial.json``; never raises for a failing notebook.

    The trial folder is emptied first (it may hold a failed or interrupted
    attempt). The notebook gets ``seed`` and ``out`` (the trial folder) on
    top of the batch's parameters and must write ``out/metrics.json``. The
    kernel's standard error goes to the trial's ``kernel.log``.

    Returns
    -------
    record : dict
        ``trial.json``'s content: trial, seed, status ("done" or "failed"),
        error, seconds, threads, attempts.
    """
    import papermill

    folder = Path(spec.folder)
    try:
        clear_trial_folder(folder)
    except TrialsError as refusal:
        return {"trial": spec.index, "seed": spec.seed, "status": "failed", "error": str(refusal),
                "seconds": 0.0, "threads": spec.threads, "attempts": 0, "folder": str(folder)}
    folder.mkdir(parents=True)
    write_json(folder / "trial.json", {"trial": spec.index, "seed": spec.seed,
                                       "status": "running", "folder": str(folder)})
    output = folder / "notebook.ipynb"
    parameters = {**spec.parameters, "seed": spec.seed, "out": str(folder.resolve())}
    started = time.perf_counter()
    error, attempts = None, 0
    while attempts < KERNEL_START_ATTEMPTS:
        attempts += 1
        try:
            with thread_limits(spec.threads), stderr_to(folder / "kernel.log"):
                execute_notebook(spec.notebook, output, parameters, kernel_name=spec.kernel_name)
            error = None
            break
        except papermill.PapermillExecutionError as failure:  # a cell raised: keep its notebook
            error = f"cell {failure.exec_count}: {failure.ename}: {failure.evalue}"[:500]
            break
        except Exception as failure:  # noqa: BLE001 - kernel died or never started
            error = _one_line(failure)
            if _executed_cells(output):  # it ran, then died: not a start-up race
                break
            time.sleep(attempts)
    if error is None and not (folder / "metrics.json").exists():
        error = f"{spec.notebook}: the notebook ran but wrote no metrics.json in its out folder"
    record = {"trial": spec.index, "seed": spec.seed, "status": "failed" if error else "done",
              "error": error, "seconds": round(time.perf_counter() - started, 2),
              "threads": spec.threads, "attempts": attempts, "folder": str(folder),
              "files": sorted(path.name for path in folder.iterdir())}
    write_json(folder / "trial.json", record)
    return record


def execute_notebook(notebook: str | Path, output: str | Path, parameters: dict | None = None, *,
                     kernel_name: str = "python3") -> None:
    """Execute ``notebook`` headless into ``output`` with papermill, in the notebook's folder.

    The one way cclib runs a notebook (each trial of ``cclib trials``, and
    ``cclib notebook``): the kernel talks over private Unix sockets where the
    OS has them (see :func:`kernel_config`), so kernels started together
    never race for a port and none warns about unencrypted TCP.

    Raises
    ------
    papermill.PapermillExecutionError
        When a cell raises; ``output`` holds the notebook up to that cell.
    """
    import papermill

    with kernel_config() as config:
        papermill.execute_notebook(str(notebook), str(output), parameters=parameters or {},
                                   kernel_name=kernel_name, progress_bar=False,
                                   cwd=str(Path(notebook).parent), config=config)


def check_parameters(notebook: str | Path, parameters: dict) -> dict:
    """The notebook's parameters (name → default); refuses a name its parameters cell lacks."""
    notebook = Path(notebook)
    if not notebook.is_file():
        raise TrialsError(f"{notebook}: no such notebook")
    if notebook.suffix != ".ipynb":
        raise TrialsError(f"{notebook}: not a notebook (.ipynb)")
    known = notebook_parameters(notebook)
    for name in parameters:
        if name not in known:
            raise TrialsError(f"{notebook.name}: no parameter {name!r} "
                              f"(it has {', '.join(sorted(known))})")
    return known


def run_notebook(notebook: str | Path, output: str | Path, parameters: dict | None = None) -> None:
    """One notebook, headless, as ``cclib notebook`` (and ``make demo``) runs it.

    Raises
    ------
    TrialsError
        For a missing notebook, a parameter it does not have, or a cell that
        raised (named with its error, the executed notebook kept in ``output``).
    """
    import papermill

    parameters = dict(parameters or {})
    check_parameters(notebook, parameters)
    if Path(output).suffix != ".ipynb":
        raise TrialsError(f"{output}: the executed copy must be a .ipynb file")
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    try:
        execute_notebook(notebook, output, parameters)
    except papermill.PapermillExecutionError as failure:
        raise TrialsError(f"{notebook}: cell {failure.exec_count}: {failure.ename}: "
                          f"{failure.evalue}; the notebook up to it is in {output}") from None


def notebook_parameters(notebook: str | Path) -> dict:
    """The names and defaults of a notebook's ``parameters`` cell."""
    import papermill

    try:
        found = papermill.inspect_notebook(str(notebook))
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds for a broken file
        raise TrialsError(f"{notebook}: not a readable notebook ({_one_line(error)})") from None
    return {name: info["default"] for name, info in found.items()}


def parse_value(text: str):
    """A ``-p NAME VALUE`` value: int, float, true/false, none, else the string.

    Examples
    --------
    >>> [parse_value(t) for t in ("3", "0.5", "true", "None", "piece")]
    [3, 0.5, True, None, 'piece']
    """
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None, "null": None}.get(text.lower(), text)


@dataclass
class TrialsSummary(BatchSummary):
    """What :func:`run_trials` did, and the batch's table: ``done`` counts the trials
    finished now, ``already_done`` those an earlier run finished, ``failed`` those that
    failed now; ``table`` holds mean, median, min and max of every metric."""

    out: str = ""
    n: int = 0
    metric: str | None = None
    table: dict = field(default_factory=dict)

    command: ClassVar[str] = "trials"
    done_words: ClassVar[str] = "run now"

    def details(self) -> list[str]:
        stats = self.table.get(self.metric, {}) if self.metric else {}
        result = [f"{self.metric} mean {stats['mean']:.3f}, median {stats['median']:.3f}, "
                  f"min {stats['min']:.3f}, max {stats['max']:.3f}"] if stats.get("n") else []
        return [f"{self.done + self.already_done} of {self.n} done", *result]

    def line(self) -> str:
        return f"{super().line()} -> {self.out}"


def plan_trials(notebook: str | Path, n: int, out: str | Path, *, parameters: dict | None = None,
                first_seed: int = 0, threads: int = 1) -> list[TrialSpec]:
    """The batch's trials; refuses a notebook without ``seed``/``out`` or unknown parameters.

    Writes ``out/run.json`` the first time; a later call with another
    notebook, other parameters or another first seed is refused, so one
    folder never mixes two batches (asking for more trials is fine).
    """
    notebook = Path(notebook).resolve()
    parameters = dict(parameters or {})
    known = check_parameters(notebook, parameters)
    missing = [name for name in ("seed", "out") if name not in known]
    if missing:
        raise TrialsError(f"{notebook.name}: its parameters cell has no {' or '.join(missing)} "
                          "(cclib trials sets both for each trial)")
    for name in ("seed", "out"):
        if name in parameters:
            raise TrialsError(f"-p {name}: cclib trials sets {name} for each trial")
    out = Path(out)
    run = {"notebook": str(notebook), "parameters": parameters, "first_seed": first_seed}
    run_json = out / "run.json"
    if out.is_dir() and not run_json.exists() and any(out.iterdir()):
        raise TrialsError(f"--out {out}: not empty and holds no batch of trials (no run.json); "
                          "choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    settings_guard(run_json, run, what="another batch of trials", error=TrialsError)
    return [TrialSpec(index=i, seed=first_seed + i, notebook=str(notebook),
                      folder=str(trial_folder(out, i, n)), parameters=parameters, threads=threads)
            for i in range(n)]


def gather_trials(out: str | Path, n: int | None = None) -> pd.DataFrame:
    """One row per trial of a runs folder: its ``trial.json`` and flattened ``metrics.json``.

    ``n`` limits it to the first ``n`` trials (default: every trial folder).
    """
    out = Path(out)
    rows = []
    for folder in trial_folders(out):
        if n is not None and trial_index(folder) >= n:
            continue
        record = read_trial(folder) or {"trial": trial_index(folder), "status": "unfinished"}
        record.pop("folder", None)
        record.pop("files", None)
        metrics_json = folder / "metrics.json"
        if record["status"] == "done" and metrics_json.exists():
            metrics = json.loads(metrics_json.read_text(encoding="utf-8"))
            record.update({key: value for key, value in metrics.get("protocol", {}).items()
                           if key in PROTOCOL_COLUMNS})
            record.update(flatten_metrics({k: v for k, v in metrics.items() if k != "protocol"}))
        rows.append({"run": out.name, "folder": folder.name, **record})
    return pd.DataFrame(rows)


def write_summary(out: str | Path, n: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Write ``summary.csv`` and ``summary.json`` for a runs folder; return both."""
    out = Path(out)
    frame = gather_trials(out, n)
    done = frame[frame["status"] == "done"] if len(frame) else frame
    numeric = [c for c in done.columns if pd.api.types.is_numeric_dtype(done[c])
               and c not in RECORD_COLUMNS + PROTOCOL_COLUMNS]
    table = {column: study_table(done[column].tolist()) for column in numeric}
    write_csv(out / "summary.csv", list(frame.columns), frame.to_dict("records"))
    run = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
    summary = {**run, "trials": int(len(frame)), "done": int(len(done)),
               "failed": int((frame["status"] == "failed").sum()) if len(frame) else 0,
               "table": table}
    write_json(out / "summary.json", summary)
    return frame, summary


def run_trials(notebook: str | Path, n: int, out: str | Path, *, parameters: dict | None = None,
               first_seed: int = 0, jobs: int = 1, scheduler: str = "local",
               threads: int | None = None, metric: str | None = DEFAULT_METRIC,
               progress: bool | None = None) -> TrialsSummary:
    """Run (or complete) a batch of ``n`` trials of ``notebook`` into ``out``.

    Parameters
    ----------
    notebook : path
        A notebook whose parameters cell has ``seed`` and ``out``.
    n : int > 0
        Trials; trial ``i`` gets seed ``first_seed + i``.
    out : path
        The runs folder, e.g. ``data/runs/NAME``.
    parameters : dict, optional
        Parameters given to every trial (papermill's ``-p``).
    jobs : int
        Trials at once (local processes or Dask workers).
    scheduler : str
        ``"local"``, ``"dask"`` or a Dask scheduler address.
    threads : int, optional
        Threads per trial (default: cores // jobs, at least 1).
    metric : str, optional
        The dotted metric the progress bar averages.
    progress : bool, optional
        Show a progress bar (default: only on a terminal).

    Returns
    -------
    summary : TrialsSummary
        Also written as ``summary.csv`` and ``summary.json``.

    Notes
    -----
    With several jobs, the first pending trial runs alone, so the caches it
    fills (the bottleneck cache under ``data/models/bottlenecks``) are made
    once and shared by all later trials instead of being computed by each.
    """
    started = time.perf_counter()
    check_scheduler(scheduler)
    threads = threads or max(1, default_jobs() // max(1, jobs))
    specs = plan_trials(notebook, n, out, parameters=parameters, first_seed=first_seed,
                        threads=threads)
    pending = [spec for spec in specs if not is_done(spec.folder)]
    values = [flatten_metrics(json.loads((Path(s.folder) / "metrics.json").read_text())).get(metric)
              for s in specs if s not in pending] if metric else []

    def running_mean(record: dict) -> str | None:
        if record["status"] != "done" or not metric:
            return None
        metrics = json.loads((Path(record["folder"]) / "metrics.json").read_text())
        values.append(flatten_metrics(metrics).get(metric))
        known = [v for v in values if v is not None]
        return f"mean {metric} {np.mean(known):.3f}" if known else None

    counts = TrialsSummary(out=str(out), n=n, already_done=n - len(pending))
    for record in run_batch(run_trial, pending, desc="trials", unit="trial", jobs=jobs,
                            scheduler=scheduler, progress=progress, done_before=counts.already_done,
                            first_alone=True, postfix=running_mean):
        if record["status"] == "failed":
            counts.failed += 1
            see = f"; see {record['folder']}/notebook.ipynb" if record["attempts"] else ""
            say(f"trial {record['trial']} (seed {record['seed']}) failed: {record['error']}{see}")
        else:
            counts.done += 1
    _, summary = write_summary(out, n)
    counts.metric = metric if metric in summary["table"] else None
    counts.table = summary["table"]
    counts.seconds = time.perf_counter() - started
    return counts


def collect_trials(runs) -> pd.DataFrame:
    """The trials of several runs folders in one frame (a ``run`` column tells them apart)."""
    frames = [gather_trials(out) for out in runs]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def compare_with_study(trials: pd.DataFrame, metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """The study's figure 3 table next to each run's, for one metric (in %).

    The batches made with the study's protocol (per-composer sampling, slice
    split) come right after the study's row, marked in ``protocol``; a batch
    with fewer steps or trials than the study's recipe says so in ``reduced``.

    Returns
    -------
    table : pandas.DataFrame
        One row for the study and one per run: method, split, steps, n
        (trials), test slices and pieces per trial, mean, median, min, max,
        protocol, reduced.
    """
    rows = [{"run": "study (2019)", "method": "(its own)", "split": "slice",
             **STUDY_TEST_ACCURACY, "protocol": "its report, fig. 3", "reduced": ""}]
    done = trials[trials["status"] == "done"]
    for run, group in done.groupby("run", sort=False):
        rows.append({"run": run, **_batch_description(group), **study_table(group[metric].tolist())})
    table = pd.DataFrame(rows).set_index("run")
    for column in ("mean", "median", "min", "max"):
        table[column] = (100 * table[column]).round(1)
    like_study = table["protocol"] == "the study's"
    table = pd.concat([table.iloc[:1], table[like_study], table.iloc[1:][~like_study.iloc[1:]]])
    columns = ["method", "split", "steps", "n", "test slices", "test pieces",
               "mean", "median", "min", "max", "protocol", "reduced"]
    return table.reindex(columns=columns)


def _batch_description(group: pd.DataFrame) -> dict:
    """Method, split, steps, test sizes, protocol and reduction of one batch's finished trials."""
    from cclib.training import TrainConfig

    first = group.iloc[0]
    steps = int(group["recipe.steps"].median()) if "recipe.steps" in group else None
    full_steps, full_n = TrainConfig().steps, STUDY_TEST_ACCURACY["n"]
    reduced = ((steps is not None and steps < full_steps) or len(group) < full_n)
    sizes = {f"test {unit}": round(float(group[f"test.mobilenet.n_{unit}"].mean()), 1)
             if f"test.mobilenet.n_{unit}" in group else None for unit in ("slices", "pieces")}
    like_study = first.get("method") == "per-composer" and first.get("split") == "slice"
    return {"method": first.get("method", ""), "split": first.get("split", ""), "steps": steps,
            **sizes, "protocol": "the study's" if like_study else "",
            "reduced": f"{steps} of {full_steps} steps, {len(group)} of {full_n} trials"
            if reduced else ""}


def balanced_metric(metric: str) -> str:
    """The balanced-accuracy key beside a plain-accuracy one.

    Examples
    --------
    >>> balanced_metric("test.mobilenet.slice.accuracy")
    'test.mobilenet.slice.balanced_accuracy'
    """
    return metric.replace(".accuracy", ".balanced_accuracy")


def batch_table(trials: pd.DataFrame, metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """Balanced accuracy of the network and the reference classifier per method and split (%).

    ``metric`` names the level (``test.mobilenet.slice.accuracy``: test
    slices); its balanced accuracy is tabulated beside the test sizes,
    chance, and the plain accuracy of always answering the largest period.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by method and split; columns in words, each a mean over the
        batch's finished trials (min and max for the two classifiers).
    """
    from cclib.evaluation import metric_label

    done = trials[trials["status"] == "done"]
    balanced = balanced_metric(metric)
    split = metric.split(".")[0]
    named = {balanced: "MobileNet", balanced.replace(".mobilenet.", ".reference."): "reference"}
    groups = done.groupby(["method", "split"])
    table = pd.DataFrame({"trials": groups.size(),
                          f"{split} slices": groups[f"{split}.mobilenet.n_slices"].mean().round(1),
                          f"{split} pieces": groups[f"{split}.mobilenet.n_pieces"].mean().round(1)})
    for key, name in named.items():
        for stat in ("mean", "min", "max"):
            table[f"{name} {stat}"] = (100 * groups[key].agg(stat)).round(1)
    table["chance"] = (100 * groups[f"{split}.mobilenet.chance"].mean()).round(1)
    baseline = metric.replace(".slice.", ".majority_baseline.")
    if baseline in done:  # slice level only
        table["always the largest period (accuracy)"] = (100 * groups[baseline].mean()).round(1)
    table.columns.name = metric_label(balanced) + ", %"
    return table


def trials_reading(trials: pd.DataFrame, metric: str = DEFAULT_METRIC) -> list[str]:
    """What the batches say against the study, in sentences with their own numbers.

    Compares the batches with the study's protocol to the study's reported
    mean; says when a batch's plain accuracy is no better than always
    answering the largest period; and compares slice-split batches with
    piece-split ones of the same method on balanced accuracy: the gap is
    what hearing other slices of the same pieces in training adds.
    """
    done = trials[trials["status"] == "done"]
    balanced = balanced_metric(metric)
    baseline = metric.replace(".slice.", ".majority_baseline.")
    groups = done.groupby(["method", "split"])
    means, counts = groups[[metric, balanced]].mean(), groups.size()
    lines = []
    if ("per-composer", "slice") in means.index:
        lines.append(f"With the study's protocol (per-composer sampling, slice split) the mean is "
                     f"{100 * means.loc[('per-composer', 'slice'), metric]:.1f} % over "
                     f"{counts['per-composer', 'slice']} trials; the study reported "
                     f"{100 * STUDY_TEST_ACCURACY['mean']:.1f} % over {STUDY_TEST_ACCURACY['n']}.")
    if baseline in done:
        floor = groups[baseline].mean()
        idle = [f"{method}, {split} split ({100 * means.loc[(method, split), metric]:.1f} % "
                f"against {100 * floor[method, split]:.1f} %)" for method, split in means.index
                if means.loc[(method, split), metric] <= floor[method, split] + 0.02]
        if idle:
            lines.append(f"No better than always answering the largest period: {'; '.join(idle)}. "
                         "Plain accuracy rewards that guess; read balanced accuracy (the mean of "
                         "the periods' recalls) in the table below.")
    for method in means.index.get_level_values(0).unique():
        if (method, "slice") in means.index and (method, "piece") in means.index:
            leak, clean = means.loc[(method, "slice"), balanced], means.loc[(method, "piece"), balanced]
            lines.append(f"{method}, balanced accuracy: {100 * leak:.1f} % when test slices come "
                         f"from pieces also heard in training (slice split, "
                         f"{counts[method, 'slice']} trials), {100 * clean:.1f} % on unheard "
                         f"pieces (piece split, {counts[method, 'piece']} trials): "
                         f"{100 * (leak - clean):+.1f} points are the leak, not the period.")
    return lines


def load_histories(out: str | Path) -> pd.DataFrame:
    """Every finished trial's ``history.csv`` of a runs folder, with a ``trial`` column."""
    frames = []
    for folder in trial_folders(out):
        if is_done(folder) and (folder / "history.csv").exists():
            history = pd.read_csv(folder / "history.csv")
            frames.append(history.assign(trial=trial_index(folder), run=Path(out).name))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def done_folders(runs) -> list[Path]:
    """Finished trial folders of one or more runs folders."""
    return [folder for out in runs for folder in trial_folders(out) if is_done(folder)]


def find_runs(root: str | Path) -> list[Path]:
    """Runs folders at or below ``root`` (those holding ``run.json``), sorted.

    Raises TrialsError when there is none.
    """
    root = Path(root)
    found = sorted(path.parent for path in root.rglob("run.json"))
    if not found:
        raise TrialsError(f"{root}: no batch of trials here (make one with cclib trials)")
    return found
