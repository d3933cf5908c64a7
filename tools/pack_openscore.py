"""Pack the OpenScore MIDI files into the project: scores/openscore/midi-K.tar.xz.

Run once by a maintainer, from the repository root:

    python tools/pack_openscore.py ../shared/corpus-openscore

The files are CC0 (see scores/openscore/README.md). They go into a few
xz archives of under 2 MB each, in file-name order, with fixed owners and
times, so the same input always gives byte-identical archives; metadata.csv
is copied beside them.
"""

from __future__ import annotations

import io
import lzma
import shutil
import sys
import tarfile
from pathlib import Path

#: Uncompressed bytes per archive (the MIDI files compress about 7:1 with xz).
CHUNK_BYTES = 9_000_000


def pack(source: Path, target: Path) -> list[Path]:
    files = sorted((source / "midi").glob("*.mid"))
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("midi-*.tar.xz"):
        old.unlink()
    chunks, current, size = [], [], 0
    for path in files:
        if current and size + path.stat().st_size > CHUNK_BYTES:
            chunks.append(current)
            current, size = [], 0
        current.append(path)
        size += path.stat().st_size
    chunks.append(current)
    written = []
    for number, chunk in enumerate(chunks, 1):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for path in chunk:
                info = tarfile.TarInfo(f"midi/{path.name}")
                info.size, info.mtime, info.mode = path.stat().st_size, 0, 0o644
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
        out = target / f"midi-{number}.tar.xz"
        out.write_bytes(lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME))
        written.append(out)
    shutil.copyfile(source / "metadata.csv", target / "metadata.csv")
    return written


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus-openscore")
    for archive in pack(source, Path("scores/openscore")):
        print(f"{archive}: {archive.stat().st_size / 1e6:.2f} MB")
