"""The one place work fans out: in-process, a spawn process pool, or Dask."""

import math

import pytest

from cclib.parallel import SchedulerError, check_scheduler, imap_unordered


@pytest.mark.parametrize("jobs, scheduler", [(1, "local"), (2, "local"), (2, "dask")])
def test_every_item_is_done_once_whatever_the_scheduler(jobs, scheduler):
    results = list(imap_unordered(math.factorial, range(12), jobs=jobs, scheduler=scheduler))
    assert sorted(results) == [math.factorial(n) for n in range(12)]


def test_an_unknown_scheduler_is_refused_in_one_line():
    assert check_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    with pytest.raises(SchedulerError, match="use local, dask or a Dask address"):
        list(imap_unordered(math.factorial, [1], scheduler="slurm"))


def test_the_command_names_a_bad_scheduler(audio_folder, tmp_path, capsys):
    from cclib.cli import main

    assert main(["spectrograms", str(audio_folder), "--out", str(tmp_path / "s"),
                 "--scheduler", "slurm"]) == 2
    assert capsys.readouterr().err.strip().startswith("cclib spectrograms: scheduler 'slurm'")
