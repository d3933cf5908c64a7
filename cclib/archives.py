"""The committed score archives, and the source repositories they are imported from.

Each source of the corpus beyond music21 is a folder of ``scores/``
(``openscore``, ``mutopia``, ``polish``) holding ``metadata.csv``, a
``README.md`` of licences and credits, and its MIDI files in a few xz
archives of under 2 MB each (``midi-1.tar.xz``, ...). This module writes
those archives, byte for byte the same for the same files, and reads them
back; and it reads the repositories the importers convert (a git directory
at a pinned commit, as the search tool's ``fetch`` leaves it, or a plain
checkout).

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations

import io
import lzma
import subprocess
import tarfile
from pathlib import Path

from cclib.errors import CclibError

#: Uncompressed bytes per archive: MIDI files compress about 7:1 with xz, so each
#: archive stays under 2 MB (the project's limit for a committed file).
CHUNK_BYTES = 9_000_000


#: The columns of an imported source's ``metadata.csv`` (``scores/mutopia/``, ``scores/polish/``).
METADATA_FIELDS = ("file", "composer", "full_name", "born", "died", "title", "work", "ensemble",
                   "instruments", "programs", "licence", "credit", "date", "source")


class ArchiveError(CclibError, RuntimeError):
    """A source repository or score archive that cannot be read."""


def pack_archives(files: dict[str, bytes], target: str | Path, *,
                  chunk_bytes: int = CHUNK_BYTES) -> list[Path]:
    """Write ``files`` (archive name → bytes) as ``midi-1.tar.xz``, ... in ``target``.

    Names in sorted order, fixed owners, times and modes, so the same files
    always give byte-identical archives. Archives an earlier run left in
    ``target`` are replaced.

    Returns
    -------
    archives : list of Path

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> first = pack_archives({"midi/a.mid": b"MThd", "midi/b.mid": b"MThd"}, folder)
    >>> again = pack_archives({"midi/b.mid": b"MThd", "midi/a.mid": b"MThd"}, folder / "again")
    >>> first[0].read_bytes() == again[0].read_bytes(), sorted(read_archives(folder))
    (True, ['midi/a.mid', 'midi/b.mid'])
    """
    from cclib.fileio import atomic_path

    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    chunks, current, size = [], [], 0
    for name in sorted(files):
        if current and size + len(files[name]) > chunk_bytes:
            chunks.append(current)
            current, size = [], 0
        current.append(name)
        size += len(files[name])
    chunks.append(current)
    for old in target.glob("midi-*.tar.xz"):
        old.unlink()
    written = []
    for number, chunk in enumerate(chunks, 1):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in chunk:
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(files[name]), 0, 0o644
                tar.addfile(info, io.BytesIO(files[name]))
        out = target / f"midi-{number}.tar.xz"
        with atomic_path(out) as tmp:
            tmp.write_bytes(lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME))
        written.append(out)
    return written


def write_source(out: str | Path, files: dict[str, bytes], rows, skipped) -> None:
    """Write an imported source: its archives, ``metadata.csv`` (rows of
    :data:`METADATA_FIELDS`, by file) and ``skipped.csv`` (``piece``, ``reason``)."""
    from cclib.fileio import write_csv

    out = Path(out)
    pack_archives(files, out)
    write_csv(out / "metadata.csv", METADATA_FIELDS, sorted(rows, key=lambda row: row["file"]))
    write_csv(out / "skipped.csv", ("piece", "reason"), sorted(skipped, key=lambda r: r["piece"]))


def read_archives(folder: str | Path) -> dict[str, bytes]:
    """Every file of the ``midi-*.tar.xz`` archives in ``folder``: archive name → bytes.

    Raises
    ------
    ArchiveError
        An archive that is damaged (not xz, or not tar).
    """
    files = {}
    for archive in sorted(Path(folder).glob("midi-*.tar.xz")):
        try:
            data = lzma.decompress(archive.read_bytes())
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                for member in tar.getmembers():
                    if member.isfile():
                        files[member.name] = tar.extractfile(member).read()
        except (lzma.LZMAError, tarfile.TarError, EOFError) as error:
            raise ArchiveError(f"{archive}: damaged archive ({error})") from None
    return files


class SourceTree:
    """The files of a source repository: a git directory at one commit, or a folder.

    Parameters
    ----------
    root : path
        A git directory (bare, as ``fetch`` leaves it, or a checkout's
        ``.git``), a checkout holding ``.git``, or a plain folder.
    commit : str, optional
        The commit to read in a git directory (default ``HEAD``); it is
        resolved once, so every file comes from the same commit.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a").mkdir(), (folder / "a" / "x.ly").write_text("{ c }")
    >>> tree = SourceTree(folder)
    >>> tree.files(), tree.read("a/x.ly"), tree.commit
    ({'a/x.ly': 5}, b'{ c }', '')
    """

    def __init__(self, root: str | Path, commit: str | None = None):
        root = Path(root)
        if (root / ".git").exists():
            root = root / ".git"
        if not root.is_dir():
            raise ArchiveError(f"{root}: no such folder")
        self.root = root
        self.is_git = (root / "HEAD").is_file() and (root / "objects").is_dir()
        self.commit = self._git("rev-parse", "--verify", f"{commit or 'HEAD'}^{{commit}}"
                                ).strip() if self.is_git else ""
        self._reader = None

    def _git(self, *arguments: str) -> str:
        done = subprocess.run(["git", f"--git-dir={self.root}", *arguments],
                              capture_output=True, text=True)
        if done.returncode:
            raise ArchiveError(f"{self.root}: git {arguments[0]} failed "
                               f"({done.stderr.strip().splitlines()[-1:] or ['?']})")
        return done.stdout

    def files(self, under: str = "") -> dict[str, int]:
        """Every file below ``under``: path → size in bytes, sorted by path."""
        if not self.is_git:
            base = self.root / under
            return {str(path.relative_to(self.root)): path.stat().st_size
                    for path in sorted(base.rglob("*")) if path.is_file()}
        listing = self._git("ls-tree", "-r", "-l", "-z", self.commit, *([under] if under else []))
        found = {}
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            kind, size = meta.split()[1], meta.split()[3]
            if kind == "blob":
                found[path] = int(size)
        return dict(sorted(found.items()))

    def read(self, path: str) -> bytes:
        """The bytes of one file."""
        if not self.is_git:
            return (self.root / path).read_bytes()
        if self._reader is None:
            self._reader = subprocess.Popen(["git", f"--git-dir={self.root}", "cat-file",
                                             "--batch"], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE)
        self._reader.stdin.write(f"{self.commit}:{path}\n".encode())
        self._reader.stdin.flush()
        header = self._reader.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            raise ArchiveError(f"{self.root}: {path}: not a file at {self.commit[:12]}")
        data = self._reader.stdout.read(int(header[2]))
        self._reader.stdout.read(1)
        return data

    def close(self) -> None:
        """End the git reader, if one was started."""
        if self._reader is not None:
            self._reader.stdin.close()
            self._reader.wait()
            self._reader = None

    def __enter__(self) -> SourceTree:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
