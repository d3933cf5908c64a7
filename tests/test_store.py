"""The slice store: conversion, bad input, resumability and crash safety."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cclib.audio
import cclib.store
from cclib.spectrogram import FrontEnd
from cclib.store import StoreError, convert_folder, load_slices, read_manifest
from tests.conftest import SR, chirp_piece, tone, write_audio


def folder_digest(folder: Path) -> dict:
    """Every file below ``folder`` (run-dependent summary.json left out) → its SHA-256."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "summary.json"}


def test_converts_a_folder_into_slices_and_manifest(audio_folder, tmp_path):
    store = tmp_path / "store"
    summary = convert_folder(audio_folder, store, jobs=1, progress=False)
    # 10 + 9 + 8 + 10 + 7 seconds → 3 + 3 + 2 + 3 + 2 slices
    assert (summary.done, summary.failed, summary.slices_written) == (5, 0, 13)
    manifest = read_manifest(store)
    assert list(manifest.columns[:10]) == ["slice_id", "piece", "composer", "period", "work",
                                           "ensemble", "soundfont", "origin", "index", "start_s"]
    # a folder of recordings: every piece its own work, of unknown ensemble, no soundfont or
    # score source
    assert (manifest.work == manifest.composer + " " + manifest.piece).all()
    assert set(manifest.ensemble) == {"unknown"} and set(manifest.soundfont) == {""}
    assert set(manifest.origin) == {""}
    bach1 = manifest[manifest.piece == "Bach_1"]
    assert bach1.slice_id.tolist() == ["Bach_1_1", "Bach_1_2", "Bach_1_3"]
    assert bach1.start_s.tolist() == [0.0, 3.0, 6.0]
    assert set(manifest.period) == {"baroque", "classical", "romantic"}
    assert set(manifest[manifest.piece == "Rimsky-Korsakov_2"].composer) == {"Rimsky-Korsakov"}
    slices = load_slices(store, manifest)
    assert slices.shape == (13, 128, FrontEnd().frames_per_slice) and slices.dtype == np.float16
    assert (store / "report.csv").read_text().strip() == "file,reason"


def test_parallel_and_in_process_runs_write_the_same_store(audio_folder, tmp_path):
    convert_folder(audio_folder, tmp_path / "one", jobs=1, progress=False)
    convert_folder(audio_folder, tmp_path / "two", jobs=2, progress=False)
    assert folder_digest(tmp_path / "one") == folder_digest(tmp_path / "two")


def test_a_dask_local_cluster_writes_the_same_store(audio_folder, tmp_path):
    convert_folder(audio_folder, tmp_path / "one", jobs=1, progress=False)
    convert_folder(audio_folder, tmp_path / "dask", jobs=2, scheduler="dask", progress=False)
    assert folder_digest(tmp_path / "one") == folder_digest(tmp_path / "dask")


def test_png_writes_the_study_images(audio_folder, tmp_path):
    store = tmp_path / "store"
    convert_folder(audio_folder, store, png=True, jobs=1, progress=False)
    images = sorted(p.name for p in (store / "Bach_1_spectrograms").iterdir())
    assert images == ["Bach_1_1.png", "Bach_1_2.png", "Bach_1_3.png"]
    from matplotlib.image import imread
    assert imread(store / "Bach_1_spectrograms" / "Bach_1_1.png").shape[:2] == (
        128, FrontEnd().frames_per_slice)


def test_quiet_recording_keeps_its_slices_and_pauses_are_dropped(tmp_path):
    audio = tmp_path / "audio"
    piece = np.concatenate([chirp_piece(9.0), np.zeros(6 * SR, dtype=np.float32)])
    write_audio(audio / "Bach_1.wav", piece)
    write_audio(audio / "Bach_2.wav", piece * 0.01, subtype="PCM_24")  # 40 dB quieter
    summary = convert_folder(audio, tmp_path / "store", jobs=1, progress=False)
    manifest = read_manifest(tmp_path / "store")
    assert manifest.groupby("piece").size().to_dict() == {"Bach_1": 3, "Bach_2": 3}
    assert summary.silent_slices_dropped == 4
    loud, quiet = (load_slices(tmp_path / "store", manifest[manifest.piece == p]).astype(float)
                   for p in ("Bach_1", "Bach_2"))
    assert np.abs(loud - quiet).mean() < 0.05  # level is no cue (dB; 24-bit noise aside)


def make_bad_inputs(folder: Path) -> dict:
    """Every kind of bad file, with a fragment of the reason each must get."""
    good = chirp_piece(7.0)
    write_audio(folder / "Bach_1.wav", good)
    (folder / "Bach_8.wav").write_bytes(b"")
    (folder / "Bach_2.mp3").write_bytes(b"ID3 but then nothing like an mpeg frame" * 10)
    (folder / "Bach_3.flac").write_text("a text file with an audio extension")
    full = folder / "full.wav"
    write_audio(full, good, subtype="PCM_16")
    data = full.read_bytes()
    (folder / "Bach_4.wav").write_bytes(data[:30])  # cut inside the header
    full.unlink()
    write_audio(folder / "Bach_5.wav", tone(1.5))
    write_audio(folder / "Bach_6.wav", np.zeros(5 * SR, dtype=np.float32))
    write_audio(folder / "Nobody-Atall_1.wav", good)
    write_audio(folder / "track07.wav", good)
    write_audio(folder / "Bach_7.wav", good)  # made unreadable below
    (folder / "Bach_9.wav").symlink_to("nowhere.wav")
    (folder / "Bach_10.wav").symlink_to("Bach_10.wav")
    os.mkfifo(folder / "Bach_11.wav")
    return {"Bach_9.wav": "broken symbolic link", "Bach_10.wav": "symbolic link loop",
            "Bach_11.wav": "not a regular file (a FIFO",
            "Bach_8.wav": "empty file", "Bach_2.mp3": "not readable audio",
            "Bach_3.flac": "not readable audio", "Bach_4.wav": "not readable audio",
            "Bach_5.wav": "shorter than one 3-second slice", "Bach_6.wav": "silent",
            "Nobody-Atall_1.wav": "unknown composer 'Nobody-Atall'",
            "track07.wav": "not Composer_N", "Bach_7.wav": "Permission denied"}


def test_bad_inputs_are_skipped_with_one_line_each(tmp_path, monkeypatch, capsys):
    audio = tmp_path / "audio"
    audio.mkdir()
    expected = make_bad_inputs(audio)
    real_read = cclib.audio.sf.read

    def read_unless_locked(path, *args, **kwargs):
        if Path(path).name == "Bach_7.wav":  # CI runs as root, so chmod would not stop reading
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr(cclib.audio.sf, "read", read_unless_locked)
    summary = convert_folder(audio, tmp_path / "store", jobs=1, progress=False)
    assert (summary.done, summary.failed) == (1, len(expected))
    report = pd.read_csv(tmp_path / "store" / "report.csv")
    reasons = {Path(f).name: r for f, r in zip(report.file, report.reason)}
    assert set(reasons) == set(expected)
    for name, fragment in expected.items():
        assert fragment in reasons[name] and name in reasons[name]
    err = capsys.readouterr().err
    skipped_lines = [line for line in err.splitlines() if line.startswith("skipped ")]
    assert len(skipped_lines) == len(expected)
    assert "Traceback" not in err
    assert read_manifest(tmp_path / "store").piece.unique().tolist() == ["Bach_1"]


def run_cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "cclib.cli", *map(str, args)],
                          capture_output=True, text=True, **kwargs)


def test_cli_exit_status_and_summary(tmp_path, audio_folder):
    ok = run_cli("spectrograms", audio_folder, "--out", tmp_path / "store", "--jobs", "1")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().startswith("spectrograms: 5 files converted, 0 already done, 0 skipped")
    again = run_cli("spectrograms", audio_folder, "--out", tmp_path / "store", "--jobs", "1")
    assert "0 files converted, 5 already done" in again.stdout and again.returncode == 0

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Bach_1.wav").write_bytes(b"")
    nothing = run_cli("spectrograms", bad, "--out", tmp_path / "store2", "--jobs", "1")
    assert nothing.returncode == 1 and "Traceback" not in nothing.stderr
    assert f"skipped {bad / 'Bach_1.wav'}: empty file" in nothing.stderr

    missing = run_cli("spectrograms", tmp_path / "nowhere", "--out", tmp_path / "store3")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    for out in (audio_folder, tmp_path):  # the audio folder itself, or a folder holding it
        into = run_cli("spectrograms", audio_folder, "--out", out, "--jobs", "1")
        assert into.returncode == 2 and f"--out {out}: holds the audio folder" in into.stderr
    assert run_cli("spectrograms").returncode == 2


def test_other_parameters_refuse_an_existing_store(audio_folder, tmp_path):
    convert_folder(audio_folder, tmp_path / "store", jobs=1, progress=False)
    with pytest.raises(StoreError, match="front_end.kind: 'mel' there, 'linear' asked"):
        convert_folder(audio_folder, tmp_path / "store", front_end=FrontEnd(kind="linear"),
                       jobs=1, progress=False)


def test_labels_csv_names_composers_and_periods(tmp_path):
    audio = tmp_path / "cd"
    write_audio(audio / "disc1" / "track01.wav", chirp_piece(6.0))
    write_audio(audio / "track02.wav", chirp_piece(6.0, seed=1))
    write_audio(audio / "track03.wav", chirp_piece(6.0, seed=2))
    labels = tmp_path / "labels.csv"
    labels.write_text("file,composer,period\ndisc1/track01.wav,dvorak,\n"
                      "track02.wav,Somebody-New,21stcentury\n")
    summary = convert_folder(audio, tmp_path / "store", labels_csv=labels, jobs=1, progress=False)
    manifest = read_manifest(tmp_path / "store")
    assert dict(zip(manifest.piece, zip(manifest.composer, manifest.period))) == {
        "track01": ("Dvořák", "romantic"), "track02": ("Somebody-New", "21stcentury")}
    assert summary.failed == 1 and "not in the labels CSV" in summary.skipped_files[0]["reason"]


def test_killed_run_resumes_to_the_same_store(tmp_path):
    audio = tmp_path / "audio"
    for i in range(12):
        write_audio(audio / f"Bach_{i + 1}.wav", chirp_piece(30.0, seed=i))
    reference = tmp_path / "reference"
    assert run_cli("spectrograms", audio, "--out", reference, "--jobs", "1",
                   "--png").returncode == 0

    store = tmp_path / "store"
    process = subprocess.Popen([sys.executable, "-m", "cclib.cli", "spectrograms", str(audio),
                                "--out", str(store), "--jobs", "1", "--png"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list((store / "slices").glob("*.csv"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = len(list((store / "slices").glob("*.csv")))
    assert 3 <= done < 12, "the run should have been killed part-way"
    assert not (store / "manifest.csv").exists()  # nothing claims to be complete
    (store / "slices" / ".Bach_12.npy.tmp-99999").write_bytes(b"half a file")  # a stale temporary

    resumed = run_cli("spectrograms", audio, "--out", store, "--jobs", "1", "--png")
    assert resumed.returncode == 0
    assert f"{12 - done} files converted, {done} already done" in resumed.stdout
    assert folder_digest(store) == folder_digest(reference)


def living_children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` and that are not zombies (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_workers_end_with_a_parent_killed_mid_run(tmp_path):
    audio = tmp_path / "audio"
    for i in range(8):
        write_audio(audio / f"Bach_{i + 1}.wav", chirp_piece(30.0, seed=i))
    store = tmp_path / "store"
    process = subprocess.Popen([sys.executable, "-m", "cclib.cli", "spectrograms", str(audio),
                                "--out", str(store), "--jobs", "2"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list((store / "slices").glob("*.csv")) and time.monotonic() < deadline:
        time.sleep(0.01)
    workers = living_children(process.pid)
    assert workers, "the run should have started its pool"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers), "workers outlived their parent by 5 s"
    written = sorted(p.name for p in (store / "slices").iterdir())
    time.sleep(1)
    assert sorted(p.name for p in (store / "slices").iterdir()) == written  # nobody writes on
    resumed = run_cli("spectrograms", audio, "--out", store, "--jobs", "1")
    assert resumed.returncode == 0 and "8 files converted" not in resumed.stdout
    assert len(read_manifest(store).piece.unique()) == 8


def test_the_spectrogram_stage_never_imports_tensorflow():
    probe = ("import sys, cclib, cclib.cli, cclib.store, cclib.corpus, cclib.plots; "
             "sys.exit(1 if {'tensorflow', 'keras'} & set(sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", probe]).returncode == 0


def test_a_rendered_corpus_lends_its_work_groups_ensembles_and_soundfonts(audio_folder, tmp_path):
    from cclib.fileio import write_csv

    write_csv(audio_folder / "corpus.csv", ("file", "work", "ensemble", "soundfont", "source"), [
        {"file": "Bach_1.wav", "work": "Bach bwv1", "ensemble": "voices", "soundfont": "TimGM6mb",
         "source": "mutopia:midi/BachJS__x.mid"},
        {"file": "Bach_2.flac", "work": "Bach bwv1", "ensemble": "voices", "soundfont": "X",
         "source": "music21:bach/bwv1.mxl"}])
    convert_folder(audio_folder, tmp_path / "store", jobs=1, progress=False)
    manifest = read_manifest(tmp_path / "store").drop_duplicates("piece").set_index("piece")
    assert manifest.loc[["Bach_1", "Bach_2"], "work"].tolist() == ["Bach bwv1", "Bach bwv1"]
    assert manifest.loc["Bach_2", ["ensemble", "soundfont"]].tolist() == ["voices", "X"]
    assert manifest.loc[["Bach_1", "Bach_2", "Mozart_1"], "origin"].tolist() == [
        "mutopia", "music21", ""]
    assert manifest.loc["Mozart_1", "ensemble"] == "unknown"


def test_a_store_from_before_work_groups_is_upgraded_by_running_again(audio_folder, tmp_path):
    store = tmp_path / "store"
    convert_folder(audio_folder, store, jobs=1, progress=False)
    for piece_csv in (store / "slices").glob("*.csv"):  # as an older cclib wrote them
        old = pd.read_csv(piece_csv).drop(columns=["work", "ensemble", "soundfont", "digest",
                                                   "origin"])
        old.to_csv(piece_csv, index=False)
    old = pd.read_csv(store / "manifest.csv").drop(columns=["work", "ensemble", "soundfont",
                                                           "digest", "origin"])
    old.to_csv(store / "manifest.csv", index=False)
    with pytest.raises(StoreError, match="written by an older cclib.*run cclib spectrograms"):
        read_manifest(store)
    again = convert_folder(audio_folder, store, jobs=1, progress=False)
    assert (again.done, again.already_done) == (5, 0)
    assert "work" in read_manifest(store).columns


def test_a_truncated_array_is_converted_again_not_reported_done(audio_folder, tmp_path):
    store = tmp_path / "store"
    convert_folder(audio_folder, store, jobs=1, progress=False)
    before = folder_digest(store)
    array = store / "slices" / "Bach_1.npy"
    array.write_bytes(array.read_bytes()[:1000])
    again = convert_folder(audio_folder, store, jobs=1, progress=False)
    assert (again.done, again.already_done) == (1, 4)
    assert folder_digest(store) == before


@pytest.mark.parametrize("edit, message", [
    (lambda text: text.rstrip("\n").rsplit(",", 3)[0], r"row \d+: row '': not a whole number"),
    (lambda text: text.replace("slices/Bach_1.npy", "../../elsewhere/x.npy", 1),
     r"row 1: path '../../elsewhere/x.npy' lies outside"),
    (lambda text: text.replace("slices/Bach_1.npy", "/etc/passwd", 1), "lies outside"),
    (lambda text: text.replace(",baroque,", ",../../somewhere,", 1),
     r"row 1: period '../../somewhere': not a plain name"),
])
def test_a_malformed_or_hostile_manifest_is_refused_naming_the_row(audio_folder, tmp_path,
                                                                   edit, message):
    store = tmp_path / "store"
    convert_folder(audio_folder, store, jobs=1, progress=False)
    manifest = store / "manifest.csv"
    manifest.write_text(edit(manifest.read_text()))
    with pytest.raises(StoreError, match=message):
        read_manifest(store)
    sample = run_cli("sample", store, "--out", tmp_path / "dataset")
    assert sample.returncode == 2 and "manifest.csv row" in sample.stderr
    assert sample.stderr.count("\n") == 1 and not (tmp_path / "dataset").exists()


def test_long_files_are_cut_in_chunks_into_the_same_store(audio_folder, tmp_path, monkeypatch):
    write_audio(audio_folder / "Mozart_2.wav", np.stack([chirp_piece(20.0, seed=9, sr=44100)] * 2,
                                                       axis=1), sr=44100)  # stereo, resampled
    whole = convert_folder(audio_folder, tmp_path / "whole", jobs=1, progress=False)
    monkeypatch.setattr(cclib.store, "LONG_SECONDS", 0.0)  # every file read in chunks
    monkeypatch.setitem(cclib.audio.stream_audio.__kwdefaults__, "block_seconds", 2.5)
    chunked = convert_folder(audio_folder, tmp_path / "chunked", jobs=1, progress=False)
    assert whole.done == chunked.done == 6
    assert folder_digest(tmp_path / "chunked") == folder_digest(tmp_path / "whole")
