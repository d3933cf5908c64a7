"""The bottleneck cache: each stored slice's embedding, computed once and checked on every read.

The study's recipe trains only a softmax layer on the frozen network's
1280-number output (the "bottleneck"). Computing it is nearly all the cost
of a trial, so it is kept on disk, one file per slice array, named by the
array's content digest (the ``digest`` column of the manifest): a store
rebuilt from other audio at the same path never meets the old embeddings,
and two stores holding the same array share them. Rows are computed when
first asked for; an array's file holds NaN rows for slices not yet needed.

Every read checks the file's shape, type and values: a truncated, corrupt
or non-finite entry is named on stderr and computed again, never used.

Layout::

    <cache root>/<network key>/<digest>.npy               [shape=(n_rows, 1280), float32]
    <cache root>/<network key>/<digest>.aug-<key>.npy      [shape=(copies, n_rows, 1280)]

Notebook: notebooks/04_retrain_mobilenet.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from cclib.augment import Augmentation, augment_rows
from cclib.fileio import atomic_path, remove_stale_temporaries
from cclib.spectrogram import FrontEnd
from cclib.store import StoreError, file_digest


class BottleneckCache:
    """Embeddings of slice-store rows, cached per slice array.

    Parameters
    ----------
    folder : path
        ``<cache root>/<network key>``: one folder per network, input size
        and front end (see :func:`cclib.training.bottleneck_cache_key`).
    embed : callable
        Slices ``[shape=(n, n_bins, frames)]`` → embeddings ``[shape=(n, dim)]``;
        called only for rows not cached yet.
    front_end : FrontEnd
        The front end of the slices (augmentation needs it).
    dim : int
        Length of one embedding.
    """

    def __init__(self, folder: str | Path, embed: Callable[[np.ndarray], np.ndarray], *,
                 front_end: FrontEnd = FrontEnd(), dim: int = 1280):
        self.folder = Path(folder)
        self.embed, self.front_end, self.dim = embed, front_end, dim
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.folder)

    def embeddings(self, rows: pd.DataFrame) -> np.ndarray:
        """The embedding of every row (``path``, ``row``, ``digest`` columns).

        Returns
        -------
        E : np.ndarray [shape=(len(rows), dim), dtype=float32]
        """
        return self._gather(rows, None)

    def augmented(self, rows: pd.DataFrame, settings: Augmentation) -> np.ndarray:
        """The embeddings of every augmented copy of every row.

        Returns
        -------
        E : np.ndarray [shape=(settings.copies, len(rows), dim), dtype=float32]
        """
        return self._gather(rows, settings)

    def _gather(self, rows: pd.DataFrame, settings: Augmentation | None) -> np.ndarray:
        lead = () if settings is None else (settings.copies,)
        out = np.empty(lead + (len(rows), self.dim), dtype=np.float32)
        positions = np.arange(len(rows))
        for (path, digest), where in rows.groupby(["path", "digest"], sort=False).indices.items():
            wanted = rows["row"].to_numpy()[where]
            out[..., positions[where], :] = self._piece(path, digest, wanted, settings)
        return out

    def file_for(self, digest: str, settings: Augmentation | None = None) -> Path:
        """The cache file of one slice array (and augmentation)."""
        suffix = "" if settings is None else f".aug-{settings.key()}"
        return self.folder / f"{digest}{suffix}.npy"

    def _piece(self, path: str, digest: str, wanted: np.ndarray,
               settings: Augmentation | None) -> np.ndarray:
        slices = np.load(path, mmap_mode="r", allow_pickle=False)
        lead = () if settings is None else (settings.copies,)
        shape = lead + (len(slices), self.dim)
        cache_file = self.file_for(digest, settings)
        cached = self._read(cache_file, shape)
        absent = (~np.isfinite(cached[..., wanted, 0])).reshape(-1, len(wanted)).any(axis=0)
        missing = np.unique(wanted[absent])
        if len(missing):
            self._check_content(path, digest)
            cached[..., missing, :] = self._compute(slices, missing, digest, settings)
            with atomic_path(cache_file) as tmp:
                with open(tmp, "wb") as handle:
                    np.save(handle, cached)
        return cached[..., wanted, :]

    def _read(self, cache_file: Path, shape: tuple) -> np.ndarray:
        """The cached array, or all-NaN where it is missing or cannot be trusted."""
        empty = np.full(shape, np.nan, dtype=np.float32)
        if not cache_file.exists():
            return empty
        try:
            cached = np.load(cache_file, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            reason = f"unreadable ({str(error).splitlines()[0][:80]})"
        else:
            reason = _problem(cached, shape)
            if reason is None:
                return np.array(cached, dtype=np.float32)
        print(f"bottleneck cache: {cache_file}: {reason}; computed again", file=sys.stderr)
        return empty

    @staticmethod
    def _check_content(path: str, digest: str) -> None:
        found = file_digest(path)
        if found != digest:
            raise StoreError(f"{path}: changed since its manifest was written (digest {found}, "
                             f"manifest {digest}); run cclib spectrograms again")

    def _compute(self, slices, rows: np.ndarray, digest: str,
                 settings: Augmentation | None) -> np.ndarray:
        if settings is None:
            return self.embed(np.asarray(slices[rows], dtype=np.float32))
        augmented = augment_rows(slices, rows, digest, front_end=self.front_end,
                                 settings=settings)
        flat = self.embed(augmented.reshape((-1,) + augmented.shape[2:]))
        return flat.reshape(settings.copies, len(rows), -1)


def _problem(cached: np.ndarray, shape: tuple) -> str | None:
    """Why a cache array cannot be used, or None: wrong shape or type, or partly non-finite rows."""
    if cached.dtype != np.float32:
        return f"type {cached.dtype}, not float32"
    if cached.shape != shape:
        return f"shape {cached.shape}, not {shape}"
    finite = np.isfinite(cached)
    rows_all = finite.all(axis=-1)
    rows_none = ~finite.any(axis=-1)
    if not (rows_all | (rows_none & np.isnan(cached).all(axis=-1))).all():
        return "holds infinite or partly missing embeddings"
    return None
