"""The trial runner: real papermill runs of a tiny notebook and of notebook 04."""

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cclib.cli import main
from cclib.parallel import default_jobs
from cclib.relations import pooled_period_matrices
from cclib.trials import (TrialsError, batch_table, collect_trials, compare_with_study,
                          done_folders, find_runs, load_histories, run_trials, trials_reading)
from conftest import NOTEBOOK_04, TINY_04

pytestmark = pytest.mark.slow

TINY = """\
import json, os
from pathlib import Path
import numpy as np
if fail_unless and seed == 1 and not Path(fail_unless).exists():
    raise RuntimeError("trial 1 fails until " + fail_unless + " exists")
score = float(np.random.default_rng(seed).random()) * scale
metrics = {"test": {"accuracy": score}, "threads": int(os.environ["OMP_NUM_THREADS"])}
Path(out, "metrics.json").write_text(json.dumps(metrics))
"""


def write_notebook(path: Path, parameters: str, body: str = TINY) -> Path:
    cells = [new_code_cell(parameters, metadata={"tags": ["parameters"]}), new_code_cell(body)]
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}})
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def tiny(tmp_path):
    return write_notebook(tmp_path / "tiny.ipynb",
                          "seed = 0\nout = None\nfail_unless = None\nscale = 1.0")


def expected_scores(seeds, scale=1.0):
    return [float(np.random.default_rng(seed).random()) * scale for seed in seeds]


def test_each_trial_gets_its_seed_and_folder_and_the_study_table_is_written(tiny, tmp_path):
    out = tmp_path / "runs" / "tiny"
    summary = run_trials(tiny, 4, out, parameters={"scale": 0.5}, first_seed=10, threads=1,
                         metric="test.accuracy", progress=False)
    assert (summary.done, summary.already_done, summary.failed) == (4, 0, 0)
    rows = pd.read_csv(out / "summary.csv")
    assert rows.seed.tolist() == [10, 11, 12, 13]
    assert rows["test.accuracy"].tolist() == pytest.approx(expected_scores(range(10, 14), 0.5))
    table = json.loads((out / "summary.json").read_text())["table"]["test.accuracy"]
    scores = expected_scores(range(10, 14), 0.5)
    assert table["mean"] == pytest.approx(np.mean(scores), abs=1e-6)
    assert table["median"] == pytest.approx(np.median(scores), abs=1e-6)
    assert (table["min"], table["max"]) == pytest.approx((min(scores), max(scores)), abs=1e-6)
    executed = nbformat.read(out / "trial-02" / "notebook.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "seed = 12" in injected[0].source and str(out / "trial-02") in injected[0].source


def test_a_failed_trial_is_kept_and_completed_by_running_the_batch_again(tiny, tmp_path):
    out, fixed = tmp_path / "runs", tmp_path / "fixed"
    summary = run_trials(tiny, 3, out, parameters={"fail_unless": str(fixed)}, threads=1,
                         metric="test.accuracy", progress=False)
    assert (summary.done, summary.failed) == (2, 1)
    failed = json.loads((out / "trial-01" / "trial.json").read_text())
    assert failed["status"] == "failed" and "RuntimeError: trial 1 fails until" in failed["error"]
    notebook = nbformat.read(out / "trial-01" / "notebook.ipynb", as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in notebook.cells for o in c.get("outputs", []))
    first_done = (out / "trial-00" / "trial.json").stat().st_mtime_ns

    fixed.touch()
    summary = run_trials(tiny, 3, out, parameters={"fail_unless": str(fixed)}, threads=1,
                         metric="test.accuracy", progress=False)
    assert (summary.done, summary.already_done, summary.failed) == (1, 2, 0)
    assert (out / "trial-00" / "trial.json").stat().st_mtime_ns == first_done
    assert pd.read_csv(out / "summary.csv").status.tolist() == ["done"] * 3


def test_threads_per_trial_are_capped_so_jobs_times_threads_fit_the_cores(tiny, tmp_path):
    run_trials(tiny, 2, tmp_path / "runs", jobs=2, metric="test.accuracy", progress=False)
    threads = pd.read_csv(tmp_path / "runs" / "summary.csv")["threads"]
    assert threads.tolist() == [max(1, default_jobs() // 2)] * 2


def test_a_dask_local_cluster_gives_the_serial_results(tiny, tmp_path):
    summary = run_trials(tiny, 3, tmp_path / "dask", jobs=2, scheduler="dask", threads=1,
                         metric="test.accuracy", progress=False)
    assert summary.done == 3
    rows = pd.read_csv(tmp_path / "dask" / "summary.csv")
    assert rows["test.accuracy"].tolist() == pytest.approx(expected_scores(range(3)))
    assert rows["threads"].tolist() == [1, 1, 1]


def test_batches_that_cannot_run_are_refused(tiny, tmp_path):
    no_out = write_notebook(tmp_path / "no_out.ipynb", "seed = 0", "print(seed)")
    with pytest.raises(TrialsError, match="no out"):
        run_trials(no_out, 1, tmp_path / "a", progress=False)
    with pytest.raises(TrialsError, match="no parameter 'scal'"):
        run_trials(tiny, 1, tmp_path / "b", parameters={"scal": 2}, progress=False)
    with pytest.raises(TrialsError, match="sets seed"):
        run_trials(tiny, 1, tmp_path / "c", parameters={"seed": 2}, progress=False)
    run_trials(tiny, 1, tmp_path / "d", parameters={"scale": 2.0}, threads=1, progress=False)
    with pytest.raises(TrialsError, match="holds another batch"):
        run_trials(tiny, 1, tmp_path / "d", parameters={"scale": 3.0}, progress=False)


def test_a_users_files_are_never_deleted_and_strays_are_named(tiny, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    with pytest.raises(TrialsError, match=r"--out .*mine: not empty and holds no batch"):
        run_trials(tiny, 1, mine, progress=False)
    out, fixed = tmp_path / "runs", tmp_path / "fixed"
    run_trials(tiny, 2, out, parameters={"fail_unless": str(fixed)}, threads=1, progress=False)
    (out / "trial-01" / "notes.txt").write_text("my notes on the failed trial")
    (out / "trial-02").mkdir()
    (out / "trial-02" / "draft.txt").write_text("a folder cclib did not make")
    (out / "trial-old").mkdir()
    fixed.touch()
    summary = run_trials(tiny, 3, out, parameters={"fail_unless": str(fixed)}, threads=1,
                         progress=False)
    assert (summary.done, summary.already_done) == (0, 1) and "trial-old: not a trial folder" in capsys.readouterr().err
    assert (out / "trial-01" / "notes.txt").read_text() == "my notes on the failed trial"
    assert (out / "trial-02" / "draft.txt").exists() and (mine / "notes.txt").exists()
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json")
    with pytest.raises(TrialsError, match="broken.ipynb: not a readable notebook"):
        run_trials(broken, 1, tmp_path / "e", progress=False)


def test_the_command_runs_a_batch_and_reports_the_table(tiny, tmp_path, capsys):
    out = tmp_path / "runs" / "cli"
    status = main(["trials", str(tiny), "--n", "2", "--out", str(out), "--threads", "1",
                   "-p", "scale", "0.5", "--metric", "test.accuracy"])
    printed = capsys.readouterr()
    assert status == 0
    assert "trials: 2 run now, 0 already done, 0 failed, 2 of 2 done" in printed.out and "test.accuracy mean" in printed.out
    assert main(["trials", str(tiny), "--n", "1", "--out", str(out), "-p", "nope", "1"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("cclib trials:") and "no parameter 'nope'" in error
    assert len(error.splitlines()) == 1


def metrics_without_timings(folder: Path) -> dict:
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics.pop("timings")
    return metrics


def test_notebook_04_trials_in_parallel_equal_serial_ones(trial_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("CCLIB_DATA", str(trial_runs / "data"))  # the batches' bottleneck cache
    parallel = trial_runs / "runs" / "piece"
    parameters = {**TINY_04, "spectrograms": str(trial_runs / "store")}
    run_trials(NOTEBOOK_04, 2, tmp_path / "serial", parameters=parameters, jobs=1, threads=1,
               progress=False)
    for trial in ("trial-00", "trial-01"):
        assert (metrics_without_timings(parallel / trial)
                == metrics_without_timings(tmp_path / "serial" / trial))
    # the two seeds drew different datasets
    manifests = [pd.read_csv(parallel / t / "dataset" / "manifest.csv") for t in ("trial-00", "trial-01")]
    assert not manifests[0].slice_id.equals(manifests[1].slice_id)


def test_results_of_notebook_04_batches_are_gathered(trial_runs):
    runs = find_runs(trial_runs / "runs")
    assert [r.name for r in runs] == ["piece", "slice"]
    trials = collect_trials(runs)
    assert trials.status.tolist() == ["done"] * 4
    assert set(trials.split) == {"piece", "slice"}
    assert trials["test.mobilenet.slice.accuracy"].between(0, 1).all()
    table = compare_with_study(trials)
    assert table.loc["study (2019)", "mean"] == 52.1
    assert table["n"].tolist() == [20, 2, 2]
    histories = load_histories(runs[0])
    assert sorted(histories.trial.unique()) == [0, 1] and histories.step.max() == 30
    matrix, _, classes = pooled_period_matrices(done_folders(runs))
    assert classes == ["renaissance", "baroque"]
    assert matrix.sum() == trials["test.mobilenet.n_slices"].sum()


def batch_rows(run, method, split, scores, *, steps=6000):
    """Finished trials of one batch as collect_trials gives them, one score each."""
    return [{"run": run, "status": "done", "method": method, "split": split,
             "recipe.steps": steps, "test.mobilenet.n_slices": 100 + i,
             "test.mobilenet.n_pieces": 10, "test.mobilenet.chance": 0.25,
             "test.mobilenet.slice.accuracy": score,
             "test.mobilenet.slice.balanced_accuracy": score - 0.1,
             "test.reference.slice.balanced_accuracy": 0.3,
             "test.mobilenet.majority_baseline.accuracy": 0.4} for i, score in enumerate(scores)]


@pytest.fixture
def batches():
    return pd.DataFrame(batch_rows("all-piece", "all", "piece", [0.4, 0.5])
                        + batch_rows("pc-piece", "per-composer", "piece", [0.5, 0.6])
                        + batch_rows("pc-slice", "per-composer", "slice", [0.8, 0.9], steps=600)
                        + [{"run": "pc-slice", "status": "failed"}])


def test_the_studys_row_sits_next_to_the_batches_made_its_way(batches):
    table = compare_with_study(batches)
    assert list(table.index) == ["study (2019)", "pc-slice", "all-piece", "pc-piece"]
    assert table.loc["pc-slice", "protocol"] == "the study's"
    assert table.loc["pc-slice", "reduced"] == "600 of 6000 steps, 2 of 20 trials"
    assert table.loc["pc-piece", "reduced"] == "6000 of 6000 steps, 2 of 20 trials"
    assert table.loc["pc-slice", "mean"] == 85.0 and table.loc["pc-slice", "n"] == 2
    assert table.loc["all-piece", "test slices"] == 100.5
    assert table.loc["study (2019)", "mean"] == 52.1


def test_the_batch_table_speaks_in_words_with_counts_and_chance(batches):
    table = batch_table(batches)
    assert table.columns.name == "balanced accuracy, test slices, %"
    row = table.loc[("per-composer", "slice")]
    assert row["trials"] == 2 and row["test slices"] == 100.5 and row["chance"] == 25.0
    assert (row["MobileNet mean"], row["MobileNet min"], row["MobileNet max"]) == (75.0, 70.0, 80.0)
    assert row["reference mean"] == 30.0 and row["always the largest period (accuracy)"] == 40.0


def test_the_reading_names_the_leak_the_studys_figure_and_a_batch_that_only_guesses(batches):
    lines = trials_reading(batches)
    assert lines[0] == ("With the study's protocol (per-composer sampling, slice split) the mean "
                        "is 85.0 % over 2 trials; the study reported 52.1 % over 20.")
    assert lines[1].startswith("per-composer, balanced accuracy: 75.0 % when test slices come")
    assert "45.0 % on unheard pieces (piece split, 2 trials): +30.0 points are the leak" in lines[1]
    assert len(lines) == 2  # "all" has no slice-split batch to compare with
    guessing = batches.assign(**{"test.mobilenet.majority_baseline.accuracy": 0.45})
    lines = trials_reading(guessing)
    assert lines[1] == ("No better than always answering the largest period: all, piece split "
                        "(45.0 % against 45.0 %). Plain accuracy rewards that guess; read "
                        "balanced accuracy (the mean of the periods' recalls) in the table below.")


def test_one_notebook_runs_headless_and_a_failing_cell_is_one_line(tiny, tmp_path, capfd,
                                                                   monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the tiny notebook reports it
    output = tmp_path / "executed" / "tiny.ipynb"
    assert main(["notebook", str(tiny), str(output), "-p", "scale", "2",
                 "-p", "out", str(tmp_path)]) == 0
    captured = capfd.readouterr()
    assert captured.out.startswith(f"notebook: {tiny} -> {output}, ")
    assert "TCP" not in captured.err and "WARNING" not in captured.err
    score = json.loads((tmp_path / "metrics.json").read_text())["test"]["accuracy"]
    assert score == pytest.approx(expected_scores([0], scale=2.0)[0])
    assert nbformat.read(output, as_version=4).cells[1].outputs == []

    assert main(["notebook", str(tiny), str(output), "-p", "seed", "1", "-p", "fail_unless",
                 str(tmp_path / "missing"), "-p", "out", str(tmp_path)]) == 2
    error = capfd.readouterr().err.strip().splitlines()
    assert error[-1].startswith(f"cclib notebook: {tiny}: cell ") and "RuntimeError" in error[-1]
    assert error[-1].endswith(f"the notebook up to it is in {output}")


@pytest.mark.parametrize("argv, message", [
    (["{tiny}", "{out}/executed.ipynb", "-p", "seeds", "3"],
     "tiny.ipynb: no parameter 'seeds' (it has fail_unless, out, scale, seed)"),
    (["{tiny}", "{out}/executed.txt"], "{out}/executed.txt: the executed copy must be a .ipynb file"),
    (["{out}/notes.md", "{out}/executed.ipynb"], "{out}/notes.md: not a notebook (.ipynb)"),
    (["{out}/none.ipynb", "{out}/executed.ipynb"], "{out}/none.ipynb: no such notebook"),
])
def test_a_notebook_that_cannot_run_is_refused_in_one_line(tiny, tmp_path, capfd, argv, message):
    (tmp_path / "notes.md").write_text("# not a notebook")
    fill = {"tiny": tiny, "out": tmp_path}
    assert main(["notebook", *(a.format(**fill) for a in argv)]) == 2
    assert capfd.readouterr().err == f"cclib notebook: {message.format(**fill)}\n"
    assert not (tmp_path / "executed.ipynb").exists()
