"""Classifying audio files and stored slices with a trained period model.

Prints the study's hierarchy, best first::

    baroque (score=0.71234)
    classical (score=0.20110)
    ...
    Evaluation time (1-slice): 0.004s

Notebook: notebooks/04_retrain_mobilenet.ipynb
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cclib.audio import AUDIO_EXTENSIONS, AudioError, load_audio, normalize_loudness
from cclib.spectrogram import FrontEnd, piece_slices


class ModelError(ValueError):
    """A model folder that cannot be loaded; the message is one line."""


@dataclass
class PeriodModel:
    """A trained model with what it needs to read audio: its classes and front end."""

    model: object
    classes: list
    front_end: FrontEnd
    config: dict = field(repr=False, default_factory=dict)

    def predict(self, slices: np.ndarray) -> np.ndarray:
        """Period probabilities [shape=(n, n_classes)] for dB slices [shape=(n, n_bins, frames)]."""
        from cclib.model import predict_in_batches

        return predict_in_batches(self.model, np.asarray(slices, dtype=np.float32))


def load_period_model(model_dir: str | Path) -> PeriodModel:
    """Load ``model.keras`` (Keras safe mode) and ``config.json`` from a model folder.

    Raises
    ------
    ModelError
        If a file is missing or the model cannot be read by this Keras.
    """
    model_dir = Path(model_dir)
    for name in ("model.keras", "config.json"):
        if not (model_dir / name).is_file():
            raise ModelError(f"{model_dir}: no {name} (not a model folder written by cclib train)")
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    import cclib.model  # noqa: F401  (quiets TensorFlow, registers the custom layer)
    import keras

    try:
        model = keras.saving.load_model(model_dir / "model.keras", safe_mode=True)
    except Exception as error:  # Keras raises many kinds for files from other versions
        raise ModelError(f"{model_dir}/model.keras: cannot be loaded by Keras "
                         f"{keras.__version__} (saved with {config.get('keras_version', '?')}): "
                         f"{str(error).splitlines()[0][:160]}") from None
    period_model = PeriodModel(model, config["classes"], FrontEnd.from_dict(config["front_end"]),
                               config)
    front_end = period_model.front_end
    period_model.predict(np.zeros((1, front_end.n_bins, front_end.frames_per_slice)))  # compile once
    return period_model


def hierarchy_lines(classes, probabilities, *, top: int | None = None) -> list[str]:
    """The study's lines, best first: ``baroque (score=0.71234)``.

    Examples
    --------
    >>> hierarchy_lines(["baroque", "romantic"], [0.25, 0.75])
    ['romantic (score=0.75000)', 'baroque (score=0.25000)']
    """
    order = np.argsort(-np.asarray(probabilities), kind="stable")[:top]
    return [f"{classes[i]} (score={probabilities[i]:.5f})" for i in order]


def read_slice_input(path: str) -> np.ndarray:
    """Stored slices: ``file.npy`` (one slice, or a stack) or ``file.npy#ROW`` (one row of a store array)."""
    name, _, row = str(path).partition("#")
    try:
        array = np.load(name, mmap_mode="r")
    except (OSError, ValueError) as error:
        raise AudioError(f"{path}: not a readable slice array ({error})") from None
    if row:
        if not row.isdigit() or int(row) >= len(array):
            raise AudioError(f"{path}: no row {row} (the array holds {len(array)})")
        array = array[int(row)]
    return np.asarray(array, dtype=np.float32)[None] if array.ndim == 2 else np.asarray(array)


def cut_slices(y: np.ndarray, front_end: FrontEnd, name: str) -> np.ndarray:
    """A loudness-normalised piece's slices, made exactly as for training.

    Raises AudioError naming ``name`` when the piece is shorter than one slice.
    """
    slices = piece_slices(y, front_end=front_end)
    if len(slices) == 0:
        raise AudioError(f"{name}: shorter than one {front_end.seconds:g}-second slice")
    return slices


def audio_slices(path: str | Path, front_end: FrontEnd):
    """Slices of an audio file made exactly as for training; returns (slices, start times)."""
    slices = cut_slices(normalize_loudness(load_audio(path, sr=front_end.sr)), front_end, path)
    return slices, np.arange(len(slices)) * front_end.seconds


def classify_path(period_model: PeriodModel, path: str) -> dict:
    """Classify one audio file (whole-piece verdict and per slice) or stored slice(s)."""
    started = time.perf_counter()
    is_audio = Path(str(path).partition("#")[0]).suffix.lower() in AUDIO_EXTENSIONS
    if is_audio:
        slices, starts = audio_slices(path, period_model.front_end)
    else:
        slices = read_slice_input(path)
        starts = None
    expected = (period_model.front_end.n_bins, period_model.front_end.frames_per_slice)
    if slices.shape[1:] != expected:
        raise AudioError(f"{path}: slices of shape {slices.shape[1:]}, the model takes {expected}")
    probabilities = period_model.predict(slices)
    return {"path": str(path), "kind": "audio" if is_audio else "slice",
            "n_slices": len(slices), "probabilities": probabilities.mean(axis=0),
            "slice_probabilities": probabilities, "starts": starts,
            "seconds": time.perf_counter() - started}


def format_result(result: dict, classes, *, top: int | None = None,
                  per_slice: bool = False) -> list[str]:
    """The printed block for one classified path."""
    lines = hierarchy_lines(classes, result["probabilities"], top=top)
    unit = "1-slice" if result["n_slices"] == 1 else f"{result['n_slices']} slices"
    lines.append(f"Evaluation time ({unit}): {result['seconds']:.3f}s")
    if per_slice and result["starts"] is not None:
        for start, probabilities in zip(result["starts"], result["slice_probabilities"]):
            best = int(np.argmax(probabilities))
            lines.append(f"{start:8.1f} s  {classes[best]} (score={probabilities[best]:.5f})")
    return lines


def result_json(result: dict, classes, *, top: int | None = None, per_slice: bool = False) -> dict:
    """The same as :func:`format_result`, as a JSON-ready dict."""
    order = np.argsort(-result["probabilities"], kind="stable")[:top]
    out = {"path": result["path"], "n_slices": result["n_slices"],
           "scores": [{"period": classes[i], "score": round(float(result["probabilities"][i]), 5)}
                      for i in order],
           "evaluation_seconds": round(result["seconds"], 4)}
    if per_slice and result["starts"] is not None:
        out["slices"] = [{"start_s": float(s), "period": classes[int(np.argmax(p))],
                          "score": round(float(np.max(p)), 5)}
                         for s, p in zip(result["starts"], result["slice_probabilities"])]
    return out
