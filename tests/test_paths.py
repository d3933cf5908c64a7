"""Where cclib reads and writes: the data folder, its parts, and overrides."""

from pathlib import Path

from cclib import paths


def test_the_data_folder_and_its_parts_follow_cclib_data(monkeypatch, tmp_path):
    monkeypatch.setenv("CCLIB_DATA", str(tmp_path / "mine"))
    assert paths.data_dir() == tmp_path / "mine"
    parts = {paths.audio_dir(): "audio", paths.spectrograms_dir(): "spectrograms",
             paths.datasets_dir(): "datasets", paths.models_dir(): "models",
             paths.runs_dir(): "runs"}
    assert all(folder == tmp_path / "mine" / name for folder, name in parts.items())


def test_without_overrides_everything_lies_in_the_project(monkeypatch):
    monkeypatch.delenv("CCLIB_DATA", raising=False)
    monkeypatch.delenv("CCLIB_PERIODS", raising=False)
    assert paths.data_dir() == paths.PROJECT_ROOT / "data"
    assert paths.periods_dir() == paths.PROJECT_ROOT / "periods"
    assert (paths.scores_dir() / "openscore" / "metadata.csv").is_file()


def test_a_periods_override_and_a_home_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CCLIB_PERIODS", str(tmp_path))
    assert paths.periods_dir() == tmp_path
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.or_default("~/music", paths.audio_dir) == tmp_path / "music"
    assert paths.or_default(None, paths.audio_dir) == paths.audio_dir()
    assert paths.or_default("", paths.audio_dir) == paths.audio_dir()
    assert isinstance(paths.or_default("x", paths.audio_dir), Path)
