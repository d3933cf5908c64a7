"""The slice store: audio files → 3-second spectrogram slices on disk.

Layout of a store folder (``data/spectrograms/`` by default)::

    params.json            the FrontEnd every slice was made with
    slices/Bach_1.npy      one array per piece [shape=(n_slices, n_bins, frames), float16]
    slices/Bach_1.csv      that piece's manifest rows, written last: its "done" mark
    manifest.csv           every slice, one row each (rebuilt at the end of each run): its
                           piece, composer, period, work group, ensemble, soundfont and
                           score origin (music21, openscore, mutopia, polish)
    report.csv             the files skipped by the last run, with the reason
    summary.json           the counts of the last run
    Bach_1_spectrograms/   with --png: the study's images, Bach_1_1.png, ...

Every file is written under a temporary name and renamed, so a killed run
leaves nothing half-written; a re-run removes stale temporaries and converts
only the pieces that have no ``slices/<piece>.csv`` yet.

Notebook: notebooks/02_slicing_3s_samples.ipynb
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from cclib.audio import (LONG_SECONDS, AudioError, audio_seconds, find_audio_files, load_audio,
                         stream_audio)
from cclib.errors import CclibError
from cclib.fileio import (atomic_path, inside, read_csv, remove_stale_temporaries,
                          settings_guard, sha256_of, write_csv, write_json)
from cclib.labels import NOT_PLAIN, PLAIN_NAME, find_label, read_labels
from cclib.parallel import BatchSummary, default_jobs, run_batch, say
from cclib.periods import PeriodTable, load_periods
from cclib.spectrogram import FrontEnd, cut_piece, cut_stream

MANIFEST_FIELDS = ("slice_id", "piece", "composer", "period", "work", "ensemble", "soundfont",
                   "origin", "index", "start_s", "path", "row", "digest", "source")
#: Columns that a store written by an older cclib lacks (before work groups, score origins).
_NEWER_FIELDS = ("work", "ensemble", "soundfont", "digest", "origin")
#: What a piece without corpus.csv metadata (a user's recording) records.
UNKNOWN_ENSEMBLE = "unknown"
REPORT_FIELDS = ("file", "reason")


class StoreError(CclibError, ValueError):
    """A store folder that cannot be used with the parameters asked for."""


@dataclass(frozen=True)
class PieceTask:
    """One audio file to convert, with everything a worker process needs."""

    source: str
    piece: str
    composer: str
    period: str
    store: str
    front_end: dict
    png: bool = False
    work: str = ""
    ensemble: str = UNKNOWN_ENSEMBLE
    soundfont: str = ""
    origin: str = ""


@dataclass
class PieceResult:
    """What converting one file gave: slices kept and dropped, or a skip reason."""

    source: str
    piece: str
    n_slices: int = 0
    n_silent: int = 0
    error: str | None = None


@dataclass
class StoreSummary(BatchSummary):
    """The counts of one conversion run, as printed and saved in ``summary.json``.

    ``done`` counts the files converted now, ``failed`` the files skipped
    (each with its reason in ``skipped_files``).
    """

    slices_written: int = 0
    silent_slices_dropped: int = 0
    skipped_files: list = field(default_factory=list)

    command: ClassVar[str] = "spectrograms"
    done_words: ClassVar[str] = "files converted"
    failed_words: ClassVar[str] = "skipped"

    def details(self) -> list[str]:
        return [f"{self.slices_written} slices written",
                f"{self.silent_slices_dropped} silent slices dropped"]


def file_digest(path: str | Path) -> str:
    """The first 16 hex digits of a file's SHA-256: what a slice array holds, in short.

    The bottleneck cache is keyed by it, so embeddings follow the content of
    an array, never its name or folder.
    """
    return sha256_of(path)[:16]


def natural_key(text: str):
    """Sort key that orders ``Bach_2`` before ``Bach_10``.

    Examples
    --------
    >>> sorted(["Bach_10", "Bach_2", "Alkan_1"], key=natural_key)
    ['Alkan_1', 'Bach_2', 'Bach_10']
    """
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", text)]


def slice_id(piece: str, index: int) -> str:
    """The study's name for slice ``index`` (0-based) of ``piece``: ``Bach_1_1`` is the first."""
    return f"{piece}_{index + 1}"


def convert_piece(task: PieceTask) -> PieceResult:
    """Convert one audio file into its slices, its manifest rows and (optionally) PNGs.

    Expected problems with the file come back as ``PieceResult.error``, a
    one-line reason naming the file; nothing is written for that piece.
    """
    front_end = FrontEnd.from_dict(task.front_end)
    result = PieceResult(task.source, task.piece)
    try:
        if audio_seconds(task.source) > LONG_SECONDS:  # hours of audio: never held whole
            piece = cut_stream(lambda: stream_audio(task.source, sr=front_end.sr),
                               front_end=front_end, name=task.source)
        else:
            piece = cut_piece(load_audio(task.source, sr=front_end.sr), front_end=front_end,
                              name=task.source)
    except AudioError as error:
        result.error = str(error)
        return result
    _write_piece(task, piece.slices, piece.index, front_end)
    result.n_slices, result.n_silent = len(piece.index), piece.n_silent
    return result


def _write_piece(task: PieceTask, slices: np.ndarray, kept: np.ndarray, front_end: FrontEnd):
    store = Path(task.store)
    array_path = store / "slices" / f"{task.piece}.npy"
    with atomic_path(array_path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, slices.astype(np.float16))
        digest = file_digest(tmp)
    if task.png:
        write_slice_pngs(slices, kept, store / f"{task.piece}_spectrograms", task.piece)
    rows = [
        {"slice_id": slice_id(task.piece, int(index)), "piece": task.piece,
         "composer": task.composer, "period": task.period, "work": task.work,
         "ensemble": task.ensemble, "soundfont": task.soundfont, "origin": task.origin,
         "index": int(index),
         "start_s": round(float(index) * front_end.seconds, 3),
         "path": f"slices/{task.piece}.npy", "row": row, "digest": digest,
         "source": task.source}
        for row, index in enumerate(kept)
    ]
    write_csv(store / "slices" / f"{task.piece}.csv", MANIFEST_FIELDS, rows)


def write_slice_pngs(slices: np.ndarray, indices, folder: Path, piece: str) -> None:
    """Save each slice as the study's image, ``<piece>_<k>.png`` (k from 1), low frequencies at the bottom."""
    from matplotlib.image import imsave  # only --png needs matplotlib

    with atomic_path(folder) as tmp:
        tmp.mkdir()
        for S_db, index in zip(slices, indices):
            imsave(tmp / f"{slice_id(piece, int(index))}.png", S_db.astype(np.float32),
                   cmap="magma", origin="lower")


def plan_tasks(audio_dir: Path, store: Path, *, front_end: FrontEnd, table: PeriodTable,
               labels=None, png: bool = False, max_files: int | None = None):
    """Decide, for every audio file, whether to convert it, skip it (and why), or keep it.

    Returns
    -------
    tasks : list of PieceTask
        Files still to convert.
    skipped : list of dict
        ``{"file", "reason"}`` rows for files that cannot be used.
    already_done : int
        Files whose slices are already in the store.
    """
    tasks, skipped, already_done = [], [], 0
    seen: dict[str, str] = {}
    corpus = read_corpus_table(audio_dir)
    store_resolved, unusable = store.resolve(), []
    files = [path for path in find_audio_files(audio_dir, unusable=unusable)
             if store_resolved not in path.resolve().parents]
    skipped += [{"file": str(path), "reason": f"{path}: {reason}"} for path, reason in unusable]
    for path in files[:max_files]:
        name = str(path)
        label = find_label(path, audio_dir, labels)
        if label is None:
            reason = ("not in the labels CSV" if labels is not None
                      else "file name is not Composer_N.ext (give its composer with --labels)")
            skipped.append({"file": name, "reason": f"{name}: {reason}"})
            continue
        composer, period = table.identify(label)
        if period is None:
            skipped.append({"file": name, "reason": f"{name}: unknown composer {label.composer!r} "
                                                     "(in no periods/ list)"})
            continue
        piece = path.stem
        if piece in seen:
            skipped.append({"file": name, "reason": f"{name}: piece name {piece!r} is already "
                                                     f"used by {seen[piece]}"})
            continue
        seen[piece] = name
        done = _piece_done(store / "slices" / f"{piece}.csv") and (
            not png or (store / f"{piece}_spectrograms").is_dir())
        if done:
            already_done += 1
            continue
        known = corpus.get(path.relative_to(audio_dir).as_posix(), {})
        tasks.append(PieceTask(name, piece, composer, period, str(store), front_end.to_dict(),
                               png, work=known.get("work") or f"{composer} {piece}",
                               ensemble=known.get("ensemble") or UNKNOWN_ENSEMBLE,
                               soundfont=known.get("soundfont", ""),
                               origin=known.get("source", "").partition(":")[0]))
    return tasks, skipped, already_done


def read_corpus_table(audio_dir: Path) -> dict[str, dict]:
    """``corpus.csv`` of a rendered corpus, by file: work group, ensemble, soundfont, title.

    A folder of recordings has none: its pieces are each their own work, of
    unknown ensemble, and no soundfont.
    """
    table = audio_dir / "corpus.csv"
    return {row["file"]: row for row in read_csv(table)} if table.is_file() else {}


def _piece_done(piece_csv: Path) -> bool:
    """A piece is done when its rows are written with every column this version writes and
    its array holds as many whole slices as the rows say (a truncated array is redone)."""
    if not piece_csv.exists():
        return False
    with open(piece_csv, encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
        n_rows = sum(1 for line in handle if line.strip())
    if header != list(MANIFEST_FIELDS):
        return False
    try:
        array = np.load(piece_csv.with_suffix(".npy"), mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return False
    return array.ndim == 3 and len(array) == n_rows


def rebuild_manifest(store: str | Path) -> int:
    """Gather every piece's rows into ``manifest.csv``; return the number of slices."""
    store = Path(store)
    rows = []
    for piece_csv in sorted((store / "slices").glob("*.csv"), key=lambda p: natural_key(p.stem)):
        rows.extend(read_csv(piece_csv))
    write_csv(store / "manifest.csv", MANIFEST_FIELDS, rows)
    return len(rows)


def convert_folder(audio_dir: str | Path, store: str | Path, *, front_end: FrontEnd = FrontEnd(),
                   png: bool = False, labels_csv: str | Path | None = None,
                   periods_dir: str | Path | None = None, jobs: int | None = None,
                   max_files: int | None = None, progress: bool | None = None,
                   scheduler: str = "local") -> StoreSummary:
    """Convert every audio file below ``audio_dir`` into the slice store ``store``.

    Parameters
    ----------
    audio_dir : path
        Folder of ``Composer_N.ext`` files (searched recursively).
    store : path
        The slice store folder; created if needed, resumed if it exists.
    front_end : FrontEnd
        Spectrogram parameters; must match those the store was made with.
    png : bool
        Also write the study's PNG images.
    labels_csv : path, optional
        ``file,composer[,period]`` rows for files not named ``Composer_N``.
    periods_dir : path, optional
        The composer lists (default: the project's ``periods/``).
    jobs : int, optional
        Worker processes (default: one per core; 1 runs in this process).
    max_files : int, optional
        Convert only the first ``max_files`` audio files (sorted by path).
    progress : bool, optional
        Show a progress bar (default: only on a terminal).
    scheduler : str
        ``"local"`` (default), ``"dask"`` or a Dask scheduler address; see
        :mod:`cclib.parallel`. A remote cluster's workers must see the same paths.

    Returns
    -------
    summary : StoreSummary
        Also written to ``summary.json``; skipped files go to ``report.csv``.
    """
    started = time.perf_counter()
    audio_dir, store = Path(audio_dir), Path(store)
    if not audio_dir.is_dir():
        raise StoreError(f"{audio_dir}: no such folder")
    if store.resolve() == audio_dir.resolve() or store.resolve() in audio_dir.resolve().parents:
        raise StoreError(f"--out {store}: holds the audio folder {audio_dir} (every file in it "
                         "would be taken for the store's own); choose a folder beside it")
    table = load_periods(periods_dir)
    labels = read_labels(labels_csv) if labels_csv else None
    (store / "slices").mkdir(parents=True, exist_ok=True)
    for folder in (store, store / "slices"):
        remove_stale_temporaries(folder)
    settings_guard(store / "params.json", {"front_end": front_end.to_dict()},
                   what="slices", error=StoreError)

    tasks, skipped, already_done = plan_tasks(audio_dir, store, front_end=front_end, table=table,
                                              labels=labels, png=png, max_files=max_files)
    summary = StoreSummary(already_done=already_done)
    for row in skipped:
        say(f"skipped {row['reason']}")
    for result in run_batch(convert_piece, tasks, desc="spectrograms", unit="file",
                            jobs=jobs or default_jobs(), scheduler=scheduler, progress=progress):
        if result.error:
            skipped.append({"file": result.source, "reason": result.error})
            say(f"skipped {result.error}")
            continue
        summary.done += 1
        summary.slices_written += result.n_slices
        summary.silent_slices_dropped += result.n_silent

    rebuild_manifest(store)
    skipped.sort(key=lambda row: row["file"])
    write_csv(store / "report.csv", REPORT_FIELDS, skipped)
    summary.failed = len(skipped)
    summary.skipped_files = skipped
    summary.seconds = time.perf_counter() - started
    write_json(store / "summary.json", asdict(summary))
    return summary


def survey_audio(audio_dir: str | Path, *, labels_csv: str | Path | None = None,
                 periods_dir: str | Path | None = None):
    """Table every audio file below ``audio_dir``: composer, period and duration.

    Returns
    -------
    survey : pandas.DataFrame
        Columns ``file, piece, composer, period, seconds``; ``period`` is
        empty for unknown composers, ``seconds`` NaN for unreadable files.
    """
    import pandas as pd
    import soundfile as sf

    audio_dir = Path(audio_dir)
    table = load_periods(periods_dir)
    labels = read_labels(labels_csv) if labels_csv else None
    rows = []
    for path in find_audio_files(audio_dir):
        composer, period = table.identify(find_label(path, audio_dir, labels))
        try:
            seconds = sf.info(path).duration
        except (sf.LibsndfileError, RuntimeError, OSError):
            seconds = float("nan")
        rows.append({"file": path.relative_to(audio_dir).as_posix(), "piece": path.stem,
                     "composer": composer, "period": period, "seconds": seconds})
    return pd.DataFrame(rows, columns=["file", "piece", "composer", "period", "seconds"])


def read_manifest(store: str | Path):
    """Read a store's ``manifest.csv`` as a pandas DataFrame.

    Raises
    ------
    StoreError
        If there is no manifest, or it was written by an older cclib (no work
        groups): run ``cclib spectrograms`` on the store again, which resumes;
        or if a row is malformed (see :func:`check_manifest`).
    """
    import pandas as pd

    path = Path(store) / "manifest.csv"
    if not path.is_file():
        raise StoreError(f"{store}: no manifest.csv (run cclib spectrograms first)")
    manifest = pd.read_csv(path, dtype={"piece": str, "composer": str, "work": str,
                                        "ensemble": str, "soundfont": str, "digest": str,
                                        "origin": str},
                           keep_default_na=False)
    missing = [column for column in MANIFEST_FIELDS if column not in manifest.columns]
    if missing:
        older = set(missing) <= set(_NEWER_FIELDS)
        raise StoreError(f"{path}: " + (
            "written by an older cclib (no work groups or score origins); run cclib spectrograms "
            "on this store "
            "again to upgrade it (it resumes)" if older else
            f"not a slice manifest (no {', '.join(missing)} column)"))
    check_manifest(manifest, store, path)
    return manifest


def check_manifest(rows, folder: str | Path, name: str | Path) -> None:
    """Refuse slice rows that are malformed or point outside ``folder``.

    Every ``row`` and ``index`` must be a whole number, every ``digest`` 16
    hexadecimal digits, every ``path`` a relative path inside ``folder``,
    every composer and period a plain name: a manifest
    cut short, edited by hand or written by someone else is named with its
    first bad row, never sampled or trained on.

    Raises
    ------
    StoreError
        ``NAME row N: REASON`` (N counts data rows from 1, as a spreadsheet does
        after its header).
    """
    whole, plain = (r"\d+", "not a whole number"), (PLAIN_NAME.pattern, NOT_PLAIN)
    patterns = {"row": whole, "index": whole, "composer": plain, "period": plain,
                "digest": (r"[0-9a-f]{16}", "not a digest (16 hexadecimal digits)")}
    for column, (pattern, reason) in patterns.items():
        if column not in rows.columns:  # a dataset made by hand may lack index and digest
            continue
        bad = ~rows[column].astype(str).str.fullmatch(pattern).to_numpy()
        if bad.any():
            position = int(np.argmax(bad))
            raise StoreError(f"{name} row {position + 1}: {column} "
                             f"{rows[column].iloc[position]!r}: {reason}")
    paths, first = np.unique(rows["path"].astype(str).to_numpy(), return_index=True)
    for path, position in zip(paths, first):
        inside(folder, path, f"{name} row {position + 1}", error=StoreError)


def load_slices(store: str | Path, manifest) -> np.ndarray:
    """Load the slices that ``manifest`` rows name, in row order.

    Parameters
    ----------
    store : path
    manifest : pandas.DataFrame
        Rows of ``manifest.csv`` (any subset), or of a dataset read with
        :func:`cclib.sampling.read_dataset` (absolute paths work too).

    Returns
    -------
    slices : np.ndarray [shape=(len(manifest), n_bins, frames), dtype=float16]
    """
    store = Path(store)
    arrays = {path: np.load(store / path, mmap_mode="r") for path in manifest["path"].unique()}
    return np.stack([arrays[path][row] for path, row in zip(manifest["path"], manifest["row"])])


def holdings(manifest, by: str = "ensemble", *, count: str = "pieces"):
    """What a store holds: pieces (or slices) of each period by ``by`` (``ensemble``,
    ``soundfont``, ``origin``), periods in order, with totals.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"piece": ["a", "a", "b", "c"], "period": ["romantic", "romantic",
    ...                   "baroque", "romantic"], "ensemble": ["keyboard", "keyboard", "organ",
    ...                   "voices"]})
    >>> holdings(m).loc["romantic"].tolist(), holdings(m, count="slices").loc["all"].tolist()
    ([1, 0, 1, 2], [2, 1, 1, 4])
    """
    import pandas as pd

    from cclib.periods import sort_periods

    rows = manifest.drop_duplicates("piece") if count == "pieces" else manifest
    table = pd.crosstab(rows["period"], rows[by], margins=True, margins_name="all")
    order = sort_periods(set(table.index) - {"all"}) + ["all"]
    return table.reindex(order).rename_axis(index="period", columns=f"{count}: {by}")
