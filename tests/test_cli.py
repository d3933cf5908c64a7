"""The cclib command itself: its subcommands, argument checks and the one place errors end.

Each subcommand's work is tested with its module (test_corpus, test_store,
test_sampling, test_training, test_evaluate, test_trials); here, what every
subcommand shares.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import cclib.cli
from cclib.cli import build_parser, main
from cclib.errors import CclibError

COMMANDS = ["corpus", "spectrograms", "sample", "train", "classify", "evaluate", "trials",
            "notebook", "protocols"]


def test_every_subcommand_is_listed_in_the_help_and_the_module_docstring(capsys):
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(subparsers.choices) == COMMANDS
    listed = re.findall(r"^    cclib (\w+) ", cclib.cli.__doc__, flags=re.MULTILINE)
    assert listed == COMMANDS
    for command in COMMANDS:
        with pytest.raises(SystemExit) as stop:
            main([command, "--help"])
        assert stop.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: cclib {command}")


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: COMMAND"),
    (["play"], "invalid choice: 'play'"),
    (["sample", "store", "--per-composer", "0"], "--per-composer: must be at least 1, not 0"),
    (["trials", "nb.ipynb", "--n", "-2", "--out", "x"], "--n: must be at least 1, not -2"),
    (["classify", "model", "a.wav", "--runtime", "onnx"], "--runtime: invalid choice: 'onnx'"),
    (["sample", "store", "--out", "x", "--per-period", "0"], "--per-period: must be at least 1"),
    (["protocols", "store", "--seeds", "0"], "--seeds: must be at least 1, not 0"),
])
def test_bad_arguments_stop_with_status_2_and_name_the_argument(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unusable_input_is_one_line_naming_the_command_and_the_reason(tmp_path, capsys):
    missing = tmp_path / "no-such-folder"
    assert main(["spectrograms", str(missing), "--out", str(tmp_path / "store")]) == 2
    err = capsys.readouterr().err
    assert err == f"cclib spectrograms: {missing}: no such folder\n"
    assert not (tmp_path / "store").exists(), "nothing is written for a refused run"


@pytest.mark.parametrize("argv, message", [
    (["--recipe", "x:colour=red"], "cclib protocols: --recipe x:colour=red: unknown option 'colour'"),
    (["--recipe", "x:share=half"], "--recipe x:share=half: could not convert string to float"),
    ([], "no manifest.csv"),
])
def test_protocols_refuse_a_bad_recipe_or_store_in_one_line(argv, message, tmp_path, capsys):
    assert main(["protocols", str(tmp_path), *argv, "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_cclib_debug_shows_the_traceback_instead(tmp_path, monkeypatch):
    monkeypatch.setenv("CCLIB_DEBUG", "1")
    with pytest.raises(CclibError, match="no such folder"):
        main(["spectrograms", str(tmp_path / "none"), "--out", str(tmp_path / "store")])


def test_an_interrupted_run_says_it_can_be_resumed(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cclib.cli, "_run_spectrograms", interrupted)
    assert main(["spectrograms", "audio", "--out", "store"]) == 130
    assert capsys.readouterr().err == ("cclib spectrograms: interrupted; run it again to "
                                       "resume\n")


def test_the_installed_command_runs():
    command = Path(sys.executable).parent / "cclib"
    result = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "corpus" in result.stdout and result.stderr == ""
