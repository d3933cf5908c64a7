"""Does the model hear the period, or the corpus? Cross-domain protocols on the project's own data.

A test split of unseen pieces by composers the model trained on says little
about music it has never heard. Each protocol here holds out something a
model could lean on instead of the period, trains without it, and tests
on it:

``within``
    Unseen pieces (whole work groups) of the same corpus: the usual figure.
``composer``
    Unseen composers: training and test composers are disjoint.
``soundfont``
    An unseen soundfont: train on the works rendered through the other
    training soundfonts, test on the works rendered through this one.
``texture``
    An unseen texture: train without, say, the string quartets, test on them
    (every ensemble heard in three periods or more).
``source``
    An unseen source of scores: train without, say, the Mutopia editions,
    test on them (other editors, other choices of music and instruments).

A :class:`Recipe` is what is trained: which slice store, how it is sampled,
and the :class:`~cclib.training.TrainConfig`. Every recipe of one protocol
and seed is tested on the same test slices, so their numbers compare; a
recipe trained on another store (the study's corpus as it was) leaves out
of training every work group and composer that the test holds.

Scores are piece-level balanced accuracy over the periods in the test
split: a period the model does not know counts as missed.

Notebook: notebooks/08_does_it_hear_the_period.ipynb
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cclib.errors import CclibError
from cclib.evaluation import scores
from cclib.sampling import SamplingError, make_dataset, make_training_set, write_dataset
from cclib.store import read_manifest

#: The manifest column each kind of protocol holds music out by.
HELD_OUT_COLUMNS = {"soundfont": "soundfont", "texture": "ensemble", "source": "origin"}

#: A texture is held out only when the corpus has it in at least this many periods.
MIN_TEXTURE_PERIODS = 3


class ProtocolError(CclibError, ValueError):
    """A protocol or recipe that cannot be run as asked (one line naming it)."""


@dataclass(frozen=True)
class Protocol:
    """One way of holding music out of training.

    Attributes
    ----------
    kind : {"within", "composer", "soundfont", "texture", "source"}
    held_out : str
        The soundfont, texture or source held out ("" for within and composer).
    """

    kind: str
    held_out: str = ""

    @property
    def name(self) -> str:
        """``within``, ``composer``, ``soundfont: TimGM6mb``, ``texture: string quartet``,
        ``source: mutopia``."""
        return f"{self.kind}: {self.held_out}" if self.held_out else self.kind

    @property
    def slug(self) -> str:
        """The name as folder names write it: ``texture-string_quartet``."""
        return self.name.replace(": ", "-").replace(" ", "_")

    def sampling(self) -> dict:
        """The :func:`cclib.sampling.make_dataset` arguments that make its split."""
        if self.kind == "within":
            return {"split": "piece"}
        if self.kind == "composer":
            return {"split": "composer"}
        return {"split": "piece", "hold_out": (HELD_OUT_COLUMNS[self.kind], self.held_out)}


def list_protocols(manifest: pd.DataFrame, *, min_pieces: int = 6,
                   min_texture_periods: int = MIN_TEXTURE_PERIODS) -> list[Protocol]:
    """The protocols a store allows: within, composer, and each soundfont, texture and
    source of scores with data.

    A soundfont, texture or source is held out only when the store has at
    least ``min_pieces`` pieces of it in periods that are also heard outside
    it (a period heard only in the held-out music cannot be learnt, so it
    cannot be tested); a texture, only when it is heard in at least
    ``min_texture_periods`` periods.

    Examples
    --------
    >>> m = pd.DataFrame({"piece": [f"p{i}" for i in range(12)], "soundfont": ["A", "B"] * 6,
    ...                   "ensemble": ["voices"] * 12, "period": ["baroque"] * 12})
    >>> [p.name for p in list_protocols(m)]
    ['within', 'composer', 'soundfont: A', 'soundfont: B']
    """
    found = [Protocol("within"), Protocol("composer")]
    pieces = manifest.drop_duplicates("piece")
    for kind, column in HELD_OUT_COLUMNS.items():
        if column not in pieces.columns:
            continue
        counts = pieces[column][pieces[column] != ""].value_counts()
        for value in sorted(counts.index):
            inside = pieces[column] == value
            if kind == "texture" and (value == "unknown" or pieces.loc[inside, "period"].nunique()
                                      < min_texture_periods):
                continue
            testable = inside & pieces["period"].isin(set(pieces.loc[~inside, "period"]))
            if testable.sum() >= min_pieces:
                found.append(Protocol(kind, value))
    return found


@dataclass
class Recipe:
    """What a protocol trains: a store, its sampling, and the training configuration.

    Attributes
    ----------
    name : str
    config : cclib.training.TrainConfig
    store : path or None
        Train on this slice store instead of the protocol's (None: the same).
    method : str
        ``per-composer`` (the study's "100 spectrograms") or ``all``.
    per_composer : int
    per_period : int or None
        See :func:`cclib.sampling.cap_periods`.
    max_ensemble_share : float or None
        See :func:`cclib.sampling.balance_ensembles`.
    """

    name: str
    config: object
    store: str | Path | None = None
    method: str = "per-composer"
    per_composer: int = 100
    max_ensemble_share: float | None = None
    per_period: int | None = None

    def describe(self) -> dict:
        return {"name": self.name, "store": str(self.store) if self.store else None,
                "method": self.method, "per_composer": self.per_composer,
                "per_period": self.per_period, "max_ensemble_share": self.max_ensemble_share,
                "train": asdict(self.config)}

    @property
    def sampling(self) -> dict:
        """The :func:`cclib.sampling.make_dataset` arguments of this recipe's draw."""
        return {"method": self.method, "per_composer": self.per_composer,
                "per_period": self.per_period}

    @classmethod
    def parse(cls, text: str, *, steps: int = 6000) -> "Recipe":
        """A recipe from ``NAME[:key=value,...]``, as ``cclib protocols --recipe`` takes it.

        Keys: ``study`` (1: start from the study's recipe), ``balance`` (0/1),
        ``augment`` (copies), ``normalize``, ``erase`` (columns joined by +),
        ``mode``, ``steps``, ``share`` (the largest ensemble share of a
        period's training slices), ``per`` (slices per composer), ``period``
        (at most this many slices per period), ``store``
        (train on another slice store: the corpus as it was).

        Examples
        --------
        >>> recipe = Recipe.parse("old:study=1,store=data/old,share=0.5", steps=600)
        >>> recipe.name, recipe.config.balance, recipe.config.steps, recipe.max_ensemble_share
        ('old', False, 600, 0.5)
        >>> Recipe.parse("x:colour=red")
        Traceback (most recent call last):
        ...
        cclib.protocols.ProtocolError: --recipe x:colour=red: unknown option 'colour'
        """
        from cclib.training import TrainConfig

        name, _, options = text.partition(":")
        try:
            values = dict(item.split("=", 1) for item in options.split(",") if item)
        except ValueError:
            raise ProtocolError(f"--recipe {text}: options are key=value pairs") from None
        casts = {"balance": lambda v: v == "1", "augment": int, "normalize": str,
                 "erase": lambda v: tuple(v.split("+")), "mode": str, "steps": int}
        try:
            config = {key: casts[key](values.pop(key)) for key in list(values) if key in casts}
            share, per = values.pop("share", None), values.pop("per", None)
            period = values.pop("period", None)
            store, study = values.pop("store", None), values.pop("study", "0")
            if values:
                raise ProtocolError(f"unknown option {sorted(values)[0]!r}")
            base = TrainConfig.named("study" if study == "1" else "project",
                                     **{"steps": steps, **config})
            return cls(name or "recipe", base, store=store, per_composer=int(per or 100),
                       max_ensemble_share=float(share) if share else None,
                       per_period=int(period) if period else None)
        except ValueError as error:
            raise ProtocolError(f"--recipe {text}: {error}") from None


def compared_recipes(*, steps: int = 6000, input_size: int = 128, per_composer: int = 100,
                     old_corpus: str | Path | None = None) -> list[Recipe]:
    """The recipes notebook 08 sets side by side: the project's, the study's, and (given
    ``old_corpus``, the study's corpus as it was) the study's trained there.

    Examples
    --------
    >>> [recipe.name for recipe in compared_recipes(old_corpus="data/spectrograms-music21")]
    ['project', 'study', 'old-corpus']
    """
    from cclib.training import TrainConfig

    settings = {"steps": steps, "input_size": input_size}
    recipes = [Recipe(name, TrainConfig.named(name, **settings), per_composer=per_composer)
               for name in ("project", "study")]
    if old_corpus:
        recipes.append(Recipe("old-corpus", TrainConfig.named("study", **settings),
                              store=old_corpus, per_composer=per_composer))
    return recipes


def protocol_dataset(manifest: pd.DataFrame, protocol: Protocol, recipe: Recipe, *, seed: int):
    """The protocol's dataset for one seed, drawn as the recipe draws (before any balancing)."""
    return make_dataset(manifest, **recipe.sampling, seed=seed, **protocol.sampling())


def rebalanced(dataset: pd.DataFrame, summary: dict, recipe: Recipe, *, seed: int):
    """A protocol dataset with the recipe's ensemble balance applied to its training split."""
    from cclib.sampling import balance_ensembles, ensemble_mix

    if recipe.max_ensemble_share is None:
        return dataset, summary
    rng = np.random.default_rng([seed, 7])
    balanced = balance_ensembles(dataset, recipe.max_ensemble_share, rng).reset_index(drop=True)
    parameters = {**summary["parameters"], "max_ensemble_share": recipe.max_ensemble_share}
    return balanced, {**summary, "parameters": parameters, "slices": int(len(balanced)),
                      "ensembles": ensemble_mix(balanced)}


def foreign_training_set(manifest: pd.DataFrame, test: pd.DataFrame, protocol: Protocol,
                         recipe: Recipe, *, seed: int):
    """A dataset from another store that leaves out whatever the protocol's test holds.

    Every work group of the test, and for the composer protocol every test
    composer, is removed; for the texture and soundfont protocols, the held-out
    texture or soundfont too. What is left is split into training and
    validation only.
    """
    keep = ~manifest["work"].isin(test["work"])
    if protocol.kind == "composer":
        keep &= ~manifest["composer"].isin(test["composer"])
    if protocol.kind in HELD_OUT_COLUMNS:
        keep &= manifest[HELD_OUT_COLUMNS[protocol.kind]] != protocol.held_out
    return make_training_set(manifest[keep], **recipe.sampling,
                             max_ensemble_share=recipe.max_ensemble_share, seed=seed)


def score_rows(period_model, rows: pd.DataFrame, store: str | Path, *,
               cache_root: str | Path | None = None) -> dict:
    """A model's scores on some slices of a store: balanced accuracy over the periods they hold.

    A period the model does not know counts as missed (recall 0).

    Returns
    -------
    scores : dict
        ``slice`` and ``piece`` (accuracy, balanced accuracy, macro-F1),
        ``n_slices``, ``n_pieces``, ``periods`` (the test's, in order) and
        ``out_of_domain_share`` (of test pieces above the model's threshold).
    """
    from cclib.periods import sort_periods
    from cclib.relations import store_embeddings

    embeddings, probabilities = store_embeddings(period_model, store, rows, cache_root=cache_root)
    pieces = rows["piece"].to_numpy()
    over = None
    if period_model.domain is not None:
        piece_ood = pd.Series(period_model.domain.slice_scores(embeddings)).groupby(pieces).mean()
        over = round(float((piece_ood > period_model.domain.threshold).mean()), 4)
    periods = sort_periods(set(rows["period"]) | set(period_model.classes))
    position = {p: i for i, p in enumerate(periods)}
    known = np.array([position[c] for c in period_model.classes])
    truth = rows["period"].map(position).to_numpy()
    verdicts = pd.DataFrame(probabilities).groupby(rows["piece"].to_numpy()).mean()
    piece_truth = pd.Series(truth).groupby(rows["piece"].to_numpy()).first().loc[verdicts.index]
    return {"slice": scores(truth, known[probabilities.argmax(axis=1)], len(periods)),
            "piece": scores(piece_truth.to_numpy(), known[verdicts.to_numpy().argmax(axis=1)],
                            len(periods)),
            "n_slices": int(len(rows)), "n_pieces": int(rows["piece"].nunique()),
            "periods": sorted(set(rows["period"]), key=periods.index),
            "out_of_domain_share": over}


def run_protocol(store: str | Path, protocol: Protocol, recipes, *, seed: int, out: str | Path,
                 cache_root: str | Path | None = None) -> list[dict]:
    """Train every recipe under one protocol and seed; score each on the same test slices.

    Parameters
    ----------
    store : path
        The slice store the protocol's test comes from.
    protocol : Protocol
    recipes : list of Recipe
        The first recipe trained on ``store`` defines the test split. A recipe
        on another store that holds nothing outside the test (the study's
        one-soundfont corpus when that soundfont is held out) gives no row.
    seed : int
    out : path
        Scratch folder for datasets and models, kept: a rerun with the same
        recipes and seed reuses them, one with other settings is refused.
        ``<protocol>-<seed>-coverage.csv`` there is the :func:`coverage` of
        the home recipe's dataset: what it trained and tested on.

    Returns
    -------
    rows : list of dict
        One per recipe and model (``mobilenet``, and ``reference`` where the
        recipe trains on ``store``): protocol, seed, recipe, scores.

    Raises
    ------
    CclibError
        If a dataset or model in ``out`` was made with other settings (another
        recipe, seed or store).
    """
    from cclib.classify import load_period_model

    from cclib.fileio import atomic_path

    store, out = Path(store), Path(out)
    manifest = read_manifest(store)
    home = next(r for r in recipes if r.store is None)
    dataset, summary = protocol_dataset(manifest, protocol, home, seed=seed)
    test = dataset[dataset["split"] == "test"]
    stem = f"{protocol.slug}-{seed}"
    results = []
    for recipe in recipes:
        folder = out / f"{stem}-{recipe.name}"
        if recipe.store is None:
            if recipe.sampling != home.sampling:
                raise ProtocolError(f"recipe {recipe.name}: draws otherwise than {home.name} "
                                    "from the same store, so its training could hold test slices")
            train_set, train_summary = rebalanced(dataset, summary, recipe, seed=seed)
            train_store = store
        else:
            train_store = Path(recipe.store)
            try:
                train_set, train_summary = foreign_training_set(read_manifest(train_store), test,
                                                                protocol, recipe, seed=seed)
            except SamplingError:  # the other store holds nothing outside the test's music
                continue
        metrics = _train_once(train_set, train_summary, train_store, folder, recipe, seed,
                              cache_root)
        model = load_period_model(folder / "model")
        row = {"protocol": protocol.name, "kind": protocol.kind, "held_out": protocol.held_out,
               "seed": seed, "recipe": recipe.name, "train_slices": int(
                   (train_set["split"] == "train").sum()),
               "classes": len(model.classes)}
        mine = score_rows(model, test, store, cache_root=cache_root)
        results.append({**row, "model": "mobilenet", **_flat(mine),
                        "ece": metrics["calibration"]["test_ece_after"]
                        if recipe.store is None else np.nan})
        if recipe.store is None:
            reference = metrics["test"]["reference"]
            results.append({**row, "model": "reference",
                            "slice_balanced": reference["slice"]["balanced_accuracy"],
                            "piece_balanced": reference["piece"]["balanced_accuracy"],
                            "piece_accuracy": reference["piece"]["accuracy"],
                            "n_pieces": mine["n_pieces"], "n_slices": mine["n_slices"],
                            "chance": round(1 / len(mine["periods"]), 4)})
    with atomic_path(coverage_path(out, protocol, seed)) as tmp:  # once every run is made
        coverage(dataset).to_csv(tmp)
    return results


def _train_once(dataset, summary, store, folder: Path, recipe: Recipe, seed: int, cache_root):
    """Write the dataset and train the recipe on it, unless an earlier run did with the same
    settings (a dataset or model in ``folder`` made otherwise is refused, never reused)."""
    from cclib.training import train_model

    write_dataset(dataset, summary, store, folder / "dataset", reuse=True)
    config = replace(recipe.config, seed=seed, export=False)
    return train_model(folder / "dataset", folder / "model", config, cache_root=cache_root,
                       reuse=True)


def _flat(found: dict) -> dict:
    return {"slice_balanced": found["slice"]["balanced_accuracy"],
            "piece_balanced": found["piece"]["balanced_accuracy"],
            "piece_accuracy": found["piece"]["accuracy"],
            "n_pieces": found["n_pieces"], "n_slices": found["n_slices"],
            "chance": round(1 / len(found["periods"]), 4),
            "out_of_domain_share": found["out_of_domain_share"]}


def select_protocols(manifest: pd.DataFrame, names=None, *, min_pieces: int = 6) -> list[Protocol]:
    """The protocols a store allows (:func:`list_protocols`), or those of them named.

    Raises
    ------
    ProtocolError
        A name the store does not allow, with the names it does.
    """
    found = list_protocols(manifest, min_pieces=min_pieces)
    if not names:
        return found
    by_name = {protocol.name: protocol for protocol in found}
    wanted = [name.strip() for name in names if name.strip()]
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise ProtocolError(f"--protocols: {unknown[0]!r} is not a protocol of this store "
                            f"(it has: {', '.join(by_name)})")
    return [by_name[name] for name in wanted]


def run_protocols(store: str | Path, recipes, protocols, *, seeds=range(5), out: str | Path,
                  cache_root: str | Path | None = None, report=None) -> list[dict]:
    """Every protocol × seed of :func:`run_protocol`, with ``runs.csv`` written as it goes.

    The one loop behind ``cclib protocols``, ``make generalization`` and
    notebook 08. ``report(protocol, seed, rows)``, when given, is called after
    each protocol and seed (the command prints a line). Runs an earlier call
    left in ``out`` with the same settings are reused, so a stopped run
    resumes.

    Returns
    -------
    rows : list of dict
        One per protocol, seed, recipe and model (see :func:`run_protocol`).
    """
    from cclib.fileio import atomic_path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for protocol in protocols:
        for seed in seeds:
            found = run_protocol(store, protocol, recipes, seed=seed, out=out,
                                 cache_root=cache_root)
            rows += found
            with atomic_path(out / "runs.csv") as tmp:
                pd.DataFrame(rows).to_csv(tmp, index=False)
            if report is not None:
                report(protocol, seed, found)
    return rows


def coverage(dataset: pd.DataFrame) -> pd.DataFrame:
    """What a protocol's dataset trains and tests on: pieces per period and ensemble.

    Returns
    -------
    table : pandas.DataFrame
        Index: period (in order); columns: ensembles; cells ``"train / test"``
        piece counts ("" where neither has any).

    Examples
    --------
    >>> rows = pd.DataFrame({"piece": ["a", "b", "c"], "period": ["baroque"] * 3,
    ...                      "ensemble": ["organ", "organ", "voices"],
    ...                      "split": ["train", "test", "train"]})
    >>> coverage(rows).loc["baroque"].tolist()
    ['1 / 1', '1 / 0']
    """
    from cclib.periods import sort_periods

    pieces = dataset[dataset["split"].isin(["train", "test"])].drop_duplicates(["piece", "split"])
    counts = pieces.groupby(["period", "ensemble", "split"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=["train", "test"], fill_value=0)
    cells = (counts["train"].astype(str) + " / " + counts["test"].astype(str)).where(
        counts.sum(axis=1) > 0, "")
    table = cells.unstack(fill_value="")
    return table.reindex(sort_periods(table.index)).rename_axis(columns=None)


def coverage_path(out: str | Path, protocol: Protocol, seed: int) -> Path:
    """Where :func:`run_protocol` writes a protocol's :func:`coverage` for one seed."""
    return Path(out) / f"{protocol.slug}-{seed}-coverage.csv"


def read_coverage(out: str | Path, protocol: Protocol, seed: int = 0) -> pd.DataFrame:
    """The :func:`coverage` table a run left in ``out``."""
    return pd.read_csv(coverage_path(out, protocol, seed), index_col=0, keep_default_na=False)


def summarise(rows) -> pd.DataFrame:
    """Mean, min and max over seeds of the piece- and slice-level balanced accuracy.

    Returns
    -------
    table : pandas.DataFrame
        Index: protocol, recipe, model; columns: seeds, test pieces and
        slices (per seed), then mean, min and max of the balanced accuracy
        of test pieces and of test slices (in %), headed in words.
    """
    frame = pd.DataFrame(rows)
    grouped = frame.groupby(["protocol", "recipe", "model"], sort=False)
    scores = grouped[["piece_balanced", "slice_balanced"]].agg(["mean", "min", "max"]) * 100
    words = {"piece_balanced": "pieces", "slice_balanced": "slices"}
    scores.columns = [f"{words[measure]} {stat}" for measure, stat in scores.columns]
    table = pd.DataFrame({"seeds": grouped["seed"].nunique(),
                          "test pieces": grouped["n_pieces"].mean().round(1),
                          "test slices": grouped["n_slices"].mean().round(1)}).join(scores)
    table.columns.name = "balanced accuracy, %"
    return table.round(1)


def reading(rows) -> list[str]:
    """One sentence per protocol, with the numbers of the run: what a reader should take away.

    Examples
    --------
    >>> rows = [{"protocol": "within", "recipe": "project", "model": "mobilenet", "seed": 0,
    ...          "piece_balanced": 0.6, "n_pieces": 40, "chance": 0.25},
    ...         {"protocol": "within", "recipe": "project", "model": "reference", "seed": 0,
    ...          "piece_balanced": 0.5, "n_pieces": 40, "chance": 0.25}]
    >>> reading(rows)[0]
    'within: project MobileNet 60% (1 seed), project reference 50%; chance 25%, 40 test pieces. Best: project MobileNet, 10 points above the next.'
    """
    frame = pd.DataFrame(rows)
    lines = []
    for protocol, group in frame.groupby("protocol", sort=False):
        means = group.groupby(["recipe", "model"], sort=False)["piece_balanced"].mean() * 100
        seeds = group["seed"].nunique()
        parts = [f"{recipe} {'MobileNet' if model == 'mobilenet' else 'reference'} {value:.0f}%"
                 for (recipe, model), value in means.items()]
        parts[0] += f" ({seeds} seed{'s' if seeds > 1 else ''})"
        ranked = means.sort_values(ascending=False)
        best = ranked.index[0]
        lead = (f", {ranked.iloc[0] - ranked.iloc[1]:.0f} points above the next"
                if len(ranked) > 1 else "")
        lines.append(f"{protocol}: {', '.join(parts)}; chance {100 * group['chance'].mean():.0f}%, "
                     f"{group['n_pieces'].mean():.0f} test pieces. Best: {best[0]} "
                     f"{'MobileNet' if best[1] == 'mobilenet' else 'reference'}{lead}.")
    return lines
