"""The scores behind the default corpus: music21's corpus and three committed archives.

Four sources, each a list of works with a composer, a title, an ensemble
and a *work group*:

``music21``
    The scores bundled with music21 (10.5): Renaissance and medieval vocal
    polyphony, Bach's chorales, Monteverdi's madrigals, string quartets by
    Haydn, Mozart and Beethoven, and a few piano pieces and songs.
``openscore``
    1,459 CC0 scores of the OpenScore Lieder and String Quartets corpora
    (``scores/openscore/``): songs for voice and piano from the classical
    period to the 20th century, and string quartets from Haydn to Bartók.
``mutopia``
    The Mutopia Project's LilyPond editions (public domain, CC-BY, CC-BY-SA;
    ``scores/mutopia/``, imported by :mod:`cclib.mutopia`): keyboard, organ,
    chamber, guitar, choral and orchestral music from the Renaissance to Satie.
``polish``
    The Polish Scores (CC-BY-4.0; ``scores/polish/``, imported by
    :mod:`cclib.polish`): masses, motets, songs, keyboard, organ and
    orchestral music from Polish archives, the 16th to the 20th century.

The ensemble (one of :data:`cclib.instruments.ENSEMBLES`) is what the score
is written for, whatever instrument renders it: the texture a listener
hears. The work group keeps together what must never be split between
training and test: the movements of one quartet, the songs of one opus, and
one work found in several sources (Beethoven's Op. 18 quartets are in three),
which is taken from one source only.

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cclib import paths
from cclib.archives import read_archives
from cclib.errors import CclibError
from cclib.instruments import as_choir, ensemble, name_instrument, part_instruments

#: The sources, in the order a work found in several is taken from: a MIDI archive
#: renders in seconds, where music21 takes minutes to parse some whole quartets.
SOURCES = ("music21", "openscore", "mutopia", "polish")
PREFERENCE = ("openscore", "mutopia", "polish", "music21")

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
        ``"music21:bach/bwv324.mxl"``, ``"openscore:midi/Haydn_1.mid"``, ...: the source,
        a colon, the score's path inside it.
    composer : str
        The name its files get (``Bach``, ``Lang-Josephine``).
    title : str
        From the source's metadata where it has one; empty for music21
        scores until they are parsed.
    ensemble : str
        One of :data:`cclib.instruments.ENSEMBLES`; empty for music21 scores until parsed.
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
        """The source: ``"music21"``, ``"openscore"``, ``"mutopia"`` or ``"polish"``."""
        return self.source.split(":", 1)[0]

    @property
    def path(self) -> str:
        """The score's path inside its source."""
        return self.source.split(":", 1)[1]


_CATALOGUES = (
    ("bwv", re.compile(r"\bbwv\.?\s*(\d+)", re.I)),
    ("k", re.compile(r"\bkv?\.?\s*(\d+)", re.I)),
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


class ScoresError(CclibError, ValueError):
    """A score source that cannot be used (unknown, or its archive missing or damaged)."""


def source_dir(source: str) -> Path:
    """``scores/<source>/``: the archives, ``metadata.csv`` and the licence notes."""
    return paths.scores_dir() / source


def openscore_dir() -> Path:
    """``scores/openscore/``."""
    return source_dir("openscore")


def archive_scores(source: str) -> list[Score]:
    """Every score of one committed archive (``openscore``, ``mutopia``, ``polish``).

    Composers are named as ``periods/`` lists them (Mutopia's
    ``Mendelssohn-Bartholdy`` is the corpus's ``Mendelssohn``).
    """
    from cclib.periods import load_periods

    table = load_periods()
    scores = []
    with open(source_dir(source) / "metadata.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if source == "openscore":
                composer = OPENSCORE_NAMES.get(row["composer"], row["composer"])
                kind, group = _OPENSCORE_ENSEMBLES[row["ensemble"]], work_group(composer,
                                                                                  row["title"])
            else:
                composer = table.canonical_name(row["composer"]) or row["composer"]
                kind, group = row["ensemble"], row["work"].replace(row["composer"], composer, 1)
            scores.append(Score(f"{source}:{row['file']}", composer, row["title"], kind, group))
    return scores


def openscore_scores() -> list[Score]:
    """Every score of the OpenScore archives, from ``metadata.csv``."""
    return archive_scores("openscore")


def all_scores(sources=SOURCES) -> list[Score]:
    """The scores of the chosen sources, music21's first.

    A work group found in several sources is taken from the first of
    :data:`PREFERENCE` that has it, so the same music is rendered once.
    """
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise ScoresError(f"--sources: unknown source {sorted(unknown)[0]!r}; choose from "
                          f"{', '.join(SOURCES)}")
    taken: set[str] = set()
    chosen: dict[str, list[Score]] = {}
    for source in PREFERENCE:
        if source not in sources:
            continue
        found = music21_scores() if source == "music21" else archive_scores(source)
        chosen[source] = [score for score in found if score.group not in taken]
        taken |= {score.group for score in found}
    return [score for source in SOURCES for score in chosen.get(source, [])]


@lru_cache(maxsize=4)
def _archive(source: str) -> dict[str, bytes]:
    return read_archives(source_dir(source))


def score_midi(source: str) -> bytes:
    """The bytes of one archived MIDI file: ``"mutopia:midi/...mid"``, read from its archive.

    Each source's archives are read once per process (33 MB for OpenScore).
    """
    origin, _, path = source.partition(":")
    try:
        return _archive(origin)[path]
    except KeyError:
        raise ScoresError(f"{source}: not in scores/{origin}/'s archives") from None


def openscore_midi(path: str) -> bytes:
    """The bytes of one OpenScore MIDI file (``midi/Haydn_1.mid``), read from its archive."""
    return score_midi(f"openscore:{path}")


def part_names(score) -> list[str]:
    """Each part's name in a parsed music21 score: the first of its part name, its
    instrument's name and its instrument's kind (``Choir``) that names an instrument."""
    names = []
    for part in score.parts:
        found = part.getInstrument(returnDefault=False)
        candidates = [part.partName or ""] + ([found.instrumentName or "",
                                                type(found).__name__] if found else [])
        names.append(next((name for name in candidates if name and name_instrument(name)),
                          candidates[0]))
    return names


def score_ensemble(score) -> str:
    """What a parsed music21 score is written for: one of :data:`cclib.instruments.ENSEMBLES`.

    A score whose one or two parts are unnamed is a keyboard's (a piano's two
    staves are often left so).

    Examples
    --------
    >>> from music21 import stream
    >>> parts = [stream.Part() for _ in range(4)]
    >>> for part, name in zip(parts, ["Soprano", "Alto", "Tenor", "Bass"]):
    ...     part.partName = name
    >>> score_ensemble(stream.Score(parts))
    'voices'
    """
    found = part_instruments(part_names(score))
    if all(i is None for i in found) and len(found) <= 2:
        return "keyboard"
    return ensemble([i.kind if i else None for i in found])


def score_programs(score) -> list[int | None]:
    """The General MIDI program of each part of a parsed score, from its name (None: unknown)."""
    return [i.program if i else None for i in as_choir(part_instruments(part_names(score)))]


def score_title(score, path: str) -> str:
    """A readable title from a parsed score's metadata, or its file name."""
    metadata = score.metadata
    parts = []
    if metadata is not None:
        for value in (metadata.title, metadata.movementName):
            if value and value not in parts and not re.search(r"\.(mxl|xml|krn|abc)$", value):
                parts.append(str(value))
    return ": ".join(parts) or path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
