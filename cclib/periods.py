"""Composer → period lookup from the lists in ``periods/``.

Each file in the periods folder is one period (the study's folder names:
``renaissance.txt``, ``baroque.txt``, ...); each line names one composer as it
appears in file names, optionally followed by other spellings, separated by
commas::

    Rachmaninoff, Rachmaninov, Rakhmaninov

Blank lines and everything after a ``#`` are ignored (a comment line, or a
note after a name: ``Stefani-Jozef  # Józef Stefani (1800-1876), by dates``). Lookup ignores case,
accents, spaces and punctuation, so ``Dvořák``, ``dvorak`` and ``DVORAK``
are one composer. A composer listed twice is an error. A file added to the
folder (``medieval.txt``) adds a period.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cclib.errors import CclibError
from cclib.paths import periods_dir

#: Chronological order of the periods this project knows; others follow by name.
PERIOD_ORDER = (
    "medieval",
    "renaissance",
    "baroque",
    "classical",
    "romantic",
    "impressionist",
    "20thcentury",
    "21stcentury",
)


class PeriodsError(CclibError, ValueError):
    """A periods folder that cannot be used (missing, or a composer listed twice)."""


def normalize_name(name: str) -> str:
    """Reduce a composer name to its lookup key.

    Parameters
    ----------
    name : str
        A composer name as written in a file name or a list.

    Returns
    -------
    key : str
        Lower case, without accents, spaces or punctuation.

    Examples
    --------
    >>> normalize_name("Dvořák")
    'dvorak'
    >>> normalize_name("Rimsky-Korsakov") == normalize_name("rimsky korsakov")
    True
    """
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum())


def sort_periods(periods) -> list[str]:
    """Order period names chronologically, unknown ones last by name.

    Examples
    --------
    >>> sort_periods(["romantic", "baroque", "medieval", "jazz"])
    ['medieval', 'baroque', 'romantic', 'jazz']
    """
    known = {name: i for i, name in enumerate(PERIOD_ORDER)}
    return sorted(set(periods), key=lambda p: (known.get(p, len(known)), p))


def in_period_order(frame, column: str = "period"):
    """``frame`` with ``column`` as an ordered categorical: tables group and sort chronologically.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"period": ["romantic", "20thcentury", "baroque"], "n": [1, 2, 3]})
    >>> in_period_order(rows).groupby("period", observed=True).n.sum().index.tolist()
    ['baroque', 'romantic', '20thcentury']
    """
    import pandas as pd

    present = frame[column].dropna().unique()
    order = pd.CategoricalDtype(sort_periods(present), ordered=True)
    return frame.assign(**{column: frame[column].astype(order)})


@dataclass(frozen=True)
class PeriodTable:
    """Composer names and their periods, as read by :func:`load_periods`.

    Attributes
    ----------
    periods : tuple of str
        The period names (file stems), in chronological order.
    composers : dict
        Lookup key → ``(name, period)``, where ``name`` is the first spelling
        on the composer's line.
    """

    periods: tuple[str, ...]
    composers: dict[str, tuple[str, str]] = field(repr=False)

    def period_of(self, composer: str) -> str | None:
        """Return the period of ``composer``, or None if no list names it.

        Examples
        --------
        >>> table = PeriodTable(("baroque",), {"bach": ("Bach", "baroque")})
        >>> table.period_of("BACH"), table.period_of("Glass")
        ('baroque', None)
        """
        entry = self.composers.get(normalize_name(composer))
        return entry[1] if entry else None

    def canonical_name(self, composer: str) -> str | None:
        """Return the name a composer is listed under, or None if unlisted."""
        entry = self.composers.get(normalize_name(composer))
        return entry[0] if entry else None

    def identify(self, label) -> tuple[str | None, str | None]:
        """A file's composer as listed and its period, from its :class:`cclib.labels.Label`.

        The period a labels CSV gives wins over the lists; a composer in no
        list keeps the name it was given. No label: ``(None, None)``.

        Examples
        --------
        >>> from cclib.labels import Label
        >>> table = PeriodTable(("baroque",), {"bach": ("Bach", "baroque")})
        >>> table.identify(Label("BACH")), table.identify(Label("Glass", "minimalist"))
        (('Bach', 'baroque'), ('Glass', 'minimalist'))
        """
        if label is None:
            return None, None
        return (self.canonical_name(label.composer) or label.composer,
                label.period or self.period_of(label.composer))

    def composers_of(self, period: str) -> list[str]:
        """Return the listed names of one period's composers, once each."""
        return sorted({name for name, p in self.composers.values() if p == period})


def load_periods(directory: str | Path | None = None) -> PeriodTable:
    """Read every ``*.txt`` list in the periods folder.

    Parameters
    ----------
    directory : path, optional
        The folder of lists; by default ``periods/`` of the project
        (overridable with ``$CCLIB_PERIODS``).

    Returns
    -------
    table : PeriodTable

    Raises
    ------
    PeriodsError
        If the folder holds no lists, or a composer (under any spelling)
        appears in two places.
    """
    directory = Path(directory) if directory is not None else periods_dir()
    files = sorted(directory.glob("*.txt"))
    if not files:
        raise PeriodsError(f"{directory}: no period lists (*.txt) found")
    composers: dict[str, tuple[str, str]] = {}
    where: dict[str, str] = {}
    for path in files:
        period = path.stem
        for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            spellings = [s.strip() for s in line.split(",") if s.strip()]
            name = spellings[0]
            for spelling in spellings:
                key = normalize_name(spelling)
                here = f"{path.name}:{line_number}"
                if key in where and where[key] != here:
                    raise PeriodsError(
                        f"{here}: composer {spelling!r} is already listed at {where[key]}"
                    )
                where[key] = here
                composers[key] = (name, period)
    return PeriodTable(tuple(sort_periods(p.stem for p in files)), composers)
