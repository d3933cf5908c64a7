"""What a score is written for: each part's instrument, its General MIDI program, the ensemble.

One table, used by every source of the corpus: a part's name in a score
(``"Violoncello"``, ``"Sopran"``, ``"sopranos:sopranos"``) or its Humdrum
instrument code (``*Ivioln``) gives an :class:`Instrument`, with the General
MIDI program that plays it when the corpus is rendered with the scores' own
instruments (``cclib corpus --instrument score``), and a *kind* (voice,
keyboard, organ, string, pluck, wind, brass, percussion, harp). The kinds of
a score's parts give its *ensemble*, the texture a listener hears, one of
:data:`ENSEMBLES`, whatever instrument later renders it.

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

#: The ensembles of the corpus, one vocabulary for every source.
ENSEMBLES = ("keyboard", "organ", "voices", "voice and piano", "voices and instruments",
             "string quartet", "strings and chamber", "orchestra", "guitar and lute", "other")


@dataclass(frozen=True)
class Instrument:
    """One instrument: its name, its kind and the General MIDI program that plays it.

    Attributes
    ----------
    name : str
        ``"violin"``, ``"choir"``, ...: a key of :data:`INSTRUMENTS`.
    kind : str
        ``voice``, ``keyboard``, ``organ``, ``string``, ``pluck``, ``harp``,
        ``wind``, ``brass`` or ``percussion``.
    program : int
        General MIDI program, 0-based (0 acoustic grand piano, 40 violin).
    """

    name: str
    kind: str
    program: int


#: Every instrument the sources name: kind and General MIDI program (0-based).
INSTRUMENTS = {
    "voice": ("voice", 53), "choir": ("voice", 52),
    "piano": ("keyboard", 0), "harpsichord": ("keyboard", 6), "clavichord": ("keyboard", 7),
    "organ": ("organ", 19), "harmonium": ("organ", 20), "accordion": ("organ", 21),
    "violin": ("string", 40), "viola": ("string", 41), "cello": ("string", 42),
    "double bass": ("string", 43), "strings": ("string", 48), "viol": ("string", 42),
    "guitar": ("pluck", 24), "lute": ("pluck", 24), "mandolin": ("pluck", 25),
    "harp": ("harp", 46), "zither": ("pluck", 107),
    "flute": ("wind", 73), "piccolo": ("wind", 72), "recorder": ("wind", 74),
    "oboe": ("wind", 68), "english horn": ("wind", 69), "clarinet": ("wind", 71),
    "bassoon": ("wind", 70), "saxophone": ("wind", 65),
    "horn": ("brass", 60), "trumpet": ("brass", 56), "trombone": ("brass", 57),
    "tuba": ("brass", 58), "cornett": ("brass", 56), "winds": ("wind", 68),
    "brass": ("brass", 61),
    "timpani": ("percussion", 47), "percussion": ("percussion", 47),
    "glockenspiel": ("percussion", 9), "bells": ("percussion", 14),
}

#: Words that name an instrument in a part name or an instrument list, in English, German,
#: Italian, French, Latin and Polish, tried in order (the first that matches wins). A bare
#: "bass" is a voice among voices and a double bass otherwise (see :func:`part_instruments`).
_WORDS = (
    ("double bass", r"contra ?bass|double ?bass|kontraba|contrebasse|violone|kontrabas"),
    ("organ", r"continuo|basse continue|b\.? ?c\."),  # figured bass: organ or harpsichord
    ("english horn", r"english horn|cor anglais|corno inglese"),
    ("horn", r"\bhorn|\bcorno\b|\bcorni\b|\bcor\b|waldhorn|\bcors\b|rog\b"),
    ("harpsichord", r"harpsichord|cembalo|clavecin|\bspinet|virginal"),
    ("clavichord", r"clavichord"),
    ("piano", r"piano|klavier|clavier|\bpf\b|fortepian|keyboard|\bpno\b|acoustic grand|"
              r"bright acoustic|electric grand|honky"),
    ("harmonium", r"harmonium|physharmoni"),
    ("organ", r"organ|orgel|orgue|\borgano|organo\b|\borgan"),
    ("accordion", r"accordion|akordeon"),
    ("violin", r"violin|violino|violon\b|\bvln|\bvl\b|skrzyp|geige|violini"),
    ("viola", r"\bviolas?\b|\bviole\b|bratsche|\baltviol|\bvla\b|altówk"),
    ("cello", r"cello|violoncel|\bvc\b|wiolonczel"),
    ("viol", r"viola da gamba|\bgamba|\bviol\b|\bviols\b"),
    ("strings", r"\bstrings?\b|string ensemble|\barchi\b|streicher|cordes"),
    ("guitar", r"guitar|gitarr|guitare|chitarra|gitara"),
    ("lute", r"\blute|\blaute|\bliuto|theorb|vihuela|\bluth\b|archlute"),
    ("mandolin", r"mandolin"),
    ("harp", r"\bharp\b|\bharfe|\barpa\b|\bharpe\b|\bharps\b"),
    ("piccolo", r"piccolo|ottavino"),
    ("recorder", r"recorder|flauto dolce|blockfl|flûte à bec"),
    ("flute", r"flute|flöte|flauto|flauti|\bflûte|\bflet"),
    ("oboe", r"\boboe|hautbois|\boboi\b|\bob\b"),
    ("clarinet", r"clarinet|klarinet|clarinetto|\bclar\b"),
    ("bassoon", r"bassoon|fagott|basson|\bfagot"),
    ("saxophone", r"saxophon|\bsax\b"),
    ("trumpet", r"trumpet|trompet|tromba|\bclarino|\btrombe\b|trąbk"),
    ("trombone", r"trombon|posaun|puzon"),
    ("tuba", r"\btuba|ophicl|serpent"),
    ("cornett", r"\bcornett|\bzink"),
    ("timpani", r"timpan|pauke|kotł|\btimb"),
    ("percussion", r"percussion|\bdrum|cymbal|triangle|\bgong|tambourin|castan"),
    ("glockenspiel", r"glockenspiel"),
    ("winds", r"\bwinds?\b|woodwind|bläser|harmoniemusik"),
    ("brass", r"\bbrass\b|blechbl"),
    ("zither", r"zither|cytr"),
    # voices last: "alto saxophone", "tenor trombone" and "bass clarinet" are instruments
    ("choir", r"\bchoir|\bchor\b|\bchorus|\bcoro\b|\bsatb\b|\bttbb\b|\bssa|\bchoeur"),
    ("voice", r"sopran|soprn|\balt(o|us|i)?\b|contralto|mezzo|tenor|bariton|\bvoice|\bvox\b|"
              r"\bvoix|\bstimme|\bgesang|\bcanto\b|cantus|superius|quintus|sextus|altus|"
              r"\bsinger|\bvocal|\bvoce|\bglos\b|\bsolo voice"),
)
_PATTERNS = tuple((name, re.compile(pattern)) for name, pattern in _WORDS)

#: Humdrum ``*I`` instrument codes (as in the Polish scores) and the instrument of each.
HUMDRUM_CODES = {
    "soprn": "voice", "mezzo": "voice", "alto": "voice", "calto": "voice", "tenor": "voice",
    "ctenor": "voice", "barit": "voice", "bass": "voice", "vox": "voice", "canto": "voice",
    "quinto": "voice", "sesto": "voice", "male": "voice", "feme": "voice", "nfant": "voice",
    "coro": "choir", "piano": "piano", "forte": "piano", "klav": "piano", "cemba": "harpsichord",
    "clavi": "clavichord", "organ": "organ", "physh": "harmonium", "vioin": "violin",
    "violn": "violin", "viola": "viola", "cello": "cello", "cbass": "double bass",
    "viole": "double bass", "violb": "viol", "violt": "viol", "viols": "viol",
    "guitr": "guitar", "liuto": "lute", "tiorb": "lute", "arpa": "harp", "zithr": "zither",
    "flt": "flute", "picco": "piccolo", "oboe": "oboe", "cangl": "english horn",
    "clars": "clarinet", "clara": "clarinet", "clarb": "clarinet", "claro": "clarinet",
    "fagot": "bassoon", "fag_c": "bassoon", "dulc": "bassoon", "sxhB": "tuba", "sxhC": "tuba",
    "cor": "horn", "corno": "horn", "tromp": "trumpet", "clrno": "trumpet", "cornt": "cornett",
    "tromb": "trombone", "tromt": "trombone", "troma": "trombone", "tuba": "tuba",
    "serp": "tuba", "ophic": "tuba", "timpa": "timpani", "trngl": "percussion",
    "piatt": "percussion", "bdrum": "percussion", "sdrum": "percussion", "drum": "percussion",
    "drumP": "percussion", "tambn": "percussion", "gong": "percussion", "tom": "percussion",
    "casts": "percussion", "glock": "glockenspiel", "campn": "bells",
}


def instrument(name: str) -> Instrument:
    """An :class:`Instrument` from its name in :data:`INSTRUMENTS`.

    Examples
    --------
    >>> instrument("cello")
    Instrument(name='cello', kind='string', program=42)
    """
    kind, program = INSTRUMENTS[name]
    return Instrument(name, kind, program)


def fold(text: str) -> str:
    """Lower case without accents (``"Flöte"`` → ``"flote"``), ``ł`` as ``l``.

    Examples
    --------
    >>> fold("Żeleński, Władysław")
    'zelenski, wladyslaw'
    """
    text = text.replace("ł", "l").replace("Ł", "L")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def name_instrument(text: str) -> Instrument | None:
    """The instrument a part name or an instrument word names, or None.

    Examples
    --------
    >>> name_instrument("Violoncello").name
    'cello'
    >>> name_instrument("sopranos:sopranos").kind
    'voice'
    >>> name_instrument("Basso continuo").name
    'organ'
    >>> name_instrument("up:A") is None
    True
    """
    lowered = text.lower()
    folded = fold(text)
    for name, pattern in _PATTERNS:
        if pattern.search(lowered) or pattern.search(folded):
            return instrument(name)
    return None


def humdrum_instrument(code: str) -> Instrument | None:
    """The instrument of a Humdrum ``*I`` code (``"*Ivioln"``, ``"violn"``), or None.

    A combined code (``*Icello&Icbass``) is read by its first instrument.

    Examples
    --------
    >>> humdrum_instrument("*Ivioln").name
    'violin'
    >>> humdrum_instrument("*Itenor&Ibass").kind
    'voice'
    >>> humdrum_instrument("*Iempty") is None
    True
    """
    first = re.split(r"[&|]", code.removeprefix("*I"))[0].removeprefix("I")
    name = HUMDRUM_CODES.get(first)
    return instrument(name) if name else None


def part_instruments(names, *, default: Instrument | None = None) -> list[Instrument | None]:
    """Each part's instrument from its name; a part no name places gets ``default``.

    A bare "bass" (or "basses") is a sung bass when another part is a voice,
    and a double bass otherwise.

    Examples
    --------
    >>> [i.name for i in part_instruments(["Soprano", "Alto", "Tenor", "Bass"])]
    ['voice', 'voice', 'voice', 'voice']
    >>> [i.name for i in part_instruments(["Violin", "Bass"])]
    ['violin', 'double bass']
    """
    found = [name_instrument(name) for name in names]
    voices = any(i is not None and i.kind == "voice" for i in found)
    for index, name in enumerate(names):
        if found[index] is None and re.search(r"\bbass(es|o|us|i)?\b", name.lower()):
            found[index] = instrument("voice" if voices else "double bass")
    return [i if i is not None else default for i in found]


def as_choir(found: list) -> list:
    """Voices sung by a choir (three voice parts or more) get the choir's program, and
    fewer the solo voice's, whatever their names said.

    Examples
    --------
    >>> [i.program for i in as_choir([instrument("voice")] * 4)]
    [52, 52, 52, 52]
    >>> [i.program for i in as_choir([instrument("choir"), instrument("piano")])]
    [53, 0]
    """
    voices = sum(i is not None and i.kind == "voice" for i in found)
    sung = instrument("choir" if voices >= 3 else "voice")
    return [sung if i is not None and i.kind == "voice" else i for i in found]


def ensemble(kinds, *, hint: str = "") -> str:
    """The ensemble of a score from its parts' kinds (one per part, None where unknown).

    Parameters
    ----------
    kinds : iterable of str or None
        The kind of each part (see :class:`Instrument`).
    hint : str
        The source's own description of the forces (``"Orchestra"``,
        ``"String Quartet"``), where it has one: it decides where counting
        parts cannot.

    Returns
    -------
    ensemble : str
        One of :data:`ENSEMBLES`.

    Examples
    --------
    >>> ensemble(["voice", "voice", "voice", "voice"])
    'voices'
    >>> ensemble(["voice", "keyboard"])
    'voice and piano'
    >>> ensemble(["string"] * 4)
    'string quartet'
    >>> ensemble(["string", "string", "wind", "wind", "brass", "brass", "string", "string",
    ...           "percussion"])
    'orchestra'
    >>> ensemble(["voice"] * 4 + ["organ"])
    'voices and instruments'
    """
    counts = Counter(kind for kind in kinds if kind)
    hint = fold(hint)
    if not counts:
        return "orchestra" if "orchestra" in hint else "other"
    voices, total = counts["voice"], sum(counts.values())
    others = set(counts) - {"voice"}
    if "orchestra" in hint or (not voices and _orchestral(counts)):
        return "orchestra" if not voices else "voices and instruments"
    if voices:
        if not others:
            return "voices"
        if others == {"keyboard"} and voices <= 2:
            return "voice and piano"
        return "voices and instruments"
    if others == {"keyboard"}:
        return "keyboard"
    if others <= {"organ", "keyboard"}:
        return "organ"
    if others == {"pluck"}:
        return "guitar and lute"
    if others == {"string"} and (total == 4 or "quartet" in hint):
        return "string quartet"
    if others <= {"string", "wind", "brass", "keyboard", "pluck", "harp", "organ"}:
        return "strings and chamber"
    return "other"


def _orchestral(counts: Counter) -> bool:
    """Many parts over several families: strings with winds or brass, nine parts or more."""
    families = sum(counts[kind] > 0 for kind in ("string", "wind", "brass"))
    return sum(counts.values()) >= 9 and families >= 2
