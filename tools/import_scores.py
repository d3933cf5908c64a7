"""Import a source repository's scores into the project: scores/mutopia/ or scores/polish/.

Run by a maintainer, from the repository root, on a local copy of the source
(a git directory, as the search tool's fetch leaves it, or a checkout):

    python tools/import_scores.py mutopia PATH/MutopiaProject [--converted ../shared/mutopia-midi]
    python tools/import_scores.py polish PATH/humdrum-polish-scores

Reads the pinned commit (--commit, default the one in the source's README),
converts the selected pieces to MIDI in parallel, and writes the archives,
metadata.csv and skipped.csv; the same commit imported twice gives
byte-identical archives. Users never run this: cclib corpus reads what it wrote.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cclib.errors import CclibError
from cclib.parallel import default_jobs

COMMITS = {"mutopia": "2144afd6f52d56c5b6995b8b589ef1268b3139f0",
           "polish": "c0403623c0da3f75f1bcd6041dc85098e0cabe02"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", choices=sorted(COMMITS))
    parser.add_argument("repository", type=Path, help="a local copy of the source repository")
    parser.add_argument("--commit", help="the commit to import (default: the pinned one)")
    parser.add_argument("--out", type=Path, help="default: scores/<source>")
    parser.add_argument("--converted", type=Path,
                        help="mutopia: earlier conversions to reuse (../shared/mutopia-midi)")
    parser.add_argument("--work", type=Path,
                        help="keep LilyPond's or music21's output here, for a second import")
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args(argv)
    started = time.perf_counter()
    commit = args.commit or COMMITS[args.source]
    out = args.out or Path("scores") / args.source
    try:
        if args.source == "mutopia":
            from cclib.mutopia import import_mutopia

            counts = import_mutopia(args.repository, out, commit=commit, converted=args.converted,
                                    work=args.work, jobs=args.jobs)
        else:
            from cclib.polish import import_polish

            counts = import_polish(args.repository, out, commit=commit, work=args.work,
                                   jobs=args.jobs)
    except CclibError as error:
        print(f"import_scores: {error}", file=sys.stderr)
        return 1
    words = ", ".join(f"{value} {name}" for name, value in counts.items())
    print(f"import_scores: {args.source}: {words}, {time.perf_counter() - started:.0f} s -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
