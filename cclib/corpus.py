"""The default corpus: music21's bundled scores rendered to audio with FluidSynth.

No recordings of the study's albums can be had offline, so the project renders
real scores. Each work becomes ``Composer_N.wav`` (the study's naming), played
by one instrument by default so the network cannot learn the instrument
instead of the period.

Notebook: notebooks/01_audio_to_spectrograms.ipynb
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cclib.fileio import (atomic_path, read_csv, remove_stale_temporaries, temporary_name,
                          write_csv, write_json)
from cclib.parallel import default_jobs, imap_unordered

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

#: General MIDI programs for ``--instrument``; "score" keeps each score's own.
INSTRUMENT_PROGRAMS = {"piano": 0, "strings": 48, "score": None}

#: Works per composer in the default build (keeps ``cclib corpus`` under 10 minutes on 2 cores).
DEFAULT_MAX_WORKS = 16

#: Score formats rendered, in order of preference when one work comes in several
#: (Bach's bwv277 is both .krn and .mxl); Roman-numeral analyses (.rntxt) hold no notes.
SCORE_SUFFIXES = (".mxl", ".musicxml", ".xml", ".krn", ".abc")

#: Seconds one work may take to convert before it is skipped (a handful of
#: whole-quartet files take music21 many minutes).
DEFAULT_TIMEOUT = 120

SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2",
    "/usr/local/share/soundfonts/default.sf2",
)


class CorpusError(RuntimeError):
    """The corpus cannot be built here (missing tool, or a folder built otherwise)."""


@dataclass(frozen=True)
class Work:
    """One score of the corpus and the audio file it becomes."""

    composer: str
    number: int
    source: str

    @property
    def name(self) -> str:
        """The study's file stem, ``Composer_N``."""
        return f"{self.composer}_{self.number}"


@dataclass
class CorpusSummary:
    """Counts of one ``cclib corpus`` run."""

    rendered: int = 0
    already_done: int = 0
    failed: int = 0
    seconds: float = 0.0
    failures: list = field(default_factory=list)

    def line(self) -> str:
        return (f"corpus: {self.rendered} works rendered, {self.already_done} already done, "
                f"{self.failed} failed, {self.seconds:.1f} s")


def find_soundfont() -> Path:
    """Locate a General MIDI soundfont: ``$CCLIB_SOUNDFONT``, then the usual places.

    Raises
    ------
    CorpusError
        With the install command for Debian/Ubuntu, macOS and conda.
    """
    candidates = [os.environ.get("CCLIB_SOUNDFONT", "")] + list(SOUNDFONT_CANDIDATES)
    if os.environ.get("CONDA_PREFIX"):
        candidates.append(os.path.join(os.environ["CONDA_PREFIX"], "share", "soundfonts",
                                       "default.sf2"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    raise CorpusError("no General MIDI soundfont found: install one (Debian/Ubuntu: apt-get install "
                      "timgm6mb-soundfont; macOS: brew install fluid-synth and set "
                      "CCLIB_SOUNDFONT; conda: set CCLIB_SOUNDFONT) or set CCLIB_SOUNDFONT=FILE.sf2")


def find_fluidsynth() -> str:
    """Return the ``fluidsynth`` executable, or raise CorpusError with install commands."""
    found = shutil.which("fluidsynth")
    if not found:
        raise CorpusError("fluidsynth not found: install it (Debian/Ubuntu: apt-get install "
                          "fluidsynth; macOS: brew install fluid-synth; conda: conda install -c "
                          "conda-forge fluidsynth)")
    return found


def list_works(*, max_works: int | None = DEFAULT_MAX_WORKS, composers=None,
               seed: int = 0) -> list[Work]:
    """Pick the corpus works, reproducibly.

    Each composer's scores are put in a seeded random order and numbered in
    that order; the first ``max_works`` are taken. Raising ``max_works``
    later only adds works: existing numbers never change.

    Parameters
    ----------
    max_works : int or None
        Works per composer (None: all).
    composers : iterable of str, optional
        Restrict to these names (as in file names, e.g. ``"Bach"``) or music21 folders.
    seed : int
        Seed of the order.

    Returns
    -------
    works : list of Work
    """
    from music21.corpus import corpora

    wanted = None if composers is None else {c.casefold() for c in composers}
    by_folder = defaultdict(dict)  # folder → {path without suffix: path}
    for path in sorted(corpora.CoreCorpus().getPaths(),
                       key=lambda p: SCORE_SUFFIXES.index(p.suffix)
                       if p.suffix in SCORE_SUFFIXES else len(SCORE_SUFFIXES)):
        parts = path.parts
        folder = parts[parts.index("corpus") + 1] if "corpus" in parts else None
        if folder in CORPUS_COMPOSERS and path.suffix in SCORE_SUFFIXES:
            relative = "/".join(parts[parts.index("corpus") + 1:])
            by_folder[folder].setdefault(relative.rsplit(".", 1)[0], relative)
    works = []
    for folder in sorted(by_folder):
        name = CORPUS_COMPOSERS[folder]
        if wanted is not None and name.casefold() not in wanted and folder not in wanted:
            continue
        sources = sorted(by_folder[folder].values())
        random.Random(f"{seed}:{folder}").shuffle(sources)
        for number, source in enumerate(sources[:max_works], 1):
            works.append(Work(name, number, source))
    return works


def load_score(source: str):
    """Parse a corpus score; an Opus of one-voice tunes (Josquin's ``.abc``) is stacked into one Score."""
    from music21 import corpus, stream

    parsed = corpus.parse(source)
    if not isinstance(parsed, stream.Opus):
        return parsed
    score = stream.Score()
    for tune in parsed.scores:
        for part in tune.parts:
            score.insert(0, part)
    return score


def set_instrument(score, instrument: str) -> None:
    """Make every part of ``score`` play one General MIDI instrument ("score": leave as encoded)."""
    from music21 import instrument as m21instrument

    program = INSTRUMENT_PROGRAMS[instrument]
    if program is None:
        return
    parts = list(score.parts) or [score]
    for part in parts:
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
    _release_notes_at_end(midi_file)
    midi_file.open(str(midi_path), "wb")
    try:
        midi_file.write()
    finally:
        midi_file.close()


class WorkTimeout(Exception):
    """A work took longer than its time limit to convert."""


def render_midi(midi_path: Path, wav_path: Path, *, soundfont: Path, sr: int = 22050,
                timeout: float | None = DEFAULT_TIMEOUT) -> None:
    """Render a MIDI file to a 16-bit WAV with FluidSynth (about 370× real time).

    Raises WorkTimeout when FluidSynth runs longer than ``timeout`` seconds.
    """
    command = [find_fluidsynth(), "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.6", "-r", str(sr),
               "-F", str(wav_path), str(soundfont), str(midi_path)]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False,
                                   timeout=timeout)
    except subprocess.TimeoutExpired:
        raise WorkTimeout(f"FluidSynth took longer than {timeout:g} s to render "
                          "(raise --timeout to wait)") from None
    if completed.returncode != 0 or not wav_path.exists() or wav_path.stat().st_size <= 44:
        detail = (completed.stderr or completed.stdout).strip().splitlines()
        raise CorpusError(f"fluidsynth failed on {midi_path.name}: "
                          f"{detail[-1] if detail else 'no audio written'}")


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise WorkTimeout in this (main) thread after ``seconds``; no limit where SIGALRM is missing."""
    usable = (seconds and hasattr(signal, "SIGALRM")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise WorkTimeout(f"took longer than {seconds:g} s to convert (raise --timeout to wait)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class RenderTask:
    work: Work
    out: str
    instrument: str
    soundfont: str
    timeout: float | None = DEFAULT_TIMEOUT


def render_work(task: RenderTask) -> tuple[Work, str | None]:
    """Render one work to ``<out>/<Composer_N>.wav``; return an error line instead of raising."""
    wav_path = Path(task.out) / f"{task.work.name}.wav"
    midi_tmp = temporary_name(wav_path.with_suffix(".mid"))
    try:
        with warnings.catch_warnings(), time_limit(task.timeout):
            warnings.simplefilter("ignore")  # music21 warns about every overfull measure
            score = load_score(task.work.source)
            set_instrument(score, task.instrument)
            write_midi(score, midi_tmp)
        with atomic_path(wav_path) as wav_tmp:
            render_midi(midi_tmp, wav_tmp, soundfont=Path(task.soundfont), timeout=task.timeout)
    except WorkTimeout as error:
        return task.work, f"{task.work.source}: {error}"
    except Exception as error:  # music21 raises many kinds; report each and go on
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return task.work, f"{task.work.source}: cannot be rendered ({type(error).__name__}: {reason})"
    finally:
        midi_tmp.unlink(missing_ok=True)
    return task.work, None


def _check_settings(out: Path, settings: dict) -> None:
    settings_path = out / "corpus.json"
    if settings_path.exists():
        found = json.loads(settings_path.read_text(encoding="utf-8"))
        if found != settings:
            raise CorpusError(f"{out}: was rendered with {found}, not {settings}; "
                              "choose another --out")
    else:
        write_json(settings_path, settings)


def build_corpus(out: str | Path, *, max_works: int | None = DEFAULT_MAX_WORKS,
                 instrument: str = "piano", composers=None, seed: int = 0,
                 jobs: int | None = None, timeout: float | None = DEFAULT_TIMEOUT,
                 retry_failed: bool = False, progress: bool | None = None) -> CorpusSummary:
    """Render the default corpus into ``out``, resuming what a previous run left.

    Parameters
    ----------
    out : path
        Audio folder to fill with ``Composer_N.wav`` files.
    max_works : int or None
        Works per composer (None: all 2,000 or so; hours on 2 cores).
    instrument : {"piano", "strings", "score"}
        One instrument for every part, or the scores' own.
    composers : iterable of str, optional
        Only these composers.
    seed : int
        Which works are picked when capped.
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
    from tqdm.auto import tqdm

    if instrument not in INSTRUMENT_PROGRAMS:
        raise CorpusError(f"unknown instrument {instrument!r}: choose one of "
                          f"{', '.join(INSTRUMENT_PROGRAMS)}")
    started = time.perf_counter()
    soundfont = find_soundfont()
    find_fluidsynth()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    _check_settings(out, {"instrument": instrument, "seed": seed, "soundfont": soundfont.name})
    failed_path = out / "corpus-failed.csv"
    failed_before = {} if retry_failed or not failed_path.exists() else {
        row["source"]: row for row in read_csv(failed_path)}

    works = list_works(max_works=max_works, composers=composers, seed=seed)
    todo = [w for w in works
            if not (out / f"{w.name}.wav").exists() and w.source not in failed_before]
    summary = CorpusSummary(already_done=sum((out / f"{w.name}.wav").exists() for w in works),
                            failed=sum(w.source in failed_before for w in works))
    summary.failures = [failed_before[w.source]["reason"] for w in works
                        if w.source in failed_before]
    tasks = [RenderTask(work, str(out), instrument, str(soundfont), timeout) for work in todo]
    bar = tqdm(total=len(tasks), unit="work", desc="corpus",
               disable=not progress if progress is not None else None, file=sys.stderr)
    for work, error in imap_unordered(render_work, tasks, jobs=jobs or default_jobs()):
        bar.update()
        if error:
            summary.failed += 1
            summary.failures.append(error)
            failed_before[work.source] = {"file": f"{work.name}.wav", "source": work.source,
                                          "reason": error}
            bar.write(f"skipped {error}", file=sys.stderr)
        else:
            summary.rendered += 1
            failed_before.pop(work.source, None)
    bar.close()

    write_csv(failed_path, ("file", "source", "reason"), failed_before.values())
    write_corpus_table(out, instrument=instrument, seed=seed)
    summary.seconds = time.perf_counter() - started
    write_json(out / "corpus-summary.json", asdict(summary))
    return summary


def write_corpus_table(out: Path, *, instrument: str, seed: int) -> None:
    """Write ``corpus.csv``: each rendered file, its composer, music21 source and duration."""
    import soundfile as sf

    rows = [{"file": f"{w.name}.wav", "composer": w.composer, "source": w.source,
             "instrument": instrument,
             "seconds": round(sf.info(out / f"{w.name}.wav").duration, 2)}
            for w in list_works(max_works=None, seed=seed) if (out / f"{w.name}.wav").exists()]
    write_csv(out / "corpus.csv", ("file", "composer", "source", "instrument", "seconds"), rows)
