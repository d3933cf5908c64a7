"""cclib.classify without a trained network: ranking, the study's lines, paths in, results out.

The network is the stub of tests/conftest.py (a slice's loudness decides), so
each verdict below is known in advance. Loading real model folders, the
LiteRT export and the ``cclib classify`` command are tested in
test_training.py and test_hostile_inputs.py.
"""

import json

import numpy as np
import pytest
import soundfile as sf

from cclib.audio import AudioError
from cclib.classify import (ModelError, classify_path, format_result, hierarchy_lines,
                            load_period_model, rank_periods, read_slice_input, result_json)
from tests.conftest import SR, stub_period_model


def test_periods_are_ranked_best_first_and_ties_keep_their_order():
    assert rank_periods([0.2, 0.5, 0.3]).tolist() == [1, 2, 0]
    assert rank_periods([0.4, 0.2, 0.4]).tolist() == [0, 2, 1]


def test_the_studys_lines_have_five_decimals_and_top_cuts_them():
    lines = hierarchy_lines(["renaissance", "baroque", "romantic"], [0.1, 0.65432109, 0.24567891])
    assert lines == ["baroque (score=0.65432)", "romantic (score=0.24568)",
                     "renaissance (score=0.10000)"]
    assert hierarchy_lines(["a", "b"], [0.3, 0.7], top=1) == ["b (score=0.70000)"]


@pytest.fixture
def stub_model():
    """Decides at -12 dB: after loudness normalisation, the loud half of
    :func:`loud_then_quiet` is near 1 dB (renaissance), the quiet one near -24 dB."""
    return stub_period_model(midpoint=-12.0)


def loud_then_quiet(tmp_path):
    """Six seconds of noise, the second half 25 dB below the first (two slices, two verdicts)."""
    noise = 0.1 * np.random.default_rng(0).standard_normal(6 * SR).astype(np.float32)
    noise[3 * SR:] *= 10 ** (-25 / 20)
    path = tmp_path / "two.wav"
    sf.write(path, noise, SR, subtype="FLOAT")
    return path


def test_an_audio_file_is_classified_slice_by_slice_and_as_a_whole(stub_model, tmp_path):
    result = classify_path(stub_model, str(loud_then_quiet(tmp_path)))
    assert result["kind"] == "audio" and result["n_slices"] == 2
    assert result["starts"].tolist() == [0.0, 3.0]
    loud, quiet = result["slice_probabilities"]
    assert loud[0] > 0.5 > quiet[0]  # the stub: loud slices are "renaissance"
    np.testing.assert_allclose(result["probabilities"], (loud + quiet) / 2)
    assert result["out_of_domain"] is None  # the stub has no domain model


def test_the_printed_block_and_the_json_say_the_same(stub_model, tmp_path):
    result = classify_path(stub_model, str(loud_then_quiet(tmp_path)))
    lines = format_result(result, stub_model, per_slice=True)
    best = stub_model.classes[int(np.argmax(result["probabilities"]))]
    assert lines[0].startswith(f"{best} (score=") and lines[2].startswith("Evaluation time (2 slices)")
    assert lines[3].split()[:3] == ["0.0", "s", "renaissance"]
    assert lines[4].split()[:3] == ["3.0", "s", "baroque"]
    as_json = json.loads(json.dumps(result_json(result, stub_model, top=1, per_slice=True)))
    assert as_json["scores"] == [{"period": best,
                                  "score": round(float(result["probabilities"].max()), 5)}]
    assert [s["period"] for s in as_json["slices"]] == ["renaissance", "baroque"]


def test_stored_slices_are_read_whole_or_by_row(stub_model, tmp_path):
    front_end = stub_model.front_end
    stack = np.full((3, front_end.n_bins, front_end.frames_per_slice), -80.0, dtype=np.float32)
    stack[1] = -10.0
    np.save(tmp_path / "slices.npy", stack)
    assert read_slice_input(f"{tmp_path / 'slices.npy'}#1").shape == (1,) + stack.shape[1:]
    row = classify_path(stub_model, f"{tmp_path / 'slices.npy'}#1")
    assert row["kind"] == "slice" and row["starts"] is None
    assert np.argmax(row["probabilities"]) == 0  # loud: renaissance
    whole = classify_path(stub_model, str(tmp_path / "slices.npy"))
    assert whole["n_slices"] == 3


@pytest.mark.parametrize("name, content, reason", [
    ("slices.npy#7", None, "no row 7 (the array holds 3)"),
    ("notes.npy", b"not numpy", "not a readable slice array"),
    ("small.npy", "shape", "slices of shape (10, 10), the model takes (128, 129)"),
])
def test_bad_slice_inputs_are_refused_with_the_path_and_the_reason(stub_model, tmp_path, name,
                                                                   content, reason):
    np.save(tmp_path / "slices.npy", np.zeros((3, 128, 129), dtype=np.float32))
    if content == "shape":
        np.save(tmp_path / name, np.zeros((1, 10, 10), dtype=np.float32))
    elif content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(AudioError, match=reason.replace("(", r"\(").replace(")", r"\)")) as error:
        classify_path(stub_model, str(tmp_path / name))
    assert str(error.value).startswith(str(tmp_path / name.partition("#")[0]))


def test_a_folder_that_is_not_a_model_is_refused_before_tensorflow_loads(tmp_path):
    with pytest.raises(ModelError, match="no model.keras"):
        load_period_model(tmp_path)
    with pytest.raises(ModelError, match="runtime 'onnx': choose one of auto, keras, litert"):
        load_period_model(tmp_path, runtime="onnx")
