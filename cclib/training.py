"""Retraining MobileNetV2 on a sampled dataset, as the study's recipe did, and evaluating it.

Loads TensorFlow (through :mod:`cclib.model`); ``import cclib`` alone does not.

The study's recipe (TensorFlow for Poets, ``--mode retrain``): the ImageNet
network stays frozen, every slice's 1280-number bottleneck is computed once
and cached, and a softmax layer is trained on them for 6,000 steps of 100
examples at learning rate 0.01, with training and validation accuracy
recorded every 100 steps. ``--mode finetune`` then also trains the top of the
network, ``--mode scratch`` trains all of it from random weights; both with
augmentation.

Notebook: notebooks/04_retrain_mobilenet.ipynb
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cclib.evaluation import evaluate, fit_reference, summary_features
from cclib.fileio import atomic_path, remove_stale_temporaries, write_csv, write_json
from cclib.sampling import read_dataset
from cclib.store import load_slices
from cclib.spectrogram import FrontEnd, band_frequencies

MODES = ("retrain", "finetune", "scratch")
#: The first feature block trained by --mode finetune (of 0..18): the top third of the network.
FINETUNE_FROM_BLOCK = 14


@dataclass
class TrainConfig:
    """The knobs of one training run; saved in ``config.json``."""

    weights: str = "imagenet"
    mode: str = "retrain"
    steps: int = 6000
    batch_size: int = 100
    learning_rate: float = 0.01
    input_size: int = 128
    seed: int = 0
    log_every: int = 100
    #: dB range mapped to the image's [0, 1]: slices of a loudness-normalised piece
    #: lie within it (1st to 99.9th percentile of the default corpus: -53 to +24 dB).
    #: Fixed, not fitted per dataset, so every trial shares one bottleneck cache.
    low_db: float = -60.0
    high_db: float = 30.0


def set_seeds(seed: int) -> None:
    """Seed Python, numpy and TensorFlow, and make TensorFlow's CPU ops deterministic."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def load_dataset(dataset_dir: str | Path):
    """A dataset folder's rows, summary, store front end and slices.

    Returns
    -------
    rows : pandas.DataFrame
    summary : dict
        The dataset's ``summary.json`` (classes, parameters, store, ...).
    front_end : FrontEnd
    slices : np.ndarray [shape=(n, n_bins, frames), dtype=float16]
    """
    dataset_dir = Path(dataset_dir)
    summary = json.loads((dataset_dir / "summary.json").read_text(encoding="utf-8"))
    store = Path(summary["store"])
    front_end = FrontEnd.from_dict(json.loads((store / "params.json").read_text())["front_end"])
    rows = read_dataset(dataset_dir)  # absolute paths into the store
    return rows, summary, front_end, load_slices(store, rows)


def bottleneck_cache_key(config: TrainConfig, front_end: FrontEnd) -> str:
    """Name of the cache of embeddings made with these weights, input size and front end."""
    from cclib.model import imagenet_weights, sha256_of

    weights_id = (sha256_of(imagenet_weights()) if config.weights == "imagenet"
                  else str(config.weights))
    text = json.dumps([weights_id, config.input_size, front_end.to_dict(), config.low_db,
                       config.high_db], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def bottleneck_cache_dir(cache_root: str | Path, config: TrainConfig, front_end: FrontEnd,
                         store: str | Path) -> Path:
    """``<cache_root>/<key>/<store name>-<hash of its path>``: one cache per network and store.

    Two stores may hold pieces of the same name (the corpus rendered for
    piano and for strings, or your own ``Bach_1.wav``), so the store is part
    of the cache's name.
    """
    store = Path(store).resolve()
    tag = hashlib.sha256(str(store).encode()).hexdigest()[:8]
    return Path(cache_root) / bottleneck_cache_key(config, front_end) / f"{store.name}-{tag}"


def compute_bottlenecks(rows: pd.DataFrame, bottleneck, cache_dir: Path) -> np.ndarray:
    """Embeddings of ``rows``' slices, computed once per store array and cached.

    Each store array (one piece) gets ``<cache_dir>/<piece>.npy`` holding the
    embedding of every one of its slices, written atomically, so a killed
    run leaves no corrupt cache and the next run (any trial, any split)
    reuses it.
    """
    from cclib.model import predict_in_batches

    cache_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(cache_dir)
    embeddings = {}
    for path in rows["path"].unique():
        cached = cache_dir / f"{Path(path).stem}.npy"
        if not cached.exists():
            values = predict_in_batches(bottleneck, np.load(path).astype(np.float32))
            with atomic_path(cached) as tmp:
                with open(tmp, "wb") as handle:
                    np.save(handle, values.astype(np.float32))
        embeddings[path] = np.load(cached)
    return np.stack([embeddings[p][r] for p, r in zip(rows["path"], rows["row"])])


def _fit_steps(model, x_train, y_train, x_val, y_val, config: TrainConfig, predict) -> pd.DataFrame:
    """Train ``model`` for ``config.steps`` batches drawn at random; log every ``log_every``."""
    rng = np.random.default_rng([config.seed, 3])
    history = []
    batch = min(config.batch_size, len(x_train))
    for step in range(1, config.steps + 1):
        index = np.sort(rng.choice(len(x_train), size=batch, replace=False))
        loss, accuracy = model.train_on_batch(x_train[index], y_train[index])
        if step % config.log_every == 0 or step == config.steps:
            validation = (float((predict(x_val).argmax(axis=1) == y_val).mean())
                          if len(y_val) else float("nan"))
            history.append({"step": step, "train_accuracy": round(float(accuracy), 6),
                            "validation_accuracy": round(validation, 6),
                            "cross_entropy": round(float(loss), 6)})
    return pd.DataFrame(history)


def train_model(dataset_dir: str | Path, out: str | Path, config: TrainConfig = TrainConfig(), *,
                cache_root: str | Path | None = None, progress: bool | None = None) -> dict:
    """Train a period classifier on a dataset folder and write it to ``out``.

    Writes ``model.keras``, ``config.json`` (periods, front end, weights,
    seed, ...), ``history.csv`` (accuracy every ``log_every`` steps) and
    ``metrics.json`` (MobileNet and the reference classifier, on the test
    and validation splits, slice and piece level, with chance and the
    majority baseline).

    Returns
    -------
    metrics : dict
    """
    import keras

    from cclib import paths
    from cclib.model import bottleneck_model, build_period_model, predict_in_batches

    if config.mode not in MODES:
        raise ValueError(f"mode {config.mode!r}: choose one of {', '.join(MODES)}")
    started = time.perf_counter()
    out = Path(out)
    rows, dataset_summary, front_end, slices = load_dataset(dataset_dir)
    classes = dataset_summary["classes"]
    labels = rows["period"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    parts = {name: (rows["split"] == name).to_numpy() for name in ("train", "test", "validation")}

    set_seeds(config.seed)
    weights = "none" if config.mode == "scratch" else config.weights
    model = build_period_model(len(classes), n_bins=slices.shape[1], frames=slices.shape[2],
                               input_size=config.input_size, weights=weights,
                               low_db=config.low_db, high_db=config.high_db,
                               augment=config.mode != "retrain", seed=config.seed)
    head = model.get_layer("period_head")
    timings = {}
    if config.mode in ("retrain", "finetune"):
        cache = bottleneck_cache_dir(cache_root or paths.models_dir() / "bottlenecks", config,
                                     front_end, dataset_summary["store"])
        t0 = time.perf_counter()
        features = compute_bottlenecks(rows, bottleneck_model(model), cache)
        timings["bottlenecks_s"] = round(time.perf_counter() - t0, 2)
        embedding = keras.Input((features.shape[1],), name="embedding")
        head_only = keras.Model(embedding, head(embedding), name="head_only")
        head_only.compile(optimizer=keras.optimizers.SGD(config.learning_rate),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        t0 = time.perf_counter()
        history = _fit_steps(head_only, features[parts["train"]], labels[parts["train"]],
                             features[parts["validation"]], labels[parts["validation"]], config,
                             lambda x: predict_in_batches(head_only, x, batch_size=4096))
        timings["head_s"] = round(time.perf_counter() - t0, 2)
    if config.mode in ("finetune", "scratch"):
        base = model.get_layer("base")
        first = FINETUNE_FROM_BLOCK if config.mode == "finetune" else 0
        for layer in base.layers:
            block = int(layer.name.split("_")[1]) if layer.name.startswith("features_") else 99
            layer.trainable = block >= first
        model.compile(optimizer=keras.optimizers.SGD(config.learning_rate * (
            0.1 if config.mode == "finetune" else 1.0), momentum=0.9),
            loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        t0 = time.perf_counter()
        tuned = _fit_steps(model, slices[parts["train"]].astype(np.float32), labels[parts["train"]],
                           slices[parts["validation"]].astype(np.float32),
                           labels[parts["validation"]], config,
                           lambda x: predict_in_batches(model, x))
        timings["network_s"] = round(time.perf_counter() - t0, 2)
        history = tuned if config.mode == "scratch" else pd.concat(
            [history, tuned.assign(step=tuned.step + config.steps)], ignore_index=True)

    if config.mode == "retrain":  # the frozen base's output is cached: only the head to run
        probabilities = predict_in_batches(head_only, features, batch_size=4096)
    else:
        probabilities = predict_in_batches(model, slices.astype(np.float32))
    reference_features = summary_features(slices, band_hz=band_frequencies(front_end))
    reference = fit_reference(reference_features[parts["train"]], labels[parts["train"]],
                              seed=config.seed)
    reference_probs = reference.predict_proba(reference_features)
    metrics = {"protocol": dataset_summary["parameters"], "classes": classes}
    for split in ("test", "validation"):
        mask = parts[split]
        if not mask.any():
            continue
        common = dict(classes=classes, y_train=labels[parts["train"]])
        metrics[split] = {
            "mobilenet": evaluate(probabilities[mask], labels[mask], rows["piece"][mask], **common),
            "reference": evaluate(reference_probs[mask], labels[mask], rows["piece"][mask],
                                  **common)}
    metrics["timings"] = {**timings, "total_s": round(time.perf_counter() - started, 2)}

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "model.keras") as tmp:
        model.save(tmp.with_suffix(".keras"))
        tmp.with_suffix(".keras").rename(tmp)
    write_json(out / "config.json", {"classes": classes, "front_end": front_end.to_dict(),
                                     "train": asdict(config), "dataset": str(Path(dataset_dir).resolve()),
                                     "keras_version": keras.__version__})
    write_csv(out / "history.csv", ["step", "train_accuracy", "validation_accuracy",
                                    "cross_entropy"], history.to_dict("records"))
    write_json(out / "metrics.json", metrics)
    return metrics
