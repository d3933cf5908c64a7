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
import sys
import tempfile
from pathlib import Path

from cclib.errors import CclibError

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


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MB blocks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inside(folder: str | Path, relative: str, what: str, *, error=CclibError) -> Path:
    """Resolve ``relative`` (a path read from a data file) within ``folder``, or refuse.

    A manifest or dataset names arrays by relative paths; a path that is
    absolute or climbs out of ``folder`` (``../../x.npy``, or through a
    symlink) is never followed.

    Examples
    --------
    >>> inside("/tmp/store", "slices/Bach_1.npy", "path").name
    'Bach_1.npy'
    >>> inside("/tmp/store", "../../etc/passwd", "manifest.csv row 2")
    Traceback (most recent call last):
    ...
    cclib.errors.CclibError: manifest.csv row 2: path '../../etc/passwd' lies outside /tmp/store
    """
    base = Path(folder).resolve()
    target = (base / relative).resolve()
    if Path(relative).is_absolute() or not target.is_relative_to(base):
        raise error(f"{what}: path {relative!r} lies outside {folder}")
    return target


def read_json(path: str | Path, *, error=CclibError):
    """Read a JSON file; a missing, unreadable or malformed one raises ``error`` naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as problem:
        raise error(f"{path}: cannot be read ({problem.strerror or problem})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as problem:
        raise error(f"{path}: not valid JSON ({problem})") from None


def settings_guard(path: str | Path, settings: dict, *, what: str, error=CclibError) -> None:
    """Keep a folder to one set of settings: record them on first use, compare later.

    Parameters
    ----------
    path : path
        The settings file (``corpus.json``, ``params.json``, ``run.json``).
    settings : dict
        What this run was asked for (JSON-serialisable).
    what : str
        What the folder holds, for the message (``"a corpus"``).
    error : type
        The :class:`~cclib.errors.CclibError` subclass to raise.

    Raises
    ------
    error
        If the folder was made with other settings, naming each key that
        differs, or if the settings file is broken.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> settings_guard(folder / "run.json", {"seed": 0}, what="a run")
    >>> settings_guard(folder / "run.json", {"seed": 0}, what="a run")
    >>> settings_guard(folder / "run.json", {"seed": 1}, what="a run")
    Traceback (most recent call last):
    ...
    cclib.errors.CclibError: ...: holds a run made with other settings (seed: 0 there, 1 asked); choose another folder or remove it
    """
    path = Path(path)
    if not path.exists():
        write_json(path, settings)
        return
    check_settings(read_json(path, error=error), settings, path.parent, what=what, error=error)


def check_settings(found: dict, settings: dict, folder: str | Path, *, what: str,
                   error=CclibError) -> None:
    """Refuse a folder whose recorded settings ``found`` differ from ``settings``.

    Raises
    ------
    error
        Naming the folder and, for each key that differs, both values.
    """
    wanted = json.loads(json.dumps(settings))  # as it reads back: tuples become lists
    if found == wanted:
        return
    differences = "; ".join(f"{key}: {there!r} there, {asked!r} asked"
                            for key, there, asked in _differences(found, wanted))
    raise error(f"{folder}: holds {what} made with other settings ({differences}); "
                "choose another folder or remove it")


def _differences(found, wanted, prefix: str = ""):
    """(dotted key, found value, wanted value) for each setting that differs, nested dicts opened."""
    if not isinstance(found, dict) or not isinstance(wanted, dict):
        return [(prefix or "settings", found, wanted)]
    differing = []
    for key in {**wanted, **found}:
        there, asked = found.get(key), wanted.get(key)
        if there != asked:
            name = f"{prefix}.{key}" if prefix else key
            differing += (_differences(there, asked, name)
                          if isinstance(there, dict) and isinstance(asked, dict)
                          else [(name, there, asked)])
    return differing


@contextlib.contextmanager
def native_stderr_held():
    """Hold what native code writes to stderr (file descriptor 2) inside the block.

    TensorFlow 2.21's libraries print absl and oneDNN notices at import,
    before any setting (``TF_CPP_MIN_LOG_LEVEL`` included) can reach them,
    and LiteRT announces its CPU delegate; they would land in every
    notebook's output and on every command's stderr. They are dropped when
    the block succeeds and replayed when it fails. Nothing numeric changes:
    oneDNN stays on (``TF_ENABLE_ONEDNN_OPTS=0`` would remove its notice by
    changing the arithmetic).
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
