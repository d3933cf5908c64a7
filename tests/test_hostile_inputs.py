"""The contract of every command under clumsy and hostile input, through the real `cclib` command.

Each case makes its bad input in the test, runs `cclib` in a child process
and checks the whole contract (README, "Bad input"): the exit status; every
stderr line either the one `cclib COMMAND: ...` line or a `skipped FILE:
REASON` line that names the file; no traceback; nothing written outside
`--out`; nothing that was there deleted or changed; no NaN in anything
written. Commands that can repair end as a clean run does.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import SR, chirp_piece, write_audio


def cclib(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "cclib.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)


def snapshot(root: Path, *, leave_out: Path | None = None) -> dict:
    """Every file below ``root`` (except below ``leave_out``) → its SHA-256."""
    found = {}
    for path in sorted(root.rglob("*")):
        if leave_out is not None and (path == leave_out or leave_out in path.parents):
            continue
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def no_nan_written(out: Path) -> bool:
    for path in out.rglob("*"):
        if path.suffix == ".npy" and path.is_file():
            if not np.isfinite(np.load(path).astype(np.float32)).all():
                return False
        if path.suffix == ".json" and path.is_file():
            json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{path}: {c}"))
    return True


def a_good_piece(folder: Path, name: str = "Bach_1.wav") -> Path:
    return write_audio(folder / name, chirp_piece(7.0, seed=1)) or folder / name


def non_finite_wav(folder: Path) -> str:
    y = chirp_piece(7.0, seed=2)
    y[[100, 5000, 9000]] = [np.nan, np.inf, -np.inf]
    sf.write(folder / "Bach_2.wav", y, SR, subtype="FLOAT")
    return "Bach_2.wav: holds 3 non-finite samples"


def silent_wav(folder: Path) -> str:
    write_audio(folder / "Bach_3.wav", np.zeros(5 * SR, dtype=np.float32))
    return "Bach_3.wav: silent"


def one_second_wav(folder: Path) -> str:
    write_audio(folder / "Bach_4.wav", chirp_piece(1.0, seed=3))
    return "Bach_4.wav: shorter than one 3-second slice"


def random_bytes(folder: Path) -> str:
    (folder / "Bach_5.flac").write_bytes(np.random.default_rng(0).bytes(5000))
    return "Bach_5.flac: not readable audio"


def dangling_symlink(folder: Path) -> str:
    (folder / "Bach_6.wav").symlink_to(folder / "gone.wav")
    return "Bach_6.wav: broken symbolic link"


def fifo(folder: Path) -> str:
    os.mkfifo(folder / "Bach_7.wav")
    return "Bach_7.wav: not a regular file"


@pytest.fixture(scope="module")
def clean_slices(tmp_path_factory) -> bytes:
    """The good piece's slice array from a folder holding nothing else."""
    root = tmp_path_factory.mktemp("clean")
    a_good_piece(root / "audio")
    run = cclib("spectrograms", root / "audio", "--out", root / "store", "--jobs", "1")
    assert run.returncode == 0, run.stderr
    return (root / "store" / "slices" / "Bach_1.npy").read_bytes()


@pytest.mark.parametrize("make_bad", [non_finite_wav, silent_wav, one_second_wav, random_bytes,
                                      dangling_symlink, fifo])
def test_a_bad_file_is_skipped_with_its_reason_and_the_batch_goes_on(tmp_path, make_bad,
                                                                      clean_slices):
    audio = tmp_path / "audio"
    audio.mkdir()
    a_good_piece(audio)
    fragment = make_bad(audio)
    before = snapshot(tmp_path)
    run = cclib("spectrograms", audio, "--out", tmp_path / "store", "--jobs", "1")
    assert run.returncode == 0 and "Traceback" not in run.stderr
    assert run.stderr.splitlines() == [line for line in run.stderr.splitlines()
                                       if line.startswith("skipped ")]
    assert any(fragment in line for line in run.stderr.splitlines()), run.stderr
    assert snapshot(tmp_path, leave_out=tmp_path / "store") == before
    assert no_nan_written(tmp_path / "store")
    # the good piece's slices are those it gets when converted alone
    assert (tmp_path / "store" / "slices" / "Bach_1.npy").read_bytes() == clean_slices


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A small real store: three composers of two periods, two pieces each."""
    root = tmp_path_factory.mktemp("hostile")
    audio = root / "audio"
    for i, name in enumerate(["Bach_1", "Bach_2", "Handel_1", "Handel_2", "Brahms_1",
                              "Brahms_2", "Schumann_1", "Schumann_2"]):
        write_audio(audio / f"{name}.wav", chirp_piece(10.0, seed=i))
    assert cclib("spectrograms", audio, "--out", root / "store", "--jobs", "1").returncode == 0
    return root / "store"


def copy_store(store: Path, into: Path) -> Path:
    import shutil

    shutil.copytree(store, into)
    return into


def escape_path(manifest: str) -> str:
    return manifest.replace("slices/Bach_1.npy", "../../elsewhere/x.npy", 1)


def escape_period(manifest: str) -> str:
    return manifest.replace(",baroque,", ",../../somewhere,", 1)


def cut_short(manifest: str) -> str:
    return manifest.rstrip("\n").rsplit(",", 5)[0]


@pytest.mark.parametrize("edit, reason", [(escape_path, "lies outside"),
                                          (escape_period, "not a plain name"),
                                          (cut_short, "not a whole number")])
def test_a_hostile_manifest_is_refused_in_one_line_and_nothing_is_written(store, tmp_path, edit,
                                                                          reason):
    mine = copy_store(store, tmp_path / "store")
    (mine / "manifest.csv").write_text(edit((mine / "manifest.csv").read_text()))
    before = snapshot(tmp_path)
    run = cclib("sample", mine, "--out", tmp_path / "dataset", "--per-composer", "5")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    (line,) = run.stderr.splitlines()
    assert line.startswith("cclib sample: ") and "manifest.csv row" in line and reason in line
    assert snapshot(tmp_path) == before and not (tmp_path / "dataset").exists()
    assert not (tmp_path.parent / "somewhere").exists()


@pytest.mark.parametrize("args, named", [
    (["--fractions", "nan,0.5,0.5"], "--fractions"),
    (["--seed", "-1"], "--seed"),
    (["--per-composer", "0"], "--per-composer"),
    (["--max-ensemble-share", "1.5"], "--max-ensemble-share"),
])
def test_a_bad_number_is_refused_naming_its_option(store, tmp_path, args, named):
    run = cclib("sample", store, "--out", tmp_path / "dataset", *args)
    assert run.returncode == 2 and "Traceback" not in run.stderr and named in run.stderr
    assert not (tmp_path / "dataset").exists()


def test_a_truncated_array_is_converted_again_and_the_store_ends_as_a_clean_one(store, tmp_path):
    mine = copy_store(store, tmp_path / "store")
    array = mine / "slices" / "Brahms_1.npy"
    whole = array.read_bytes()
    array.write_bytes(whole[:200])
    audio = store.parent / "audio"
    run = cclib("spectrograms", audio, "--out", mine, "--jobs", "1")
    assert run.returncode == 0 and "1 files converted, 7 already done" in run.stdout
    assert array.read_bytes() == whole
    run_dependent = {"summary.json", "report.csv"}  # timings; the skipped files of this run
    assert {k: v for k, v in snapshot(mine).items() if k not in run_dependent} == \
        {k: v for k, v in snapshot(store).items() if k not in run_dependent}


def test_a_runs_folder_holding_a_users_files_is_refused(tmp_path):
    mine = tmp_path / "mine"
    (mine / "trial-00").mkdir(parents=True)
    (mine / "trial-00" / "notes.txt").write_text("mine")
    notebook = Path(__file__).resolve().parent.parent / "notebooks" / "04_retrain_mobilenet.ipynb"
    run = cclib("trials", notebook, "--n", "1", "--out", mine)
    assert run.returncode == 2 and run.stderr.startswith("cclib trials: --out")
    assert len(run.stderr.splitlines()) == 1 and (mine / "trial-00" / "notes.txt").exists()
    broken = tmp_path / "broken.ipynb"
    broken.write_text("not json at all")
    run = cclib("trials", broken, "--n", "1", "--out", tmp_path / "runs")
    assert run.returncode == 2 and "not a readable notebook" in run.stderr
    assert len(run.stderr.splitlines()) == 1


def test_inference_never_judges_silence_or_emptiness(tmp_path):
    from cclib.audio import AudioError
    from cclib.classify import audio_slices, read_slice_input
    from cclib.spectrogram import FrontEnd

    empty, holed = tmp_path / "empty.npy", tmp_path / "holed.npy"
    np.save(empty, np.zeros((0, 128, 129), np.float16))
    np.save(holed, np.full((1, 128, 129), np.nan, np.float16))
    np.savez(tmp_path / "bundle.npz", x=np.zeros(3))
    write_audio(tmp_path / "Bach_9.wav", np.zeros(6 * SR, dtype=np.float32))
    for path, reason in ((empty, "holds no slice"), (holed, "non-finite"),
                         (tmp_path / "bundle.npz", "an archive of arrays"),
                         (f"{empty}#7", "no row 7")):
        with pytest.raises(AudioError, match=reason):
            read_slice_input(str(path))
    with pytest.raises(AudioError, match="Bach_9.wav: silent"):
        audio_slices(tmp_path / "Bach_9.wav", FrontEnd())


def test_a_broken_model_folder_is_refused_in_one_line(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"classes": "baroque"}')
    (model / "model.keras").write_bytes(b"not a model")
    slices = tmp_path / "one.npy"
    np.save(slices, np.zeros((1, 128, 129), np.float16))
    for runtime in ("auto", "litert"):
        run = cclib("classify", model, slices, "--runtime", runtime)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        (line,) = run.stderr.splitlines()
        assert line.startswith(f"cclib classify: {model}")


def test_a_refused_corpus_writes_nothing(tmp_path):
    for args in (["--sources", "nowhere"], ["--soundfonts", "NoSuchFont"]):
        run = cclib("corpus", "--out", tmp_path / "audio", *args)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        (line,) = run.stderr.splitlines()
        assert line.startswith(f"cclib corpus: {args[0]}: ")
        assert not (tmp_path / "audio").exists()  # no corpus.json recording what was refused
