"""cclib.evaluation: scores, readings, and `cclib evaluate` on a folder of labelled recordings."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from cclib.cli import main
from cclib.evaluation import bootstrap_interval, score_pieces
from tests.conftest import SR, write_audio

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recordings(small_corpus, tmp_path_factory):
    """The small corpus, one piece of a period the model does not know, a broken file,
    a silent one and one by a composer in no list."""
    folder = tmp_path_factory.mktemp("recordings")
    for path in small_corpus.glob("*.wav"):
        shutil.copy(path, folder / path.name)
    shutil.copy(small_corpus / "Bach_2.wav", folder / "Debussy_1.wav")  # impressionist
    (folder / "Mozart_1.wav").write_bytes(b"RIFF not audio at all")
    write_audio(folder / "Handel_1.wav", np.zeros(5 * SR, dtype=np.float32))
    shutil.copy(small_corpus / "Bach_1.wav", folder / "Nobody_1.wav")
    return folder


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "cclib.cli", *map(str, args)],
                          capture_output=True, text=True)


def test_evaluate_scores_the_known_periods_and_names_what_it_could_not_use(trial_runs,
                                                                            recordings, tmp_path,
                                                                            capsys):
    model = trial_runs / "runs" / "piece" / "trial-00"
    done = run_cli("evaluate", model, recordings, "--out", tmp_path / "report")
    assert done.returncode == 0, done.stderr
    assert "pieces: 4 of periods the model knows" in done.stdout
    assert "95% interval" in done.stdout and "chance 0.500" in done.stdout
    assert "Debussy_1.wav (impressionist) heard as" in done.stdout
    for name, reason in (("Mozart_1.wav", "not readable audio"), ("Handel_1.wav", "silent"),
                         ("Nobody_1.wav", "unknown composer 'Nobody'")):
        assert f"skipped {recordings / name}: " in done.stderr and reason in done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads((tmp_path / "report" / "evaluation.json").read_text())
    assert report["classes"] == ["renaissance", "baroque"]
    assert report["counts"] == {"renaissance": {"pieces": 2, "slices": report["counts"][
        "renaissance"]["slices"]}, "baroque": {"pieces": 2, "slices": report["counts"][
            "baroque"]["slices"]}}
    assert np.asarray(report["piece_confusion_matrix"]).sum() == 4
    assert np.asarray(report["confusion_matrix"]).sum() == report["n_slices"]
    assert report["unknown_periods"][0]["period"] == "impressionist"
    assert all(p["out_of_domain"] > 0 for p in report["pieces"])
    assert (tmp_path / "report" / "confusion.png").stat().st_size > 5_000
    # --json prints the same report (run in this process: the command itself ran above)
    assert main(["evaluate", str(model), str(recordings), "--json"]) == 0
    as_json = json.loads(capsys.readouterr().out)
    assert as_json["piece"] == report["piece"]


def test_evaluate_refuses_a_missing_folder_or_model_in_one_line(trial_runs, tmp_path):
    model = trial_runs / "runs" / "piece" / "trial-00"
    missing = run_cli("evaluate", model, tmp_path / "nowhere")
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"cclib evaluate: {tmp_path / 'nowhere'}: no such folder"
    no_model = run_cli("evaluate", tmp_path, tmp_path)
    assert no_model.returncode == 2 and len(no_model.stderr.strip().splitlines()) == 1


def test_scores_by_hand():
    pieces = [{"period": p, "heard_as": h, "known": True} for p, h in
              [("baroque", "baroque"), ("baroque", "classical"), ("classical", "classical")]]
    pieces.append({"period": "jazz", "heard_as": "baroque", "known": False, "file": "x.wav",
                   "score": 0.9})
    found = score_pieces(pieces, ["baroque", "classical"], [0, 0, 1], [0, 1, 1], n_boot=200)
    assert found["piece"]["balanced_accuracy"] == pytest.approx(0.75)
    assert found["majority_baseline"]["period"] == "baroque"
    assert found["chance"] == 0.5 and found["unknown_periods"][0]["period"] == "jazz"
    low, high = found["piece_balanced_accuracy_95"]
    assert 0 <= low <= 0.75 <= high <= 1
    assert bootstrap_interval([0, 1], [0, 1], 2, seed=1) == (1.0, 1.0)


def test_the_reading_of_a_run_takes_its_numbers_from_the_run():
    import numpy as np
    import pandas as pd

    from cclib.evaluation import training_reading

    metrics = {"test": {"mobilenet": {"n_slices": 30, "n_pieces": 5, "chance": 0.5,
                                      "piece": {"balanced_accuracy": 0.8},
                                      "slice": {"balanced_accuracy": 0.7}}}}
    rows = pd.DataFrame({"piece": ["a", "a", "b", "c"], "period": ["baroque"] * 2 + ["romantic"] * 2})
    lines = [training_reading(metrics, pd.DataFrame({"train_accuracy": [t],
                                                     "validation_accuracy": [v]}), rows)
             for t, v in ((0.97, 0.6), (0.62, 0.5), (0.5, 0.49), (0.5, np.nan))]
    assert lines[0][0] == "Test: 30 slices from 5 pieces; baroque rests on 1 piece (2 slices)."
    assert lines[0][1].startswith("MobileNet names the period of 80% of whole test pieces")
    assert "overfitting" in lines[0][2] and "moderate gap" in lines[1][2]
    assert "end 1 point apart" in lines[2][2] and "no validation slices" in lines[3][2]
