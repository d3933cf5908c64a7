"""The scores behind the default corpus: music21's corpus and the OpenScore archives.

Two sources, each a list of works with a composer, a title, an ensemble and
a *work group*:

``music21``
    The scores bundled with music21 (10.5): Renaissance and medieval vocal
    polyphony, Bach's chorales, Monteverdi's madrigals, string quartets by
    Haydn, Mozart and Beethoven, and a few piano pieces and songs.
``openscore``
    1,459 CC0 scores of the OpenScore Lieder and String Quartets corpora,
    converted to MIDI and shipped in ``scores/openscore/`` (see its
    ``README.md``): songs for voice and piano from the classical
    period to the 20th century, and string quartets from Haydn to Bartók.

The ensemble (``voices``, ``keyboard``, ``string quartet``, ``voice and
piano``, ``other``) is what the score is written for, whatever instrument
renders it: the texture a listener hears. The work group keeps together
what must never be split between training and test: the movements of one
quartet, the songs of one opus, and one work found in both sources
(Beethoven's Op. 18 quartets are in both).

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations

import csv
import io
import lzma
import re
import tarfile
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cclib import paths

SOURCES = ("music21", "openscore")
ENSEMBLES = ("voices", "keyboard", "string quartet", "voice and piano", "other")

#: music21 corpus folders that hold one composer's works (or, for "trecento",
#: an anthology of 14th-century Italian music), and the name their files get.
CORPUS_COMPOSERS = {
    "bach": "Bach", "beach": "Beach", "beethoven": "Beethoven", "chopin": "Chopin",
    "ciconia": "Ciconia", "corelli": "Corelli", "cpebach": "Bach-CPE", "handel": "Handel",
    "haydn": "Haydn", "johnson_j_r": "Johnson", "joplin": "Joplin", "josquin": "Josquin",
    "liliuokalani": "Liliuokalani", "luca": "Luca", "lusitano": "Lusitano",
    "monteverdi": "Monteverdi", "mozart": "Mozart", "palestrina": "Palestrina",
    "schoenberg": "Schoenberg", "schubert": "Schubert", "schumann_clara": "Schumann-Clara",
    "schumann_robert": "Schumann", "trecento": "Trecento", "verdi": "Verdi", "weber": "Weber",
    "webern": "Webern",
}

#: music21 folders whose every work is vocal polyphony, whatever their parts are called.
VOCAL_FOLDERS = {"trecento", "ciconia", "luca", "palestrina", "josquin", "lusitano",
                 "monteverdi"}

#: OpenScore composers whose file name must differ from the metadata's: Josephine Lang
#: (1815-1880) is not the David Lang of periods/21stcentury.txt.
OPENSCORE_NAMES = {"Lang": "Lang-Josephine"}

#: music21 works without a catalogue number in their path that OpenScore also holds.
MUSIC21_GROUPS = {"schubert/Lindenbaum.xml": "d911",
                  "schumann_robert/dichterliebe_no2.xml": "op48"}

#: Score formats rendered, in order of preference when one work comes in several
#: (Bach's bwv277 is both .krn and .mxl); Roman-numeral analyses (.rntxt) hold no notes.
SCORE_SUFFIXES = (".mxl", ".musicxml", ".xml", ".krn", ".abc")

_OPENSCORE_ENSEMBLES = {"lied": "voice and piano", "quartet": "string quartet"}


@dataclass(frozen=True)
class Score:
    """One score of a source, before it is numbered as a corpus work.

    Attributes
    ----------
    source : str
        ``"music21:bach/bwv324.mxl"`` or ``"openscore:midi/Haydn_1.mid"``.
    composer : str
        The name its files get (``Bach``, ``Lang-Josephine``).
    title : str
        From the source's metadata where it has one; empty for music21
        scores until they are parsed.
    ensemble : str
        One of :data:`ENSEMBLES`; empty for music21 scores until parsed.
    group : str
        The work group (see :func:`work_group`).
    """

    source: str
    composer: str
    title: str = ""
    ensemble: str = ""
    group: str = ""

    @property
    def origin(self) -> str:
        """``"music21"`` or ``"openscore"``."""
        return self.source.split(":", 1)[0]

    @property
    def path(self) -> str:
        """The score's path inside its source."""
        return self.source.split(":", 1)[1]


_CATALOGUES = (
    ("bwv", re.compile(r"\bbwv\.?\s*(\d+)", re.I)),
    ("k", re.compile(r"\bk\.?\s*(\d+)", re.I)),
    ("d", re.compile(r"\bd\.\s*(\d+)", re.I)),
    ("op", re.compile(r"\bop(?:us)?\.?\s*(\d+)", re.I)),
    ("hob", re.compile(r"\bhob\.?\s*([ivx]+[a-z]*):?\s*(\d+)", re.I)),
)

_MASS_MOVEMENT = re.compile(r"(?:kyrie|gloria|credo|sanctus|benedictus|agnus)\D*?(\d+)", re.I)


def work_group(composer: str, text: str) -> str:
    """The group a work belongs to: composer and catalogue number, or collection.

    The first catalogue found, in the order BWV, K., D., Op., Hob., gives the
    group without its number within the opus (all of Op. 18 is one group);
    otherwise a title's collection (the part before a colon); otherwise the
    text itself.

    Parameters
    ----------
    composer : str
    text : str
        A title (``"4 Gesänge, Op.46: Die Kränze"``) or a music21 path
        (``"beethoven/opus18no1/movement1.mxl"``).

    Returns
    -------
    group : str

    Examples
    --------
    >>> work_group("Beethoven", "beethoven/opus18no1/movement1.mxl")
    'Beethoven op18'
    >>> work_group("Beethoven", "String Quartet No.1, Op.18 No.1")
    'Beethoven op18'
    >>> work_group("Mozart", "String Quartet No.1 in G major, K.80/73f")
    'Mozart k80'
    >>> work_group("Holmes", "Les Sept Ivresses: L'Amour")
    'Holmes les sept ivresses'
    >>> work_group("Palestrina", "palestrina/Agnus_I_34.krn")
    'Palestrina mass 34'
    """
    for name, pattern in _CATALOGUES:
        match = pattern.search(text.replace("_", " "))
        if match:
            return f"{composer} {name}{''.join(match.groups()).lower()}"
    mass = _MASS_MOVEMENT.match(text.rsplit("/", 1)[-1])
    if mass:  # Palestrina's Kyrie_01, Gloria_01, ... are movements of mass 1
        return f"{composer} mass {int(mass.group(1))}"
    base = text.split(":", 1)[0] if ":" in text else text
    base = re.sub(r"\.(mxl|musicxml|xml|krn|abc|mid)$", "", base.rsplit("/", 1)[-1])
    folded = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    return f"{composer} {' '.join(re.findall(r'[a-z0-9]+', folded.lower()))}"


def music21_scores() -> list[Score]:
    """Every renderable score in music21's corpus folders of :data:`CORPUS_COMPOSERS`.

    A work held in several formats is listed once, in the preferred format.
    """
    from music21.corpus import corpora

    chosen: dict[str, str] = {}  # path without suffix → path
    for path in sorted(corpora.CoreCorpus().getPaths(),
                       key=lambda p: SCORE_SUFFIXES.index(p.suffix)
                       if p.suffix in SCORE_SUFFIXES else len(SCORE_SUFFIXES)):
        parts = path.parts
        if "corpus" not in parts or path.suffix not in SCORE_SUFFIXES:
            continue
        relative = "/".join(parts[parts.index("corpus") + 1:])
        if relative.split("/", 1)[0] in CORPUS_COMPOSERS:
            chosen.setdefault(relative.rsplit(".", 1)[0], relative)
    scores = []
    for relative in sorted(chosen.values()):
        folder = relative.split("/", 1)[0]
        composer = CORPUS_COMPOSERS[folder]
        group = (f"{composer} {MUSIC21_GROUPS[relative]}" if relative in MUSIC21_GROUPS
                 else work_group(composer, relative))
        scores.append(Score(f"music21:{relative}", composer,
                            ensemble="voices" if folder in VOCAL_FOLDERS else "", group=group))
    return scores


def openscore_dir() -> Path:
    """``scores/openscore/``: the archives, ``metadata.csv`` and the licence notes."""
    return paths.scores_dir() / "openscore"


def openscore_scores() -> list[Score]:
    """Every score of the OpenScore archives, from ``metadata.csv``."""
    scores = []
    with open(openscore_dir() / "metadata.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            composer = OPENSCORE_NAMES.get(row["composer"], row["composer"])
            scores.append(Score(f"openscore:{row['file']}", composer, row["title"],
                                _OPENSCORE_ENSEMBLES[row["ensemble"]],
                                work_group(composer, row["title"])))
    return scores


def all_scores(sources=SOURCES) -> list[Score]:
    """The scores of the chosen sources, music21's first.

    A work group found in both sources is taken from OpenScore only: its
    MIDI files render in seconds, where music21 takes minutes to parse some
    whole quartets, and the same music is not rendered twice.
    """
    unknown = set(sources) - set(SOURCES)
    if unknown:
        from cclib.corpus import CorpusError

        raise CorpusError(f"--sources: unknown source {sorted(unknown)[0]!r}; choose from "
                          f"{', '.join(SOURCES)}")
    openscore = openscore_scores() if "openscore" in sources else []
    in_openscore = {score.group for score in openscore}
    music21 = [score for score in music21_scores() if score.group not in in_openscore] \
        if "music21" in sources else []
    return music21 + openscore


@lru_cache(maxsize=1)
def _openscore_archive() -> dict[str, bytes]:
    files = {}
    for archive in sorted(openscore_dir().glob("midi-*.tar.xz")):
        with tarfile.open(fileobj=io.BytesIO(lzma.decompress(archive.read_bytes()))) as tar:
            for member in tar.getmembers():
                if member.isfile():
                    files[member.name] = tar.extractfile(member).read()
    return files


def openscore_midi(path: str) -> bytes:
    """The bytes of one OpenScore MIDI file (``midi/Haydn_1.mid``), read from its archive.

    The archives are read once per process (33 MB).
    """
    return _openscore_archive()[path]


_PART_KINDS = (
    ("voice", re.compile(r"sopran|\balt(o|us)?\b|tenor|\bbass(us)?\b|cantus|quintus|sextus|"
                         r"superius|contra|triplum|motetus|voice|voix|stimme|canto|choir|chor|"
                         r"vocal|singer|gesang|mezzo|bariton", re.I)),
    ("string", re.compile(r"viol|cello|contrabass|double bass|kontraba", re.I)),
    ("keyboard", re.compile(r"piano|klavier|clavier|harpsichord|cembalo|organ|orgel|keyboard",
                            re.I)),
)


def part_kind(part) -> str:
    """``voice``, ``string``, ``keyboard`` or ``unknown``: by the part's name, then its instrument."""
    from music21 import instrument

    for kind, pattern in _PART_KINDS:
        if pattern.search(part.partName or ""):
            return kind
    found = part.getInstrument(returnDefault=False)
    if isinstance(found, (instrument.Vocalist, instrument.Choir)):
        return "voice"
    if isinstance(found, (instrument.Violin, instrument.Viola, instrument.Violoncello,
                          instrument.Contrabass)):
        return "string"
    if isinstance(found, instrument.KeyboardInstrument) and found.instrumentName:
        return "keyboard"
    return "unknown"


def score_ensemble(score) -> str:
    """What a parsed music21 score is written for: one of :data:`ENSEMBLES`.

    Examples
    --------
    >>> from music21 import stream
    >>> parts = [stream.Part() for _ in range(4)]
    >>> for part, name in zip(parts, ["Soprano", "Alto", "Tenor", "Bass"]):
    ...     part.partName = name
    >>> score_ensemble(stream.Score(parts))
    'voices'
    """
    kinds = [part_kind(part) for part in score.parts] or ["keyboard"]
    present = set(kinds)
    if present == {"voice"}:
        return "voices"
    if present == {"keyboard"} or (present == {"unknown"} and len(kinds) <= 2):
        return "keyboard"  # a piano's two staves are often left unnamed
    if present == {"string"} and len(kinds) == 4:
        return "string quartet"
    if present == {"voice", "keyboard"}:
        return "voice and piano"
    return "other"


def score_title(score, path: str) -> str:
    """A readable title from a parsed score's metadata, or its file name."""
    metadata = score.metadata
    parts = []
    if metadata is not None:
        for value in (metadata.title, metadata.movementName):
            if value and value not in parts and not re.search(r"\.(mxl|xml|krn|abc)$", value):
                parts.append(str(value))
    return ": ".join(parts) or path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
