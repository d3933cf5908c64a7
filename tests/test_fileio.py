"""Crash-safe writes, settings that keep a folder to one run, paths read from data files."""

import json
import os
import subprocess
import sys

import pytest

from cclib.errors import CclibError
from cclib.fileio import (TMP_MARK, atomic_path, inside, read_json, remove_stale_temporaries,
                          settings_guard, write_csv, read_csv)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["metrics.json"]


def test_a_folder_is_replaced_whole(tmp_path):
    target = tmp_path / "dataset"
    (target / "old").mkdir(parents=True)
    with atomic_path(target) as tmp:
        (tmp / "new").mkdir(parents=True)
    assert [p.name for p in target.iterdir()] == ["new"]


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    (tmp_path / f".a.npy{TMP_MARK}123").write_bytes(b"half")
    (tmp_path / f".b{TMP_MARK}9").mkdir()
    (tmp_path / "keep.npy").write_bytes(b"whole")
    assert remove_stale_temporaries(tmp_path) == 2
    assert os.listdir(tmp_path) == ["keep.npy"]


def test_csv_round_trip(tmp_path):
    write_csv(tmp_path / "r.csv", ["file", "reason"], [{"file": "a,b.wav", "reason": "x"}])
    assert read_csv(tmp_path / "r.csv") == [{"file": "a,b.wav", "reason": "x"}]


def test_broken_json_is_named(tmp_path):
    broken = tmp_path / "params.json"
    broken.write_text("{ not json")
    with pytest.raises(CclibError, match=r"params\.json: not valid JSON"):
        read_json(broken)
    with pytest.raises(CclibError, match=r"missing\.json: cannot be read"):
        read_json(tmp_path / "missing.json")


def test_settings_guard_names_every_differing_key(tmp_path):
    guard = tmp_path / "run.json"
    settings_guard(guard, {"front_end": {"kind": "mel", "sr": 22050}, "seed": 0}, what="slices")
    assert json.loads(guard.read_text())["front_end"]["kind"] == "mel"
    settings_guard(guard, {"front_end": {"kind": "mel", "sr": 22050}, "seed": 0}, what="slices")
    with pytest.raises(CclibError, match=r"front_end\.kind: 'mel' there, 'linear' asked; "
                                         r"seed: 0 there, 1 asked"):
        settings_guard(guard, {"front_end": {"kind": "linear", "sr": 22050}, "seed": 1},
                       what="slices")


@pytest.mark.parametrize("relative", ["../x.npy", "slices/../../x.npy", "/etc/passwd"])
def test_paths_from_data_files_stay_inside_their_folder(tmp_path, relative):
    (tmp_path / "store" / "slices").mkdir(parents=True)
    assert inside(tmp_path / "store", "slices/a.npy", "row 1") == \
        (tmp_path / "store" / "slices" / "a.npy").resolve()
    with pytest.raises(CclibError, match=f"row 3: path '{relative}' lies outside"):
        inside(tmp_path / "store", relative, "row 3")


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "slices").symlink_to(tmp_path)
    with pytest.raises(CclibError, match="lies outside"):
        inside(tmp_path / "store", "slices/secret.npy", "row 1")


def test_native_stderr_is_dropped_on_success_and_replayed_on_failure():
    script = ("import os\nfrom cclib.fileio import native_stderr_held\n"
              "with native_stderr_held():\n    os.write(2, b'notice\\n')\n"
              "print('quiet')\n"
              "with native_stderr_held():\n    os.write(2, b'why it failed\\n'); 1 / 0\n")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert ran.stdout == "quiet\n" and "notice" not in ran.stderr
    assert "why it failed" in ran.stderr and "ZeroDivisionError" in ran.stderr
