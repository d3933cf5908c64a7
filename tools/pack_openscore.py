"""Pack the OpenScore MIDI files into the project: scores/openscore/midi-K.tar.xz.

Run once by a maintainer, from the repository root:

    python tools/pack_openscore.py ../shared/corpus-openscore

The files are CC0 (see scores/openscore/README.md). They go into a few xz
archives of under 2 MB each, byte-identical for the same input
(cclib.archives.pack_archives); metadata.csv is copied beside them.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from cclib.archives import pack_archives


def pack(source: Path, target: Path) -> list[Path]:
    """Pack ``source/midi/*.mid`` into ``target`` and copy ``source/metadata.csv`` there."""
    files = {f"midi/{path.name}": path.read_bytes() for path in sorted((source / "midi").glob("*.mid"))}
    written = pack_archives(files, target)
    shutil.copyfile(source / "metadata.csv", target / "metadata.csv")
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, nargs="?", default=Path("../shared/corpus-openscore"),
                        help="a folder of midi/*.mid and metadata.csv")
    parser.add_argument("--out", type=Path, default=Path("scores/openscore"))
    args = parser.parse_args(argv)
    for archive in pack(args.source, args.out):
        print(f"{archive}: {archive.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
