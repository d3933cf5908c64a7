"""List the composers of the imported scores that periods/ does not place, with a period by dates.

Run by a maintainer after an import, from the repository root:

    python tools/place_composers.py            # what is missing, and the suggestion for each
    python tools/place_composers.py --write    # append the suggestions to periods/*.txt

The suggestion is the period of the year a composer turned 35 (their
mid-career), or of the middle of the years the sources give where only a
time of activity is known (``fl. 1611``, ``1741-1743``: under twenty years
apart) or only a century (``1700-1799``): before 1600 Renaissance, before
1750 Baroque, before 1820 classical, before 1900 Romantic, then 20th century.
Read what it writes: a composer whose style lags or leads their dates is a
judgement call, moved by hand and marked with a comment, as the lists'
other judgement calls are.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from cclib.fileio import read_csv
from cclib.periods import load_periods

SOURCES = ("mutopia", "polish")
#: The last year (exclusive) of each period, in order.
BOUNDS = ((1430, "medieval"), (1600, "renaissance"), (1750, "baroque"), (1820, "classical"),
          (1900, "romantic"), (2000, "20thcentury"), (10000, "21stcentury"))


def period_by_dates(born: str, died: str) -> str | None:
    """The period of a composer's mid-career year (see the module's docstring).

    Examples
    --------
    >>> period_by_dates("1685", "1750"), period_by_dates("1797", "1828")
    ('baroque', 'romantic')
    >>> period_by_dates("1611", "1611"), period_by_dates("1700", "1799"), period_by_dates("", "")
    ('baroque', 'classical', None)
    """
    if not born:
        return None
    first, last = int(born), int(died or 9999)
    if first % 100 == 0 and last - first >= 99:  # only the century is known
        year = first + 50
    else:
        year = (first + last) // 2 if last - first < 20 else min(first + 35, last)
    return next(period for bound, period in BOUNDS if year < bound)


def missing_composers(scores: Path = Path("scores")) -> list[dict]:
    """Each composer of the imported sources that periods/ does not list, with a suggestion."""
    table = load_periods()
    found: dict[str, dict] = {}
    works: Counter = Counter()
    for source in SOURCES:
        metadata = scores / source / "metadata.csv"
        if not metadata.exists():
            continue
        for row in read_csv(metadata):
            if table.period_of(row["composer"]) is None:
                works[row["composer"]] += 1
                known = found.get(row["composer"])
                if known is None or (row["born"] and not known["born"]):  # dates win
                    found[row["composer"]] = {**row, "source": source}
    return [{"composer": name, "full_name": row["full_name"], "born": row["born"],
             "died": row["died"], "works": works[name], "source": row["source"],
             "period": period_by_dates(row["born"], row["died"])}
            for name, row in sorted(found.items())]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="append to periods/*.txt")
    args = parser.parse_args(argv)
    missing = missing_composers()
    for entry in missing:
        print(f"{entry['composer']:<28} {entry['full_name'][:34]:<34} {entry['born']:>4}-"
              f"{entry['died']:<4} {entry['works']:>3} works  -> {entry['period']}")
    unplaced = [entry["composer"] for entry in missing if entry["period"] is None]
    if args.write:
        by_period: dict[str, list[dict]] = {}
        for entry in missing:
            if entry["period"]:
                by_period.setdefault(entry["period"], []).append(entry)
        for period, entries in by_period.items():
            with open(Path("periods") / f"{period}.txt", "a", encoding="utf-8") as handle:
                for entry in entries:
                    handle.write(f"{entry['composer']}  # {entry['full_name']} "
                                 f"({entry['born']}-{entry['died']}), by dates\n")
    if unplaced:
        print(f"place_composers: no dates for {', '.join(unplaced)}: place them by hand",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
