"""Verdicts that know their limits: calibrated probabilities and an out-of-domain score.

Two questions a listener should ask of a verdict, answered with numbers:

*How sure?* A softmax layer trained to its loss is usually over-confident.
Temperature scaling (Guo et al., *On Calibration of Modern Neural
Networks*, ICML 2017) divides the log-probabilities by one number T,
fitted on the validation split, so that "70 %" is right about 70 % of the
time; the expected calibration error (ECE, 15 equal-width bins) measures
how far that holds on test slices.

*Is this music like what the model learnt from?* A recording unlike the
rendered scores of training gets a confident verdict all the same. The
out-of-domain score of a piece is the mean, over its slices, of the
Mahalanobis distance of each slice's embedding to the nearest period's
training mean, under the training embeddings' shared covariance (Lee et al.,
*A Simple Unified Framework for Detecting Out-of-Distribution Samples*,
NeurIPS 2018; Ledoit-Wolf shrinkage keeps the 1280 × 1280 covariance
invertible). Its threshold is the 95th percentile of the validation
pieces' scores: pieces the model never saw, from the music it learnt.

Pure numpy, scipy and scikit-learn: no TensorFlow here.

Notebook: notebooks/08_does_it_hear_the_period.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Bins of the expected calibration error.
ECE_BINS = 15
#: Share of in-domain validation pieces below the out-of-domain threshold.
OOD_QUANTILE = 0.95


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities softened (T > 1) or sharpened (T < 1) by a temperature.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(n, n_classes)]
    temperature : float > 0

    Returns
    -------
    calibrated : np.ndarray [shape=(n, n_classes)]
        Rows sum to 1; the best class of each row is unchanged.

    Examples
    --------
    >>> [round(float(p), 3) for p in apply_temperature(np.array([[0.8, 0.2]]), 2.0)[0]]
    [0.667, 0.333]
    """
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0))
    scaled = logits / float(temperature)
    scaled -= scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


def fit_temperature(probabilities: np.ndarray, y_true) -> float:
    """The temperature that minimises the negative log-likelihood of ``y_true``.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(n, n_classes)]
        Uncalibrated probabilities of validation slices.
    y_true : array of int [shape=(n,)]

    Returns
    -------
    temperature : float in [0.25, 20]
        1.0 when there is nothing to fit on. The lower bound keeps a validation
        split the model gets all right from making it infinitely sure.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 2000)
    >>> confident = np.where(rng.random(2000) < 0.7, y, 1 - y)  # right 70 % of the time
    >>> p = np.eye(2)[confident] * 0.98 + 0.01                  # ... but says 99 %
    >>> fit_temperature(p, y) > 3
    True
    """
    from scipy.optimize import minimize_scalar

    y_true = np.asarray(y_true, dtype=int)
    if len(y_true) == 0:
        return 1.0
    logits = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0))

    def loss(log_t):
        scaled = logits / np.exp(log_t)
        scaled -= scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(scaled).sum(axis=1))
        return float(np.mean(log_norm - scaled[np.arange(len(y_true)), y_true]))

    found = minimize_scalar(loss, bounds=(np.log(0.25), np.log(20.0)), method="bounded")
    return round(float(np.exp(found.x)), 6)


def expected_calibration_error(probabilities: np.ndarray, y_true, *, bins: int = ECE_BINS) -> float:
    """Mean gap between confidence and accuracy, over equal-width confidence bins.

    Parameters
    ----------
    probabilities : np.ndarray [shape=(n, n_classes)]
    y_true : array of int [shape=(n,)]
    bins : int > 0

    Returns
    -------
    ece : float in [0, 1]
        0 for a perfectly calibrated model.

    Examples
    --------
    >>> expected_calibration_error(np.array([[0.9, 0.1], [0.9, 0.1]]), [0, 1])
    0.4
    """
    probabilities = np.asarray(probabilities)
    y_true = np.asarray(y_true)
    if len(y_true) == 0:
        return 0.0
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    ece = 0.0
    for b in np.unique(which):
        members = which == b
        ece += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return round(float(ece), 6)


@dataclass
class DomainModel:
    """What the model's training embeddings look like, to score how unlike them new music is.

    Attributes
    ----------
    means : np.ndarray [shape=(n_classes, dim)]
        Each period's mean training embedding.
    precision : np.ndarray [shape=(dim, dim)]
        Inverse of the shared, shrunk covariance.
    threshold : float
        Piece scores above it are unlike the training music (95 % of
        validation pieces score below).
    """

    means: np.ndarray
    precision: np.ndarray
    threshold: float = float("inf")

    def slice_scores(self, embeddings: np.ndarray) -> np.ndarray:
        """Distance of each embedding to the nearest period mean [shape=(n,)].

        Scaled by the square root of the dimension, so a training slice
        scores about 1.
        """
        E = np.asarray(embeddings, dtype=np.float64)
        # (e - m) P (e - m) = e P e - 2 e P m + m P m, with one matrix product for all
        EP = E @ self.precision
        quadratic = np.einsum("ij,ij->i", EP, E)
        cross = EP @ self.means.T  # [n, n_classes]
        offsets = np.einsum("ij,jk,ik->i", self.means, self.precision, self.means)
        distances = quadratic[:, None] - 2 * cross + offsets[None, :]
        return np.sqrt(np.maximum(distances.min(axis=1), 0.0) / self.means.shape[1])

    def piece_score(self, embeddings: np.ndarray) -> float:
        """A piece's out-of-domain score: the mean of its slices' scores."""
        return round(float(self.slice_scores(embeddings).mean()), 4)

    def save(self, path: str | Path) -> None:
        """Write ``domain.npz`` (plain arrays, read back without pickle)."""
        from cclib.fileio import atomic_path

        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, means=self.means.astype(np.float32),
                         precision=self.precision.astype(np.float32),
                         threshold=np.float64(self.threshold))

    @classmethod
    def load(cls, path: str | Path) -> "DomainModel":
        with np.load(path, allow_pickle=False) as data:
            return cls(data["means"].astype(np.float64), data["precision"].astype(np.float64),
                       float(data["threshold"]))


def fit_domain(embeddings: np.ndarray, labels, n_classes: int, *, max_rows: int = 4000,
               seed: int = 0) -> DomainModel:
    """Period means and the shared shrunk precision of training embeddings.

    Parameters
    ----------
    embeddings : np.ndarray [shape=(n, dim)]
    labels : array of int [shape=(n,)]
    n_classes : int
    max_rows : int
        The covariance is estimated on at most this many rows (a seeded
        draw): plenty for a shrunk estimate, and a few seconds, not tens.
    seed : int

    Returns
    -------
    domain : DomainModel
        Without a threshold yet (see :func:`set_threshold`).
    """
    from sklearn.covariance import LedoitWolf

    E = np.asarray(embeddings, dtype=np.float64)
    labels = np.asarray(labels)
    means = np.stack([E[labels == k].mean(axis=0) if (labels == k).any() else E.mean(axis=0)
                      for k in range(n_classes)])
    centred = E - means[labels]
    if len(centred) > max_rows:
        centred = centred[np.random.default_rng(seed).choice(len(centred), max_rows, replace=False)]
    covariance = LedoitWolf(assume_centered=True).fit(centred).covariance_
    return DomainModel(means, np.linalg.inv(covariance))


def set_threshold(domain: DomainModel, embeddings: np.ndarray, pieces) -> DomainModel:
    """Set the threshold to the 95th percentile of the pieces' scores (validation pieces)."""
    scores = pd.Series(domain.slice_scores(embeddings)).groupby(np.asarray(pieces)).mean()
    if len(scores):
        domain.threshold = round(float(np.quantile(scores, OOD_QUANTILE)), 4)
    return domain
