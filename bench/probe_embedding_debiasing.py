"""Can the frozen embedding be stripped of texture? Two probes on the protocols' own splits.

For protocol runs that bench_generalization.py left (a ``dataset/`` and a
``model/`` per run), reads the 1280-number embeddings of their slices from the
bottleneck cache and fits a balanced logistic regression on the training
slices, three ways:

- ``plain``: the embedding, standardised;
- ``per-ensemble``: each training ensemble standardised by its own mean and
  spread, the test slices by theirs, pooled (test-time adaptation in the manner
  of AdaBN, Li et al. 2016: the held-out texture is one unlabelled domain);
- ``drop k``: the embedding with its first k principal components (of the
  training slices) projected out, for k = 3, 10, 30.

Prints piece-level balanced accuracy (%) over the test periods for each run.

Usage:
    python bench/probe_embedding_debiasing.py data/runs/gen-explore/within-0-project \\
        data/runs/gen-explore/texture-string_quartet-0-project ...
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from cclib.classify import load_period_model
from cclib.errors import CclibError
from cclib.fileio import read_json
from cclib.training import TrainConfig, load_dataset, open_bottleneck_cache


def piece_balanced(rows: pd.DataFrame, probabilities: np.ndarray, classes: list) -> float:
    """Balanced accuracy of the pieces' mean probabilities over the periods tested."""
    frame = pd.DataFrame(probabilities, columns=classes).assign(piece=rows["piece"].to_numpy())
    means = frame.groupby("piece")[classes].mean()
    truth = rows.drop_duplicates("piece").set_index("piece").loc[means.index, "period"].to_numpy()
    verdict = np.asarray(classes)[means.to_numpy().argmax(axis=1)]
    return float(np.mean([(verdict[truth == period] == period).mean() for period in set(truth)]))


def probe_score(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                test_rows: pd.DataFrame, classes: list, *, seed: int) -> float:
    """Piece-level balanced accuracy (%) of a balanced logistic regression fitted on
    ``x_train`` and scored on ``x_test``: the probe every variant is measured with."""
    with warnings.catch_warnings():  # 300 iterations are close enough for a probe
        warnings.simplefilter("ignore", ConvergenceWarning)
        head = LogisticRegression(max_iter=300, C=0.1, class_weight="balanced",
                                  random_state=seed).fit(x_train, y_train)
    probabilities = np.zeros((len(x_test), len(classes)))
    probabilities[:, head.classes_] = head.predict_proba(x_test)
    return round(100 * piece_balanced(test_rows, probabilities, classes), 1)


def standardised_by(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each group of rows standardised by its own mean and spread."""
    out = np.empty_like(x)
    for group in np.unique(groups):
        rows = groups == group
        out[rows] = (x[rows] - x[rows].mean(axis=0)) / (x[rows].std(axis=0) + 1e-6)
    return out


def without_components(x: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Rows of ``x`` with their projection on each (orthonormal) component removed."""
    return x - (x @ components.T) @ components


def run_embeddings(run: Path):
    """The run's dataset rows, training and test masks, labels, classes and embeddings."""
    train = read_json(run / "model" / "config.json")["train"]
    config = TrainConfig(**{key: tuple(v) if isinstance(v, list) else v for key, v in train.items()})
    data = load_dataset(run / "dataset")
    cache = open_bottleneck_cache(load_period_model(run / "model").model, config, data.front_end)
    rows = data.rows.reset_index(drop=True)
    return rows, data.parts["train"], data.parts["test"], data.labels, data.classes, \
        cache.embeddings(rows)


def probe(run: Path, *, seed: int = 0) -> dict:
    rows, train, test, labels, classes, x = run_embeddings(run)
    scaler = StandardScaler().fit(x[train])
    pca = PCA(n_components=30, random_state=seed).fit(scaler.transform(x[train]))
    variants = {"plain": (scaler.transform(x[train]), scaler.transform(x[test])),
                "per-ensemble": (standardised_by(x[train], rows["ensemble"].to_numpy()[train]),
                                 standardised_by(x[test], np.zeros(test.sum())))}
    for k in (3, 10, 30):
        variants[f"drop {k}"] = tuple(without_components(part, pca.components_[:k])
                                      for part in variants["plain"])
    return {name: probe_score(x_train, labels[train], x_test, rows[test], classes, seed=seed)
            for name, (x_train, x_test) in variants.items()}


def run_probes(probe, doc: str) -> None:
    """The probes' command: ``probe(run)`` for each run folder named, one row each, printed
    as a table; a folder that is not a run is one line naming it, as from the cclib command."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    try:
        table = pd.DataFrame({run.name: probe(run) for run in args.runs}).T
    except CclibError as error:
        raise SystemExit(f"{Path(parser.prog).stem}: {error}") from None
    print(table.to_string())


if __name__ == "__main__":
    run_probes(probe, __doc__)
