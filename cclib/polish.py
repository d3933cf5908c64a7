"""The Polish Scores (Heritage of Polish Music in Open Access), converted to MIDI for the corpus.

A maintainer runs the import once (``python tools/import_scores.py polish
REPO``); users render what it committed in ``scores/polish/``. The
repository holds about 8,000 Humdrum ``**kern`` files (one movement or piece
each), CC-BY-4.0, copyright the Fryderyk Chopin Institute, organised by the
library that holds each source (``pl-kk/kern/...krn``). Each file's reference
records give the composer (``!!!COM``) and their dates (``!!!CDT``), the
title, and the instruments (``*I`` codes, one per spine).

The import:

1. reads every file's reference records and instrument codes (:func:`read_kern`);
2. keeps the files with a named composer whose dates are known (anonymous
   works have only the date of their manuscript, which does not place the
   music in a period), a CC-BY licence, and a size music21 converts in
   seconds (:func:`eligible`);
3. takes at most a few files per composer and ensemble, in a seeded order
   (:func:`select_files`);
4. converts each with music21 (repeats it cannot expand are played
   straight through; :func:`convert_file`), then gives every track the
   General MIDI program of its spine's instrument (:func:`track_programs`):
   music21 gives sung parts the piano's.

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from cclib.errors import CclibError
from cclib.instruments import as_choir, ensemble, fold, humdrum_instrument, name_instrument

REPOSITORY = "https://github.com/pl-wnifc/humdrum-polish-scores"
CREDIT = ("Polish Music Heritage in Open Access, the Fryderyk Chopin Institute "
          "(https://polishscores.org), CC-BY-4.0")

#: Files per composer and ensemble.
DEFAULT_CAP = 4

#: Files larger than this are left out: music21 takes about 0.08 s of CPU per kB
#: (half a minute for a Chopin concerto movement), and the cap keeps the whole
#: import to about an hour on 2 cores.
MAX_BYTES = 80_000

#: CPU seconds music21 may spend on one file.
DEFAULT_TIMEOUT = 120

#: Composers left out: the interwar popular songs and dances the archive also holds (cabaret,
#: tango, foxtrot), which are not the art music whose period the project asks about.
LEFT_OUT_COMPOSERS = {"Gold, Artur", "Kagan, Jakub", "Boczkowski, Jerzy", "Krupiński, Wiktor",
                      "Lawina-Świętochowski, Jerzy", "Lidauer, Władysław", "Mucman, Bolesław",
                      "Piotrowski, Aleksander", "Kranowski, Igo", "Karasiński, Adam Józef",
                      "Bauerfeind, Władysław"}

#: Composers whose surname alone would name another composer of the corpus, or who are
#: known to another source under another spelling.
NAMES = {"Bach, Carl Philipp Emanuel": "Bach-CPE", "Bach, Johann Christian": "Bach-JC",
         "Haydn, Michael": "Haydn-Michael", "Haydn, Johann Michael": "Haydn-Michael",
         "Mozart, Leopold": "Mozart-Leopold", "Mozart, Franz Xaver Wolfgang": "Mozart-FXW",
         "Scarlatti, Alessandro": "Scarlatti-Alessandro", "Gabrieli, Andrea": "Gabrieli-Andrea",
         "Lachner, Ignaz": "Lachner-Ignaz", "Lasso, Orlando di": "Lassus",
         "Bortnjanskij, Dmitrij Stepanovič": "Bortniansky"}


class PolishError(CclibError, RuntimeError):
    """A Polish Scores file that cannot be converted (one line naming it and why)."""


@dataclass(frozen=True)
class KernFile:
    """One ``**kern`` file of the repository.

    Attributes
    ----------
    path : str
        Its path in the repository.
    size : int
        Bytes.
    records : dict
        Reference records (``COM``, ``CDT``, ``OTL``, ...): the first value of each.
    codes : tuple of str
        The instrument code of each ``**kern`` spine, left to right ("" where none).
    parts : tuple of str
        The same with the codes a file leaves empty (``*Iempty``, or none) read
        from the spines around them: a spine that carries lyrics (a ``**text``
        spine to its right) is sung (``vox``), and where two spines are left, or
        the file has fingering (``**fing``), they are a keyboard's (``piano``).
    """

    path: str
    size: int
    records: dict = field(repr=False)
    codes: tuple = ()
    parts: tuple = ()

    @property
    def full_name(self) -> str:
        """``"Józef Stefani"`` from ``!!!COM: Stefani, Józef``."""
        surname, _, forenames = self.records.get("COM", "").partition(",")
        return f"{forenames.strip()} {surname.strip()}".strip()

    @property
    def dates(self) -> tuple[str, str]:
        """Born and died (years as text, "" when unknown), from ``!!!CDT``."""
        years = re.findall(r"\d{4}", self.records.get("CDT", ""))
        return (years[0], years[-1]) if years else ("", "")

    @property
    def ensemble(self) -> str:
        found = as_choir([humdrum_instrument(code) for code in self.parts or self.codes])
        return ensemble([i.kind if i else None for i in found])

    @property
    def licence(self) -> str | None:
        """``CC-BY-4.0``: the repository's ``LICENSE.txt`` covers every file (most also say so
        in ``!!!YEM``); None for a file whose own record names a non-commercial licence."""
        text = fold(self.records.get("YEM", ""))
        return None if "noncommercial" in text or "-nc" in text else "CC-BY-4.0"

    @property
    def title(self) -> str:
        records = self.records
        title = records.get("OTL", "") or Path(self.path).stem
        if records.get("OPR") and records["OPR"] not in title:
            title = f"{records['OPR']}: {title}"
        return title


def read_kern(path: str, size: int, text: str) -> KernFile:
    """A file's reference records and the instrument code of each ``**kern`` spine.

    Examples
    --------
    >>> text = "!!!COM: Stefani, Józef\\n!!!CDT: 1800-1876\\n**kern\\t**kern\\n*Ibass\\t*Isoprn\\n*-\\t*-"
    >>> kern = read_kern("x.krn", len(text), text)
    >>> kern.full_name, kern.dates, kern.codes, kern.ensemble
    ('Józef Stefani', ('1800', '1876'), ('bass', 'soprn'), 'voices')
    >>> read_kern("y.krn", 1, "**kern\\t**text\\t**kern\\n*\\t*\\t*\\n4c\\ta\\t4e\\n*-\\t*-\\t*-").parts
    ('vox', '')
    """
    records: dict = {}
    spines: list[str] | None = None
    codes: list[str] = []
    for line in text.splitlines():
        match = re.match(r"!!!([^:]+):\s?(.*)$", line)
        if match:
            records.setdefault(match.group(1).strip(), match.group(2).strip())
        elif line.startswith("**") and spines is None:
            spines = line.split("\t")
            codes = [""] * len(spines)
        elif spines is not None and line.startswith("*") and len(line.split("\t")) == len(spines):
            for index, token in enumerate(line.split("\t")):
                code = re.match(r"\*I([a-z][A-Za-z_&|]*)$", token)
                if code and not codes[index]:
                    codes[index] = code.group(1)
        elif spines is not None and not line.startswith(("*", "!")):
            break  # the music begins: instruments are given before it
    spines = spines or []
    kern = tuple(code for spine, code in zip(spines, codes) if spine == "**kern")
    return KernFile(path, size, records, kern, infer_parts(spines, codes))


def infer_parts(spines, codes) -> tuple:
    """Each ``**kern`` spine's code, with the empty ones read from the spines around them
    (see :class:`KernFile`).

    Examples
    --------
    >>> infer_parts(["**kern", "**kern", "**kern", "**text"], ["empty", "empty", "empty", ""])
    ('piano', 'piano', 'vox')
    >>> infer_parts(["**kern", "**kern", "**kern"], ["empty", "empty", "empty"])
    ('empty', 'empty', 'empty')
    >>> infer_parts(["**kern", "**kern", "**dynam"], ["", "empty", ""])
    ('piano', 'piano')
    """
    found = []
    for index, spine in enumerate(spines):
        if spine != "**kern":
            continue
        known = humdrum_instrument(codes[index]) is not None
        texted = index + 1 < len(spines) and spines[index + 1] in ("**text", "**silbe")
        found.append(codes[index] if known else "vox" if texted else "")
    empty = [i for i, code in enumerate(found) if not code]
    if empty and (len(empty) == 2 or "**fing" in spines):
        for i in empty:
            found[i] = "piano"
    original = [code for spine, code in zip(spines, codes) if spine == "**kern"]
    return tuple(code or original[i] for i, code in enumerate(found))


def list_files(tree) -> list[KernFile]:
    """Every ``**kern`` file of the repository (a :class:`cclib.archives.SourceTree`)."""
    return [read_kern(path, size, tree.read(path).decode("utf-8", "replace"))
            for path, size in tree.files().items() if path.endswith(".krn")]


def composer_names(files) -> dict[str, str]:
    """The name each composer's files get, from ``!!!COM``: the surname without accents,
    with the first forename added where two composers share it (``Stefani-Jozef``), or
    :data:`NAMES`'s entry.

    Examples
    --------
    >>> files = [KernFile("a", 1, {"COM": c}) for c in
    ...          ["Stefani, Józef", "Stefani, Jan", "Żeleński, Władysław"]]
    >>> composer_names(files)
    {'Stefani, Jan': 'Stefani-Jan', 'Stefani, Józef': 'Stefani-Jozef', 'Żeleński, Władysław': 'Zelenski'}
    """
    people = {kern.records.get("COM", "") for kern in files} - {"", "Anonim"}
    surname = {person: _ascii(person.split(",")[0]) for person in people}
    shared = Counter(surname.values())
    names = {}
    for person in sorted(people, key=lambda p: (surname[p], p)):
        if person in NAMES:
            names[person] = NAMES[person]
        elif shared[surname[person]] > 1:
            forename = person.partition(",")[2].split()
            names[person] = f"{surname[person]}-{_ascii(forename[0]) if forename else 'X'}"
        else:
            names[person] = surname[person]
    return names


def _ascii(text: str) -> str:
    """A name as file names write it: ASCII letters, words joined by hyphens."""
    words = re.findall(r"[A-Za-z]+", fold(text).title())
    return "-".join(words)


def eligible(kern: KernFile) -> str | None:
    """Why a file is left out (one phrase), or None when it may be imported.

    Examples
    --------
    >>> eligible(KernFile("a", 10, {"COM": "Anonim", "YEM": "License CC-BY-4.0"}))
    'anonymous'
    """
    if kern.records.get("COM", "") in ("", "Anonim"):
        return "anonymous"
    if kern.records["COM"] in LEFT_OUT_COMPOSERS:
        return "popular music (see LEFT_OUT_COMPOSERS)"
    if not kern.dates[0]:
        return "composer's dates unknown"
    if kern.licence is None:
        return "a non-commercial licence"
    if not kern.codes:
        return "no **kern spine"
    if kern.size > MAX_BYTES:
        return f"larger than {MAX_BYTES // 1000} kB"
    return None


def select_files(files, names: dict, *, cap: int = DEFAULT_CAP, seed: int = 0) -> list[KernFile]:
    """At most ``cap`` files per composer and ensemble, in a seeded order (see
    :func:`cclib.mutopia.select_pieces`)."""
    def order(kern: KernFile) -> str:
        return hashlib.sha256(f"{seed}:{kern.path}".encode()).hexdigest()

    taken: dict = defaultdict(int)
    chosen = []
    for kern in sorted(files, key=order):
        group = (names[kern.records["COM"]], kern.ensemble)
        if taken[group] < cap:
            taken[group] += 1
            chosen.append(kern)
    return sorted(chosen, key=lambda kern: kern.path)


def work_text(kern: KernFile) -> str:
    """The text a file's work group is found in: its titles, then its manuscript's shelf mark.

    Movements of one work share a parent title (``!!!OPR``) or, without one,
    a shelf mark and the first number of their place in it
    (``Kk.I.111 005``).
    """
    records = kern.records
    catalogue = re.search(r"\b(op(?:us)?|bwv|kv?|hob)\.?\s*\d+", fold(kern.title + " " +
                                                                       Path(kern.path).stem))
    if catalogue:
        return catalogue.group(0)
    if records.get("OPR"):
        return records["OPR"]
    shelf = records.get("SMS-shelfmark", "")
    work = records.get("SMS-shelfwork", "").split("-")[0].split()[0] \
        if records.get("SMS-shelfwork") else ""
    return f"{shelf} {work}".strip() or records.get("OTL", kern.path)


def convert_file(text: str) -> bytes:
    """A ``**kern`` file as MIDI bytes, as music21 writes it (repeats it cannot expand are
    played straight through; every note released at the end)."""
    from music21 import converter

    from cclib.corpus import write_midi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = converter.parse(text, format="humdrum")
        with tempfile.TemporaryDirectory(prefix="cclib-polish-") as work:
            path = Path(work) / "score.mid"
            write_midi(score, path)
            return path.read_bytes()


def track_programs(data: bytes, codes) -> list[int]:
    """The program of each note track of a converted file: its spine's instrument code.

    music21 writes the parts top down, the reverse of the spines' order; when
    the counts differ (a spine music21 splits or drops), each track is placed
    by its name, and a track nothing places is played as a piano.
    """
    from cclib.midi import track_names

    names = [name for name, _ in track_names(data)]
    by_code = [humdrum_instrument(code) for code in reversed(codes)]
    if len(by_code) != len(names):
        by_code = [None] * len(names)
    found = as_choir([coded or name_instrument(name) for coded, name in zip(by_code, names)])
    return [chosen.program if chosen else 0 for chosen in found]


@dataclass(frozen=True)
class ConvertTask:
    """One file for a worker."""

    root: str
    commit: str
    kern: KernFile
    composer: str
    timeout: int
    work: str = ""  # a folder that keeps music21's output, so a second import reuses it


def _converted_once(task: ConvertTask) -> bytes:
    """music21's MIDI of one file, from ``task.work`` when an earlier import kept it there,
    else converted now (and kept there)."""
    from cclib.archives import SourceTree
    from cclib.corpus import time_limit
    from cclib.fileio import atomic_path

    kept = Path(task.work) / task.commit[:12] / f"{task.kern.path}.mid" if task.work else None
    if kept is not None and kept.exists():
        return kept.read_bytes()
    with SourceTree(task.root, task.commit) as tree:
        text = tree.read(task.kern.path).decode("utf-8", "replace")
    with time_limit(task.timeout):
        data = convert_file(text)
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(kept) as tmp:
            tmp.write_bytes(data)
    return data


def convert_task(task: ConvertTask):
    """Convert one file and describe it: a :class:`cclib.mutopia.Converted`."""
    from cclib.midi import with_programs
    from cclib.mutopia import Converted
    from cclib.scores import work_group

    kern = task.kern
    try:
        raw = _converted_once(task)
        programs = track_programs(raw, kern.parts or kern.codes)
        data = with_programs(raw, programs)
    except CclibError as error:
        return Converted(kern.path, error=f"{kern.path}: {error}")
    except Exception as error:  # music21 raises many kinds: name the file and go on
        reason = str(error).splitlines()[0][:160] if str(error) else ""
        return Converted(kern.path, error=f"{kern.path}: {type(error).__name__}: {reason}")
    file = f"midi/{Path(kern.path).stem}.mid"
    born, died = kern.dates
    encoders = "; ".join(dict.fromkeys(value for key, value in kern.records.items()
                                       if key == "ENC" and value))
    row = {"file": file, "composer": task.composer, "full_name": kern.full_name,
           "born": born, "died": died, "title": kern.title,
           "work": work_group(task.composer, work_text(kern)), "ensemble": kern.ensemble,
           "instruments": " ".join(kern.codes),
           "programs": " ".join(map(str, programs)), "licence": kern.licence,
           "credit": f"{CREDIT}{'; encoded by ' + encoders if encoders else ''}",
           "date": kern.records.get("ODT", ""),
           "source": f"{REPOSITORY} {kern.path} @{task.commit}"}
    return Converted(kern.path, rows=[row], files={file: data})


def import_polish(root: str | Path, out: str | Path, *, commit: str | None = None,
                  work: str | Path | None = None, cap: int = DEFAULT_CAP, seed: int = 0,
                  jobs: int = 1,
                  timeout: int = DEFAULT_TIMEOUT, progress: bool | None = None) -> dict:
    """Import the Polish Scores repository at ``root`` into ``out`` (``scores/polish/``).

    Writes the MIDI archives, ``metadata.csv`` (one row per file) and
    ``skipped.csv`` (each selected file that could not be converted, and why).
    music21's output is kept in ``work``, when given, so that an import run
    again converts only what it has not converted before.

    Returns
    -------
    counts : dict
        ``files``, ``eligible``, ``selected``, ``converted``, ``skipped``.
    """
    from cclib.archives import SourceTree, write_source
    from cclib.parallel import run_batch, say

    with SourceTree(root, commit) as tree:
        files = list_files(tree)
        commit = tree.commit
    usable = [kern for kern in files if eligible(kern) is None]
    names = composer_names(usable)
    chosen = select_files(usable, names, cap=cap, seed=seed)
    tasks = [ConvertTask(str(root), commit, kern, names[kern.records["COM"]], timeout,
                         str(work or "")) for kern in chosen]
    rows, midi, skipped = [], {}, []
    for result in run_batch(convert_task, tasks, desc="polish", unit="file", jobs=jobs,
                            progress=progress):
        if result.error:
            skipped.append({"piece": result.key, "reason": result.error})
            say(f"skipped {result.error}")
        else:
            rows.extend(result.rows)
            midi.update(result.files)
    write_source(out, midi, rows, skipped)
    return {"files": len(files), "eligible": len(usable), "selected": len(chosen),
            "converted": len(chosen) - len(skipped), "skipped": len(skipped)}
