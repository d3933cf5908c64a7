"""Shared fixtures: synthetic signals written as real audio files, and a scratch data folder.

``make test`` runs the tests on two workers (pytest-xdist, ``--dist loadgroup``);
:func:`pytest_itemcollected` keeps the tests that share an expensive
fixture on one worker, so that fixture is built once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SR = 22050

if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    # The workers share the cores: TensorFlow's and BLAS's threads beyond a worker's share
    # only wait on each other (set before anything imports TensorFlow; kernels inherit it).
    from cclib.parallel import default_jobs

    _share = str(max(1, default_jobs() // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    for _name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
                  "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, _share)


def tone(seconds: float, *, freq: float = 440.0, sr: int = SR, amplitude: float = 0.5,
         channels: int = 1) -> np.ndarray:
    """A sine of ``freq`` Hz, shape (n,) or (n, channels)."""
    t = np.arange(int(round(seconds * sr))) / sr
    y = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return y if channels == 1 else np.repeat(y[:, None], channels, axis=1)


def chirp_piece(seconds: float, *, seed: int = 0, sr: int = SR) -> np.ndarray:
    """A piece-like signal: a few random tones changing every half second."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    y = np.zeros(n, dtype=np.float32)
    step = sr // 2
    for start in range(0, n, step):
        t = np.arange(min(step, n - start)) / sr
        for freq in rng.uniform(110, 2000, size=3):
            y[start:start + len(t)] += 0.2 * np.sin(2 * np.pi * freq * t)
    return y


#: The session fixtures worth building once, and the group of the tests that use them: a test
#: that uses several goes with the first. Notebook 07's test needs the trials and the
#: instrumentation experiment, so they share a group (each is built on ``small_corpus``).
SHARED_FIXTURES = {"trial_runs": "trials", "instrument_experiment": "trials",
                   "instrument_stores": "trials", "protocol_runs": "mixed_corpus",
                   "mixed_corpus": "mixed_corpus",
                   "small_corpus": "small_corpus"}


def worker_group(item) -> str | None:
    """The pytest-xdist group of a test: that of the first shared session fixture it uses,
    else its module when it uses a module-scoped fixture, else none (any worker may run it)."""
    used = set(getattr(item, "fixturenames", ()))
    for name, group in SHARED_FIXTURES.items():
        if name in used:
            return group
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs if info else {}
    if any(definitions[name][-1].scope == "module" for name in used if name in definitions):
        return item.module.__name__
    return None


def pytest_itemcollected(item):
    """Mark each test with its group as it is collected (pytest-xdist reads the marks after)."""
    group = worker_group(item)
    if group:
        item.add_marker(pytest.mark.xdist_group(group))


def write_audio(path, y, *, sr: int = SR, subtype: str | None = None, format: str | None = None):
    """Write samples with soundfile; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, sr, subtype=subtype, format=format)
    return path


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh data folder, made the project's data folder through CCLIB_DATA."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("CCLIB_DATA", str(folder))
    return folder


@pytest.fixture
def audio_folder(tmp_path):
    """Five study-named pieces by three composers, as WAV and FLAC files (8 to 10 s each)."""
    folder = tmp_path / "MasterFolder"
    specs = [("Bach_1.wav", 10), ("Bach_2.flac", 9), ("Mozart_1.wav", 8),
             ("Rimsky-Korsakov_1.wav", 10), ("Rimsky-Korsakov_2.ogg", 7)]
    for i, (name, seconds) in enumerate(specs):
        write_audio(folder / name, chirp_piece(seconds, seed=i))
    return folder


@contextlib.contextmanager
def shared_folder(tmp_path_factory, name: str):
    """A folder all the workers of one test session share, held by one worker at a time.

    A session fixture that builds into it resumably (as ``build_corpus`` does) is built by
    the first worker that asks and only checked by the others.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' temporary folders share this one
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield root / name
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    """A real rendered corpus: two works each by Bach and Palestrina (about 6 s to build,
    once for all workers). Tests read it and never change it."""
    from cclib.corpus import build_corpus

    with shared_folder(tmp_path_factory, "small-corpus") as folder:
        out = folder / "audio"
        summary = build_corpus(out, max_works=2, composers=["Bach", "Palestrina"],
                               sources=["music21"], progress=False)
    assert summary.failed == 0 and summary.done + summary.already_done == 4, summary.line()
    return out


NOTEBOOK_04 = Path(__file__).resolve().parent.parent / "notebooks" / "04_retrain_mobilenet.ipynb"
#: Notebook 04 on tiny settings: seconds per trial.
TINY_04 = {"per_composer": 20, "steps": 30, "input_size": 32, "export": False}


@pytest.fixture(scope="session")
def trial_runs(small_corpus, tmp_path_factory):
    """Real batches of notebook 04 on the small corpus: runs/piece (2 trials, 2 jobs) and
    runs/slice (2 trials, 1 job), sharing one data folder and slice store."""
    from cclib.store import convert_folder
    from cclib.trials import run_trials

    root = tmp_path_factory.mktemp("trials")
    store = root / "store"
    convert_folder(small_corpus, store, jobs=1, progress=False)
    parameters = {**TINY_04, "spectrograms": str(store)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCLIB_DATA", str(root / "data"))
        run_trials(NOTEBOOK_04, 2, root / "runs" / "piece", parameters=parameters, jobs=2,
                   threads=1, progress=False)
        run_trials(NOTEBOOK_04, 2, root / "runs" / "slice", parameters={**parameters,
                   "split": "slice"}, jobs=1, threads=1, progress=False)
    return root


@pytest.fixture(scope="session")
def instrument_stores(small_corpus, tmp_path_factory):
    """The small corpus's works as piano (its own render) and as strings, each a slice store."""
    from cclib.corpus import build_corpus
    from cclib.store import convert_folder

    root = tmp_path_factory.mktemp("instrumentation")
    strings = root / "audio-strings"
    summary = build_corpus(strings, max_works=2, composers=["Bach", "Palestrina"],
                           sources=["music21"], instrument="strings", progress=False)
    assert summary.failed == 0
    for name, audio in (("piano", small_corpus), ("strings", strings)):
        convert_folder(audio, root / f"spectrograms-{name}", jobs=1, progress=False)
    return root


@pytest.fixture(scope="session")
def instrument_experiment(instrument_stores, tmp_path_factory):
    """Notebook 07's instrumentation experiment, run once as the notebook runs it (seed 0,
    20 steps): ``(out, datasets, table)``, with the models in ``out/instrumentation``."""
    from cclib.relations import cross_instrument_accuracy, instrument_datasets
    from cclib.training import TrainConfig

    out = tmp_path_factory.mktemp("relations")
    stores = {name: instrument_stores / f"spectrograms-{name}" for name in ("piano", "strings")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCLIB_DATA", str(out / "data"))
        datasets = instrument_datasets(stores, out / "instrumentation", seed=0)
        table = cross_instrument_accuracy(datasets, out / "instrumentation",
                                          TrainConfig(steps=20, seed=0))
    return out, datasets, table


#: Notebook 08 and the protocols on tiny settings: seconds per model.
TINY_RECIPE = {"steps": 30, "batch_size": 16, "input_size": 32, "seed": 0}


@pytest.fixture(scope="session")
def mixed_corpus(tmp_path_factory):
    """A real corpus with every cross-domain protocol to hold out: three periods, each in two
    textures or soundfonts, from both sources (12 s of each work; about 30 s to build)."""
    from cclib.corpus import build_corpus
    from cclib.store import convert_folder

    root = tmp_path_factory.mktemp("mixed")
    summary = build_corpus(root / "audio", max_works=3, max_seconds=12, jobs=2, progress=False,
                           sources=["music21", "openscore"],
                           composers=["Bach", "Monteverdi", "Haydn", "Mozart", "Schubert",
                                      "Brahms"])
    assert summary.failed == 0
    convert_folder(root / "audio", root / "store", jobs=2, progress=False)
    return root


#: Notebook 08 on tiny settings, as its test runs it and ``protocol_runs`` runs it first.
TINY_08 = {"steps": 30, "input_size": 32, "per_composer": 20}
#: The protocols of notebook 08's test: the within-corpus figure and one held out.
PROTOCOLS_08 = ("within", "soundfont: MuseScore_General_Lite")


@pytest.fixture(scope="session")
def protocol_runs(mixed_corpus, tmp_path_factory):
    """Notebook 08's runs on the mixed corpus, trained once: ``PROTOCOLS_08``, seed 0, the
    three compared recipes (the corpus standing in for the old one); ``(root, rows)``, the
    runs in ``root / "runs"`` and the bottleneck cache in ``root / "data"``."""
    from cclib.protocols import compared_recipes, list_protocols, run_protocol
    from cclib.store import read_manifest

    root = tmp_path_factory.mktemp("protocols")
    store = mixed_corpus / "store"
    recipes = compared_recipes(**TINY_08, old_corpus=store)
    protocols = [p for p in list_protocols(read_manifest(store), min_pieces=2)
                 if p.name in PROTOCOLS_08]
    assert [p.name for p in protocols] == list(PROTOCOLS_08)
    rows = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCLIB_DATA", str(root / "data"))
        for protocol in protocols:
            rows += run_protocol(store, protocol, recipes, seed=0, out=root / "runs")
    return root, rows


def stub_period_model(midpoint: float = -45.0):
    """A PeriodModel with known answers and no network: a slice's loudness decides.

    A slice's mean level (dB) sets P(renaissance) = 1 / (1 + exp(-(level - midpoint) / 5)),
    the rest goes to baroque; the embedding is the slice's mean per band. Widget,
    relations and classify logic can be tested against it in milliseconds.
    """
    from cclib.classify import PeriodModel
    from cclib.spectrogram import FrontEnd

    class StubPeriodModel(PeriodModel):
        def analyse(self, slices):
            slices = np.asarray(slices, dtype=np.float32)
            early = 1 / (1 + np.exp(-(slices.mean(axis=(1, 2)) - midpoint) / 5))
            return slices.mean(axis=2), np.stack([early, 1 - early], axis=1)

    return StubPeriodModel(model=None, classes=["renaissance", "baroque"], front_end=FrontEnd())


@pytest.fixture
def stub_model():
    return stub_period_model()
