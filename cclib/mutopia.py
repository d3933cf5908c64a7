"""The Mutopia Project's LilyPond scores, converted to MIDI for the corpus.

A maintainer runs the import once (``python tools/import_scores.py mutopia
REPO``); users render what it committed in ``scores/mutopia/`` and need
neither LilyPond nor the repository. Each piece of the repository is a folder
``ftp/<Composer>/<Opus>/<Piece>/`` (or ``ftp/<Composer>/<Piece>/``) of
LilyPond files whose ``\\header`` gives the title, the composer, the
instruments and the licence of the edition.

The import:

1. lists every piece and reads its header (:func:`list_pieces`);
2. keeps the pieces whose licence allows redistribution and commercial use
   (public domain, CC-BY, CC-BY-SA), whose style is not folk, hymn, jazz or a
   technical study, whose sources LilyPond converts in seconds, and which
   have a ``\\midi`` block (:func:`eligible`);
3. takes at most a few pieces per composer and ensemble, in a seeded order
   (:func:`select_pieces`);
4. converts each with LilyPond: ``convert-ly -e`` on every file first (the
   sources span LilyPond 2.4 to 2.24), then ``lilypond -dno-print-pages``;
   each ``\\score`` gives one MIDI file, usually one movement
   (:func:`convert_piece`);
5. gives every track the General MIDI program of its instrument, from the
   staff's name, then its ``midiInstrument``, then the header's instrument
   list (:func:`assign_programs`): LilyPond plays an unnamed staff as piano
   and often gives a voice a wind instrument's sound.

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cclib.errors import CclibError
from cclib.instruments import Instrument, as_choir, ensemble, instrument, name_instrument

#: The repository and the commit the committed archives were imported from.
REPOSITORY = "https://github.com/MutopiaProject/MutopiaProject"

#: Header styles left out: not the art music of a period.
LEFT_OUT_STYLES = ("folk", "hymn", "jazz", "technique", "march", "popular", "song", "tango")

#: Composers left out: Mutopia contributors' own recent pieces in old styles (a period by
#: their dates would label a pastiche), Sousa's marches (popular music, styled "Classical"),
#: and arrangers whose dates no source at hand gives (so no period can be given them).
LEFT_OUT_COMPOSERS = {"BanksJK", "BreyC", "BrownCJ", "BurnsD", "IlievGK", "KumarR", "MagnenatS",
                      "OlsonJJ", "PapezikR", "SardainL", "SidwellA", "MullenJW", "JolyD",
                      "KeyperFJ", "RitterC", "WorrallH", "SuterH", "SousaJP"}

#: Pieces per composer and ensemble (guitar and lute: fewer, Mutopia has hundreds).
DEFAULT_CAP = 6
GUITAR_CAP = 4

#: Pieces whose LilyPond sources are larger are left out: a symphony or an opera takes
#: LilyPond minutes, and the cap keeps the whole import to about an hour on 2 cores.
MAX_SOURCE_BYTES = 100_000

#: CPU seconds LilyPond may spend on one file before the piece is skipped.
DEFAULT_TIMEOUT = 300

#: Mutopia composer codes whose surname alone would name another composer of the corpus, or
#: who are known to another source under another name.
NAMES = {"BachCPE": "Bach-CPE", "BachJC": "Bach-JC", "BachWF": "Bach-WF", "BachJCF": "Bach-JCF",
         "HaydnM": "Haydn-Michael", "MozartL": "Mozart-Leopold", "SchumannC": "Schumann-Clara",
         "StraussR": "Strauss-Richard", "ScarlattiA": "Scarlatti-Alessandro",
         "GabrieliA": "Gabrieli-Andrea", "CouperinL": "Couperin-Louis",
         "MendelssohnFanny": "Hensel", "LangJ": "Lang-Josephine", "StraussF": "Strauss-Franz",
         "MuellerW": "Mueller-Wenzel", "MuellerAE": "Mueller-August", "FuchsR": "Fuchs-Robert",
         "LachnerF": "Lachner-Franz", "PresJd": "Josquin"}


class MutopiaError(CclibError, RuntimeError):
    """A Mutopia piece that cannot be converted (one line naming it and why)."""


@dataclass(frozen=True)
class Piece:
    """One piece of the repository.

    Attributes
    ----------
    key : str
        Its folder below ``ftp/``: ``BachJS/BWV515/anna-magdalena-20a``.
    files : dict
        Every file of the folder (path in the repository → size in bytes).
    header : dict
        The ``\\header`` fields of its LilyPond files (the first value of each).
    """

    key: str
    files: dict = field(repr=False)
    header: dict = field(repr=False)

    @property
    def code(self) -> str:
        """Mutopia's composer code (``BachJS``)."""
        code = self.header.get("mutopiacomposer", "")
        return code if re.fullmatch(r"[A-Za-z-]+", code) else self.key.split("/", 1)[0]

    @property
    def composer(self) -> str:
        """The name its files get: the surname (``Bach``), or :data:`NAMES`'s."""
        return composer_name(self.code)

    @property
    def instruments(self) -> str:
        return self.header.get("mutopiainstrument") or self.header.get("instrument", "")

    @property
    def licence(self) -> str | None:
        return licence_class(self.header.get("license") or self.header.get("copyright", ""))

    @property
    def ensemble(self) -> str:
        """The ensemble its instrument list describes (see :func:`field_ensemble`)."""
        return field_ensemble(self.instruments)

    @property
    def lilypond_files(self) -> list[str]:
        return [path for path in self.files if path.endswith((".ly", ".ily", ".lyi"))]


def composer_name(code: str) -> str:
    """The corpus name of a Mutopia composer code: its surname, or :data:`NAMES`'s entry.

    Examples
    --------
    >>> composer_name("BachJS"), composer_name("BachCPE"), composer_name("Mendelssohn-BartholdyF")
    ('Bach', 'Bach-CPE', 'Mendelssohn-Bartholdy')
    >>> composer_name("BoismortierJBd"), composer_name("Saint-SaensC")
    ('Boismortier', 'Saint-Saens')
    """
    if code in NAMES:
        return NAMES[code]
    match = re.match(r"(.*?[a-z])(?:[A-Z][A-Za-z]*)?$", code)
    return match.group(1) if match else code


_HEADER_FIELD = re.compile(r'(?m)^\s*([A-Za-z]+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def read_header(text: str) -> dict:
    """The ``key = "value"`` fields of a LilyPond file (the first value of each key).

    Examples
    --------
    >>> read_header('\\\\header {\\n  title = "Prelude"\\n  license = "Public Domain"\\n}')
    {'title': 'Prelude', 'license': 'Public Domain'}
    """
    found = {}
    for key, value in _HEADER_FIELD.findall(text):
        found.setdefault(key, value.replace('\\"', '"').strip())
    return found


def licence_class(text: str) -> str | None:
    """``PD``, ``CC-BY-<v>`` or ``CC-BY-SA-<v>`` from a header's licence text; None otherwise.

    None for a missing licence and for any non-commercial or no-derivatives one.

    Examples
    --------
    >>> licence_class("Creative Commons Attribution-ShareAlike 3.0 (Unported)")
    'CC-BY-SA-3.0'
    >>> licence_class("Public Domain"), licence_class("Creative Commons BY-SA 2.5")
    ('PD', 'CC-BY-SA-2.5')
    >>> licence_class("Creative Commons Attribution-NonCommercial 3.0") is None
    True
    """
    text = text.lower()
    if not text or "noncommercial" in text or "non-commercial" in text or "-nc" in text \
            or "noderiv" in text:
        return None
    if "public domain" in text:
        return "PD"
    version = re.search(r"(\d\.\d)", text)
    if "creative commons" not in text or not version:
        return None
    share = "sharealike" in text or "by-sa" in text
    return f"CC-BY{'-SA' if share else ''}-{version.group(1)}"


_VOICE_LETTERS = re.compile(r"^\s*(?:[SATB]\.?\s*)+$")


def field_instruments(text: str) -> list[Instrument | None]:
    """The instruments of a header's instrument list, one per part it names (None where
    unknown): a voice part written ``(SATB)`` or ``S.S.A.T.B.`` counts once per letter.

    Examples
    --------
    >>> [i.name for i in field_instruments("Voice (Alto), String Ensemble, Basso Continuo")]
    ['voice', 'strings', 'organ']
    >>> [i.name for i in field_instruments("Voice (SATB) and Piano")]
    ['voice', 'voice', 'voice', 'voice', 'piano']
    >>> len(field_instruments("S.S.A.A.T.T.B.B."))
    8
    """
    found: list[Instrument | None] = []
    for item in re.split(r",|&|\band\b|\bund\b|\bet\b|;|/|\+|:", text):
        if not item.strip():
            continue
        letters = re.search(r"\(([SATB ,.]+)\)", item)
        bare = re.sub(r"\(.*?\)", " ", item)
        if _VOICE_LETTERS.match(item):
            found += [instrument("voice")] * len(re.findall("[SATB]", item))
        elif letters and (name_instrument(bare) is None or name_instrument(bare).kind == "voice"):
            found += [instrument("voice")] * len(re.findall("[SATB]", letters.group(1)))
        else:
            found.append(name_instrument(bare))
    return found


def field_ensemble(text: str, n_tracks: int = 0) -> str:
    """The ensemble a header's instrument list describes (``n_tracks``: the MIDI file's note
    tracks, which tell a quartet from another string group the list does not count).

    Examples
    --------
    >>> field_ensemble("Harpsichord, Piano, Clavichord"), field_ensemble("Voice (SATB)")
    ('keyboard', 'voices')
    >>> field_ensemble("String Quartet: Two Violins, Viola, 'Cello")
    'string quartet'
    >>> field_ensemble("Voice (SATB) and Piano"), field_ensemble("Violins, Viola and Cello", 4)
    ('voices and instruments', 'string quartet')
    """
    kinds = [i.kind for i in field_instruments(text) if i is not None]
    if set(kinds) == {"string"} and ("quartet" in text.lower() or n_tracks == 4):
        return "string quartet"
    if set(kinds) <= {"keyboard"} or set(kinds) <= {"pluck"}:  # alternatives, not parts
        kinds = kinds[:1]
    return ensemble(kinds, hint=text)


def list_pieces(tree) -> list[Piece]:
    """Every piece folder of a Mutopia repository (a :class:`cclib.archives.SourceTree`).

    A folder ``ftp/<Composer>/<X>`` that holds files itself is a piece;
    otherwise each of its sub-folders is.
    """
    files = tree.files("ftp")
    direct = {path.rsplit("/", 1)[0] for path in files if path.count("/") == 3}
    by_piece: dict[str, dict] = {}
    for path, size in files.items():
        parts = path.split("/")
        if len(parts) < 4:
            continue
        key = "/".join(parts[1:3]) if "/".join(parts[:3]) in direct else "/".join(parts[1:4])
        if len(parts) == 4 and "/".join(parts[:3]) not in direct:
            continue
        by_piece.setdefault(key, {})[path] = size
    pieces = []
    for key in sorted(by_piece):
        header: dict = {}
        for path in sorted(by_piece[key], key=lambda p: (p.count("/"), p)):
            if path.endswith((".ly", ".ily", ".lyi")):
                for name, value in read_header(tree.read(path).decode("utf-8", "replace")).items():
                    header.setdefault(name, value)
        if header:
            pieces.append(Piece(key, by_piece[key], header))
    return pieces


def has_midi_block(tree, piece: Piece) -> bool:
    """Whether any LilyPond file of the piece asks for MIDI output (``\\midi``)."""
    return any(b"\\midi" in tree.read(path) for path in piece.lilypond_files)


def eligible(piece: Piece) -> str | None:
    """Why a piece is left out (one phrase), or None when it may be imported.

    Examples
    --------
    >>> eligible(Piece("X/Y", {}, {"license": "Public Domain", "style": "Baroque"})) is None
    True
    >>> eligible(Piece("X/Y", {}, {"license": "Public Domain", "style": "Folk"}))
    'style Folk'
    >>> eligible(Piece("X/Y", {}, {"style": "Baroque"}))
    'no licence that allows commercial reuse'
    """
    if piece.licence is None:
        return "no licence that allows commercial reuse"
    style = piece.header.get("style", "")
    if not style:
        return "no style given (hymn tunes and the like)"
    if any(word in style.lower() for word in LEFT_OUT_STYLES):
        return f"style {style}"
    if piece.code in ("Anonymous", "Traditional"):
        return "no composer"
    if piece.code in LEFT_OUT_COMPOSERS:
        return "a composer the corpus leaves out (see LEFT_OUT_COMPOSERS)"
    size = sum(piece.files[path] for path in piece.lilypond_files)
    if size > MAX_SOURCE_BYTES:
        return f"LilyPond sources over {MAX_SOURCE_BYTES // 1000} kB"
    return None


def select_pieces(pieces, *, cap: int = DEFAULT_CAP, guitar_cap: int = GUITAR_CAP,
                  seed: int = 0) -> list[Piece]:
    """At most ``cap`` pieces per composer and ensemble, in a seeded order.

    The order is a hash of the seed and the piece's folder, so it does not
    depend on which other pieces are listed: adding pieces to the repository
    never changes which of the old ones come first.
    """
    def order(piece: Piece) -> str:
        return hashlib.sha256(f"{seed}:{piece.key}".encode()).hexdigest()

    taken: dict[tuple[str, str], int] = {}
    chosen = []
    for piece in sorted(pieces, key=order):
        group = (piece.composer, piece.ensemble)
        limit = guitar_cap if piece.ensemble == "guitar and lute" else cap
        if taken.get(group, 0) < limit:
            taken[group] = taken.get(group, 0) + 1
            chosen.append(piece)
    return sorted(chosen, key=lambda piece: piece.key)


def main_files(texts: dict[str, str]) -> list[str]:
    r"""The files LilyPond is run on: the ``.ly`` files no other file includes that hold a
    ``\score`` or ``\book``, themselves or through the files they include.

    Examples
    --------
    >>> main_files({"a/p.ly": '\\include "notes.ily" \\score { }', "a/notes.ily": "{ c }"})
    ['a/p.ly']
    >>> main_files({"a/p.ly": '\\include "score.ly"', "a/score.ly": "\\score { }"})
    ['a/p.ly']
    """
    includes = {path: {os.path.normpath(os.path.join(os.path.dirname(path), name))
                       for name in re.findall(r'(?m)^[^%\n]*\\include\s+"([^"]+)"', text)}
                for path, text in texts.items()}
    included = set().union(*includes.values()) if includes else set()

    def holds_score(path: str, seen: set) -> bool:
        if path in seen or path not in texts:
            return False
        seen.add(path)
        return bool(re.search(r"\\(score|book)\b", texts[path])) or any(
            holds_score(other, seen) for other in includes[path])

    return sorted(path for path in texts if path.endswith(".ly")
                  and os.path.normpath(path) not in included and holds_score(path, set()))


_PART_WORDS = re.compile(r"\bparts?\b|stimme|\bsolo\b|\bvoices\b|\bsc\b")
_PAPER_WORDS = re.compile(r"\b(a4|letter|let|us)\b")


def choose_mains(stems) -> list[str]:
    """Of a piece's main files (by stem), those that hold the whole piece, not its parts.

    Many pieces ship a full score with each player's part beside it, and some a
    file made for MIDI output: the MIDI files are kept (``bwv1055-midi``), else
    the scores (``score``, ``partitur``, ``conductor``), else every file that does
    not name an instrument or a part (``violin1``, ``bassi-part``); where that
    leaves nothing (``Horn``, ``Piano``), every file; and of one piece typeset
    for A4 and for letter paper, one.

    Examples
    --------
    >>> choose_mains(["continuo", "score", "viola", "violin1"])
    ['score']
    >>> choose_mains(["quartet_o131", "viola_sc", "violino1_sc"])
    ['quartet_o131']
    >>> choose_mains(["Envoi_orgue01", "Envoi_orgue02"])
    ['Envoi_orgue01', 'Envoi_orgue02']
    >>> choose_mains(["chp-10-01-a4", "chp-10-01-let"])
    ['chp-10-01-a4']
    """
    stems = sorted(stems)
    words = {stem: re.sub(r"[_\-.]+", " ", stem).lower() for stem in stems}
    for pattern in (r"\bmidi\b", r"score|partitur|conductor|\bfull\b|dirigent"):
        found = [stem for stem in stems if re.search(pattern, words[stem])]
        if found:
            return found
    whole = [stem for stem in stems if not (_PART_WORDS.search(words[stem])
                                            or name_instrument(words[stem]))] or stems
    one_paper = {}  # the same music typeset for A4 and for letter paper: once
    for stem in whole:
        one_paper.setdefault(_PAPER_WORDS.sub("", words[stem]).strip(), stem)
    return sorted(one_paper.values())


def midi_stem(name: str, stems) -> str:
    """The main file a MIDI file came from: ``piece-1.mid`` → ``piece`` (a second score).

    Examples
    --------
    >>> midi_stem("Symphony5-1.mid", ["Symphony5-1"]), midi_stem("a-2.mid", ["a"])
    ('Symphony5-1', 'a')
    """
    stem = name.removesuffix(".mid")
    return stem if stem in stems else re.sub(r"-\d+$", "", stem)


def whole_piece(midi: dict[str, bytes]) -> dict[str, bytes]:
    """Of a piece's MIDI files (an earlier conversion of every main file), those of the
    main files :func:`choose_mains` keeps.

    Examples
    --------
    >>> sorted(whole_piece({"score.mid": b"", "score-1.mid": b"", "violin1.mid": b""}))
    ['score-1.mid', 'score.mid']
    """
    bare = {name.removesuffix(".mid") for name in midi}
    stems = {stem for stem in bare if re.sub(r"-\d+$", "", stem) not in bare or
             re.sub(r"-\d+$", "", stem) == stem}
    chosen = set(choose_mains(stems))
    return {name: data for name, data in midi.items() if midi_stem(name, stems) in chosen}


def _limit_cpu(seconds: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    return apply


def convert_piece(tree, piece: Piece, *, timeout: int = DEFAULT_TIMEOUT
                  ) -> tuple[dict[str, bytes], str]:
    """Convert one piece to MIDI with LilyPond.

    Every LilyPond file is first updated with ``convert-ly -e`` (where it can
    be: an include file without ``\\version`` is left as it is); then each
    main file (see :func:`main_files`) is run through ``lilypond
    -dno-print-pages``. LilyPond writes the MIDI of a score even when it
    finds errors elsewhere (in a header or a markup that changed between
    versions); such files are kept, and the first error is returned.

    Returns
    -------
    midi : dict
        MIDI file name → bytes, named as LilyPond names them (``piece.mid``,
        ``piece-1.mid``, ..., one per ``\\score``).
    errors : str
        The first error LilyPond reported ("" when none).

    Raises
    ------
    MutopiaError
        LilyPond is missing, a file takes more than
        ``timeout`` CPU seconds, or no MIDI comes out.
    """
    if shutil.which("lilypond") is None or shutil.which("convert-ly") is None:
        raise MutopiaError("LilyPond is not installed (Debian: apt-get install lilypond)")
    with tempfile.TemporaryDirectory(prefix="cclib-mutopia-") as work:
        work = Path(work)
        for path in piece.files:
            target = work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tree.read(path))
        for path in piece.lilypond_files:  # a file it cannot update (no \\version) stays as it is
            _run(["convert-ly", "-e", str(work / path)], work, timeout, piece, path)
        mains = main_files({path: (work / path).read_text(encoding="utf-8", errors="replace")
                            for path in piece.lilypond_files})
        chosen = choose_mains([Path(path).stem for path in mains])
        mains = [path for path in mains if Path(path).stem in chosen]
        if not mains:
            raise MutopiaError(f"{piece.key}: no file holds a \\score")
        out = work / "midi-out"
        out.mkdir()
        errors = [_run(["lilypond", "-dno-print-pages", "-dmidi-extension=mid", "-o",
                        str(out / Path(path).stem), Path(path).name], (work / path).parent,
                       timeout, piece, path) for path in mains]
        found = {midi.name: midi.read_bytes() for midi in sorted(out.glob("*.mid"))}
    first_error = next((error for error in errors if error), "")
    if not found:
        reason = first_error or "no \\midi block"
        raise MutopiaError(f"{piece.key}: LilyPond wrote no MIDI ({reason})")
    return found, first_error


def _run(command, cwd: Path, timeout: int, piece: Piece, path: str) -> str:
    """Run one LilyPond tool; the first error line it printed ("" when it succeeded)."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                          preexec_fn=_limit_cpu(timeout))
    if done.returncode < 0 or done.returncode == 152:  # killed at the CPU limit
        raise MutopiaError(f"{piece.key}: {Path(path).name}: {command[0]} took more than "
                           f"{timeout} s of CPU")
    if done.returncode == 0:
        return ""
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()
             and not line.startswith(("Changing working", "Processing", "Parsing", "Interpreting",
                                      "Preprocessing", "Finding", "Fitting", "Drawing",
                                      "MIDI output", "Success", "fatal error: failed files"))]
    errors = [line for line in lines if "error" in line.lower()]
    reason = (errors or lines or ["failed"])[0]
    return f"{Path(path).name}: {reason.split('error: ', 1)[-1][:160]}"


def track_instruments(names, midi_names, instruments: str) -> list[Instrument]:
    """Each track's instrument, as the header's instrument list and the track's names allow.

    The header is the typesetter's statement of the forces; a track's names are
    less sure (LilyPond names it after its staff, ``"treble"``, ``"up:A"``, and
    ``midiInstrument`` is often a sound chosen to be heard, an oboe for a
    soprano). So: a piece for one instrument (a piano, an organ, a choir) plays
    every track with it; otherwise a track is placed by its staff's name, then
    by its ``midiInstrument``, each only as an instrument the header lists (a
    French "alto" is then a viola); voices the header lists that no name
    places go to the first unplaced tracks (a song's voice stands on top);
    what is left plays the header's first instrument that is not a voice.

    Examples
    --------
    >>> [i.name for i in track_instruments(["Voice:A", "up:A", "down:A"], ["cello", "", ""],
    ...                                   "Voice and Piano")]
    ['voice', 'piano', 'piano']
    >>> [i.name for i in track_instruments(["treble:", "bass:"], ["", ""], "Piano")]
    ['piano', 'piano']
    >>> [i.name for i in track_instruments(["melStaff:mel", "rh:", "lh:"], ["", "", ""],
    ...                                   "Voice and Piano")]
    ['voice', 'piano', 'piano']
    >>> [i.name for i in track_instruments(["violonI:", "alto:", "cello:"], ["", "", ""],
    ...                                   "Violin, Viola, Cello")]
    ['violin', 'viola', 'cello']
    """
    listed = [i for i in field_instruments(instruments) if i is not None]
    if not listed:
        listed = [instrument("piano")]
    if len({i.name for i in listed}) == 1 or {i.kind for i in listed} == {"voice"}:
        return [as_choir(listed)[0]] * len(names)  # a choir on two staves is still a choir
    allowed = {i.kind for i in listed}
    found = []
    for name, midi_name in zip(names, midi_names):
        guess = name_instrument(name.split(":")[0])
        if guess is not None and guess.kind == "voice" and "voice" not in allowed:
            guess = instrument("viola") if re.match(r"\s*alt", name.lower()) else None
        if guess is None or guess.kind not in allowed:
            guess = name_instrument(midi_name)
        found.append(guess if guess is not None and guess.kind in allowed else None)
    voices = sum(i.kind == "voice" for i in listed) - sum(
        i is not None and i.kind == "voice" for i in found)
    for index, chosen in enumerate(found):
        if chosen is None and voices > 0:
            found[index], voices = instrument("voice"), voices - 1
    other = next((i for i in listed if i.kind != "voice"), listed[0])
    return as_choir([chosen or other for chosen in found])


def assign_programs(data: bytes, instruments: str) -> tuple[bytes, list[Instrument]]:
    """A LilyPond MIDI file with each note track's program set to its instrument's.

    Returns
    -------
    data : bytes
        The MIDI file (see :func:`cclib.midi.with_programs`).
    found : list of Instrument
        The instrument of each note track, in order (see :func:`track_instruments`).
    """
    from cclib.midi import track_names, with_programs

    names = track_names(data)
    found = track_instruments([name for name, _ in names], [midi for _, midi in names],
                              instruments)
    return with_programs(data, [chosen.program for chosen in found]), found


@dataclass(frozen=True)
class ConvertTask:
    """One piece for a worker: where the repository is, and what the cache already holds."""

    root: str
    commit: str
    piece: Piece
    timeout: int
    cached: tuple = ()  # (archive name, bytes) of an earlier conversion of this piece
    work: str = ""  # a folder that keeps LilyPond's output, so a second import reuses it


@dataclass
class Converted:
    """One piece converted: its metadata rows and MIDI files, or the reason it was skipped."""

    key: str
    rows: list = field(default_factory=list)
    files: dict = field(default_factory=dict)
    error: str | None = None


def archive_name(key: str, midi_name: str) -> str:
    """A MIDI file's name in the archives: ``midi/<piece folder, / as __>__<file>``.

    Examples
    --------
    >>> archive_name("BachJS/BWV515/anna-magdalena-20a", "anna-magdalena-20a.mid")
    'midi/BachJS__BWV515__anna-magdalena-20a__anna-magdalena-20a.mid'
    """
    return f"midi/{key.replace('/', '__')}__{midi_name}"


def convert_task(task: ConvertTask) -> Converted:
    """Convert one piece (or take its cached conversion) and describe each MIDI file."""
    from cclib.scores import work_group

    piece = task.piece
    try:
        if task.cached:
            midi = {name.rsplit("__", 1)[1]: data for name, data in task.cached}
        else:
            midi = _converted_once(task)
        midi = whole_piece(midi)
        result = Converted(piece.key)
        header = piece.header
        title = header.get("mutopiatitle") or header.get("title") or piece.key.rsplit("/", 1)[1]
        opus = header.get("mutopiaopus") or header.get("opus", "")
        full_name, born, died = _composer_dates(header.get("composer", ""))
        for number, (name, data) in enumerate(sorted(midi.items()), 1):
            data, found = assign_programs(data, piece.instruments)
            if not found:
                continue
            file = archive_name(piece.key, name)
            result.files[file] = data
            result.rows.append({
                "file": file, "composer": piece.composer, "full_name": full_name,
                "born": born, "died": died,
                "title": title if len(midi) == 1 else f"{title} ({number})",
                "work": work_group(piece.composer, f"{opus} {title}"),
                "ensemble": field_ensemble(piece.instruments, len(found)),
                "instruments": piece.instruments,
                "programs": " ".join(str(i.program) for i in found),
                "licence": piece.licence, "credit": header.get("maintainer", ""),
                "date": header.get("date") or header.get("mutopiadate", ""),
                "source": f"{REPOSITORY} ftp/{piece.key}/ @{task.commit}"})
        return result
    except CclibError as error:
        return Converted(piece.key, error=str(error))
    except Exception as error:  # music21's MIDI reader raises many kinds: name the piece
        return Converted(piece.key, error=f"{piece.key}: {type(error).__name__}: {error}")


def _converted_once(task: ConvertTask) -> dict[str, bytes]:
    """LilyPond's MIDI files of one piece, from ``task.work`` when an earlier import kept
    them there, else converted now (and kept there)."""
    from cclib.archives import SourceTree
    from cclib.fileio import atomic_path

    kept = Path(task.work) / task.commit[:12] / task.piece.key if task.work else None
    if kept is not None and (kept / "done").exists():
        return {path.name: path.read_bytes() for path in sorted(kept.glob("*.mid"))}
    with SourceTree(task.root, task.commit) as tree:
        midi, _ = convert_piece(tree, task.piece, timeout=task.timeout)
    if kept is not None:
        kept.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(kept) as tmp:
            tmp.mkdir()
            for name, data in midi.items():
                (tmp / name).write_bytes(data)
            (tmp / "done").touch()
    return midi


def _composer_dates(text: str) -> tuple[str, str, str]:
    """A header's composer field as (name, born, died): ``"W. A. Mozart (1756-1791)"``.

    Examples
    --------
    >>> _composer_dates("Frédéric Chopin (1810-1849)")
    ('Frédéric Chopin', '1810', '1849')
    """
    match = re.search(r"\(?\s*(?:c\.\s*|ca\.\s*)?(\d{4})\s*[-–]\s*(?:c\.\s*)?(\d{4})\s*\)?", text)
    if not match:
        return text.strip(), "", ""
    return text[:match.start()].strip(" ,"), match.group(1), match.group(2)


def read_converted(folder: str | Path) -> dict[str, tuple]:
    """Earlier conversions (a folder of ``index.csv`` and ``midi-*.tar.xz``, as
    ``../shared/mutopia-midi``): piece folder → ((archive name, bytes), ...)."""
    from cclib.archives import read_archives
    from cclib.fileio import read_csv

    folder = Path(folder)
    files = read_archives(folder)
    return {row["piece"]: tuple((name, files[name]) for name in row["midi_files"].split(";")
                                if name in files)
            for row in read_csv(folder / "index.csv")}


def import_mutopia(root: str | Path, out: str | Path, *, commit: str | None = None,
                   converted: str | Path | None = None, work: str | Path | None = None,
                   cap: int = DEFAULT_CAP,
                   guitar_cap: int = GUITAR_CAP, seed: int = 0, jobs: int = 1,
                   timeout: int = DEFAULT_TIMEOUT, progress: bool | None = None) -> dict:
    """Import the Mutopia repository at ``root`` into ``out`` (``scores/mutopia/``).

    Writes the MIDI archives, ``metadata.csv`` (one row per MIDI file) and
    ``skipped.csv`` (each eligible piece that could not be converted, with the
    reason). A piece found in ``converted`` (an earlier conversion of the same
    commit with the same commands, such as ``../shared/mutopia-midi``) is
    taken from there instead of running LilyPond again; LilyPond's own output
    is kept in ``work``, when given, so that an import run again (after a
    change to the selection) converts only what it has not converted before.

    Returns
    -------
    counts : dict
        ``pieces``, ``eligible``, ``selected``, ``converted``, ``skipped``, ``files``.
    """
    from cclib.archives import SourceTree, write_source
    from cclib.parallel import run_batch, say

    with SourceTree(root, commit) as tree:
        pieces = list_pieces(tree)
        reasons = {piece.key: eligible(piece) or (None if has_midi_block(tree, piece)
                                                   else "no \\midi block") for piece in pieces}
        chosen = select_pieces([p for p in pieces if reasons[p.key] is None], cap=cap,
                               guitar_cap=guitar_cap, seed=seed)
        commit = tree.commit
    cache = read_converted(converted) if converted else {}
    tasks = [ConvertTask(str(root), commit, piece, timeout, cache.get(piece.key, ()),
                         str(work or "")) for piece in chosen]
    rows, files, skipped = [], {}, []
    for result in run_batch(convert_task, tasks, desc="mutopia", unit="piece", jobs=jobs,
                            progress=progress):
        if result.error:
            skipped.append({"piece": result.key, "reason": result.error})
            say(f"skipped {result.error}")
            continue
        rows.extend(result.rows)
        files.update(result.files)
    write_source(out, files, rows, skipped)
    return {"pieces": len(pieces), "eligible": sum(r is None for r in reasons.values()),
            "selected": len(chosen), "converted": len(chosen) - len(skipped),
            "skipped": len(skipped), "files": len(files)}
