"""The bottleneck cache, with a counting embedder in place of the network.

The same cache with MobileNet's real embeddings, shared by trials, is
tested in test_training.py.
"""

import numpy as np
import pandas as pd
import pytest

from cclib.bottlenecks import BottleneckCache
from cclib.store import StoreError, file_digest


class CountingEmbedder:
    """Each slice's embedding is its mean and its maximum; counts the slices it is given."""

    def __init__(self):
        self.seen = 0

    def __call__(self, slices):
        self.seen += len(slices)
        return np.stack([slices.mean(axis=(1, 2)), slices.max(axis=(1, 2))], axis=1)


@pytest.fixture
def store_rows(tmp_path):
    slices = np.random.default_rng(0).normal(-40, 10, size=(5, 8, 6)).astype(np.float32)
    path = tmp_path / "Bach_1.npy"
    np.save(path, slices)
    rows = pd.DataFrame({"path": str(path), "row": [3, 0, 3], "digest": file_digest(path)})
    return slices, rows


def test_rows_are_embedded_once_and_read_back_in_the_order_asked(tmp_path, store_rows):
    slices, rows = store_rows
    embed = CountingEmbedder()
    cache = BottleneckCache(tmp_path / "cache", embed, dim=2)
    first = cache.embeddings(rows)
    assert first.shape == (3, 2) and embed.seen == 2  # rows 3 and 0, each once
    np.testing.assert_allclose(first[0], [slices[3].mean(), slices[3].max()], rtol=1e-6)
    np.testing.assert_array_equal(first[0], first[2])
    again = BottleneckCache(tmp_path / "cache", embed, dim=2).embeddings(rows.iloc[::-1])
    assert embed.seen == 2  # all from the file
    np.testing.assert_array_equal(again, first[::-1])
    cached = np.load(cache.file_for(rows.digest[0]))
    assert cached.shape == (5, 2) and np.isnan(cached[[1, 2, 4]]).all()  # not asked yet


def _partly_missing(f):
    """Half of one computed row lost: the row is neither whole nor marked missing."""
    cached = np.load(f)
    cached[0, :1] = np.nan
    np.save(f, cached)


@pytest.mark.parametrize("damage, reason", [
    (lambda f: f.write_bytes(f.read_bytes()[:40]), "unreadable"),
    (lambda f: f.write_bytes(b"\x93NUMPY garbage" * 10), "unreadable"),
    (lambda f: np.save(f, np.zeros((5, 2))), "type float64, not float32"),
    (lambda f: np.save(f, np.zeros((5, 3), dtype=np.float32)), "shape (5, 3), not (5, 2)"),
    (lambda f: np.save(f, np.full((5, 2), np.inf, dtype=np.float32)), "infinite"),
    (_partly_missing, "partly missing"),
], ids=["truncated", "garbage", "float64", "shape", "infinite", "partly-missing"])
def test_a_damaged_cache_file_is_named_and_computed_again(tmp_path, store_rows, damage, reason,
                                                          capsys):
    _, rows = store_rows
    embed = CountingEmbedder()
    cache = BottleneckCache(tmp_path / "cache", embed, dim=2)
    good = cache.embeddings(rows)
    damage(cache.file_for(rows.digest[0]))
    np.testing.assert_array_equal(cache.embeddings(rows), good)
    assert embed.seen == 4
    err = capsys.readouterr().err
    assert str(cache.file_for(rows.digest[0])) in err and reason in err and "computed again" in err


def test_a_slice_array_changed_since_its_manifest_is_refused(tmp_path, store_rows):
    slices, rows = store_rows
    np.save(rows.path[0], slices + 1)  # same name, other content
    with pytest.raises(StoreError, match="changed since its manifest was written"):
        BottleneckCache(tmp_path / "cache", CountingEmbedder(), dim=2).embeddings(rows)
