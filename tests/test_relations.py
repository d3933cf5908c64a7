"""Period clustering, the composer map and the instrumentation experiment."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import fcluster

from cclib.classify import load_period_model
from cclib.relations import (cluster, composer_table, confused_pairs, confusion_distances,
                             instrument_reading, map_2d, nearest, pooled_period_matrices,
                             profile_distances, store_embeddings)
from cclib.store import load_slices, read_manifest

PERIODS = ["renaissance", "baroque", "classical", "romantic"]
#: Renaissance and baroque are heard as each other, classical and romantic too.
CONFUSION = np.array([[60, 30, 5, 5],
                      [25, 65, 5, 5],
                      [4, 6, 50, 40],
                      [5, 5, 35, 55]])


def two_groups(linkage_matrix) -> list[set]:
    labels = fcluster(linkage_matrix, 2, criterion="maxclust")
    return sorted(({PERIODS[i] for i in np.flatnonzero(labels == k)} for k in set(labels)),
                  key=sorted)


def test_periods_confused_with_each_other_cluster_together():
    distances = confusion_distances(CONFUSION)
    assert np.allclose(distances, distances.T) and np.all(np.diag(distances) == 0)
    assert distances[0, 1] < distances[0, 2]
    assert two_groups(cluster(distances)) == [{"baroque", "renaissance"}, {"classical", "romantic"}]


def test_periods_with_similar_probability_profiles_cluster_together():
    profiles = CONFUSION / CONFUSION.sum(axis=1, keepdims=True)
    distances = profile_distances(profiles)
    assert distances.shape == (4, 4) and np.all((distances >= 0) & (distances <= 1))
    assert two_groups(cluster(distances)) == [{"baroque", "renaissance"}, {"classical", "romantic"}]


def test_confused_pairs_names_the_largest_confusions_with_their_shares():
    table = confused_pairs(CONFUSION, PERIODS, top=3)
    assert table[["period", "heard_as"]].values.tolist() == [
        ["classical", "romantic"], ["romantic", "classical"], ["renaissance", "baroque"]]
    assert table["share"].tolist() == [0.4, 0.35, 0.3]
    assert table["slices"].tolist() == [40, 35, 30]


def write_trial(folder, classes, confusion, profiles):
    folder.mkdir(parents=True)
    scores = {"confusion_matrix": confusion, "mean_probabilities": profiles}
    (folder / "metrics.json").write_text(json.dumps(
        {"classes": classes, "test": {"mobilenet": scores}}))
    return folder


def test_pooling_aligns_trials_with_different_periods_and_weights_profiles_by_slices(tmp_path):
    a = write_trial(tmp_path / "a", ["baroque", "romantic"], [[3, 1], [0, 0]],
                    [[0.8, 0.2], [0.0, 0.0]])
    b = write_trial(tmp_path / "b", ["renaissance", "baroque"], [[2, 0], [1, 0]],
                    [[0.9, 0.1], [0.4, 0.6]])
    confusion, profiles, classes = pooled_period_matrices([a, b])
    assert classes == ["renaissance", "baroque", "romantic"]
    assert confusion.tolist() == [[2, 0, 0], [1, 3, 1], [0, 0, 0]]
    # baroque: 4 slices in a with (0, .8, .2), 1 in b with (.4, .6, 0)
    np.testing.assert_allclose(profiles[1], [0.4 / 5, (4 * 0.8 + 0.6) / 5, 0.8 / 5])
    np.testing.assert_allclose(profiles[0], [0.9, 0.1, 0.0])


def test_nearest_composers_and_the_map_keep_groups_apart():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1, (2, 64)) * 5
    means = np.vstack([centres[k] + rng.normal(0, 0.3, (4, 64)) for k in (0, 1)])
    names = [f"A{i}" for i in range(4)] + [f"B{i}" for i in range(4)]
    table = nearest(means, names, k=3)
    for name, row in table.iterrows():
        assert all(cell.startswith(name[0]) for cell in row), (name, row.tolist())
    for method in ("pca", "tsne"):
        xy = map_2d(means, method=method, seed=1)
        assert xy.shape == (8, 2)
        np.testing.assert_array_equal(xy, map_2d(means, method=method, seed=1))
        inside = max(np.ptp(xy[:4], axis=0).max(), np.ptp(xy[4:], axis=0).max())
        between = np.linalg.norm(xy[:4].mean(axis=0) - xy[4:].mean(axis=0))
        assert between > inside, method
    with pytest.raises(ValueError, match="choose pca, tsne or umap"):
        map_2d(means, method="mds")


def test_composer_table_averages_each_composer_in_period_order():
    rows = pd.DataFrame({"composer": ["Mozart", "Bach", "Bach", "Mozart"],
                         "period": ["classical", "baroque", "baroque", "classical"]})
    embeddings = np.array([[1.0, 0], [0, 1], [0, 3], [3, 0]])
    probabilities = np.array([[0.2, 0.8], [0.9, 0.1], [0.7, 0.3], [0.4, 0.6]])
    table, means = composer_table(rows, embeddings, probabilities, ["baroque", "classical"])
    assert table.index.tolist() == ["Bach", "Mozart"]
    assert table["slices"].tolist() == [2, 2]
    assert table["heard_as"].tolist() == ["baroque", "classical"]
    np.testing.assert_allclose(table[["baroque", "classical"]], [[0.8, 0.2], [0.3, 0.7]])
    np.testing.assert_allclose(means, [[0, 2], [2, 0]])


@pytest.mark.slow
def test_store_embeddings_give_the_models_own_probabilities(trial_runs, tmp_path):
    period_model = load_period_model(trial_runs / "runs" / "piece" / "trial-00")
    store = trial_runs / "store"
    rows = read_manifest(store).iloc[::7].reset_index(drop=True)
    embeddings, probabilities = store_embeddings(period_model, store, rows, cache_root=tmp_path)
    assert embeddings.shape == (len(rows), 1280)
    expected = period_model.predict(load_slices(store, rows))
    np.testing.assert_allclose(probabilities, expected, atol=1e-4)
    assert list(tmp_path.glob("*/*.npy")), "the embeddings went to the bottleneck cache"


@pytest.mark.slow
def test_instrumentation_trains_on_one_instrument_and_tests_on_each(instrument_experiment):
    out, datasets, table = instrument_experiment
    piano, strings = (pd.read_csv(datasets[n] / "manifest.csv") for n in ("piano", "strings"))
    assert piano[["slice_id", "split"]].equals(strings[["slice_id", "split"]])
    assert (piano.path != strings.path).all()  # each points into its own store
    assert table.index.tolist() == table.columns.tolist() == ["piano", "strings"]
    assert table.notna().all().all() and ((table >= 0) & (table <= 1)).all().all()
    assert (out / "instrumentation" / "model-strings" / "model.keras").exists()
    test = piano[piano.split == "test"]
    assert table.attrs == {"chance": 0.5, "test_slices": len(test),
                           "test_pieces": test.piece.nunique(), "test_periods": 2}
    assert instrument_reading(table)[0].startswith(f"Balanced accuracy of {len(test)} test slices")
