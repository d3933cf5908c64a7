"""Sampling algorithms and split protocols, as properties over generated manifests."""

import json
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cclib.sampling import (SamplingError, drop_single_piece_composers, leakage, make_dataset,
                            parse_fractions, read_dataset, select_slices,
                            split_by_composer, split_by_piece, split_by_slice, write_dataset)
from cclib.store import StoreError

FRACTIONS = (0.7, 0.1, 0.2)


def manifest_from(shape) -> pd.DataFrame:
    """shape: {period: {composer: [slices per piece, ...]}} → a manifest like the store's."""
    rows = []
    for period, composers in shape.items():
        for composer, pieces in composers.items():
            for number, n_slices in enumerate(pieces, 1):
                piece = f"{composer}_{number}"
                rows += [{"slice_id": f"{piece}_{i + 1}", "piece": piece, "composer": composer,
                          "period": period, "index": i, "start_s": 3.0 * i,
                          "path": f"slices/{piece}.npy", "row": i} for i in range(n_slices)]
    return pd.DataFrame(rows)


@st.composite
def manifests(draw, max_periods=4, max_composers=4, max_pieces=6, max_slices=40):
    shape = {}
    for p in range(draw(st.integers(1, max_periods))):
        shape[f"period{p}"] = {
            f"C{p}x{c}": draw(st.lists(st.integers(1, max_slices), min_size=1, max_size=max_pieces))
            for c in range(draw(st.integers(1, max_composers)))}
    return manifest_from(shape)


seeds = st.integers(0, 2**32 - 1)
common = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(manifests(), seeds, st.integers(1, 120))
def test_per_composer_draws_n_slices_each_at_most_once(manifest, seed, n):
    selected = select_slices(manifest, method="per-composer", per_composer=n, seed=seed)
    assert selected["slice_id"].is_unique
    available = manifest.groupby("composer").size()
    drawn = selected.groupby("composer").size().reindex(available.index, fill_value=0)
    assert (drawn == np.minimum(available, n)).all()


@common
@given(manifests(), seeds)
def test_all_uses_every_slice_exactly_once(manifest, seed):
    selected = select_slices(manifest, method="all", seed=seed)
    assert sorted(selected["slice_id"]) == sorted(manifest["slice_id"])


@common
@given(manifests(), seeds, st.integers(1, 60))
def test_draws_go_round_robin_over_a_composers_pieces(manifest, seed, n):
    selected = select_slices(manifest, method="per-composer", per_composer=n, seed=seed)
    available = manifest.groupby("piece").size()
    for _, group in selected.groupby("composer"):
        taken = group.groupby("piece").size()
        pieces = manifest.loc[manifest.composer == group.composer.iloc[0], "piece"].unique()
        taken = taken.reindex(pieces, fill_value=0)
        unfinished = taken[taken < available[taken.index]]
        if len(unfinished):  # no piece is more than one round ahead of an unfinished one
            assert taken.max() <= unfinished.min() + 1


@common
@given(manifests(), st.integers(1, 4))
def test_composers_with_too_few_pieces_are_dropped(manifest, min_pieces):
    kept, dropped = drop_single_piece_composers(manifest, min_pieces=min_pieces)
    assert (kept.groupby("composer")["piece"].nunique() >= min_pieces).all()
    assert not set(dropped) & set(kept.composer)
    assert set(dropped) | set(kept.composer) == set(manifest.composer)


@common
@given(manifests(), seeds)
def test_slice_split_meets_fractions_within_one_slice_per_period(manifest, seed):
    codes = split_by_slice(manifest, FRACTIONS, np.random.default_rng(seed))
    for period, group in pd.Series(codes).groupby(manifest["period"].to_numpy()):
        for k, fraction in enumerate(FRACTIONS):
            assert abs((group == k).sum() - fraction * len(group)) <= 1
        if len(group) >= 2:
            assert {0, 1} <= set(group)


@common
@given(manifests(), seeds)
def test_piece_split_keeps_each_piece_in_one_split(manifest, seed):
    codes = split_by_piece(manifest, FRACTIONS, np.random.default_rng(seed))
    per_piece = pd.Series(codes).groupby(manifest["piece"].to_numpy()).nunique()
    assert (per_piece == 1).all()
    for _, group in manifest.assign(split=codes).groupby("period"):
        if group.piece.nunique() >= 2:  # two pieces suffice for training and test
            assert {0, 1} <= set(group.split)


@common
@given(manifests(), seeds)
def test_composer_split_keeps_test_composers_apart(manifest, seed):
    codes, left_out = split_by_composer(manifest, FRACTIONS, np.random.default_rng(seed))
    frame = manifest.assign(split=codes)
    test_composers = set(frame.composer[frame.split == 1])
    assert not test_composers & set(frame.composer[frame.split.isin([0, 2])])
    n_composers = manifest.groupby("period").composer.nunique()
    assert set(left_out) == set(n_composers.index[n_composers < 2])
    assert (frame.split[frame.period.isin(left_out)] == -1).all()
    for period in set(n_composers.index) - set(left_out):
        assert {0, 1} <= set(frame.split[frame.period == period])


@common
@given(manifests(max_periods=3), seeds, st.sampled_from(["slice", "piece", "composer"]),
       st.sampled_from(["per-composer", "all"]))
def test_same_seed_same_dataset_and_leakage_figures_hold(manifest, seed, split, method):
    try:
        first, summary = make_dataset(manifest, method=method, per_composer=30, split=split,
                                      seed=seed)
    except SamplingError:
        return  # refusals have their own tests
    again, _ = make_dataset(manifest.sample(frac=1, random_state=1), method=method,
                            per_composer=30, split=split, seed=seed)
    pd.testing.assert_frame_equal(first, again)  # row order of the input does not matter
    assert summary["leakage"] == leakage(first)
    if split == "piece":
        assert summary["leakage"]["test_piece_in_train"] == 0
    if split == "composer":
        assert summary["leakage"]["test_composer_in_train"] == 0


def realistic_manifest():
    shape = {"baroque": {"Bach": [30] * 8, "Handel": [25] * 3, "Corelli": [20]},
             "classical": {"Mozart": [40] * 6, "Haydn": [35] * 5},
             "romantic": {"Chopin": [12] * 9, "Liszt": [50] * 2},
             "impressionist": {"Debussy": [30] * 4}}
    return manifest_from(shape)


def test_another_seed_gives_another_draw():
    manifest = realistic_manifest()
    a, _ = make_dataset(manifest, seed=1)
    b, _ = make_dataset(manifest, seed=2)
    assert set(a.slice_id) != set(b.slice_id)  # another draw of slices
    both = a.merge(b, on="slice_id", suffixes=("_a", "_b"))
    assert len(both) and (both.split_a != both.split_b).any()  # and another split of them


def test_slice_split_leaks_and_the_summary_says_so():
    dataset, summary = make_dataset(realistic_manifest(), method="all", split="slice", seed=0)
    assert summary["leakage"]["test_piece_in_train"] > 0.9
    assert summary["dropped_composers"] == ["Corelli"]


def test_composer_split_names_the_period_it_leaves_out():
    dataset, summary = make_dataset(realistic_manifest(), split="composer", seed=0)
    assert summary["periods_left_out"] == {"impressionist": "fewer than two composers"}
    assert "impressionist" not in summary["classes"]
    assert summary["leakage"]["test_composer_in_train"] == 0


def test_requested_periods_without_data_are_named_not_made_classes():
    _, summary = make_dataset(realistic_manifest(), periods=["baroque", "classical",
                                                             "21stcentury"], seed=0)
    assert summary["classes"] == ["baroque", "classical"]
    assert summary["periods_without_data"] == ["21stcentury"]


@pytest.mark.parametrize("kwargs, message", [
    ({"fractions": (0.7, 0.2, 0.2)}, "sum to 1.1"),
    ({"fractions": (0.9, 0.0, 0.1)}, "training and test"),
    ({"split": "random"}, "is not one of slice, piece, composer"),
    ({"periods": ["medieval"]}, "no period has data"),
])
def test_bad_requests_are_refused(kwargs, message):
    with pytest.raises(SamplingError, match=message):
        make_dataset(realistic_manifest(), **kwargs)


def test_a_period_without_test_data_is_refused():
    manifest = manifest_from({"baroque": {"Bach": [10, 10]}, "classical": {"Haydn": [10, 10]}})
    with pytest.raises(SamplingError, match="no test data under the 'composer'|two composers"):
        make_dataset(manifest, split="composer")
    lonely = manifest_from({"baroque": {"Bach": [10, 10]}, "classical": {"Haydn": [30]}})
    with pytest.raises(SamplingError, match="'classical' would have no test data"):
        make_dataset(lonely, split="piece", min_pieces=1)


@common
@given(manifests(max_periods=3, max_composers=4), seeds, st.integers(1, 60))
def test_a_period_cap_keeps_each_composers_first_draws_in_turn(manifest, seed, cap):
    uncapped = select_slices(manifest, per_composer=30, seed=seed)
    capped = select_slices(manifest, per_composer=30, per_period=cap, seed=seed)
    assert capped.equals(select_slices(manifest, per_composer=30, per_period=cap, seed=seed))
    for period, group in uncapped.groupby("period"):
        kept = capped[capped.period == period]
        assert len(kept) == min(cap, len(group))  # a thin period keeps everything
        assert set(kept.slice_id) <= set(group.slice_id)
        # draw by draw: no composer's k-th slice is kept while another's (k-2)-th is dropped
        have = group.composer.value_counts()
        counts = kept.composer.value_counts().reindex(have.index, fill_value=0)
        short = counts[counts < have]  # composers cut by the cap
        assert short.empty or counts.max() <= short.min() + 1


def test_a_period_cap_is_recorded_and_checked():
    manifest = realistic_manifest()
    dataset, summary = make_dataset(manifest, per_period=150, seed=0)
    assert summary["parameters"]["per_period"] == 150
    assert dataset.groupby("period").size().max() <= 150
    with pytest.raises(SamplingError, match="--per-period: must be at least 1"):
        make_dataset(manifest, per_period=0)


def test_parse_fractions():
    assert parse_fractions("0.7,0.1,0.2") == FRACTIONS
    with pytest.raises(SamplingError):
        parse_fractions("0.7,0.3")


def test_written_dataset_references_the_store_and_refuses_another(tmp_path):
    manifest = realistic_manifest()
    store = tmp_path / "store"
    (store / "slices").mkdir(parents=True)
    for piece, group in manifest.groupby("piece"):
        np.save(store / "slices" / f"{piece}.npy", np.zeros((len(group), 4, 5), np.float16))
    images = store / "Bach_1_spectrograms"  # as `cclib spectrograms --png` leaves them
    images.mkdir()
    for slice_name in manifest.slice_id[manifest.piece == "Bach_1"]:
        (images / f"{slice_name}.png").write_bytes(b"png")
    dataset, summary = make_dataset(manifest, seed=3)
    out = tmp_path / "datasets" / "demo"
    write_dataset(dataset, summary, store, out)
    written = read_dataset(out)
    assert len(written) == len(dataset)
    assert all(np.load(p).shape[1:] == (4, 5) for p in written.path.unique())
    for (split, period), group in dataset.groupby(["split", "period"]):
        listed = pd.read_csv(out / split / period / "slices.csv")
        assert sorted(listed.slice_id) == sorted(group.slice_id)
    assert {p.name for p in (out / "train").iterdir()} == set(summary["classes"])
    bach_1 = dataset[dataset.piece == "Bach_1"].iloc[0]
    link = out / bach_1.split / "baroque" / f"{bach_1.slice_id}.png"
    assert link.is_symlink() and link.read_bytes() == b"png"
    assert json.loads((out / "summary.json").read_text())["parameters"]["seed"] == 3
    write_dataset(dataset, summary, store, out)  # the same dataset again is fine
    _, other = make_dataset(manifest, seed=4)
    with pytest.raises(SamplingError, match="holds another dataset"):
        write_dataset(dataset, other, store, out)

    rows = (out / "manifest.csv").read_text()
    first = written.path.iloc[0]
    relative = os.path.relpath(first, out)
    (out / "manifest.csv").write_text(rows.replace(relative, "../../../elsewhere.npy", 1))
    with pytest.raises(StoreError, match="lies outside"):
        read_dataset(out)
