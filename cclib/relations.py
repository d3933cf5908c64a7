"""What the study left for future work: how periods and composers relate in the network's ears.

- Periods: distances from the pooled confusion matrix (two periods are close
  when each is often heard as the other) and from the mean probability
  profile each period's slices receive; hierarchical clustering of either.
- Composers: each composer's mean embedding (the 1280-number bottleneck) and
  mean probability profile, a 2-D map, and each composer's nearest ones.
- Instrumentation: the same pieces rendered for different instruments,
  trained on one and tested on another.

Pure array functions first; the last two sections read stores and models.

Notebook: notebooks/07_period_relationships.ipynb
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import linkage
from scipy.spatial.distance import pdist, squareform

from cclib.evaluation import row_shares


def confusion_distances(confusion) -> np.ndarray:
    """Distances between periods from a confusion matrix (rows true, columns predicted).

    ``d(i, j) = 1 - (P(i heard as j) + P(j heard as i)) / 2``, with ``P`` the
    row shares: 1 for periods never mistaken for each other, lower the more
    they are.

    Returns
    -------
    distances : np.ndarray [shape=(n_classes, n_classes)]
        Symmetric, zero diagonal.

    Examples
    --------
    >>> confusion_distances([[8, 2], [4, 6]]).round(2).tolist()
    [[0.0, 0.7], [0.7, 0.0]]
    """
    shares = row_shares(confusion)
    distances = 1.0 - (shares + shares.T) / 2
    np.fill_diagonal(distances, 0.0)
    return distances


def profile_distances(profiles) -> np.ndarray:
    """Jensen-Shannon distances between probability profiles (one per row).

    Returns
    -------
    distances : np.ndarray [shape=(n, n)]
        Symmetric, zero diagonal, between 0 and 1 (base-2 logarithms).
    """
    profiles = np.asarray(profiles, dtype=float)
    natural = squareform(pdist(profiles, metric="jensenshannon"))  # natural logarithms
    return natural / np.sqrt(np.log(2))


def cluster(distances, *, method: str = "average") -> np.ndarray:
    """Hierarchical clustering (scipy linkage) of a square distance matrix.

    Returns
    -------
    linkage_matrix : np.ndarray [shape=(n - 1, 4)]
        scipy's linkage matrix for ``n`` items.
    """
    return linkage(squareform(np.asarray(distances), checks=False), method=method)


def top_split(linkage_matrix, classes) -> tuple[list[str], list[str], float]:
    """The two groups the tree's highest merge joins, each in period order, earlier group first.

    Returns
    -------
    earlier, later : list of str
        Periods on each side of the top split; ``earlier`` holds the first
        period in :data:`cclib.periods.PERIOD_ORDER`.
    height : float
        The distance at which the two groups merge.

    Examples
    --------
    >>> distances = [[0, .2, .9, .9], [.2, 0, .9, .9], [.9, .9, 0, .3], [.9, .9, .3, 0]]
    >>> top_split(cluster(distances), ["romantic", "classical", "renaissance", "baroque"])
    (['renaissance', 'baroque'], ['classical', 'romantic'], 0.9)
    """
    from scipy.cluster.hierarchy import to_tree

    from cclib.periods import sort_periods

    root = to_tree(np.asarray(linkage_matrix))
    sides = [sort_periods(classes[i] for i in side.pre_order())
             for side in (root.get_left(), root.get_right())]
    earlier, later = sorted(sides, key=lambda side: sort_periods(classes).index(side[0]))
    return earlier, later, round(float(root.dist), 4)


def tree_reading(linkage_matrix, classes, *, source: str) -> str:
    """One sentence on a period tree's top split: is it a cut in time, and where?

    Examples
    --------
    >>> distances = [[0, .2, .9, .9], [.2, 0, .9, .9], [.9, .9, 0, .3], [.9, .9, .3, 0]]
    >>> print(tree_reading(cluster(distances), ["romantic", "classical", "renaissance",
    ...                                         "baroque"], source="confusions"))
    ... # doctest: +NORMALIZE_WHITESPACE
    From confusions, the tree's first split is a cut in time: renaissance, baroque before it,
    classical, romantic after (they join only at distance 0.90).
    """
    from cclib.periods import sort_periods

    earlier, later, height = top_split(linkage_matrix, classes)
    first, second = ", ".join(earlier), ", ".join(later)
    if sort_periods(classes)[:len(earlier)] == earlier:
        kind = f"is a cut in time: {first} before it, {second} after"
    else:
        kind = f"is not a cut in time: {first} against {second}"
    return f"From {source}, the tree's first split {kind} (they join only at distance {height:.2f})."


def confused_pairs(confusion, classes, *, top: int = 5) -> pd.DataFrame:
    """The largest confusions: which period is heard as which, and how often.

    Returns
    -------
    table : pandas.DataFrame
        ``period, heard_as, share`` (of the period's test slices) and
        ``slices``, largest share first.

    Examples
    --------
    >>> confused_pairs([[8, 2], [5, 5]], ["baroque", "romantic"], top=1).to_dict("records")
    [{'period': 'romantic', 'heard_as': 'baroque', 'share': 0.5, 'slices': 5}]
    """
    confusion = np.asarray(confusion)
    shares = row_shares(confusion)
    rows = [{"period": classes[i], "heard_as": classes[j], "share": round(float(shares[i, j]), 4),
             "slices": int(confusion[i, j])}
            for i in range(len(classes)) for j in range(len(classes)) if i != j]
    table = pd.DataFrame(rows, columns=["period", "heard_as", "share", "slices"])
    return table.sort_values(["share", "slices"], ascending=False, kind="stable").head(top) \
        .reset_index(drop=True)


def pooled_period_matrices(folders, *, split: str = "test", model: str = "mobilenet"):
    """Pool trials' confusion matrices and mean probability profiles, aligned by period.

    Each trial's ``metrics.json`` holds, for the split, its confusion matrix
    and the mean probability profile of each true period; profiles are
    pooled weighted by each period's slice count. Trials of the composer
    protocol may leave periods out, so everything is placed into the union
    of the classes, in period order; a period that was never predicted-for
    keeps zero probability there.

    Returns
    -------
    confusion : np.ndarray [shape=(n, n)]
        Slice counts, rows the true period.
    profiles : np.ndarray [shape=(n, n)]
        Row ``i``: the mean probabilities given to slices of period ``i``.
    classes : list of str
    """
    from cclib.periods import sort_periods

    found = []
    for folder in folders:
        metrics = json.loads((Path(folder) / "metrics.json").read_text(encoding="utf-8"))
        if split in metrics:
            found.append((metrics["classes"], metrics[split][model]))
    classes = sort_periods({c for names, _ in found for c in names})
    position = {c: i for i, c in enumerate(classes)}
    confusion = np.zeros((len(classes), len(classes)))
    weighted = np.zeros((len(classes), len(classes)))
    for names, scores in found:
        index = np.array([position[c] for c in names])
        matrix = np.asarray(scores["confusion_matrix"], dtype=float)
        confusion[np.ix_(index, index)] += matrix
        counts = matrix.sum(axis=1, keepdims=True)
        weighted[np.ix_(index, index)] += np.asarray(scores["mean_probabilities"]) * counts
    profiles = weighted / np.maximum(confusion.sum(axis=1, keepdims=True), 1e-12)
    return confusion.astype(int), profiles, classes


def group_means(values: np.ndarray, groups) -> tuple[np.ndarray, list]:
    """Mean of ``values`` rows per group, groups in order of first appearance.

    Returns
    -------
    means : np.ndarray [shape=(n_groups, values.shape[1])]
    names : list
        The groups, in the order of the rows of ``means``.

    Examples
    --------
    >>> means, names = group_means(np.array([[1.0], [3.0], [5.0]]), ["a", "a", "b"])
    >>> means.ravel().tolist(), names
    ([2.0, 5.0], ['a', 'b'])
    """
    groups = pd.Series(list(groups))
    names = list(dict.fromkeys(groups))
    means = np.stack([values[(groups == name).to_numpy()].mean(axis=0) for name in names])
    return means, names


def nearest(means: np.ndarray, names, *, k: int = 3, metric: str = "cosine") -> pd.DataFrame:
    """Each item's ``k`` nearest others by ``metric`` (scipy's names).

    Returns
    -------
    table : pandas.DataFrame
        Indexed by name; columns ``nearest_1 .. nearest_k`` ("name (distance)").

    Examples
    --------
    >>> table = nearest(np.array([[0.0, 1], [0.1, 1], [1, 0]]), ["a", "b", "c"], k=1,
    ...                 metric="euclidean")
    >>> table["nearest_1"].tolist()
    ['b (0.100)', 'a (0.100)', 'b (1.345)']
    """
    distances = squareform(pdist(means, metric=metric))
    np.fill_diagonal(distances, np.inf)
    rows = {}
    for i, name in enumerate(names):
        order = np.argsort(distances[i], kind="stable")[:k]
        rows[name] = {f"nearest_{r + 1}": f"{names[j]} ({distances[i, j]:.3f})"
                      for r, j in enumerate(order)}
    return pd.DataFrame.from_dict(rows, orient="index")


def map_2d(means: np.ndarray, *, method: str = "pca", seed: int = 0) -> np.ndarray:
    """Two coordinates per row: PCA, t-SNE (scikit-learn) or UMAP (if umap-learn is installed).

    Returns
    -------
    xy : np.ndarray [shape=(n, 2)]
    """
    from sklearn.preprocessing import StandardScaler

    scaled = StandardScaler().fit_transform(means)
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(scaled)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, max(1.0, (len(means) - 1) / 3))  # below the number of items
        return TSNE(n_components=2, perplexity=perplexity, init="pca",
                    random_state=seed).fit_transform(scaled)
    if method == "umap":
        try:
            import umap
        except ImportError:
            raise ValueError("method 'umap' needs umap-learn: pip install umap-learn") from None
        return umap.UMAP(n_neighbors=min(15, len(means) - 1), random_state=seed).fit_transform(scaled)
    raise ValueError(f"method {method!r}: choose pca, tsne or umap")


def store_embeddings(period_model, store: str | Path, rows: pd.DataFrame, *,
                     cache_root: str | Path | None = None):
    """Embeddings (bottlenecks) and period probabilities of store slices, with a model.

    A model trained with ``--mode retrain`` has the ImageNet network
    unchanged, so its embeddings come from (and go to) the bottleneck cache
    that training uses; the probabilities are its head applied to them.

    Parameters
    ----------
    period_model : PeriodModel
    store : path
        The slice store ``rows`` come from.
    rows : pandas.DataFrame
        Manifest rows (``path`` relative to the store, ``row``).

    Returns
    -------
    embeddings : np.ndarray [shape=(n, 1280)]
    probabilities : np.ndarray [shape=(n, n_classes)]
    """
    from cclib.confidence import apply_temperature
    from cclib.store import load_slices
    from cclib.training import TrainConfig, open_bottleneck_cache

    store = Path(store)
    absolute = rows.assign(path=[str(store / p) for p in rows["path"]])
    train = period_model.config.get("train", {})
    if train.get("mode", "retrain") != "retrain":
        return period_model.analyse(load_slices(store, rows).astype(np.float32))
    cache = open_bottleneck_cache(period_model.model, TrainConfig.from_dict(train),
                                  period_model.front_end, cache_root)
    embeddings = cache.embeddings(absolute)
    head = period_model.model.get_layer("period_head")
    probabilities = apply_temperature(np.asarray(head(embeddings.astype(np.float32))),
                                      period_model.temperature)
    return embeddings, probabilities


def composer_table(rows: pd.DataFrame, embeddings: np.ndarray, probabilities: np.ndarray, classes):
    """Per composer: period, slices, mean embedding and mean probability profile.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by composer (in period order): ``period``, ``slices``, one
        column per class (the mean probabilities) and ``heard_as`` (its best).
    embedding_means : np.ndarray [shape=(n_composers, dims)]
    """
    from cclib.periods import PERIOD_ORDER

    order = {p: i for i, p in enumerate(PERIOD_ORDER)}
    first = rows.groupby("composer", sort=False)["period"].first()
    names = sorted(first.index, key=lambda c: (order.get(first[c], len(order)), c))
    means, _ = group_means(embeddings, rows["composer"])
    profile_means, found = group_means(probabilities, rows["composer"])
    index = [found.index(name) for name in names]
    table = pd.DataFrame(profile_means[index], index=names, columns=classes).round(4)
    table.insert(0, "slices", rows["composer"].value_counts().loc[names].to_numpy())
    table.insert(0, "period", first.loc[names].to_numpy())
    table["heard_as"] = [classes[i] for i in profile_means[index].argmax(axis=1)]
    return table, means[index]


def instrument_datasets(stores: dict, out: str | Path, *, method: str = "per-composer",
                        per_composer: int = 100, split: str = "piece", seed: int = 0) -> dict:
    """One dataset draw, written once per instrument store, with the same slices in each split.

    The stores hold the same works rendered for different instruments; the
    draw is made on the slices all of them have, so a piece tested as strings
    is also tested as piano, and never trained on in either. Periods with a
    single work group (two movements of one work) cannot be split and are left out.

    Returns
    -------
    datasets : dict
        Instrument name → dataset folder (``out/dataset-<name>``).
    """
    from cclib.periods import sort_periods
    from cclib.sampling import drop_single_piece_composers, make_dataset, write_dataset
    from cclib.store import read_manifest

    out = Path(out)
    manifests = {name: read_manifest(store) for name, store in stores.items()}
    common = set.intersection(*(set(m["slice_id"]) for m in manifests.values()))
    if not common:
        raise ValueError(f"{', '.join(map(str, stores.values()))}: no slice in common "
                         "(render the same works with cclib corpus --instrument)")
    first = next(iter(manifests.values()))
    shared = first[first["slice_id"].isin(common)]
    kept, _ = drop_single_piece_composers(shared)
    works = kept.groupby("period")["work"].nunique()  # a period needs a work on each side
    dataset, summary = make_dataset(shared, method=method, per_composer=per_composer, split=split,
                                    periods=sort_periods(works.index[works >= 2]), seed=seed)
    folders = {}
    for name, manifest in manifests.items():
        rows = manifest.set_index("slice_id").loc[dataset["slice_id"]].reset_index()
        rows["split"] = dataset["split"].to_numpy()
        folders[name] = out / f"dataset-{name}"
        write_dataset(rows[dataset.columns], summary, stores[name], folders[name], reuse=True)
    return folders


def cross_instrument_accuracy(datasets: dict, out: str | Path, config) -> pd.DataFrame:
    """Train on each instrument's dataset, test on every instrument's test split.

    The models answer this table only, so they are saved without a LiteRT
    export (``config.export`` is ignored: an export costs more than a short training).
    A model already in ``out`` trained with ``config`` is used again; one trained
    otherwise is refused.

    Returns
    -------
    table : pandas.DataFrame
        Rows: trained on; columns: tested on; balanced accuracy of test slices.
    """
    from cclib.classify import load_period_model
    from cclib.evaluation import scores
    from cclib.training import load_dataset, train_model

    out = Path(out)
    loaded = {name: load_dataset(dataset_dir) for name, dataset_dir in datasets.items()}
    table = pd.DataFrame(index=list(datasets), columns=list(datasets), dtype=float)
    for trained_on, dataset_dir in datasets.items():
        model_dir = out / f"model-{trained_on}"
        train_model(dataset_dir, model_dir, replace(config, export=False), reuse=True)
        period_model = load_period_model(model_dir)
        position = {c: i for i, c in enumerate(period_model.classes)}
        for tested_on, data in loaded.items():
            test = data.parts["test"]
            probabilities = period_model.predict(data.slices[test].astype(np.float32))
            truth = data.rows["period"][test].map(position).to_numpy()
            result = scores(truth, probabilities.argmax(axis=1), len(period_model.classes))
            table.loc[trained_on, tested_on] = result["balanced_accuracy"]
    table.index.name, table.columns.name = "trained on", "tested on"
    test = data.rows[data.parts["test"]]  # the same slices in every instrument's dataset
    table.attrs.update(chance=1 / len(period_model.classes), test_slices=int(len(test)),
                       test_pieces=int(test["piece"].nunique()),
                       test_periods=int(test["period"].nunique()))
    return table


def instrument_reading(table: pd.DataFrame) -> list[str]:
    """Sentences on a :func:`cross_instrument_accuracy` table: same instrument against another.

    Examples
    --------
    >>> table = pd.DataFrame([[.6, .3], [.2, .5]], index=["piano", "strings"],
    ...                      columns=["piano", "strings"])
    >>> table.attrs.update(chance=0.25, test_slices=80, test_pieces=8, test_periods=4)
    >>> print("\\n".join(instrument_reading(table)))
    Balanced accuracy of 80 test slices from 8 pieces in 4 periods (chance 25.0 %).
    Trained and tested on the same instrument: 55.0 % on average; on another: 25.0 %.
    The largest fall: trained on piano, 60.0 % on piano and 30.0 % on strings.
    """
    values = table.to_numpy(dtype=float)
    same = np.diag(values)
    other = values[~np.eye(len(values), dtype=bool)]
    drops = same[:, None] - values
    i, j = np.unravel_index(np.nanargmax(drops), drops.shape)
    attrs = table.attrs
    return [f"Balanced accuracy of {attrs['test_slices']} test slices from {attrs['test_pieces']} "
            f"pieces in {attrs['test_periods']} periods (chance {100 * attrs['chance']:.1f} %).",
            f"Trained and tested on the same instrument: {100 * same.mean():.1f} % on average; "
            f"on another: {100 * other.mean():.1f} %.",
            f"The largest fall: trained on {table.index[i]}, {100 * values[i, i]:.1f} % on "
            f"{table.columns[i]} and {100 * values[i, j]:.1f} % on {table.columns[j]}."]
