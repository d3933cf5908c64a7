"""Where the project's files live.

This is the one module that knows where ``data/`` and ``periods/`` are.
Everything generated goes below the data folder; set ``CCLIB_DATA`` to move
it (to a larger disk, or to a scratch folder in tests).

Layout of the data folder (see ``data/README.md``)::

    data/audio/          input audio, the study's "MasterFolder"
    data/spectrograms/   the slice store and its manifest
    data/datasets/       sampled train/test/validation datasets
    data/models/         trained models and converted weights
    data/runs/           executed notebooks and figures
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository (or installed source tree) this package lives in.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """Return the data folder: ``$CCLIB_DATA`` if set, else ``<project>/data``."""
    override = os.environ.get("CCLIB_DATA")
    return Path(override).expanduser() if override else PROJECT_ROOT / "data"


def audio_dir() -> Path:
    """Input audio, one ``Composer_N.ext`` file per piece."""
    return data_dir() / "audio"


def spectrograms_dir() -> Path:
    """The slice store: arrays of 3-second spectrogram slices and ``manifest.csv``."""
    return data_dir() / "spectrograms"


def datasets_dir() -> Path:
    """Sampled datasets (``train/``, ``test/``, ``validation/`` by period)."""
    return data_dir() / "datasets"


def models_dir() -> Path:
    """Trained models and cached weights."""
    return data_dir() / "models"


def runs_dir() -> Path:
    """Executed notebooks, figures and trial results."""
    return data_dir() / "runs"


def scores_dir() -> Path:
    """Scores shipped with the project (``scores/openscore/``), rendered by ``cclib corpus``."""
    return PROJECT_ROOT / "scores"


def periods_dir() -> Path:
    """The composer lists, one file per period: ``$CCLIB_PERIODS`` or ``<project>/periods``."""
    override = os.environ.get("CCLIB_PERIODS")
    return Path(override).expanduser() if override else PROJECT_ROOT / "periods"


def or_default(path, default) -> Path:
    """``Path(path)`` when a path is given, else ``default()``: for parameters that may be None.

    Examples
    --------
    >>> or_default("x/y", audio_dir) == Path("x/y")
    True
    >>> or_default(None, audio_dir) == audio_dir()
    True
    """
    return Path(path).expanduser() if path else Path(default())
