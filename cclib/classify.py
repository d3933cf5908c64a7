"""Classifying audio files and stored slices with a trained period model.

Prints the study's hierarchy, best first, then how far the piece lies from
the music the model was trained on::

    baroque (score=0.71234)
    classical (score=0.20110)
    ...
    Evaluation time (12 slices): 0.094s
    Out of domain: 1.84 (threshold 1.52): unlike the music the model was trained on
    (rendered scores); treat the verdict as a guess

The probabilities are calibrated (temperature scaling on the validation
split, see :mod:`cclib.confidence`); a piece's verdict is the mean of its
slices' probabilities.

Notebook: notebooks/06_listen_and_classify.ipynb
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cclib.audio import AUDIO_EXTENSIONS, AudioError, load_audio
from cclib.confidence import DomainModel, apply_temperature
from cclib.errors import CclibError
from cclib.fileio import read_json, sha256_of
from cclib.runtime import LiteRTNetwork, litert_available
from cclib.spectrogram import FrontEnd, PieceSlices, cut_piece


class ModelError(CclibError, ValueError):
    """A model folder that cannot be loaded; the message is one line."""


#: How a period model is run: "keras" (needs TensorFlow), "litert" (the exported
#: ``model.tflite``) or "auto" (LiteRT when the folder has a verified export).
RUNTIMES = ("auto", "keras", "litert")


@dataclass
class PeriodModel:
    """A trained model with what it needs to read audio and to know its limits.

    Attributes
    ----------
    model : keras.Model or LiteRTNetwork
        Slices in, uncalibrated period probabilities out (a LiteRTNetwork also
        gives the embeddings).
    classes : list of str
    front_end : FrontEnd
    config : dict
        The model folder's ``config.json``.
    temperature : float
        Divides the log-probabilities (1.0: as trained).
    domain : DomainModel or None
        For the out-of-domain score; None for a model from an older cclib.
    """

    model: object
    classes: list
    front_end: FrontEnd
    config: dict = field(repr=False, default_factory=dict)
    temperature: float = 1.0
    domain: DomainModel | None = field(repr=False, default=None)

    def analyse(self, slices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings and calibrated probabilities of dB slices.

        Parameters
        ----------
        slices : np.ndarray [shape=(n, n_bins, frames)]

        Returns
        -------
        embeddings : np.ndarray [shape=(n, 1280)]
        probabilities : np.ndarray [shape=(n, n_classes)]
        """
        slices = np.asarray(slices, dtype=np.float32)
        if isinstance(self.model, LiteRTNetwork):
            embeddings, raw = self.model(slices)
        else:
            from cclib.model import embedding_model, predict_in_batches

            if not hasattr(self, "_two_outputs"):
                self._two_outputs = embedding_model(self.model)
            embeddings, raw = predict_in_batches(self._two_outputs, slices)
        return embeddings, apply_temperature(raw, self.temperature)

    def predict(self, slices: np.ndarray) -> np.ndarray:
        """Calibrated period probabilities [shape=(n, n_classes)] of dB slices."""
        return self.analyse(slices)[1]

    def out_of_domain(self, embeddings: np.ndarray) -> float | None:
        """A piece's out-of-domain score from its slices' embeddings (None without a domain)."""
        return None if self.domain is None else self.domain.piece_score(embeddings)


def _check_config(config, model_dir: Path, n_outputs: int) -> None:
    """Refuse a config.json whose classes do not fit the model."""
    classes = config.get("classes") if isinstance(config, dict) else None
    if not (isinstance(classes, list) and classes and all(isinstance(c, str) for c in classes)):
        raise ModelError(f"{model_dir}/config.json: 'classes' must be a list of period names")
    if len(classes) != n_outputs:
        raise ModelError(f"{model_dir}/config.json: {len(classes)} classes for a model with "
                         f"{n_outputs} outputs")
    if not isinstance(config.get("front_end"), dict):
        raise ModelError(f"{model_dir}/config.json: no 'front_end' settings")


def load_period_model(model_dir: str | Path, *, runtime: str = "keras") -> PeriodModel:
    """Load a model folder: the network, ``config.json`` and ``domain.npz``.

    Parameters
    ----------
    model_dir : path
    runtime : {"keras", "auto", "litert"}
        ``keras`` loads ``model.keras`` (Keras safe mode): what training,
        the bottleneck cache and notebook 07 need. ``auto`` runs the folder's
        ``model.tflite`` under LiteRT when ``config.json`` records it and its
        SHA-256 matches (a second or so sooner, no TensorFlow), else Keras;
        ``litert`` insists on it.

    Raises
    ------
    ModelError
        If a file is missing, broken, or does not fit the model.
    """
    model_dir = Path(model_dir)
    if runtime not in RUNTIMES:
        raise ModelError(f"runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    for name in ("model.keras", "config.json"):
        if not (model_dir / name).is_file():
            raise ModelError(f"{model_dir}: no {name} (not a model folder written by cclib train)")
    config = read_json(model_dir / "config.json", error=ModelError)
    model = _litert_network(model_dir, config, runtime) if runtime != "keras" else None
    model = model or _keras_network(model_dir, config)
    outputs = model.n_classes if isinstance(model, LiteRTNetwork) else int(model.output.shape[-1])
    _check_config(config, model_dir, outputs)
    try:
        front_end = FrontEnd.from_dict(config["front_end"])
        domain = (DomainModel.load(model_dir / "domain.npz")
                  if (model_dir / "domain.npz").is_file() else None)
    except (TypeError, ValueError, KeyError, OSError) as error:
        raise ModelError(f"{model_dir}: broken front end or domain.npz ({error})") from None
    if domain is not None:
        domain.threshold = float(config.get("out_of_domain_threshold", domain.threshold))
    period_model = PeriodModel(model, config["classes"], front_end, config,
                               float(config.get("temperature", 1.0)), domain)
    period_model.predict(np.zeros((1, front_end.n_bins, front_end.frames_per_slice)))  # compile once
    return period_model


def _keras_network(model_dir: Path, config: dict):
    from cclib.model import keras  # TensorFlow loaded quietly, the custom layer registered

    try:
        return keras.saving.load_model(model_dir / "model.keras", safe_mode=True)
    except Exception as error:  # Keras raises many kinds for files from other versions
        raise ModelError(f"{model_dir}/model.keras: cannot be loaded by Keras "
                         f"{keras.__version__} (saved with {config.get('keras_version', '?')}): "
                         f"{str(error).splitlines()[0][:160]}") from None


def _litert_network(model_dir: Path, config: dict, runtime: str) -> LiteRTNetwork | None:
    """The folder's verified LiteRT export, or None (``auto``) to fall back on Keras."""
    record = config.get("litert") if isinstance(config, dict) else None
    path = model_dir / str(record.get("file", "")) if isinstance(record, dict) else None
    reason = None
    if path is None or not path.is_file():
        reason = "no LiteRT export (cclib train writes one when ai-edge-litert is installed)"
    elif not litert_available():
        reason = "LiteRT is not installed (pip install ai-edge-litert)"
    elif sha256_of(path) != record.get("sha256"):
        reason = f"{path.name} does not match the SHA-256 in config.json (stale or damaged)"
        if runtime == "auto":  # never used silently
            print(f"{model_dir}: {reason}; running the model under Keras", file=sys.stderr)
    if reason is None:
        try:
            return LiteRTNetwork(path)
        except (ValueError, RuntimeError) as error:
            reason = f"{path.name} cannot be loaded by LiteRT ({error})"
    if runtime == "litert":
        raise ModelError(f"{model_dir}: {reason}")
    return None


def rank_periods(probabilities) -> np.ndarray:
    """Class numbers, best first (ties keep their order).

    Returns
    -------
    order : np.ndarray [shape=(n_classes,), dtype=int]

    Examples
    --------
    >>> rank_periods([0.2, 0.5, 0.3]).tolist()
    [1, 2, 0]
    """
    return np.argsort(-np.asarray(probabilities), kind="stable")


def hierarchy_lines(classes, probabilities, *, top: int | None = None) -> list[str]:
    """The study's lines, best first: ``baroque (score=0.71234)``.

    Examples
    --------
    >>> hierarchy_lines(["baroque", "romantic"], [0.25, 0.75])
    ['romantic (score=0.75000)', 'baroque (score=0.25000)']
    """
    return [f"{classes[i]} (score={probabilities[i]:.5f})"
            for i in rank_periods(probabilities)[:top]]


def read_slice_input(path: str) -> np.ndarray:
    """Stored slices: ``file.npy`` (one slice, or a stack) or ``file.npy#ROW`` (one row of a store array).

    Returns
    -------
    slices : np.ndarray [shape=(n, n_bins, frames)]
        One slice is a stack of one.
    """
    name, _, row = str(path).partition("#")
    try:
        array = np.load(name, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise AudioError(f"{path}: not a readable slice array "
                         f"({str(error).splitlines()[0][:100]})") from None
    if not isinstance(array, np.ndarray):  # an .npz archive
        raise AudioError(f"{path}: not a slice array (.npy), an archive of arrays")
    if row:
        if not row.isdigit() or int(row) >= len(array):
            raise AudioError(f"{path}: no row {row} (the array holds {len(array)})")
        array = array[int(row)]
    array = np.asarray(array, dtype=np.float32)
    array = array[None] if array.ndim == 2 else array
    if array.ndim != 3 or len(array) == 0:
        raise AudioError(f"{path}: holds no slice (shape {array.shape})")
    if not np.isfinite(array).all():
        raise AudioError(f"{path}: holds non-finite values (NaN or infinity)")
    return array


def audio_slices(path: str | Path, front_end: FrontEnd) -> PieceSlices:
    """An audio file's slices, cut by the one slicing rule (:func:`cclib.spectrogram.cut_piece`)."""
    return cut_piece(load_audio(path, sr=front_end.sr), front_end=front_end, name=str(path))


def classify_path(period_model: PeriodModel, path: str) -> dict:
    """Classify one audio file (whole-piece verdict and per slice) or stored slice(s).

    Returns
    -------
    result : dict
        ``path``, ``kind`` (audio or slice), ``n_slices``, ``probabilities``
        (the piece's), ``slice_probabilities``, ``starts`` (seconds, audio
        only), ``out_of_domain`` (the piece's score, or None) and ``seconds``.
    """
    started = time.perf_counter()
    is_audio = Path(str(path).partition("#")[0]).suffix.lower() in AUDIO_EXTENSIONS
    if is_audio:
        piece = audio_slices(path, period_model.front_end)
        slices, starts = piece.slices, piece.starts(period_model.front_end)
    else:
        slices, starts = read_slice_input(path), None
    expected = (period_model.front_end.n_bins, period_model.front_end.frames_per_slice)
    if slices.shape[1:] != expected:
        raise AudioError(f"{path}: slices of shape {slices.shape[1:]}, the model takes {expected}")
    embeddings, probabilities = period_model.analyse(slices)
    return {"path": str(path), "kind": "audio" if is_audio else "slice",
            "n_slices": len(slices), "probabilities": probabilities.mean(axis=0),
            "slice_probabilities": probabilities, "starts": starts,
            "out_of_domain": period_model.out_of_domain(embeddings),
            "seconds": time.perf_counter() - started}


def domain_line(score: float | None, threshold: float) -> str | None:
    """The out-of-domain line printed after a verdict (None without a score).

    Examples
    --------
    >>> domain_line(2.0, 1.5)
    'Out of domain: 2.00 (threshold 1.50): unlike the music the model was trained on (rendered scores); treat the verdict as a guess'
    >>> domain_line(1.0, 1.5)
    'Out of domain: 1.00 (threshold 1.50): like the music the model was trained on'
    """
    if score is None:
        return None
    if score > threshold:
        verdict = ("unlike the music the model was trained on (rendered scores); treat the "
                   "verdict as a guess")
    else:
        verdict = "like the music the model was trained on"
    return f"Out of domain: {score:.2f} (threshold {threshold:.2f}): {verdict}"


def format_result(result: dict, period_model: PeriodModel, *, top: int | None = None,
                  per_slice: bool = False) -> list[str]:
    """The printed block for one classified path."""
    classes = period_model.classes
    lines = hierarchy_lines(classes, result["probabilities"], top=top)
    unit = "1-slice" if result["n_slices"] == 1 else f"{result['n_slices']} slices"
    lines.append(f"Evaluation time ({unit}): {result['seconds']:.3f}s")
    threshold = period_model.domain.threshold if period_model.domain else 0.0
    line = domain_line(result["out_of_domain"], threshold)
    if line:
        lines.append(line)
    if per_slice and result["starts"] is not None:
        for start, probabilities in zip(result["starts"], result["slice_probabilities"]):
            best = int(np.argmax(probabilities))
            lines.append(f"{start:8.1f} s  {classes[best]} (score={probabilities[best]:.5f})")
    return lines


def result_json(result: dict, period_model: PeriodModel, *, top: int | None = None,
                per_slice: bool = False) -> dict:
    """The same as :func:`format_result`, as a JSON-ready dict."""
    classes = period_model.classes
    out = {"path": result["path"], "n_slices": result["n_slices"],
           "scores": [{"period": classes[i], "score": round(float(result["probabilities"][i]), 5)}
                      for i in rank_periods(result["probabilities"])[:top]],
           "evaluation_seconds": round(result["seconds"], 4),
           "out_of_domain": result["out_of_domain"],
           "out_of_domain_threshold": (period_model.domain.threshold
                                       if period_model.domain else None)}
    if per_slice and result["starts"] is not None:
        out["slices"] = [{"start_s": float(s), "period": classes[int(np.argmax(p))],
                          "score": round(float(np.max(p)), 5)}
                         for s, p in zip(result["starts"], result["slice_probabilities"])]
    return out
