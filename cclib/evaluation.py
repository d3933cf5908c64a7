"""Scores for a period classifier, the cheap reference it must beat, and ``cclib evaluate``.

Pure numpy and scikit-learn: no TensorFlow here (:func:`evaluate_folder`
takes a model already loaded).

Notebooks: notebooks/04_retrain_mobilenet.ipynb, notebooks/08_does_it_hear_the_period.ipynb
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts [true class, predicted class] (scikit-learn's, over all ``n_classes``).

    Returns
    -------
    matrix : np.ndarray [shape=(n_classes, n_classes), dtype=int]

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2).tolist()
    [[1, 0], [1, 1]]
    """
    from sklearn import metrics

    return metrics.confusion_matrix(y_true, y_pred, labels=np.arange(n_classes)).astype(int)


def row_shares(matrix) -> np.ndarray:
    """Each row of a count matrix as shares of its sum (empty rows stay zero).

    Returns
    -------
    shares : np.ndarray [shape=matrix.shape]

    Examples
    --------
    >>> row_shares([[3, 1], [0, 0]]).tolist()
    [[0.75, 0.25], [0.0, 0.0]]
    """
    matrix = np.asarray(matrix, dtype=float)
    return matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1e-12)


def scores(y_true, y_pred, n_classes: int) -> dict:
    """Accuracy, balanced accuracy and macro-F1 over the classes present in ``y_true``.

    scikit-learn computes them; a class that is predicted but never true
    counts against precision, never as a class of its own.

    Examples
    --------
    >>> scores([0, 0, 0, 1], [0, 0, 0, 0], 2)["balanced_accuracy"]
    0.5
    """
    from sklearn import metrics

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) == 0:
        return {"accuracy": 0.0, "balanced_accuracy": 0.0, "macro_f1": 0.0}
    present = np.unique(y_true)
    recall = metrics.recall_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    f1 = metrics.f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
    return {"accuracy": round(float(metrics.accuracy_score(y_true, y_pred)), 6),
            "balanced_accuracy": round(float(recall.mean()), 6),
            "macro_f1": round(float(f1), 6)}


def mean_profiles(probabilities: np.ndarray, y_true, n_classes: int) -> np.ndarray:
    """The mean probabilities given to the slices of each true class (zeros where none).

    Returns
    -------
    profiles : np.ndarray [shape=(n_classes, n_classes)]
        Row ``i``: the mean probabilities of the slices of class ``i``.

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


def fit_reference(features: np.ndarray, labels, *, seed: int = 0, balance: bool = False):
    """Logistic regression on standardised summary features (the reference classifier).

    ``balance`` weighs every period equally, as balanced batches do for MobileNet.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import warnings

    from sklearn.exceptions import ConvergenceWarning

    model = make_pipeline(StandardScaler(), LogisticRegression(
        max_iter=500, random_state=seed, class_weight="balanced" if balance else None))
    with warnings.catch_warnings():  # 500 iterations are close enough for a reference
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(np.asarray(features, dtype=np.float32), labels)


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


def bootstrap_interval(truth, predicted, n_classes: int, *, n_boot: int = 1000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """A bootstrap interval of the balanced accuracy of pieces, resampling pieces.

    Parameters
    ----------
    truth, predicted : array of int [shape=(n_pieces,)]
    n_classes : int
    n_boot : int
        Resamples.
    seed : int
    level : float
        Coverage (0.95: the 2.5th to 97.5th percentiles).

    Returns
    -------
    low, high : float

    Examples
    --------
    >>> low, high = bootstrap_interval([0, 0, 1, 1], [0, 0, 1, 0], 2)
    >>> 0.0 <= low <= 0.75 <= high <= 1.0
    True
    """
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    if len(truth) == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    values = [scores(truth[sample], predicted[sample], n_classes)["balanced_accuracy"]
              for sample in rng.integers(0, len(truth), size=(n_boot, len(truth)))]
    tail = (1 - level) / 2 * 100
    return (round(float(np.percentile(values, tail)), 4),
            round(float(np.percentile(values, 100 - tail)), 4))


def label_folder(audio_dir, labels_csv=None, *, periods_dir=None):
    """Every audio file below ``audio_dir`` with its composer and period, as ``cclib spectrograms`` reads them.

    Returns
    -------
    labelled : list of (path, composer, period)
    skipped : list of str
        One line per file without a usable label (the reason named).
    """
    from pathlib import Path

    from cclib.audio import find_audio_files
    from cclib.labels import find_label, read_labels
    from cclib.periods import load_periods

    audio_dir = Path(audio_dir)
    table = load_periods(periods_dir)
    labels = read_labels(labels_csv) if labels_csv else None
    labelled, unusable = [], []
    files = find_audio_files(audio_dir, unusable=unusable)
    skipped = [f"{path}: {reason}" for path, reason in unusable]
    for path in files:
        label = find_label(path, audio_dir, labels)
        composer, period = table.identify(label)
        if label is None:
            skipped.append(f"{path}: no composer (not Composer_N.ext, or not in the labels CSV)")
        elif period is None:
            skipped.append(f"{path}: unknown composer {label.composer!r} (in no periods/ list)")
        else:
            labelled.append((path, composer, period))
    return labelled, skipped


def evaluate_folder(period_model, audio_dir, labels_csv=None, *, periods_dir=None,
                    n_boot: int = 1000, seed: int = 0, progress: bool | None = None) -> dict:
    """Classify every labelled file of a folder and score the verdicts against the composers' periods.

    This is how a user checks a model against their own recordings before
    trusting it: the same slicing as training (silence rule included), the
    periods the model knows scored at slice and piece level, with a
    bootstrap interval over pieces, the majority baseline and chance, and
    every piece of a period the model does not know listed with what it was
    heard as.

    Parameters
    ----------
    period_model : cclib.classify.PeriodModel
    audio_dir : path
    labels_csv : path, optional
        ``file,composer[,period]`` rows for files not named ``Composer_N``.
    n_boot : int
        Bootstrap resamples of the pieces.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    report : dict
        ``pieces`` (one dict per file), ``skipped`` (lines), ``classes``,
        ``slice`` and ``piece`` scores, ``piece_balanced_accuracy_95``,
        ``counts`` per period, ``confusion_matrix`` (slices) and
        ``piece_confusion_matrix``, ``majority_baseline``, ``chance``,
        ``unknown_periods`` and ``out_of_domain``.
    """
    from tqdm.auto import tqdm

    from cclib.classify import classify_path
    from cclib.errors import CclibError

    labelled, skipped = label_folder(audio_dir, labels_csv, periods_dir=periods_dir)
    classes = list(period_model.classes)
    pieces, slice_truth, slice_predicted = [], [], []
    for path, composer, period in tqdm(labelled, unit="file", desc="evaluate", file=sys.stderr,
                                       disable=not progress if progress is not None else None):
        try:
            result = classify_path(period_model, str(path))
        except CclibError as error:
            skipped.append(str(error))
            continue
        best = int(np.argmax(result["probabilities"]))
        pieces.append({"file": str(path), "composer": composer, "period": period,
                       "known": period in classes, "heard_as": classes[best],
                       "score": round(float(result["probabilities"][best]), 5),
                       "n_slices": int(result["n_slices"]),
                       "probabilities": [round(float(p), 5) for p in result["probabilities"]],
                       "out_of_domain": result["out_of_domain"]})
        if period in classes:
            slice_truth += [classes.index(period)] * result["n_slices"]
            slice_predicted += result["slice_probabilities"].argmax(axis=1).tolist()
    report = score_pieces(pieces, classes, slice_truth, slice_predicted, n_boot=n_boot, seed=seed)
    threshold = period_model.domain.threshold if period_model.domain else None
    ood = [p["out_of_domain"] for p in pieces if p["out_of_domain"] is not None]
    report.update(skipped=skipped, out_of_domain={
        "threshold": threshold, "mean": round(float(np.mean(ood)), 4) if ood else None,
        "pieces_over_threshold": int(sum(s > threshold for s in ood)) if ood else 0})
    return report


def score_pieces(pieces: list, classes, slice_truth, slice_predicted, *, n_boot: int = 1000,
                 seed: int = 0) -> dict:
    """The scores of :func:`evaluate_folder` from its per-piece verdicts (the periods the model knows)."""
    n = len(classes)
    known = [p for p in pieces if p["known"]]
    truth = np.array([classes.index(p["period"]) for p in known], dtype=int)
    predicted = np.array([classes.index(p["heard_as"]) for p in known], dtype=int)
    present = sorted(set(truth.tolist()))
    majority = int(np.bincount(truth, minlength=n).argmax()) if len(truth) else 0
    counts = {classes[k]: {"pieces": int((truth == k).sum()),
                           "slices": int((np.asarray(slice_truth) == k).sum())} for k in present}
    return {
        "classes": classes, "pieces": pieces,
        "n_pieces": len(known), "n_slices": len(slice_truth),
        "slice": scores(slice_truth, slice_predicted, n) if slice_truth else None,
        "piece": scores(truth, predicted, n) if len(truth) else None,
        "piece_balanced_accuracy_95": bootstrap_interval(truth, predicted, n, n_boot=n_boot,
                                                         seed=seed),
        "majority_baseline": {"period": classes[majority] if len(truth) else None,
                              **scores(truth, np.full(len(truth), majority), n)}
        if len(truth) else None,
        "chance": round(1.0 / len(present), 6) if present else None,
        "counts": counts,
        "confusion_matrix": confusion_matrix(slice_truth, slice_predicted, n).tolist(),
        "piece_confusion_matrix": confusion_matrix(truth, predicted, n).tolist(),
        "unknown_periods": [{k: p[k] for k in ("file", "period", "heard_as", "score")}
                            for p in pieces if not p["known"]],
    }


#: Words for the parts of a dotted metric key (``test.mobilenet.slice.balanced_accuracy``).
_METRIC_WORDS = {"slice": "slices", "piece": "pieces", "mobilenet": "", "reference":
                 " (reference classifier)", "majority_baseline": "one-period baseline, "}


def metric_label(key: str) -> str:
    """Words for a dotted metric key, for axes and table headings.

    Examples
    --------
    >>> metric_label("test.mobilenet.slice.balanced_accuracy")
    'balanced accuracy, test slices'
    >>> metric_label("test.reference.piece.accuracy")
    'accuracy, test pieces (reference classifier)'
    >>> metric_label("test.mobilenet.majority_baseline.accuracy")
    'one-period baseline, accuracy, test slices'
    """
    parts = key.split(".")
    if len(parts) != 4 or parts[1] not in _METRIC_WORDS or parts[2] not in _METRIC_WORDS:
        return key
    split, model, level, measure = parts
    prefix, unit = ("one-period baseline, ", "slices") if level == "majority_baseline" else (
        "", _METRIC_WORDS[level])
    return f"{prefix}{measure.replace('_', ' ')}, {split} {unit}{_METRIC_WORDS[model]}"


def evaluation_lines(report: dict) -> list[str]:
    """The text ``cclib evaluate`` prints: scores, counts, and the unknown periods' pieces."""
    lines = []
    if report["piece"] is None:
        lines.append("evaluate: no piece of a period the model knows")
    else:
        low, high = report["piece_balanced_accuracy_95"]
        majority = report["majority_baseline"]
        lines += [
            f"pieces: {report['n_pieces']} of periods the model knows "
            f"({report['n_slices']} slices)",
            f"piece accuracy {report['piece']['accuracy']:.3f}, balanced accuracy "
            f"{report['piece']['balanced_accuracy']:.3f} (95% interval {low:.3f}-{high:.3f}, "
            "bootstrap over pieces)",
            f"slice accuracy {report['slice']['accuracy']:.3f}, balanced accuracy "
            f"{report['slice']['balanced_accuracy']:.3f}",
            f"chance {report['chance']:.3f} (balanced); always {majority['period']}: accuracy "
            f"{majority['accuracy']:.3f}",
            "per period (pieces, slices): " + ", ".join(
                f"{period} {c['pieces']}, {c['slices']}" for period, c in report["counts"].items())]
    for piece in report["unknown_periods"]:
        lines.append(f"not a period the model knows: {piece['file']} ({piece['period']}) "
                     f"heard as {piece['heard_as']} ({piece['score']:.3f})")
    ood = report["out_of_domain"]
    if ood["threshold"] is not None and report["pieces"]:
        lines.append(f"out of domain: {ood['pieces_over_threshold']} of {len(report['pieces'])} "
                     f"pieces above the threshold {ood['threshold']:.2f} (mean score "
                     f"{ood['mean']:.2f})")
    return lines


def training_reading(metrics: dict, history, test_rows=None, *, gap: float = 0.15) -> list[str]:
    """What a reader should take from one training run, in sentences with its own numbers.

    Parameters
    ----------
    metrics : dict
        ``metrics.json`` of :func:`cclib.training.train_model`.
    history : pandas.DataFrame
        ``history.csv``: ``train_accuracy`` and ``validation_accuracy`` by step.
    test_rows : pandas.DataFrame, optional
        The test split's rows (``piece``, ``period``), to name the thinnest period.
    gap : float
        Training minus validation accuracy at the last step above which the
        run is called overfitted.

    Examples
    --------
    >>> import pandas as pd
    >>> metrics = {"test": {"mobilenet": {"n_slices": 104, "n_pieces": 13, "chance": 0.25,
    ...     "piece": {"balanced_accuracy": 0.6}, "slice": {"balanced_accuracy": 0.5}},
    ...     "reference": {"piece": {"balanced_accuracy": 0.4}}}}
    >>> history = pd.DataFrame({"step": [100], "train_accuracy": [0.97],
    ...                         "validation_accuracy": [0.6]})
    >>> rows = pd.DataFrame({"piece": ["a", "b", "c"], "period": ["baroque", "romantic", "romantic"]})
    >>> for line in training_reading(metrics, history, rows): print(line)
    Test: 104 slices from 13 pieces; baroque rests on 1 piece (1 slice).
    MobileNet names the period of 60% of whole test pieces (balanced over periods; 50% of single slices), the reference classifier 40%, chance 25%.
    At the last step the head is right on 97% of a training batch and 60% of validation slices: it fits its training music much better than music it has not heard (overfitting), so quote the test figure, never the training curve.
    """
    test = metrics["test"]["mobilenet"]
    reference = metrics["test"].get("reference", {}).get("piece", {}).get("balanced_accuracy")
    first = f"Test: {test['n_slices']} slices from {test['n_pieces']} pieces"
    if test_rows is not None and len(test_rows):
        pieces = test_rows.groupby("period")["piece"].nunique()
        thinnest, fewest = pieces.idxmin(), int(pieces.min())
        slices = int((test_rows["period"] == thinnest).sum())
        first += (f"; {thinnest} rests on {fewest} piece{'s' if fewest != 1 else ''} "
                  f"({slices} slice{'s' if slices != 1 else ''})")
    lines = [first + ".",
             f"MobileNet names the period of {100 * test['piece']['balanced_accuracy']:.0f}% of "
             f"whole test pieces (balanced over periods; "
             f"{100 * test['slice']['balanced_accuracy']:.0f}% of single slices)"
             + (f", the reference classifier {100 * reference:.0f}%" if reference is not None
                else "") + f", chance {100 * test['chance']:.0f}%."]
    last = history.iloc[-1]
    train, validation = float(last["train_accuracy"]), float(last["validation_accuracy"])
    if np.isnan(validation):
        lines.append("This split has no validation slices, so the training accuracy has "
                     "nothing to be compared with: quote the test figure.")
    elif train - validation > gap:
        lines.append(f"At the last step the head is right on {100 * train:.0f}% of a training "
                     f"batch and {100 * validation:.0f}% of validation slices: it fits its "
                     "training music much better than music it has not heard (overfitting), "
                     "so quote the test figure, never the training curve.")
    elif train - validation > gap / 3:
        lines.append(f"At the last step the head is right on {100 * train:.0f}% of a training "
                     f"batch and {100 * validation:.0f}% of validation slices: a moderate gap "
                     "(the batches are balanced over periods, the validation split is not).")
    else:
        points = round(100 * abs(train - validation))
        lines.append(f"Training and validation accuracy end {points} point"
                     f"{'s' if points != 1 else ''} apart: no sign that the head learnt its "
                     "training slices by heart.")
    return lines
