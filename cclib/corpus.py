"""The default corpus: real scores rendered to audio with FluidSynth.

No recordings of the study's albums can be had offline, so the project renders
real scores (music21's corpus and the OpenScore songs and quartets, see
:mod:`cclib.scores`). Each work becomes ``Composer_N.wav`` (the study's
naming), played by one instrument by default so the network cannot learn the
instrument instead of the period, through one of two training soundfonts
chosen per work from the seed, so it cannot learn one soundfont's sound
either. ``corpus.csv`` records, for every file, its work group, source,
title, ensemble, soundfont and duration.

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
import time
import warnings
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import ClassVar

from cclib.errors import CclibError
from cclib.fileio import (atomic_path, read_csv, remove_stale_temporaries, settings_guard,
                          temporary_name, write_csv, write_json)
from cclib.parallel import BatchSummary, default_jobs, run_batch, say
from cclib.scores import (CORPUS_COMPOSERS, SOURCES, Score, all_scores, score_ensemble,
                          score_midi, score_programs, score_title)
from cclib.synth import RenderTimeout, SynthError, fluidsynth_library, synth_for

#: General MIDI programs for ``--instrument``; "score" keeps each score's own.
INSTRUMENT_PROGRAMS = {"piano": 0, "strings": 48, "score": None}

#: Works per composer in the default build, over both sources.
DEFAULT_MAX_WORKS = 16

#: CPU seconds one work may take to convert before it is skipped (a handful of
#: whole-quartet files take music21 many minutes).
DEFAULT_TIMEOUT = 120

#: Seconds of each work rendered: its opening. A whole quartet lasts half an hour;
#: the "100 spectrograms" model takes 100 slices (5 minutes) per composer.
DEFAULT_MAX_SECONDS = 180.0

#: The soundfonts the corpus is rendered with, by name, and where each is installed.
#: Only these are used when none is named: FluidR3_GM (Debian's fluid-soundfont-gm)
#: is kept for testing models on a sound they were never trained or tuned on.
TRAINING_SOUNDFONTS = {
    "TimGM6mb": ("/usr/share/sounds/sf2/TimGM6mb.sf2",
                 "/usr/share/soundfonts/TimGM6mb.sf2"),
    "MuseScore_General_Lite": ("/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
                               "/usr/share/soundfonts/MuseScore_General_Lite.sf3"),
}
#: Soundfonts for evaluation only: never picked unless named.
EVALUATION_SOUNDFONTS = {
    "FluidR3_GM": ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2"),
}
#: Where Homebrew and conda put a soundfont the user installed.
_OTHER_PLACES = ("/opt/homebrew/share/soundfonts/default.sf2",
                 "/usr/local/share/soundfonts/default.sf2")

CORPUS_FIELDS = ("file", "composer", "work", "source", "title", "ensemble", "soundfont",
                 "instrument", "seconds")

__all__ = ["CORPUS_COMPOSERS", "CorpusError", "Work", "build_corpus", "find_soundfonts",
           "list_works", "load_score", "render_midi", "set_instrument", "set_programs",
           "write_midi"]


class CorpusError(CclibError, RuntimeError):
    """The corpus cannot be built here (missing tool, or a folder built otherwise)."""


class WorkTimeout(CorpusError):
    """A work took longer than its time limit to convert."""


@dataclass(frozen=True)
class Work:
    """One score of the corpus and the audio file it becomes.

    Attributes
    ----------
    composer : str
    number : int
        Its number among the composer's works (``Bach_3``).
    score : Score
        Where it comes from (see :mod:`cclib.scores`).
    soundfont : str
        The name of the soundfont that renders it.
    """

    composer: str
    number: int
    score: Score
    soundfont: str = ""

    @property
    def name(self) -> str:
        """The study's file stem, ``Composer_N``."""
        return f"{self.composer}_{self.number}"

    @property
    def source(self) -> str:
        """``music21:bach/bwv324.mxl`` or ``openscore:midi/Haydn_1.mid``."""
        return self.score.source


@dataclass
class CorpusSummary(BatchSummary):
    """Counts of one ``cclib corpus`` run: ``done`` counts the works rendered now,
    ``failed`` those that could not be (their reasons in ``failures``)."""

    failures: list = field(default_factory=list)

    command: ClassVar[str] = "corpus"
    done_words: ClassVar[str] = "works rendered"


def soundfont_name(path: str | Path) -> str:
    """The name of a soundfont file: its stem, after following links.

    Examples
    --------
    >>> soundfont_name("/no/such/place/TimGM6mb.sf2")
    'TimGM6mb'
    """
    return Path(os.path.realpath(path)).stem


def _locate(name: str) -> Path | None:
    if os.sep in name or name.endswith((".sf2", ".sf3")):
        return Path(name) if Path(name).is_file() else None
    places = list(TRAINING_SOUNDFONTS.get(name, ())) + list(EVALUATION_SOUNDFONTS.get(name, ()))
    if os.environ.get("CONDA_PREFIX"):
        places.append(os.path.join(os.environ["CONDA_PREFIX"], "share", "soundfonts",
                                   f"{name}.sf2"))
    return next((Path(p) for p in places if Path(p).is_file()), None)


def find_soundfonts(names=None) -> list[Path]:
    """The soundfonts to render with.

    Parameters
    ----------
    names : list of str, optional
        Soundfont names (``TimGM6mb``, ``MuseScore_General_Lite``,
        ``FluidR3_GM``) or ``.sf2``/``.sf3`` paths. By default: the paths in
        ``$CCLIB_SOUNDFONT`` (comma-separated) if set, else every training
        soundfont installed (TimGM6mb and MuseScore_General_Lite on Debian),
        else a soundfont in Homebrew's place. An evaluation soundfont is used
        only when named.

    Returns
    -------
    soundfonts : list of Path
        In the order given, or TimGM6mb first.

    Raises
    ------
    CorpusError
        A named soundfont that is not installed, or none at all, with the
        install command for each platform.
    """
    if names:
        found = []
        for name in names:
            path = _locate(name)
            if path is None:
                raise CorpusError(f"--soundfonts: {name!r} is not installed (known names: "
                                  f"{', '.join([*TRAINING_SOUNDFONTS, *EVALUATION_SOUNDFONTS])}; "
                                  "or give a .sf2/.sf3 path)")
            found.append(path)
        return found
    if os.environ.get("CCLIB_SOUNDFONT"):
        return find_soundfonts(os.environ["CCLIB_SOUNDFONT"].split(","))
    found = [path for path in map(_locate, TRAINING_SOUNDFONTS) if path is not None]
    found = found or [Path(p) for p in _OTHER_PLACES if Path(p).is_file()
                      and soundfont_name(p) not in EVALUATION_SOUNDFONTS]
    if not found:
        raise CorpusError("no training soundfont found: install one (Debian/Ubuntu: apt-get install "
                          "timgm6mb-soundfont musescore-general-soundfont-small; macOS: brew "
                          "install fluid-synth and set CCLIB_SOUNDFONT; conda: set "
                          "CCLIB_SOUNDFONT) or set CCLIB_SOUNDFONT=FILE.sf2")
    return found


def find_soundfont() -> Path:
    """The first of :func:`find_soundfonts`: TimGM6mb on Debian."""
    return find_soundfonts()[0]


def list_works(*, max_works: int | None = DEFAULT_MAX_WORKS, composers=None, seed: int = 0,
               sources=SOURCES, soundfonts=("TimGM6mb",), after: int = 0) -> list[Work]:
    """Pick the corpus works and each one's soundfont, reproducibly.

    Each composer's scores, from every source, are put in a seeded random
    order, taken in turn from each ensemble the composer wrote for (see
    :func:`interleave_ensembles`) and numbered in that order; the first
    ``max_works`` are taken.
    Raising ``max_works`` later only adds works: existing numbers never
    change. Each work's soundfont is a seeded choice among ``soundfonts``
    that depends on the work alone, not on the cap.

    Parameters
    ----------
    max_works : int or None
        Works per composer (None: all).
    composers : iterable of str, optional
        Restrict to these names (as in file names, e.g. ``"Bach"``) or music21 folders.
    seed : int
        Seed of the order and of the soundfont choice.
    sources : iterable of str
        ``music21``, ``openscore`` or both (see :mod:`cclib.scores`).
    soundfonts : sequence of str
        Soundfont names to choose from.
    after : int
        Only the works numbered above this: those a corpus capped at
        ``after`` works per composer never holds (music to test on).

    Returns
    -------
    works : list of Work
    """
    wanted = None if composers is None else {c.casefold() for c in composers}
    folder_of = {name.casefold(): folder for folder, name in CORPUS_COMPOSERS.items()}
    by_composer: dict[str, list[Score]] = defaultdict(list)
    for score in all_scores(tuple(sources)):
        folder = folder_of.get(score.composer.casefold(), "")
        if wanted is None or score.composer.casefold() in wanted or folder in wanted:
            by_composer[score.composer].append(score)
    works = []
    for composer in sorted(by_composer):
        scores = sorted(by_composer[composer], key=lambda s: s.source)
        random.Random(f"{seed}:{composer}").shuffle(scores)
        for number, score in enumerate(interleave_ensembles(scores)[:max_works], 1):
            if number <= after:
                continue
            choice = random.Random(f"{seed}:soundfont:{score.source}").choice(list(soundfonts))
            works.append(Work(composer, number, score, choice))
    return works


def interleave_ensembles(scores: list[Score]) -> list[Score]:
    """Scores taken in turn from each ensemble, each ensemble's in their order.

    A composer's first works then span what they wrote for (a keyboard
    suite, a cantata, a chorale, ...) instead of the one texture a source
    holds most of; the ensembles come in the order their first score does.

    Examples
    --------
    >>> scores = [Score(f"x:{i}", "Bach", ensemble=e) for i, e in enumerate("aaab")]
    >>> [s.source for s in interleave_ensembles(scores)]
    ['x:0', 'x:3', 'x:1', 'x:2']
    """
    groups: dict[str, list[Score]] = {}
    for score in scores:
        groups.setdefault(score.ensemble, []).append(score)
    return [group[index] for index in range(max(map(len, groups.values()), default=0))
            for group in groups.values() if index < len(group)]


def load_score(source: str):
    """Parse a music21 corpus score (``bach/bwv66.6`` or ``music21:bach/bwv66.6``).

    An Opus of one-voice tunes (Josquin's ``.abc``) is stacked into one Score.
    """
    from music21 import corpus, stream

    parsed = corpus.parse(source.removeprefix("music21:"))
    if not isinstance(parsed, stream.Opus):
        return parsed
    score = stream.Score()
    for tune in parsed.scores:
        for part in tune.parts:
            score.insert(0, part)
    return score


def set_instrument(score, instrument: str) -> None:
    """Make every part of ``score`` play one General MIDI instrument; "score": each part its
    own instrument's program (see :mod:`cclib.instruments`; a part no name places keeps
    what music21 gave it)."""
    program = INSTRUMENT_PROGRAMS[instrument]
    set_programs(score, score_programs(score) if program is None
                 else [program] * max(1, len(score.parts)))


def set_programs(score, programs) -> None:
    """Give each part of ``score`` (or the score itself, without parts) a General MIDI
    program, replacing its instruments; a part whose program is None is left as it is."""
    from music21 import instrument as m21instrument

    for part, program in zip(list(score.parts) or [score], programs):
        if program is None:
            continue
        for old in list(part.recurse().getElementsByClass(m21instrument.Instrument)):
            old.activeSite.remove(old)
        new = m21instrument.Instrument()
        new.midiProgram = program
        part.insert(0, new)


def _strip_repeats(score) -> None:
    from music21 import bar, repeat, spanner

    for measure in score.recurse().getElementsByClass("Measure"):
        if isinstance(measure.leftBarline, bar.Repeat):
            measure.leftBarline = None
        if isinstance(measure.rightBarline, bar.Repeat):
            measure.rightBarline = None
    for kind in (repeat.RepeatExpression, spanner.RepeatBracket):
        for element in list(score.recurse().getElementsByClass(kind)):
            element.activeSite.remove(element)


def _release_notes_at_end(midi_file) -> None:
    """End every track with sustain pedal up and All Notes Off on each channel it uses.

    music21 sometimes writes two notes of one pitch so that a note-on is left
    without its note-off. A piano note decays anyway; a sustained strings
    note would sound forever, and FluidSynth renders until every voice is
    silent (a 16 GB file for one Haydn movement). Releasing everything at the
    end bounds every render by the score's length.
    """
    from music21 import midi

    for track in midi_file.tracks:
        channels = sorted({event.channel for event in track.events
                           if isinstance(event, midi.MidiEvent) and event.channel is not None
                           and event.type in (midi.ChannelVoiceMessages.NOTE_ON,
                                              midi.ChannelVoiceMessages.NOTE_OFF)})
        if not channels:
            continue
        end = track.events.pop()  # END_OF_TRACK, after its DeltaTime
        for channel in channels:
            for controller in (64, 123):  # sustain pedal up, all notes off
                event = midi.MidiEvent(track, type=midi.ChannelVoiceMessages.CONTROLLER_CHANGE,
                                       channel=channel)
                event.parameter1, event.parameter2 = controller, 0
                track.events.extend([event, midi.DeltaTime(track, time=0)])
        track.events.append(end)


def _write_midi_file(midi_file, midi_path: Path) -> None:
    _release_notes_at_end(midi_file)
    midi_file.open(str(midi_path), "wb")
    try:
        midi_file.write()
    finally:
        midi_file.close()


def write_midi(score, midi_path: Path) -> None:
    """Write ``score`` as a MIDI file, expanding repeats, every note released at the end.

    A few scores have repeats music21 cannot expand (ExpanderException);
    their repeat signs are removed and the music is played straight through.
    """
    from music21.midi import translate
    from music21.repeat import ExpanderException

    try:
        midi_file = translate.music21ObjectToMidiFile(score)
    except ExpanderException:
        _strip_repeats(score)
        midi_file = translate.music21ObjectToMidiFile(score)
    _write_midi_file(midi_file, midi_path)


def render_midi(midi: Path | bytes, wav_path: Path, *, soundfont: Path, sr: int = 22050,
                timeout: float | None = DEFAULT_TIMEOUT, max_seconds: float | None = None,
                instrument: str = "score") -> None:
    """Render a MIDI file (path or bytes) to a 16-bit WAV with FluidSynth (100× to 450× real time).

    At most ``max_seconds`` of music are rendered (None: all); ``instrument``
    other than "score" plays every part with one instrument. Raises
    WorkTimeout when FluidSynth runs longer than ``timeout`` seconds.
    """
    try:
        synth_for(soundfont, sr=sr).render(midi, wav_path, timeout=timeout,
                                           max_seconds=max_seconds,
                                           program=INSTRUMENT_PROGRAMS[instrument])
    except RenderTimeout as error:
        raise WorkTimeout(str(error)) from None
    if not Path(wav_path).exists() or Path(wav_path).stat().st_size <= 44:
        raise CorpusError("FluidSynth rendered no audio")


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise WorkTimeout in this (main) thread after ``seconds`` of CPU time.

    CPU time, not wall time: a work is skipped for what it costs, not for how
    busy the machine was, so the same corpus is rendered on a loaded machine
    as on an idle one. No limit where SIGPROF is missing (Windows).
    """
    usable = (seconds and hasattr(signal, "SIGPROF")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise WorkTimeout(f"took more than {seconds:g} s of CPU to convert "
                          "(raise --timeout to wait)")

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


@dataclass(frozen=True)
class RenderTask:
    work: Work
    out: str
    instrument: str
    soundfont: str
    timeout: float | None = DEFAULT_TIMEOUT
    max_seconds: float | None = DEFAULT_MAX_SECONDS


@dataclass
class RenderResult:
    """What rendering one work gave: its corpus.csv row, or an error line."""

    work: Work
    error: str | None = None
    row: dict | None = None


def _prepare_midi(task: RenderTask, midi_path: Path) -> tuple[Path | bytes, str, str]:
    """The work's MIDI (a file written from music21, or an archive's bytes), title and ensemble."""
    score = task.work.score
    if score.origin != "music21":
        return score_midi(score.source), score.title, score.ensemble
    with warnings.catch_warnings(), time_limit(task.timeout):
        warnings.simplefilter("ignore")  # music21 warns about every overfull measure
        parsed = load_score(score.path)
        title, ensemble = score_title(parsed, score.path), score.ensemble or score_ensemble(parsed)
        set_instrument(parsed, task.instrument)
        write_midi(parsed, midi_path)
    return midi_path, title, ensemble


def render_work(task: RenderTask) -> RenderResult:
    """Render one work to ``<out>/<Composer_N>.wav``; return an error line instead of raising."""
    import soundfile as sf

    work = task.work
    wav_path = Path(task.out) / f"{work.name}.wav"
    midi_tmp = temporary_name(wav_path.with_suffix(".mid"))
    try:
        midi, title, ensemble = _prepare_midi(task, midi_tmp)
        with atomic_path(wav_path) as wav_tmp:
            render_midi(midi, wav_tmp, soundfont=Path(task.soundfont), timeout=task.timeout,
                        max_seconds=task.max_seconds, instrument=task.instrument)
            seconds = sf.info(wav_tmp).duration
    except CclibError as error:
        return RenderResult(work, f"{work.source}: {error}")
    except Exception as error:  # music21 raises many kinds; report each and go on
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return RenderResult(work, f"{work.source}: cannot be rendered "
                                  f"({type(error).__name__}: {reason})")
    finally:
        midi_tmp.unlink(missing_ok=True)
    return RenderResult(work, row={
        "file": f"{work.name}.wav", "composer": work.composer, "work": work.score.group,
        "source": work.source, "title": title, "ensemble": ensemble,
        "soundfont": work.soundfont, "instrument": task.instrument,
        "seconds": round(seconds, 2)})


def _check_tools(instrument: str, soundfonts) -> dict[str, Path]:
    """The soundfonts by name, once the instrument is known and FluidSynth is found."""
    if instrument not in INSTRUMENT_PROGRAMS:
        raise CorpusError(f"--instrument: unknown instrument {instrument!r}; choose one of "
                          f"{', '.join(INSTRUMENT_PROGRAMS)}")
    try:
        fluidsynth_library()
    except SynthError as error:
        raise CorpusError(str(error)) from None
    return {soundfont_name(path): path for path in find_soundfonts(soundfonts)}


def _previous_run(out: Path, retry_failed: bool) -> tuple[dict, dict]:
    """What an earlier run left: the works it could not render (by source), and corpus.csv (by file)."""
    failed_path, table_path = out / "corpus-failed.csv", out / "corpus.csv"
    failed = {} if retry_failed or not failed_path.exists() else {
        row["source"]: row for row in read_csv(failed_path)}
    rows = {row["file"]: row for row in read_csv(table_path)} if table_path.exists() else {}
    return failed, rows


def build_corpus(out: str | Path, *, max_works: int | None = DEFAULT_MAX_WORKS,
                 instrument: str = "piano", composers=None, seed: int = 0,
                 sources=SOURCES, soundfonts=None, max_seconds: float | None = DEFAULT_MAX_SECONDS,
                 after: int = 0, jobs: int | None = None, timeout: float | None = DEFAULT_TIMEOUT,
                 retry_failed: bool = False, progress: bool | None = None) -> CorpusSummary:
    """Render the default corpus into ``out``, resuming what a previous run left.

    Parameters
    ----------
    out : path
        Audio folder to fill with ``Composer_N.wav`` files.
    max_works : int or None
        Works per composer, over both sources (None: all, about 3,300; hours on 2 cores).
    instrument : {"piano", "strings", "score"}
        One instrument for every part, or the scores' own.
    composers : iterable of str, optional
        Only these composers.
    seed : int
        Which works are picked when capped, and each one's soundfont.
    sources : iterable of str
        ``music21``, ``openscore`` or both (default).
    soundfonts : list of str, optional
        Soundfont names or paths to choose from per work (default: the
        training soundfonts installed; see :func:`find_soundfonts`).
    max_seconds : float or None
        Seconds of each work rendered, from its start (None: all of it).
    after : int
        Render only the works numbered above this (see :func:`list_works`).
    jobs : int, optional
        Worker processes (default: one per core).
    timeout : float or None
        Seconds one work may take to convert (None: no limit).
    retry_failed : bool
        Try again the works an earlier run could not render (listed in
        ``corpus-failed.csv``); by default they are left out.
    progress : bool, optional
        Show a progress bar (default: only on a terminal).

    Returns
    -------
    summary : CorpusSummary
    """
    started = time.perf_counter()
    paths_by_name = _check_tools(instrument, soundfonts)
    works = list_works(max_works=max_works, composers=composers, seed=seed, sources=sources,
                       soundfonts=sorted(paths_by_name), after=after)  # refuses before writing
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    settings_guard(out / "corpus.json", {
        "instrument": instrument, "seed": seed, "sources": sorted(sources),
        "soundfonts": sorted(paths_by_name), "max_seconds": max_seconds,
        **({"after": after} if after else {})},
        what="a corpus", error=CorpusError)
    failed_before, rows = _previous_run(out, retry_failed)
    done = {w.name for w in works if (out / f"{w.name}.wav").exists() and f"{w.name}.wav" in rows}
    todo = [w for w in works if w.name not in done and w.source not in failed_before]
    summary = CorpusSummary(already_done=len(done),
                            failed=sum(w.source in failed_before for w in works))
    summary.failures = [failed_before[w.source]["reason"] for w in works
                        if w.source in failed_before]
    tasks = [RenderTask(work, str(out), instrument, str(paths_by_name[work.soundfont]), timeout,
                        max_seconds) for work in todo]
    for result in run_batch(render_work, tasks, desc="corpus", unit="work",
                            jobs=jobs or default_jobs(), progress=progress):
        work = result.work
        if result.error:
            summary.failed += 1
            summary.failures.append(result.error)
            failed_before[work.source] = {"file": f"{work.name}.wav", "source": work.source,
                                          "reason": result.error}
            say(f"skipped {result.error}")
        else:
            summary.done += 1
            rows[result.row["file"]] = result.row
            failed_before.pop(work.source, None)

    write_csv(out / "corpus-failed.csv", ("file", "source", "reason"), failed_before.values())
    present = sorted((row for name, row in rows.items() if (out / name).exists()),
                     key=lambda row: (row["composer"], int(row["file"].rsplit("_", 1)[1][:-4])))
    write_csv(out / "corpus.csv", CORPUS_FIELDS, present)
    summary.seconds = time.perf_counter() - started
    write_json(out / "corpus-summary.json", asdict(summary))
    return summary
