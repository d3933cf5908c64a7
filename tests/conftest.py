"""Shared fixtures: synthetic signals written as real audio files, and a scratch data folder."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

SR = 22050


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


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    """A real rendered corpus: two works each by Bach and Palestrina (about 15 s to build)."""
    from cclib.corpus import build_corpus

    out = tmp_path_factory.mktemp("corpus") / "audio"
    summary = build_corpus(out, max_works=2, composers=["Bach", "Palestrina"], progress=False)
    assert summary.failed == 0
    return out
