"""``make demo AUDIO=...``: the README's "Your own recordings" command, end to end on tiny settings.

The demo with the default corpus is what ``make demo`` itself runs; this test runs the
other path, a user's folder of ``Composer_N`` files, through the Makefile as the README
gives it, so a notebook parameter or target that breaks it fails here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import chirp_piece, write_audio

ROOT = Path(__file__).resolve().parent.parent

#: The demo on tiny settings: one trial per batch, a few steps, 32-pixel inputs.
TINY_DEMO = ["MODEL_STEPS=30", "DEMO_TRIALS_N=1", "DEMO_STEPS=30", "JOBS=1",
             "TRAIN_PARAMS=-p input_size 32 -p per_composer 20 -p export False"]


@pytest.mark.slow
def test_make_demo_runs_the_series_on_your_own_recordings(tmp_path):
    audio = tmp_path / "MasterFolder"
    for i, name in enumerate(["Bach_1", "Bach_2", "Handel_1", "Handel_2",
                              "Mozart_1", "Mozart_2", "Haydn_1", "Haydn_2"]):
        write_audio(audio / f"{name}.wav", chirp_piece(8, seed=i))
    data = tmp_path / "mine"
    environment = {**os.environ, "CCLIB_DATA": str(data)}
    done = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "demo",
                           f"AUDIO={audio}", *TINY_DEMO],
                          env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    runs = data / "runs" / "demo"
    executed = sorted(path.name for path in runs.glob("*.ipynb"))
    assert executed == ["01_audio_to_spectrograms.ipynb", "02_slicing_3s_samples.ipynb",
                        "03_sampling_experiments.ipynb", "04_retrain_mobilenet.ipynb",
                        "05_results_and_plots.ipynb", "06_listen_and_classify.ipynb",
                        "07_period_relationships.ipynb"]
    # the user's slices, in a store of their own; the model trained on their four composers
    store = data / "spectrograms-MasterFolder"
    assert (store / "manifest.csv").read_text().count("Handel_2") > 0
    assert (data / "models" / "default" / "model.keras").exists()
    # nothing of the default corpus was rendered or sliced, and the demo says what it skipped
    assert not (data / "audio").exists() and not (data / "spectrograms").exists()
    assert not (data / "instrumentation").exists()
    assert "default corpus, its instrumentation experiment and notebook 08" in done.stdout
