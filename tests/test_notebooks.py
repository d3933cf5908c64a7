"""Every notebook of the series runs headless through papermill, on small parameters."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from cclib.protocols import reading
from cclib.store import convert_folder, read_manifest
from tests.conftest import PROTOCOLS_08, TINY_08

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

pytestmark = pytest.mark.slow


def run_notebook(name: str, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    output = tmp_path / name
    papermill.execute_notebook(str(NOTEBOOKS / name), str(output), parameters=parameters,
                               kernel_name="python3", progress_bar=False, cwd=str(NOTEBOOKS))
    return nbformat.read(output, as_version=4)


def nbval_rerun(executed: Path) -> subprocess.CompletedProcess:
    """Run an executed notebook again through nbval in lax mode, as a teacher would.

    Every cell must run, and each cell marked ``# NBVAL_CHECK_OUTPUT`` must
    print what it printed in the papermill run (same parameters, same seed).
    """
    marked = [cell for cell in nbformat.read(executed, as_version=4).cells
              if "# NBVAL_CHECK_OUTPUT" in cell.source]
    assert marked and all(cell.outputs for cell in marked), f"{executed.name}: nothing to check"
    # nbval alone of the installed pytest plugins: hypothesis and the others cost a second or two
    environment = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "nbval.plugin", "--nbval-lax",
                           "--nbval-current-env", "-p", "no:cacheprovider", "-q", str(executed)],
                          cwd=executed.parent, capture_output=True, text=True, timeout=600,
                          env=environment)


def assert_nbval_passes(executed: Path) -> None:
    result = nbval_rerun(executed)
    assert result.returncode == 0, result.stdout[-4000:]


def test_every_notebook_is_stored_clean_with_a_parameters_cell():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert not any(cell.outputs or cell.execution_count for cell in code), path.name
        assert sum("parameters" in cell.metadata.get("tags", []) for cell in code) == 1, path.name


def test_01_audio_to_spectrograms(small_corpus, tmp_path, data_dir):
    figures = tmp_path / "figures"
    notebook = run_notebook("01_audio_to_spectrograms.ipynb", tmp_path,
                            audio_dir=str(small_corpus), piece="Palestrina_2.wav",
                            seconds_shown=5.0, out=str(figures))
    assert (figures / "01_linear_vs_mel.png").stat().st_size > 10_000
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    title = pd.read_csv(small_corpus / "corpus.csv").set_index("file").title["Palestrina_2.wav"]
    assert f"Palestrina_2.wav ({title}):" in printed and "at 22050 Hz" in printed
    players = [output for cell in notebook.cells for output in cell.get("outputs", [])
               if "<audio" in output.get("data", {}).get("text/html", "")]
    assert len(players) == 2  # the piece and one slice
    assert_nbval_passes(tmp_path / "01_audio_to_spectrograms.ipynb")


def test_02_slicing_writes_the_slice_store(small_corpus, tmp_path, data_dir):
    store = tmp_path / "store"
    run_notebook("02_slicing_3s_samples.ipynb", tmp_path, audio_dir=str(small_corpus),
                 spectrograms=str(store), max_files=3, jobs=1, png=True, out=str(tmp_path / "figures"))
    manifest = read_manifest(store)
    assert manifest.piece.nunique() == 3
    assert set(manifest.period) == {"baroque", "renaissance"}
    assert (tmp_path / "figures" / "02_slice_grid.png").exists()
    assert (store / "Bach_1_spectrograms" / "Bach_1_1.png").exists()
    assert_nbval_passes(tmp_path / "02_slicing_3s_samples.ipynb")


def test_03_sampling_experiments(small_corpus, tmp_path, data_dir):
    store = tmp_path / "store"
    convert_folder(small_corpus, store, jobs=1, progress=False)
    run_notebook("03_sampling_experiments.ipynb", tmp_path, spectrograms=str(store),
                 per_composer=5, out=str(tmp_path / "figures"))
    written = data_dir / "datasets" / "per-composer-piece-seed0"
    summary = json.loads((written / "summary.json").read_text())
    assert summary["classes"] == ["renaissance", "baroque"]
    assert summary["leakage"]["test_piece_in_train"] == 0
    assert (tmp_path / "figures" / "03_leakage.png").exists()
    executed = tmp_path / "03_sampling_experiments.ipynb"
    assert_nbval_passes(executed)
    # ... and nbval can fail: a recorded count that the notebook no longer prints
    notebook = nbformat.read(executed, as_version=4)
    checked = next(cell for cell in notebook.cells if "# NBVAL_CHECK_OUTPUT" in cell.source)
    checked.outputs[0]["text"] = checked.outputs[0]["text"].replace("slices", "pieces", 1)
    nbformat.write(notebook, tmp_path / "03_edited.ipynb")
    result = nbval_rerun(tmp_path / "03_edited.ipynb")
    assert result.returncode == 1 and "pieces" in result.stdout


def test_04_retrain_mobilenet(small_corpus, tmp_path, data_dir):
    store = tmp_path / "store"
    convert_folder(small_corpus, store, jobs=1, progress=False)
    out = tmp_path / "model"
    notebook = run_notebook("04_retrain_mobilenet.ipynb", tmp_path, spectrograms=str(store),
                            per_composer=20, steps=30, input_size=32, out=str(out))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["classes"] == ["renaissance", "baroque"]
    assert metrics["protocol"]["split"] == "piece" and metrics["protocol"]["seed"] == 0
    assert len(pd.read_csv(out / "history.csv")) == 10
    assert (out / "figures" / "04_confusion.png").exists()
    # the notebook exports the model for LiteRT, as make demo's default model is
    litert = json.loads((out / "config.json").read_text())["litert"]
    assert litert["file"] == "model.tflite" and (out / "model.tflite").is_file()
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    assert re.search(r"(renaissance|baroque) \(score=\d\.\d{5}\)", printed)


def test_05_results_and_plots(trial_runs, tmp_path):
    figures = tmp_path / "figures"
    notebook = run_notebook("05_results_and_plots.ipynb", tmp_path,
                            runs=str(trial_runs / "runs"), out=str(figures))
    for name in ("training_curves", "boxes", "confusion", "slice_vs_piece"):
        assert (figures / f"05_{name}.png").stat().st_size > 10_000, name
    printed = "".join(output.get("text", "") + output.get("data", {}).get("text/plain", "")
                      for cell in notebook.cells for output in cell.get("outputs", []))
    assert "2 batches, 4 finished trials, 0 failed" in printed
    assert "study (2019)" in printed and "52.1" in printed
    assert re.search(r"accuracy logged every \d+ steps up to step 30", printed)
    assert "30 of 6000 steps, 2 of 20 trials" in printed and "the study's" in printed
    assert "balanced accuracy, test slices, %" in printed and "points are the leak" in printed
    assert re.search(r"heard as \w+: \d+% of its test slices \(\d+ of \d+\)", printed)
    assert "test.mobilenet" not in printed, "metric keys shown to the reader"
    assert_nbval_passes(tmp_path / "05_results_and_plots.ipynb")


def test_06_listen_and_classify(trial_runs, small_corpus, tmp_path):
    figures = tmp_path / "figures"
    notebook = run_notebook("06_listen_and_classify.ipynb", tmp_path,
                            model=str(trial_runs / "runs" / "piece" / "trial-00"),
                            audio_dir=str(small_corpus), piece="Bach_2.wav", position=1,
                            out=str(figures))
    assert (figures / "06_slice_and_verdict.png").stat().st_size > 10_000
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    assert "(score=" in printed and "4 pieces" in printed
    widget_views = [output for cell in notebook.cells for output in cell.get("outputs", [])
                    if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    assert widget_views, "the demo's widget was displayed"
    assert_nbval_passes(tmp_path / "06_listen_and_classify.ipynb")


def test_07_period_relationships(trial_runs, instrument_stores, instrument_experiment, tmp_path,
                                 monkeypatch):
    from cclib.relations import instrument_reading

    monkeypatch.setenv("CCLIB_DATA", str(trial_runs / "data"))
    out, _, table = instrument_experiment  # its models are found, not trained again
    notebook = run_notebook("07_period_relationships.ipynb", tmp_path,
                            runs=str(trial_runs / "runs"), spectrograms=str(trial_runs / "store"),
                            model=str(trial_runs / "runs" / "piece" / "trial-00"),
                            instrumentation=str(instrument_stores), instrument_steps=20,
                            out=str(out))
    for name in ("period_dendrograms", "composer_map", "instrumentation"):
        assert (out / "figures" / f"07_{name}.png").stat().st_size > 10_000, name
    printed = "".join(output.get("text", "") + output.get("data", {}).get("text/plain", "")
                      for cell in notebook.cells for output in cell.get("outputs", []))
    assert "4 trials" in printed and "instrument stores: piano, strings" in printed
    for source in ("confusions", "probability profiles"):
        assert f"From {source}, the tree's first split is " in printed
    for line in instrument_reading(table):  # the experiment's own numbers
        assert line in printed
    assert (out / "instrumentation" / "model-piano").is_dir()


def test_08_does_it_hear_the_period(protocol_runs, mixed_corpus, tmp_path, monkeypatch):
    root, rows = protocol_runs  # its models are found and scored, not trained again
    monkeypatch.setenv("CCLIB_DATA", str(root / "data"))
    store = mixed_corpus / "store"
    notebook = run_notebook("08_does_it_hear_the_period.ipynb", tmp_path, spectrograms=str(store),
                            baseline_spectrograms=str(store), **TINY_08, min_pieces=2,
                            out=str(root / "runs"), protocols=",".join(PROTOCOLS_08))
    assert (root / "runs" / "08_protocols.png").stat().st_size > 10_000
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    for line in reading(rows):  # the runs' own numbers
        assert line in printed
    assert "Test pieces flagged out of domain" in printed
    assert "Periods heard in one texture only: baroque" in printed
