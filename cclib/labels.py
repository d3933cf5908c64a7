"""Who composed each audio file: the study's file names, or a labels CSV.

The study named every recording ``Composer_N.wav`` (``Bach_1.wav``,
``Rimsky-Korsakov_3.wav``); composer names may hold hyphens, never
underscores. A collection named otherwise is labelled with a CSV of
``file,composer[,period]`` rows, where ``file`` is a path relative to the
audio folder or a bare file name.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from cclib.errors import CclibError

_STUDY_NAME = re.compile(r"^(?P<composer>[^_]+)_(?P<number>\d+)$")
#: A composer or period name: letters and digits (any script), single hyphens between.
PLAIN_NAME = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
#: What a name that is not plain is told.
NOT_PLAIN = "not a plain name (letters, digits and hyphens only)"


class LabelsError(CclibError, ValueError):
    """A labels CSV that cannot be used."""


@dataclass(frozen=True)
class Label:
    """The composer of one file and, when the labels give it, its period."""

    composer: str
    period: str | None = None


def check_plain_name(name: str, what: str, *, error=None) -> str:
    """Return ``name`` if it is a plain name, else raise ``error`` naming ``what``.

    Composers and periods name folders (``train/<period>/``) and files, so
    they may hold letters, digits and hyphens only: never a path.

    Examples
    --------
    >>> check_plain_name("Rimsky-Korsakov", "composer")
    'Rimsky-Korsakov'
    >>> check_plain_name("../../elsewhere", "period")
    Traceback (most recent call last):
    ...
    cclib.labels.LabelsError: period '../../elsewhere': not a plain name (letters, digits and hyphens only)
    """
    if not isinstance(name, str) or not PLAIN_NAME.fullmatch(name):
        raise (error or LabelsError)(f"{what} {name!r}: {NOT_PLAIN}")
    return name


def parse_study_name(path: str | Path) -> Label | None:
    """Read the composer from a study-style file name, ``Composer_N.ext``.

    Parameters
    ----------
    path : str or Path
        An audio file path; only its stem is read.

    Returns
    -------
    label : Label or None
        None when the name does not follow the pattern.

    Examples
    --------
    >>> parse_study_name("MasterFolder/Rimsky-Korsakov_12.wav")
    Label(composer='Rimsky-Korsakov', period=None)
    >>> parse_study_name("track01.wav") is None
    True
    """
    match = _STUDY_NAME.match(Path(path).stem)
    return Label(match["composer"]) if match else None


def read_labels(csv_path: str | Path) -> dict[str, Label]:
    """Read a labels CSV of ``file,composer[,period]``.

    A header row is optional: a first row whose first two cells are
    ``file`` and ``composer`` is taken as one.

    Parameters
    ----------
    csv_path : str or Path

    Returns
    -------
    labels : dict
        ``file`` as written (with ``/`` separators) → :class:`Label`.

    Raises
    ------
    LabelsError
        If the file cannot be read, a row has fewer than two cells, or a
        composer or period is not a plain name (a period may be new, never a path).
    """
    csv_path = Path(csv_path)
    try:
        text = csv_path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise LabelsError(f"{csv_path}: cannot read labels ({error.strerror or error})") from None
    labels: dict[str, Label] = {}
    for line_number, row in enumerate(csv.reader(text.splitlines()), 1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if line_number == 1 and [c.lower() for c in cells[:2]] == ["file", "composer"]:
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise LabelsError(f"{csv_path}:{line_number}: expected 'file,composer[,period]'")
        period = cells[2] if len(cells) > 2 and cells[2] else None
        where = f"{csv_path}:{line_number}:"
        check_plain_name(cells[1], f"{where} composer")
        if period is not None:
            check_plain_name(period, f"{where} period")
        labels[cells[0].replace("\\", "/")] = Label(cells[1], period)
    return labels


def find_label(path: Path, audio_dir: Path, labels: dict[str, Label] | None) -> Label | None:
    """Return the label of one file: from ``labels`` if given, else from its name.

    ``labels`` is looked up by the path relative to ``audio_dir``, then by the
    bare file name.
    """
    if labels is not None:
        relative = path.relative_to(audio_dir).as_posix()
        return labels.get(relative) or labels.get(path.name)
    return parse_study_name(path)
