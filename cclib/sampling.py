"""Sampling datasets from the slice store: the study's two algorithms, three split protocols.

The study built its training data per composer, round-robin over their pieces,
and split it at random over slices, so slices of one piece could land in both
training and test. Here the same algorithms are reproduced and the split is a
choice: ``slice`` (the study's), ``piece`` (the default: a piece lies in one
split) or ``composer`` (training and test composers are disjoint).

Notebook: notebooks/03_sampling_experiments.ipynb
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from cclib.errors import CclibError
from cclib.fileio import atomic_path, check_settings, read_json
from cclib.labels import check_plain_name
from cclib.periods import sort_periods

METHODS = ("per-composer", "all")
SPLITS = ("slice", "piece", "composer")
SPLIT_NAMES = ("train", "test", "validation")
DEFAULT_FRACTIONS = (0.7, 0.1, 0.2)

# Independent random streams drawn from one seed, one per step.
_ORDER_STREAM, _SPLIT_STREAM, _PERIOD_STREAM = 1, 2, 3


class SamplingError(CclibError, ValueError):
    """A dataset that cannot be made as asked; the message says why, in one line."""


def parse_fractions(text: str) -> tuple[float, float, float]:
    """Read ``"0.7,0.1,0.2"`` (train, test, validation) and check it sums to 1.

    Examples
    --------
    >>> parse_fractions("0.8,0.1,0.1")
    (0.8, 0.1, 0.1)
    """
    try:
        fractions = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise SamplingError(f"--fractions: {text!r} is not three numbers like 0.7,0.1,0.2") from None
    check_fractions(fractions)
    return fractions


def check_fractions(fractions) -> None:
    """Raise SamplingError unless there are three non-negative fractions summing to 1,
    with some training and some test data."""
    if len(fractions) != 3 or any(not np.isfinite(f) or f < 0 for f in fractions):
        raise SamplingError(f"--fractions: {fractions} must be three non-negative numbers "
                            "(train, test, validation)")
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise SamplingError(f"--fractions: {fractions} sum to {sum(fractions):g}, not 1")
    if fractions[0] == 0 or fractions[1] == 0:
        raise SamplingError(f"--fractions: {fractions}: training and test need a share above 0")


def drop_single_piece_composers(manifest: pd.DataFrame, *, min_pieces: int = 2):
    """Remove composers with fewer than ``min_pieces`` pieces (the study's rule).

    Returns
    -------
    kept : pandas.DataFrame
    dropped : list of str
        The composers removed, sorted.
    """
    pieces = manifest.groupby("composer")["piece"].nunique()
    dropped = sorted(pieces.index[pieces < min_pieces])
    return manifest[~manifest["composer"].isin(dropped)], dropped


def round_robin_order(manifest: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """Order each composer's slices as the study's algorithm draws them.

    For each composer: shuffle the pieces and take one (random) slice from
    each; reshuffle and take one more from each piece that has slices left;
    and so on until none are left. The result gets a column ``draw``, the
    position of the slice in its composer's sequence (0 = drawn first).

    Parameters
    ----------
    manifest : pandas.DataFrame
        Columns ``composer, piece, index`` at least.
    seed : int

    Returns
    -------
    ordered : pandas.DataFrame
        The same rows, sorted by composer and draw.
    """
    rng = np.random.default_rng([seed, _ORDER_STREAM])
    canonical = manifest.sort_values(["piece", "index"], kind="stable").reset_index(drop=True)
    shuffled = canonical.iloc[rng.permutation(len(canonical))]
    rounds = shuffled.groupby("piece", sort=False).cumcount().to_numpy()
    piece_order_in_round = rng.random(len(shuffled))  # one slice per (piece, round): its key
    composers = shuffled["composer"].to_numpy()
    order = np.lexsort((piece_order_in_round, rounds, composers))
    ordered = shuffled.iloc[order].reset_index(drop=True)
    ordered["draw"] = ordered.groupby("composer", sort=False).cumcount()
    return ordered


def select_slices(manifest: pd.DataFrame, *, method: str = "per-composer",
                  per_composer: int = 100, per_period: int | None = None,
                  seed: int = 0) -> pd.DataFrame:
    """Draw the study's "100 spectrograms" (``per-composer``) or "all spectrograms" dataset.

    With ``per_period``, a period with more slices than that keeps its first
    ``per_period`` in a round robin over its composers (see
    :func:`cap_periods`): the largest period no longer outweighs the others
    by the number of its composers.

    Returns
    -------
    selected : pandas.DataFrame
        The drawn slices, with their ``draw`` position.
    """
    if method not in METHODS:
        raise SamplingError(f"method {method!r}: choose one of {', '.join(METHODS)}")
    ordered = round_robin_order(manifest, seed=seed)
    if method != "all":
        ordered = ordered[ordered["draw"] < per_composer].reset_index(drop=True)
    return ordered if per_period is None else cap_periods(ordered, per_period, seed=seed)


def cap_periods(selected: pd.DataFrame, per_period: int, *, seed: int) -> pd.DataFrame:
    """At most ``per_period`` slices of each period: each composer's first draws, in turn.

    Within a period, slices are taken draw by draw (every composer's first
    slice, then every composer's second, ...), the composers of one draw in
    a seeded order, so a capped period keeps as many composers as it can and
    a thin one keeps everything.

    Examples
    --------
    >>> rows = pd.DataFrame({"period": ["romantic"] * 6 + ["baroque"] * 2,
    ...                      "composer": list("aaabbb") + ["c", "c"], "draw": [0, 1, 2] * 2 + [0, 1]})
    >>> capped = cap_periods(rows, 4, seed=0)
    >>> capped.groupby("period").size().to_dict(), sorted(capped[capped.period == "romantic"].draw)
    ({'baroque': 2, 'romantic': 4}, [0, 0, 1, 1])
    """
    rng = np.random.default_rng([seed, _PERIOD_STREAM])
    composers = np.sort(selected["composer"].unique())
    turn = dict(zip(composers, rng.permutation(len(composers))))
    order = np.lexsort((selected["composer"].map(turn).to_numpy(), selected["draw"].to_numpy(),
                        selected["period"].to_numpy()))
    ranked = selected.iloc[order]
    keep = ranked.groupby("period", sort=False).cumcount() < per_period
    return ranked[keep.to_numpy()].sort_values(["composer", "draw"]).reset_index(drop=True)


def _cut_by_rank(rank: np.ndarray, size: np.ndarray, fractions) -> np.ndarray:
    """Split labels for items ranked 0..size-1 in their group, counts within one of the fractions.

    A group of two or more items always gets at least one training and one test item.
    """
    bounds = np.round(np.outer(size, np.cumsum(fractions))).astype(int)
    several = size >= 2
    bounds[several, 0] = np.clip(bounds[several, 0], 1, size[several] - 1)
    bounds[several, 1] = np.maximum(bounds[several, 1], bounds[several, 0] + 1)
    split = np.full(len(rank), 2)
    split[rank < bounds[:, 1]] = 1
    split[rank < bounds[:, 0]] = 0
    return split


def split_by_slice(selected: pd.DataFrame, fractions, rng) -> np.ndarray:
    """The study's protocol: random over slices, stratified by period.

    Returns
    -------
    codes : np.ndarray [shape=(len(selected),), dtype=int]
        0 train, 1 test, 2 validation, per row of ``selected``.
    """
    rank = (pd.Series(rng.random(len(selected)), index=selected.index)
            .groupby(selected["period"]).rank(method="first").to_numpy() - 1)
    size = selected.groupby("period")["piece"].transform("size").to_numpy()
    return _cut_by_rank(rank, size, fractions)


def _assign_groups(sizes: pd.Series, fractions, rng, *, required=(0, 1)) -> dict:
    """Give whole groups (pieces or composers) to splits.

    Groups are taken in random order, each to the split furthest below its
    target number of slices. Then every ``required`` split left empty takes
    the smallest group of another split that can spare one (validation
    first), so two groups are enough for training and test.

    Returns
    -------
    assigned : dict
        Group name → split code (0 train, 1 test, 2 validation).
    """
    targets = np.asarray(fractions, dtype=float) * sizes.sum()
    counts = np.zeros(len(fractions))
    assigned = {}
    for name in sizes.index[rng.permutation(len(sizes))]:
        choice = int(np.argmax(targets - counts))  # the first of equals: train before test
        assigned[name] = choice
        counts[choice] += sizes[name]
    for needed in required:
        members = pd.Series(assigned)
        if (members == needed).any():
            continue
        held = members.value_counts()
        donors = [k for k in held.index if k not in required or held[k] >= 2]
        if not donors:
            continue
        donor = max(donors, key=lambda k: (k not in required, held[k]))
        smallest = sizes[members.index[members == donor]].sort_values(kind="stable").index[0]
        assigned[smallest] = needed
    return assigned


def split_by_piece(selected: pd.DataFrame, fractions, rng) -> np.ndarray:
    """Every slice of a work in one split, works assigned within each period.

    A work group (see :mod:`cclib.scores`: the movements of a quartet, the
    songs of one opus, one work from two sources) is one unit; a store
    without work groups treats every piece as its own.

    Returns
    -------
    codes : np.ndarray [shape=(len(selected),), dtype=int]
        0 train, 1 test, 2 validation, per row of ``selected``.
    """
    split = pd.Series(0, index=selected.index)
    unit = _work_column(selected)
    for _, group in selected.groupby("period", sort=True):
        sizes = group.groupby(unit).size()
        assigned = _assign_groups(sizes, fractions, rng)
        split[group.index] = group[unit].map(assigned).to_numpy()
    return split.to_numpy()


def _work_column(rows: pd.DataFrame) -> str:
    return "work" if "work" in rows.columns else "piece"


def split_by_hold_out(selected: pd.DataFrame, column: str, value: str, fractions, rng) -> np.ndarray:
    """Test on every slice whose ``column`` is ``value``; train and validate on the rest.

    The cross-domain protocols: leave one texture out (``ensemble``), one
    soundfont out (``soundfont``). Training and validation works are
    assigned as by :func:`split_by_piece`, at the asked train:validation ratio.

    Returns
    -------
    codes : np.ndarray [shape=(len(selected),), dtype=int]
        0 train, 1 test, 2 validation, per row of ``selected``.
    """
    split = pd.Series(1, index=selected.index)
    pool = selected[selected[column] != value]
    split[pool.index] = split_train_validation(pool, fractions, rng)
    return split.to_numpy()


def split_train_validation(selected: pd.DataFrame, fractions, rng) -> np.ndarray:
    """Training and validation only (codes 0 and 2), whole works, at the asked ratio, per period.

    Returns
    -------
    codes : np.ndarray [shape=(len(selected),), dtype=int]
        0 train or 2 validation, per row of ``selected``.
    """
    split = pd.Series(0, index=selected.index)
    f_train, _, f_validation = fractions
    inner = (f_train / (f_train + f_validation), 0.0, f_validation / (f_train + f_validation))
    unit = _work_column(selected)
    for _, group in selected.groupby("period", sort=True):
        assigned = _assign_groups(group.groupby(unit).size(), inner, rng, required=(0,))
        split[group.index] = group[unit].map(assigned).to_numpy()
    return split.to_numpy()


def make_training_set(manifest: pd.DataFrame, *, method: str = "per-composer",
                      per_composer: int = 100, per_period: int | None = None,
                      fractions=DEFAULT_FRACTIONS, min_pieces: int = 2,
                      max_ensemble_share: float | None = None, seed: int = 0):
    """A dataset with training and validation splits only: for a model tested elsewhere.

    Drawn as :func:`make_dataset` draws; used to train on one store and test
    on another (see :mod:`cclib.protocols`).

    Returns
    -------
    dataset : pandas.DataFrame
    summary : dict
    """
    fractions = tuple(float(f) for f in fractions)
    check_fractions(fractions)
    kept, dropped = drop_single_piece_composers(manifest, min_pieces=min_pieces)
    if kept.empty:
        raise SamplingError(f"no composer has {min_pieces} pieces to train on")
    selected = select_slices(kept, method=method, per_composer=per_composer,
                             per_period=per_period, seed=seed)
    rng = np.random.default_rng([seed, _SPLIT_STREAM])
    dataset = selected.assign(
        split=np.asarray(SPLIT_NAMES)[split_train_validation(selected, fractions, rng)])
    if max_ensemble_share is not None:
        dataset = balance_ensembles(dataset, max_ensemble_share, rng)
    parameters = {"method": method, "per_composer": per_composer, "split": "none",
                  "fractions": list(fractions), "min_pieces": min_pieces, "seed": seed,
                  "max_ensemble_share": max_ensemble_share,
                  **({"per_period": per_period} if per_period is not None else {})}
    summary = {"parameters": parameters,
               "classes": sort_periods(dataset.loc[dataset["split"] == "train", "period"]),
               "dropped_composers": dropped, "slices": int(len(dataset)),
               "counts": _counts(dataset), "ensembles": ensemble_mix(dataset)}
    return dataset.drop(columns=["draw"]).reset_index(drop=True), summary


def balance_ensembles(dataset: pd.DataFrame, max_share: float, rng) -> pd.DataFrame:
    """Drop training slices so no ensemble holds more than ``max_share`` of a period's training slices.

    Where a period's training slices come from one ensemble only, they are
    kept: the corpus does not allow better. Validation and test are untouched.

    Examples
    --------
    >>> d = pd.DataFrame({"split": ["train"] * 10, "period": ["romantic"] * 10,
    ...                   "ensemble": ["voice and piano"] * 8 + ["string quartet"] * 2})
    >>> balance_ensembles(d, 0.6, np.random.default_rng(0))["ensemble"].value_counts().tolist()
    [3, 2]
    """
    drop = []
    train = dataset[dataset["split"] == "train"]
    for _, group in train.groupby("period", sort=True):
        counts = group["ensemble"].value_counts()
        if len(counts) < 2 or counts.iloc[0] <= max_share * counts.sum():
            continue
        others = counts.sum() - counts.iloc[0]
        allowed = int(np.floor(max_share / (1 - max_share) * others + 1e-9))
        dominant = group.index[group["ensemble"] == counts.index[0]]
        drop.extend(rng.permutation(dominant)[:len(dominant) - allowed])
    return dataset.drop(index=drop)


def split_by_composer(selected: pd.DataFrame, fractions, rng):
    """Training and test composers disjoint; validation from training composers' pieces.

    Returns
    -------
    split : np.ndarray
        0 train, 1 test, 2 validation; -1 for periods left out.
    left_out : list of str
        Periods with fewer than two composers, which this protocol cannot split.
    """
    split = pd.Series(-1, index=selected.index)
    left_out = []
    f_train, f_test, f_validation = fractions
    for period, group in selected.groupby("period", sort=True):
        sizes = group.groupby("composer").size()
        if len(sizes) < 2:
            left_out.append(period)
            continue
        side = _assign_groups(sizes, (f_train + f_validation, f_test, 0.0), rng)
        test_composers = [c for c, s in side.items() if s == 1]
        split[group.index[group["composer"].isin(test_composers)]] = 1
        pool = group[~group["composer"].isin(test_composers)]
        piece_sizes = pool.groupby("piece").size()
        inner = (f_train / (f_train + f_validation), 0.0, f_validation / (f_train + f_validation))
        assigned = _assign_groups(piece_sizes, inner, rng, required=(0,))
        split[pool.index] = pool["piece"].map(assigned).to_numpy()
    return split.to_numpy(), sorted(left_out, key=lambda p: sort_periods([p]))


def leakage(dataset: pd.DataFrame) -> dict:
    """Share of test slices whose piece (work, composer) also appears in training.

    Examples
    --------
    >>> d = pd.DataFrame({"split": ["train", "test", "test"], "piece": ["a", "a", "b"],
    ...                   "composer": ["X", "X", "Y"]})
    >>> leakage(d)
    {'test_piece_in_train': 0.5, 'test_composer_in_train': 0.5}

    With work groups, the share whose work group is in training too.
    """
    train, test = dataset[dataset["split"] == "train"], dataset[dataset["split"] == "test"]
    columns = ["piece", "work", "composer"] if "work" in dataset.columns else ["piece", "composer"]
    return {f"test_{column}_in_train": round(float(test[column].isin(train[column]).mean()), 6)
            if len(test) else 0.0 for column in columns}


def make_dataset(manifest: pd.DataFrame, *, method: str = "per-composer", per_composer: int = 100,
                 per_period: int | None = None, split: str = "piece",
                 fractions=DEFAULT_FRACTIONS, periods=None,
                 min_pieces: int = 2, hold_out: tuple[str, str] | None = None,
                 max_ensemble_share: float | None = None, seed: int = 0):
    """Sample a dataset and split it, as ``cclib sample`` does.

    Parameters
    ----------
    manifest : pandas.DataFrame
        The slice store's manifest.
    method : {"per-composer", "all"}
        The "100 spectrograms" or the "all spectrograms" algorithm.
    per_composer : int > 0
        Slices per composer for ``per-composer``.
    per_period : int > 0, optional
        At most this many slices per period, each composer's first draws in
        turn (see :func:`cap_periods`); default: no cap.
    split : {"slice", "piece", "composer"}
        Ignored when ``hold_out`` is given.
    fractions : (train, test, validation)
    periods : list of str, optional
        The classes to keep (default: every period with data).
    min_pieces : int
        Composers with fewer pieces are dropped.
    hold_out : (column, value), optional
        A cross-domain protocol: test on every drawn slice whose ``column``
        (``ensemble``, ``soundfont``, ``composer``) is ``value``, train and
        validate on the others. Periods found only in the held-out part
        cannot be learnt and are left out.
    max_ensemble_share : float in (0, 1), optional
        At most this share of a period's training slices from one ensemble
        (see :func:`balance_ensembles`).
    seed : int
        The same seed gives the identical dataset.

    Returns
    -------
    dataset : pandas.DataFrame
        The manifest rows drawn, with a ``split`` column.
    summary : dict
        Parameters, classes, what was dropped and why, counts, achieved
        fractions, leakage and each period's ensemble mix.

    Raises
    ------
    SamplingError
        Bad parameters, or a period left without training or test data.
    """
    fractions = _check_request(manifest, method, per_composer, split, fractions, hold_out,
                               max_ensemble_share, per_period)
    wanted = list(periods) if periods else sort_periods(manifest["period"].unique())
    kept, dropped = drop_single_piece_composers(manifest[manifest["period"].isin(wanted)],
                                                min_pieces=min_pieces)
    classes = [p for p in sort_periods(wanted) if p in set(kept["period"])]
    if not classes:
        raise SamplingError("no period has data after dropping composers with fewer than "
                            f"{min_pieces} pieces")
    selected = select_slices(kept, method=method, per_composer=per_composer,
                             per_period=per_period, seed=seed)
    rng = np.random.default_rng([seed, _SPLIT_STREAM])
    codes, left_out = _split_codes(selected, split, fractions, hold_out, rng)
    dataset = selected[codes >= 0].copy()
    dataset["split"] = np.asarray(SPLIT_NAMES)[codes[codes >= 0]]
    if max_ensemble_share is not None:
        dataset = balance_ensembles(dataset, max_ensemble_share, rng)
    trained = set(dataset.loc[dataset["split"] == "train", "period"])
    if hold_out is not None:
        left_out.update({p: f"no training data outside {hold_out[0]} {hold_out[1]!r}"
                         for p in classes if p not in trained})
        dataset = dataset[dataset["period"].isin(trained)]
    classes = [p for p in classes if p not in left_out]
    if not classes:
        raise SamplingError(f"split {split!r}: no period has the two composers it needs")
    _refuse_empty_splits(dataset, classes, "hold-out" if hold_out else split)
    parameters = {"method": method, "per_composer": per_composer, "split": split,
                  "fractions": list(fractions), "periods": list(periods) if periods else None,
                  "min_pieces": min_pieces, "seed": seed}
    if hold_out is not None:
        parameters["hold_out"] = list(hold_out)
    if max_ensemble_share is not None:
        parameters["max_ensemble_share"] = max_ensemble_share
    if per_period is not None:
        parameters["per_period"] = per_period
    summary = {
        "parameters": parameters,
        "classes": classes,
        "periods_without_data": [p for p in sort_periods(wanted) if p not in set(kept["period"])],
        "dropped_composers": dropped,
        "periods_left_out": left_out,
        "slices": int(len(dataset)),
        "fractions_achieved": _achieved(dataset),
        "leakage": leakage(dataset),
        "counts": _counts(dataset),
        "ensembles": ensemble_mix(dataset),
    }
    return dataset.drop(columns=["draw"]).reset_index(drop=True), summary


def _check_request(manifest, method, per_composer, split, fractions, hold_out,
                   max_ensemble_share, per_period=None) -> tuple:
    if split not in SPLITS:
        raise SamplingError(f"--split: {split!r} is not one of {', '.join(SPLITS)}")
    if per_composer < 1:
        raise SamplingError(f"--per-composer: must be at least 1, not {per_composer}")
    if per_period is not None and per_period < 1:
        raise SamplingError(f"--per-period: must be at least 1, not {per_period}")
    if hold_out is not None and hold_out[0] not in manifest.columns:
        raise SamplingError(f"--hold-out: the manifest has no column {hold_out[0]!r}")
    if hold_out is not None and not (manifest[hold_out[0]] == hold_out[1]).any():
        raise SamplingError(f"--hold-out: no slice has {hold_out[0]} {hold_out[1]!r}")
    if max_ensemble_share is not None and not 0 < max_ensemble_share < 1:
        raise SamplingError(f"--max-ensemble-share: must lie between 0 and 1, not "
                            f"{max_ensemble_share}")
    fractions = tuple(float(f) for f in fractions)
    check_fractions(fractions)
    return fractions


def _split_codes(selected, split, fractions, hold_out, rng) -> tuple[np.ndarray, dict]:
    """Split codes (0 train, 1 test, 2 validation, -1 left out) and the periods left out, with why."""
    if hold_out is not None:
        return split_by_hold_out(selected, *hold_out, fractions, rng), {}
    if split == "slice":
        return split_by_slice(selected, fractions, rng), {}
    if split == "piece":
        return split_by_piece(selected, fractions, rng), {}
    codes, left_out = split_by_composer(selected, fractions, rng)
    return codes, {p: "fewer than two composers" for p in left_out}


def ensemble_mix(dataset: pd.DataFrame) -> dict:
    """Slices per split, period and ensemble: ``{split: {period: {ensemble: n}}}``."""
    if "ensemble" not in dataset.columns:
        return {}
    mix: dict = {}
    for (split, period, ensemble), n in dataset.groupby(["split", "period", "ensemble"]).size().items():
        mix.setdefault(split, {}).setdefault(period, {})[ensemble] = int(n)
    return mix


def _refuse_empty_splits(dataset: pd.DataFrame, classes, split: str) -> None:
    if split == "hold-out":  # a period need not be in the held-out part
        if not (dataset["split"] == "test").any():
            raise SamplingError("--hold-out: no held-out slice belongs to a period with "
                                "training data")
        return
    for period in classes:
        present = set(dataset.loc[dataset["period"] == period, "split"])
        for needed in ("train", "test"):
            if needed not in present:
                n_pieces = dataset.loc[dataset["period"] == period, "piece"].nunique()
                raise SamplingError(f"period {period!r} would have no {needed} data under the "
                                    f"{split!r} split ({n_pieces} pieces); add audio, or leave "
                                    "it out with --periods")


def _achieved(dataset: pd.DataFrame) -> dict:
    shares = dataset["split"].value_counts(normalize=True)
    overall = {name: round(float(shares.get(name, 0.0)), 4) for name in SPLIT_NAMES}
    by_period = (dataset.groupby("period")["split"].value_counts(normalize=True)
                 .unstack(fill_value=0.0).reindex(columns=list(SPLIT_NAMES), fill_value=0.0))
    return {"overall": overall,
            "by_period": {p: {k: round(float(v), 4) for k, v in row.items()}
                          for p, row in by_period.iterrows()}}


def _counts(dataset: pd.DataFrame) -> dict:
    counts: dict = {}
    for (split, period, composer), n in dataset.groupby(["split", "period", "composer"]).size().items():
        counts.setdefault(split, {}).setdefault(period, {})[composer] = int(n)
    return counts


DATASET_FIELDS = ("slice_id", "piece", "composer", "period", "work", "ensemble", "soundfont",
                  "origin", "split", "path", "row", "digest", "index", "start_s")


def write_dataset(dataset: pd.DataFrame, summary: dict, store: str | Path,
                  out: str | Path, *, reuse: bool = False) -> None:
    """Write a dataset folder: ``manifest.csv``, ``summary.json`` and the study's
    ``train/<period>/``, ``test/<period>/``, ``validation/<period>/`` folders.

    The slices are referenced, not copied: ``path`` and ``row`` name the
    store array and row, relative to ``out``. Each period folder holds a
    ``slices.csv`` of its slices and, when the store has the study's PNG
    images, links to them. With ``reuse``, a dataset already in ``out``
    with the same parameters and store is kept as it is.

    Raises
    ------
    SamplingError
        If ``out`` holds another dataset (other parameters) or other files.
    """
    store, out = Path(store).resolve(), Path(out)
    summary = {**summary, "store": str(store)}
    if out.exists() and any(out.iterdir()):
        previous = out / "summary.json"
        if not previous.exists():
            raise SamplingError(f"{out}: not empty and holds no dataset; choose another --out")
        found = read_json(previous, error=SamplingError)
        check_settings({key: found.get(key) for key in ("parameters", "store")},
                       {"parameters": summary["parameters"], "store": str(store)}, out,
                       what="another dataset", error=SamplingError)
        if reuse:
            return
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.mkdir()
        rows = dataset.copy()
        relative = {p: os.path.relpath(store / p, out.resolve()) for p in rows["path"].unique()}
        rows["path"] = rows["path"].map(relative)
        columns = [column for column in DATASET_FIELDS if column in rows.columns]
        rows.to_csv(tmp / "manifest.csv", columns=columns, index=False)
        with_images = {piece for piece in rows["piece"].unique()
                       if (store / f"{piece}_spectrograms").is_dir()}
        for (split, period), group in rows.groupby(["split", "period"]):
            folder = tmp / split / check_plain_name(period, "period", error=SamplingError)
            folder.mkdir(parents=True)
            group.to_csv(folder / "slices.csv", columns=columns, index=False)
            for slice_name, piece in zip(group["slice_id"], group["piece"]):
                if piece in with_images:
                    image = store / f"{piece}_spectrograms" / f"{slice_name}.png"
                    (folder / image.name).symlink_to(image)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def read_dataset(folder: str | Path) -> pd.DataFrame:
    """Read a dataset's ``manifest.csv``, with ``path`` made absolute.

    Raises
    ------
    SamplingError
        If the folder holds no dataset, or its manifest lacks a column.
    StoreError
        If a row is malformed or names an array outside the dataset's store
        (see :func:`cclib.store.check_manifest`).
    """
    from cclib.store import check_manifest

    folder = Path(folder)
    store = Path(read_json(folder / "summary.json", error=SamplingError)["store"]).resolve()
    try:
        dataset = pd.read_csv(folder / "manifest.csv", keep_default_na=False,
                              dtype={"piece": str, "composer": str, "work": str,
                                     "ensemble": str, "soundfont": str, "digest": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise SamplingError(f"{folder / 'manifest.csv'}: cannot be read ({error})") from None
    missing = [column for column in ("piece", "composer", "period", "split", "path", "row")
               if column not in dataset.columns]
    if missing:
        raise SamplingError(f"{folder / 'manifest.csv'}: no {', '.join(missing)} column")
    absolute = {p: (folder / p).resolve() for p in dataset["path"].unique()}
    check_manifest(dataset.assign(path=dataset["path"].map(
        {p: os.path.relpath(target, store) for p, target in absolute.items()})),
        store, folder / "manifest.csv")
    dataset["path"] = dataset["path"].map({p: str(target) for p, target in absolute.items()})
    return dataset


def compare_protocols(manifest: pd.DataFrame, *, methods=METHODS, splits=SPLITS, **options):
    """Sample every method × split and tabulate sizes, achieved shares and leakage.

    Parameters
    ----------
    manifest : pandas.DataFrame
    methods, splits : iterables of str
    **options
        Passed to :func:`make_dataset` (``per_composer``, ``seed``, ...).

    Returns
    -------
    table : pandas.DataFrame
        One row per (method, split); a protocol that cannot be made shows
        its reason in ``refused``.
    """
    rows = []
    for method in methods:
        for split in splits:
            row = {"method": method, "split": split}
            try:
                dataset, summary = make_dataset(manifest, method=method, split=split, **options)
            except SamplingError as error:
                rows.append({**row, "refused": str(error)})
                continue
            shares = summary["fractions_achieved"]["overall"]
            rows.append({**row, "slices": len(dataset), "classes": len(summary["classes"]),
                         **{f"{name} share": shares[name] for name in SPLIT_NAMES},
                         **summary["leakage"],
                         "left out": ", ".join(summary["periods_left_out"]) or "",
                         "refused": ""})
    return pd.DataFrame(rows).set_index(["method", "split"])
