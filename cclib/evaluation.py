"""Scores for a period classifier, and the cheap reference it must beat.

Pure numpy and scikit-learn: no TensorFlow here.

Notebook: notebooks/04_retrain_mobilenet.ipynb
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts [true class, predicted class].

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2).tolist()
    [[1, 0], [1, 1]]
    """
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def scores(y_true, y_pred, n_classes: int) -> dict:
    """Accuracy, balanced accuracy (mean recall over present classes) and macro-F1.

    Examples
    --------
    >>> scores([0, 0, 0, 1], [0, 0, 0, 0], 2)["balanced_accuracy"]
    0.5
    """
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    hits = np.diag(matrix)
    present = support > 0
    recall = np.divide(hits, support, out=np.zeros(n_classes), where=present)
    precision = np.divide(hits, predicted, out=np.zeros(n_classes), where=predicted > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(n_classes),
                   where=(precision + recall) > 0)
    total = matrix.sum()
    return {"accuracy": round(float(hits.sum() / total), 6) if total else 0.0,
            "balanced_accuracy": round(float(recall[present].mean()), 6) if present.any() else 0.0,
            "macro_f1": round(float(f1[present].mean()), 6) if present.any() else 0.0}


def mean_profiles(probabilities: np.ndarray, y_true, n_classes: int) -> np.ndarray:
    """The mean probabilities given to the slices of each true class (zeros where none).

    Examples
    --------
    >>> mean_profiles(np.array([[0.8, 0.2], [0.6, 0.4]]), [0, 0], 2).round(6).tolist()
    [[0.7, 0.3], [0.0, 0.0]]
    """
    y_true = np.asarray(y_true)
    profiles = np.zeros((n_classes, probabilities.shape[1]))
    for k in range(n_classes):
        if (y_true == k).any():
            profiles[k] = probabilities[y_true == k].mean(axis=0)
    return profiles


def piece_predictions(probabilities: np.ndarray, pieces) -> pd.DataFrame:
    """A piece's verdict: the mean of its slices' probabilities.

    Returns
    -------
    table : pandas.DataFrame
        Index: piece; columns: the mean probability of each class.
    """
    return pd.DataFrame(probabilities).groupby(np.asarray(pieces)).mean()


def evaluate(probabilities: np.ndarray, y_true, pieces, *, classes, y_train) -> dict:
    """Everything ``metrics.json`` reports for one split.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(n, n_classes)]
    y_true : array of int [shape=(n,)]
    pieces : array of str [shape=(n,)]
        The piece of each slice, for piece-level accuracy.
    classes : list of str
    y_train : array of int
        Training labels, for the majority-class baseline.
    """
    n_classes = len(classes)
    y_true = np.asarray(y_true)
    y_pred = probabilities.argmax(axis=1)
    per_piece = piece_predictions(probabilities, pieces)
    piece_truth = pd.Series(y_true).groupby(np.asarray(pieces)).first().loc[per_piece.index]
    majority = int(np.bincount(np.asarray(y_train), minlength=n_classes).argmax())
    return {
        "slice": scores(y_true, y_pred, n_classes),
        "piece": scores(piece_truth.to_numpy(), per_piece.to_numpy().argmax(axis=1), n_classes),
        "majority_baseline": scores(y_true, np.full(len(y_true), majority), n_classes),
        "chance": round(1.0 / n_classes, 6),
        "confusion_matrix": confusion_matrix(y_true, y_pred, n_classes).tolist(),
        "mean_probabilities": mean_profiles(probabilities, y_true, n_classes).round(6).tolist(),
        "n_slices": int(len(y_true)),
        "n_pieces": int(len(per_piece)),
    }


def summary_features(slices: np.ndarray, *, band_hz: np.ndarray | None = None) -> np.ndarray:
    """Per-slice features for the reference classifier.

    Mean and standard deviation over time of every band, plus a 12-bin
    chroma folded from the bands between 55 Hz and 5 kHz (each band to the
    pitch class of its centre frequency).

    Parameters
    ----------
    slices : np.ndarray [shape=(n, n_bins, frames)]
        Log spectrogram slices (dB).
    band_hz : np.ndarray [shape=(n_bins,)], optional
        Centre frequency of each band; without it no chroma is added.

    Returns
    -------
    features : np.ndarray [shape=(n, 2 * n_bins (+ 12))]
    """
    slices = np.asarray(slices, dtype=np.float32)
    parts = [slices.mean(axis=2), slices.std(axis=2)]
    if band_hz is not None:
        usable = (band_hz >= 55) & (band_hz <= 5000)
        pitch_class = np.round(12 * np.log2(band_hz[usable] / 440.0)).astype(int) % 12
        band_means = parts[0][:, usable]
        chroma = np.stack([band_means[:, pitch_class == k].mean(axis=1) if (pitch_class == k).any()
                           else np.zeros(len(slices)) for k in range(12)], axis=1)
        parts.append(chroma - chroma.mean(axis=1, keepdims=True))
    return np.concatenate(parts, axis=1)


def fit_reference(features: np.ndarray, labels, *, seed: int = 0):
    """Logistic regression on standardised summary features (the reference classifier)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    return model.fit(features, labels)


def metrics_table(metrics: dict, split: str = "test") -> pd.DataFrame:
    """MobileNet next to the reference, slice and piece level, with chance and the majority baseline.

    Parameters
    ----------
    metrics : dict
        A model's ``metrics.json``.
    split : {"test", "validation"}

    Returns
    -------
    table : pandas.DataFrame
        Rows: model and level; columns: accuracy, balanced accuracy, macro-F1.
    """
    part = metrics[split]
    rows = {}
    for model in ("mobilenet", "reference"):
        for level in ("slice", "piece"):
            rows[(model, level)] = part[model][level]
    rows[("majority baseline", "slice")] = part["mobilenet"]["majority_baseline"]
    chance = part["mobilenet"]["chance"]
    rows[("chance", "slice")] = {"accuracy": chance, "balanced_accuracy": chance,
                                 "macro_f1": float("nan")}
    return pd.DataFrame(rows).T.rename_axis(["model", "level"])


def pick_examples(probabilities: np.ndarray, truth) -> tuple[int | None, int | None]:
    """The first slice classified right and the first classified wrong (None where there is none).

    Examples
    --------
    >>> pick_examples(np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]), [0, 0, 0])
    (0, 1)
    """
    correct = np.asarray(probabilities).argmax(axis=1) == np.asarray(truth)
    right, wrong = np.flatnonzero(correct), np.flatnonzero(~correct)
    return (int(right[0]) if len(right) else None, int(wrong[0]) if len(wrong) else None)
