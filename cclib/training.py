"""Retraining MobileNetV2 on a sampled dataset, as the study's recipe did, and evaluating it.

Loads TensorFlow (through :mod:`cclib.model`); ``import cclib`` alone does not.

The study's recipe (TensorFlow for Poets, ``--mode retrain``): the ImageNet
network stays frozen, every slice's 1280-number bottleneck is computed once
and cached (:mod:`cclib.bottlenecks`), and a softmax layer is trained on
them for 6,000 steps of 100 examples at learning rate 0.01, with training
and validation accuracy recorded every 100 steps. ``--mode finetune`` then
also trains the top of the network, ``--mode scratch`` trains all of it
from random weights; both with augmentation.

What this project adds to the recipe, each a :class:`TrainConfig` field
measured by the cross-domain protocols (notebook 08): class-balanced
batches (``balance``), augmented copies of the training slices with a room,
an EQ tilt, noise and gain (``augment``, see :mod:`cclib.augment`), and
per-band normalisation of the network input (``normalize``). Every run then
calibrates its probabilities on the validation split and learns what its
training music looks like, for the out-of-domain score (:mod:`cclib.confidence`).

Notebook: notebooks/04_retrain_mobilenet.ipynb
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from cclib.augment import Augmentation
from cclib.bottlenecks import BottleneckCache
from cclib.confidence import (DomainModel, apply_temperature, expected_calibration_error,
                              fit_domain, fit_temperature, set_threshold)
from cclib.evaluation import evaluate, fit_reference, summary_features
from cclib.errors import CclibError
from cclib.fileio import atomic_path, check_settings, read_json, write_csv, write_json
from cclib.sampling import SamplingError, read_dataset
from cclib.spectrogram import NORMALIZATIONS, FrontEnd, band_frequencies
from cclib.store import StoreError, load_slices

MODES = ("retrain", "finetune", "scratch")
#: The named recipes (see :meth:`TrainConfig.named`).
RECIPES = ("project", "study")


class RecipeError(CclibError, ValueError):
    """A training recipe with an unknown name or setting."""
#: The first feature block trained by --mode finetune (of 0..18): the top third of the network.
FINETUNE_FROM_BLOCK = 14
SPLIT_NAMES = ("train", "test", "validation")


@dataclass
class TrainConfig:
    """The knobs of one training run; saved in ``config.json``.

    The defaults are the recipe the cross-domain protocols chose (README,
    "Does it hear the period?"): the study's, plus class-balanced batches and
    two augmented copies of every training slice. ``TrainConfig.study()`` is
    the study's own.
    """

    weights: str = "imagenet"
    mode: str = "retrain"
    steps: int = 6000
    batch_size: int = 100
    learning_rate: float = 0.01
    input_size: int = 128
    seed: int = 0
    #: Steps between two log lines; None: every 100, or a tenth of a short run.
    log_every: int | None = None
    #: dB range mapped to the image's [0, 1]: slices of a loudness-normalised piece
    #: lie within it (1st to 99.9th percentile of the default corpus: -53 to +24 dB).
    #: Fixed, not fitted per dataset, so every trial shares one bottleneck cache.
    low_db: float = -60.0
    high_db: float = 30.0
    #: "bands": remove each band's mean over the slice before the network (see cclib.model).
    normalize: str = "none"
    #: Draw training batches with every period equally likely.
    balance: bool = True
    #: Augmented copies of every training slice (retrain mode); 0 for none.
    augment: int = 2
    #: Manifest columns (``ensemble``, ``soundfont``) whose linear trace is erased from the
    #: embeddings before the head learns (retrain mode; see nuisance_projection).
    erase: tuple = ()
    #: Also write ``model.tflite`` for LiteRT (fast ``cclib classify``); trials may skip it.
    export: bool = True

    def __post_init__(self):
        if self.mode not in MODES:
            raise RecipeError(f"mode {self.mode!r}: choose one of {', '.join(MODES)}")
        if self.normalize not in NORMALIZATIONS:
            raise RecipeError(f"normalize {self.normalize!r}: choose one of "
                             f"{', '.join(NORMALIZATIONS)}")
        self.erase = tuple(self.erase)
        if self.log_every is None:
            self.log_every = max(1, min(100, self.steps // 10))

    @classmethod
    def study(cls, **changes) -> "TrainConfig":
        """The study's recipe as this project first reproduced it: no balance, no augmentation."""
        return cls(**{"normalize": "none", "balance": False, "augment": 0, "erase": (),
                      **changes})

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """A recipe as ``config.json`` records it (its ``train`` entry): lists back to tuples,
        keys this version does not know left out.

        Examples
        --------
        >>> TrainConfig.from_dict({**asdict(TrainConfig(erase=("ensemble",))), "old": 1}).erase
        ('ensemble',)
        """
        known = {f.name for f in fields(cls)}
        return cls(**{key: tuple(value) if isinstance(value, list) else value
                      for key, value in values.items() if key in known})

    @classmethod
    def named(cls, name: str, **changes) -> "TrainConfig":
        """A recipe by name: ``"project"`` (the defaults) or ``"study"``, with ``changes``.

        Examples
        --------
        >>> TrainConfig.named("study", steps=600).augment, TrainConfig.named("project").augment
        (0, 2)
        """
        if name not in RECIPES:
            raise RecipeError(f"recipe {name!r}: choose one of {', '.join(RECIPES)}")
        return cls.study(**changes) if name == "study" else cls(**changes)


@dataclass
class TrainingData:
    """A dataset folder, loaded: its rows, slices, classes and split masks."""

    rows: pd.DataFrame
    summary: dict
    front_end: FrontEnd
    slices: np.ndarray
    classes: list = field(default_factory=list)
    labels: np.ndarray = None
    parts: dict = field(default_factory=dict)


def set_seeds(seed: int) -> None:
    """Seed Python, numpy and TensorFlow, and make TensorFlow's CPU ops deterministic."""
    from cclib.model import keras, tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def load_dataset(dataset_dir: str | Path) -> TrainingData:
    """A dataset folder's rows, summary, store front end, slices, labels and split masks.

    Raises
    ------
    SamplingError
        If the folder holds no dataset written by ``cclib sample``.
    """
    dataset_dir = Path(dataset_dir)
    if not (dataset_dir / "summary.json").is_file():
        raise SamplingError(f"{dataset_dir}: no dataset here (make one with cclib sample)")
    summary = read_json(dataset_dir / "summary.json", error=SamplingError)
    store = Path(summary["store"])
    params = read_json(store / "params.json", error=StoreError)
    front_end = FrontEnd.from_dict(params["front_end"])
    rows = read_dataset(dataset_dir)  # absolute paths into the store
    classes = summary["classes"]
    return TrainingData(rows, summary, front_end, load_slices(store, rows), classes,
                        rows["period"].map({c: i for i, c in enumerate(classes)}).to_numpy(),
                        {name: (rows["split"] == name).to_numpy() for name in SPLIT_NAMES})


def bottleneck_cache_key(config: TrainConfig, front_end: FrontEnd) -> str:
    """Name of the cache of embeddings made with these weights, input and front end."""
    from cclib.model import imagenet_weights, sha256_of

    weights_id = (sha256_of(imagenet_weights()) if config.weights == "imagenet"
                  else str(config.weights))
    text = json.dumps([weights_id, config.input_size, front_end.to_dict(), config.low_db,
                       config.high_db] + ([config.normalize] if config.normalize != "none" else []),
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def open_bottleneck_cache(model, config: TrainConfig, front_end: FrontEnd,
                          cache_root: str | Path | None = None) -> BottleneckCache:
    """The bottleneck cache of ``model``'s frozen network (``data/models/bottlenecks/<key>``)."""
    from cclib import paths
    from cclib.model import bottleneck_model, predict_in_batches

    bottleneck = bottleneck_model(model)
    root = Path(cache_root) if cache_root else paths.models_dir() / "bottlenecks"
    return BottleneckCache(root / bottleneck_cache_key(config, front_end),
                           lambda x: predict_in_batches(bottleneck, x), front_end=front_end)


def _batches(labels: np.ndarray, config: TrainConfig, rng) -> np.ndarray:
    """The row numbers of one training batch: uniform, or every class equally likely."""
    size = min(config.batch_size, len(labels))
    if not config.balance:
        return np.sort(rng.choice(len(labels), size=size, replace=False))
    members = [np.flatnonzero(labels == k) for k in np.unique(labels)]
    which = rng.integers(0, len(members), size=size)
    return np.sort([members[k][rng.integers(len(members[k]))] for k in which])


def _fit_steps(model, x_train, y_train, x_val, y_val, config: TrainConfig, predict) -> pd.DataFrame:
    """Train ``model`` for ``config.steps`` batches drawn at random; log every ``log_every``."""
    rng = np.random.default_rng([config.seed, 3])
    history = []
    for step in range(1, config.steps + 1):
        index = _batches(y_train, config, rng)
        loss, accuracy = model.train_on_batch(x_train[index], y_train[index])
        if step % config.log_every == 0 or step == config.steps:
            validation = (float((predict(x_val).argmax(axis=1) == y_val).mean())
                          if len(y_val) else float("nan"))
            history.append({"step": step, "train_accuracy": round(float(accuracy), 6),
                            "validation_accuracy": round(validation, 6),
                            "cross_entropy": round(float(loss), 6)})
    return pd.DataFrame(history)


def nuisance_projection(embeddings: np.ndarray, periods, nuisance) -> np.ndarray:
    """A projection that makes a nuisance's groups look alike within every period.

    Within each period, the mean embedding of every nuisance group (an
    ensemble, a soundfont) is compared with the period's mean; the
    projection removes the span of those differences. Afterwards, within a
    period, every group has the same mean embedding, so no linear read-out
    can tell the groups apart by their means (the condition for linear
    guardedness in Belrose et al., *LEACE*, NeurIPS 2023), while the
    differences between periods stay.

    Parameters
    ----------
    embeddings : np.ndarray [shape=(n, dim)]
    periods, nuisance : arrays [shape=(n,)]

    Returns
    -------
    P : np.ndarray [shape=(dim, dim), dtype=float32]
        Symmetric; ``embeddings @ P`` is the erased embedding.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> E = rng.normal(size=(400, 8)); g = np.repeat([0, 1], 200); E[g == 1, 0] += 5
    >>> P = nuisance_projection(E, np.zeros(400), g)
    >>> erased = E @ P
    >>> bool(abs(erased[g == 1, 0].mean() - erased[g == 0, 0].mean()) < 1e-6)
    True
    """
    E = np.asarray(embeddings, dtype=np.float64)
    periods, nuisance = np.asarray(periods), np.asarray(nuisance)
    directions = []
    for period in np.unique(periods):
        inside = periods == period
        groups = np.unique(nuisance[inside])
        if len(groups) < 2:
            continue
        centre = E[inside].mean(axis=0)
        directions += [E[inside & (nuisance == g)].mean(axis=0) - centre for g in groups]
    P = np.eye(E.shape[1])
    if directions:
        u, s, _ = np.linalg.svd(np.stack(directions).T, full_matrices=False)
        basis = u[:, s > 1e-8 * s.max()]
        P -= basis @ basis.T
    return P.astype(np.float32)


def _erasure(features: np.ndarray, data: TrainingData, config: TrainConfig) -> np.ndarray | None:
    """The projection for ``config.erase`` fitted on the training rows (None if nothing to erase)."""
    train = data.parts["train"]
    columns = [c for c in config.erase if c in data.rows.columns]
    if not columns:
        return None
    nuisance = data.rows[columns].astype(str).agg("|".join, axis=1).to_numpy()
    return nuisance_projection(features[train], data.labels[train], nuisance[train])


def _trained_before(dataset_dir, out: Path, config: TrainConfig) -> dict:
    """The metrics of the model in ``out``, if ``config.json`` says it was trained as asked."""
    saved = read_json(out / "config.json")
    check_settings({"train": saved.get("train"), "dataset": saved.get("dataset")},
                   {"train": asdict(config), "dataset": str(Path(dataset_dir).resolve())},
                   out, what="a model")
    return read_json(out / "metrics.json")


def _accuracy() -> list:
    """The training accuracy metric, its variables made now: created inside the first
    training step instead, they make TensorFlow trace that step twice (about 5 s for the
    whole network)."""
    from cclib.model import keras

    return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]


def _train_head(model, data: TrainingData, config: TrainConfig, cache: BottleneckCache):
    """The recipe: the softmax head on cached bottlenecks (plus augmented copies).

    Returns
    -------
    head_only : keras.Model
    features : np.ndarray [shape=(n, 1280)]
        The bottleneck of every row of the dataset.
    history : pandas.DataFrame
    timings : dict
    """
    from cclib.model import keras, predict_in_batches

    t0 = time.perf_counter()
    features = cache.embeddings(data.rows)
    train, validation = data.parts["train"], data.parts["validation"]
    x_train, y_train = features[train], data.labels[train]
    if config.augment:
        extra = cache.augmented(data.rows[train], Augmentation(copies=config.augment))
        x_train = np.concatenate([x_train, extra.reshape(-1, extra.shape[-1])])
        y_train = np.concatenate([y_train] + [data.labels[train]] * config.augment)
    timings = {"bottlenecks_s": round(time.perf_counter() - t0, 2)}
    erase = _erasure(features, data, config)
    x_val = features[validation]
    if erase is not None:
        x_train, x_val = x_train @ erase, x_val @ erase
    embedding = keras.Input((features.shape[1],), name="embedding")
    head = model.get_layer("period_head")
    head_only = keras.Model(embedding, head(embedding), name="head_only")
    head_only.compile(optimizer=keras.optimizers.SGD(config.learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=_accuracy())
    t0 = time.perf_counter()
    history = _fit_steps(head_only, x_train, y_train, x_val, data.labels[validation], config,
                         lambda x: predict_in_batches(head_only, x, batch_size=4096))
    timings["head_s"] = round(time.perf_counter() - t0, 2)
    if erase is not None:  # fold the projection into the head: (x P) K = x (P K)
        kernel, bias = head.get_weights()
        head.set_weights([erase @ kernel, bias])
    return head_only, features, history, timings


def _train_network(model, data: TrainingData, config: TrainConfig) -> pd.DataFrame:
    """Finetune the top of the network (``finetune``) or all of it (``scratch``)."""
    from cclib.model import keras, predict_in_batches

    first = FINETUNE_FROM_BLOCK if config.mode == "finetune" else 0
    for layer in model.get_layer("base").layers:
        block = int(layer.name.split("_")[1]) if layer.name.startswith("features_") else 99
        layer.trainable = block >= first
    rate = config.learning_rate * (0.1 if config.mode == "finetune" else 1.0)
    model.compile(optimizer=keras.optimizers.SGD(rate, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=_accuracy())
    model.optimizer.build(model.trainable_variables)  # its momenta, for the reason in _accuracy
    train, validation = data.parts["train"], data.parts["validation"]
    return _fit_steps(model, data.slices[train].astype(np.float32), data.labels[train],
                      data.slices[validation].astype(np.float32), data.labels[validation], config,
                      lambda x: predict_in_batches(model, x))


def _fit_model(data: TrainingData, config: TrainConfig, cache_root):
    """Build and train the period model; return it with every row's embedding and probabilities."""
    from cclib.model import build_period_model, embedding_model, predict_in_batches

    set_seeds(config.seed)
    model = build_period_model(len(data.classes), n_bins=data.slices.shape[1],
                               frames=data.slices.shape[2], input_size=config.input_size,
                               weights="none" if config.mode == "scratch" else config.weights,
                               low_db=config.low_db, high_db=config.high_db,
                               augment=config.mode != "retrain", seed=config.seed,
                               normalize=config.normalize)
    history, timings = pd.DataFrame(), {}
    if config.mode in ("retrain", "finetune"):
        cache = open_bottleneck_cache(model, config, data.front_end, cache_root)
        head_only, features, history, timings = _train_head(model, data, config, cache)
    if config.mode == "retrain":  # the frozen base's output is cached: only the head to run
        return model, features, predict_in_batches(head_only, features, batch_size=4096), \
            history, timings
    t0 = time.perf_counter()
    tuned = _train_network(model, data, config)
    timings["network_s"] = round(time.perf_counter() - t0, 2)
    history = tuned if config.mode == "scratch" else pd.concat(
        [history, tuned.assign(step=tuned.step + config.steps)], ignore_index=True)
    features, probabilities = predict_in_batches(embedding_model(model),
                                                 data.slices.astype(np.float32))
    return model, features, probabilities, history, timings


def _limits(data: TrainingData, features: np.ndarray, probabilities: np.ndarray):
    """Temperature (from validation), the domain model and what they measure on test."""
    train, validation, test = (data.parts[name] for name in ("train", "validation", "test"))
    if not validation.any():  # no validation split asked for: the training slices stand in
        validation = train
    temperature = fit_temperature(probabilities[validation], data.labels[validation])
    calibrated = apply_temperature(probabilities, temperature)
    domain = fit_domain(features[train], data.labels[train], len(data.classes))
    set_threshold(domain, features[validation], data.rows["piece"][validation])
    scores = pd.Series(domain.slice_scores(features[test])).groupby(
        data.rows["piece"][test].to_numpy()).mean()
    report = {
        "temperature": temperature,
        "test_ece_before": expected_calibration_error(probabilities[test], data.labels[test]),
        "test_ece_after": expected_calibration_error(calibrated[test], data.labels[test]),
        "out_of_domain_threshold": domain.threshold,
        "test_pieces_over_threshold": round(float((scores > domain.threshold).mean()), 4)
        if len(scores) else 0.0,
    }
    return calibrated, domain, report


def _score_splits(data: TrainingData, probabilities: np.ndarray, config: TrainConfig) -> dict:
    """MobileNet and the reference classifier on the test and validation splits."""
    reference_features = summary_features(data.slices, band_hz=band_frequencies(data.front_end))
    train = data.parts["train"]
    reference = fit_reference(reference_features[train], data.labels[train], seed=config.seed,
                              balance=config.balance)
    reference_probs = reference.predict_proba(reference_features)
    metrics = {}
    for split in ("test", "validation"):
        mask = data.parts[split]
        if not mask.any():
            continue
        common = dict(classes=data.classes, y_train=data.labels[train])
        pieces = data.rows["piece"][mask]
        metrics[split] = {
            "mobilenet": evaluate(probabilities[mask], data.labels[mask], pieces, **common),
            "reference": evaluate(reference_probs[mask], data.labels[mask], pieces, **common)}
    return metrics


def save_model(out: Path, model, *, data: TrainingData, config: TrainConfig, dataset_dir,
               domain: DomainModel, limits: dict, history: pd.DataFrame, metrics: dict) -> None:
    """Write a model folder: ``model.keras``, ``model.tflite`` (see
    :func:`cclib.model.export_litert`), ``config.json``, ``domain.npz``,
    ``history.csv``, ``metrics.json``."""
    from cclib.model import LITERT_FILE, export_litert, keras

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "model.keras") as tmp:
        model.save(tmp.with_suffix(".keras"))
        tmp.with_suffix(".keras").rename(tmp)
    check = data.slices[data.parts["validation"] | data.parts["test"]][:32]
    litert = export_litert(model, out, check) if config.export else None
    if litert is None:
        (out / LITERT_FILE).unlink(missing_ok=True)  # an export of an earlier model is stale
    domain.save(out / "domain.npz")
    write_json(out / "config.json", {
        "classes": data.classes, "front_end": data.front_end.to_dict(), "train": asdict(config),
        "dataset": str(Path(dataset_dir).resolve()), "keras_version": keras.__version__,
        "temperature": limits["temperature"],
        "out_of_domain_threshold": limits["out_of_domain_threshold"],
        "trained_on": trained_on(data), "litert": litert})
    write_csv(out / "history.csv", ["step", "train_accuracy", "validation_accuracy",
                                    "cross_entropy"], history.to_dict("records"))
    write_json(out / "metrics.json", metrics)


def trained_on(data: TrainingData) -> dict:
    """What the training split holds: slices, pieces and composers per period, ensembles,
    soundfonts. The model folder keeps it, so a verdict can say what the model knows."""
    train = data.rows[data.parts["train"]]
    described = {"slices": int(len(train)), "pieces": int(train["piece"].nunique()),
                 "composers": int(train["composer"].nunique()),
                 "periods": {p: {"slices": int(len(g)), "pieces": int(g["piece"].nunique()),
                                 "composers": int(g["composer"].nunique())}
                             for p, g in train.groupby("period")}}
    for column in ("ensemble", "soundfont"):
        if column in train.columns:
            described[f"{column}s"] = {str(k): int(v) for k, v in
                                       train[column].value_counts().items()}
    return described


def train_model(dataset_dir: str | Path, out: str | Path, config: TrainConfig = TrainConfig(), *,
                cache_root: str | Path | None = None, progress: bool | None = None,
                reuse: bool = False) -> dict:
    """Train a period classifier on a dataset folder and write it to ``out``.

    Writes ``model.keras``, ``config.json`` (periods, front end, recipe,
    temperature, out-of-domain threshold, what it was trained on),
    ``domain.npz`` (the training embeddings' means and precision),
    ``history.csv`` (accuracy every ``log_every`` steps) and ``metrics.json``
    (MobileNet and the reference classifier, on the test and validation
    splits, slice and piece level, with chance, the majority baseline and
    the calibration report).

    With ``reuse``, a model already in ``out`` trained with ``config`` on
    ``dataset_dir`` is kept and its metrics returned; one trained otherwise
    is refused (:class:`~cclib.errors.CclibError`, naming each setting that
    differs), never used in its place.

    Returns
    -------
    metrics : dict
    """
    if reuse and (Path(out) / "metrics.json").exists():
        return _trained_before(dataset_dir, Path(out), config)
    started = time.perf_counter()
    data = load_dataset(dataset_dir)
    model, features, raw, history, timings = _fit_model(data, config, cache_root)
    probabilities, domain, limits = _limits(data, features, raw)
    metrics = {"protocol": data.summary["parameters"], "classes": data.classes,
               "recipe": asdict(config), **_score_splits(data, probabilities, config),
               "calibration": limits}
    metrics["timings"] = {**timings, "total_s": round(time.perf_counter() - started, 2)}
    save_model(Path(out), model, data=data, config=config, dataset_dir=dataset_dir,
               domain=domain, limits=limits, history=history, metrics=metrics)
    return metrics
