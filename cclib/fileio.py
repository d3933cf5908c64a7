"""Crash-safe file writing: write to a temporary name, then rename.

A reader (or a resumed run) never sees a half-written file: either the old
file, or none, or the complete new one. Temporaries carry ``.tmp-`` in their
name so a later run can find and remove those a killed run left behind.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
from pathlib import Path

TMP_MARK = ".tmp-"


def temporary_name(path: Path) -> Path:
    """A hidden sibling of ``path`` that :func:`remove_stale_temporaries` will find.

    Examples
    --------
    >>> temporary_name(Path("store/Bach_1.npy")).name.startswith(".Bach_1.npy.tmp-")
    True
    """
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path to write; rename it to ``path`` on success.

    Works for files and for folders. On an exception the temporary is
    removed and ``path`` is left as it was.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "hello.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("hi")
    >>> target.read_text()
    'hi'
    """
    path = Path(path)
    tmp = temporary_name(path)
    try:
        yield tmp
        if path.is_dir() and tmp.is_dir():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale_temporaries(folder: str | Path) -> int:
    """Delete the temporaries a killed run left in ``folder`` (not below it).

    Returns
    -------
    n_removed : int
    """
    removed = 0
    for path in Path(folder).glob(f".*{TMP_MARK}*"):
        _remove(path)
        removed += 1
    return removed


def write_json(path: str | Path, obj) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def write_csv(path: str | Path, fieldnames, rows) -> None:
    """Write dict rows as CSV with a header, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(fieldnames))
            writer.writeheader()
            writer.writerows(rows)


def read_csv(path: str | Path) -> list[dict]:
    """Read a CSV with a header into dict rows."""
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
