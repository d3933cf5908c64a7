"""The one place work fans out: in-process, a spawn process pool, or Dask."""

import math
from pathlib import Path

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


def listening_sockets(pids) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket that ``pids`` listen on (Linux's /proc)."""
    import os
    import socket
    import struct

    inodes = set()
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}") if os.path.exists(
                f"/proc/{pid}/fd/{fd}") else ""
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                address, port = fields[1].split(":")
                raw = bytes.fromhex(address)
                if len(raw) == 4:
                    text = socket.inet_ntoa(struct.pack("<I", int(address, 16)))
                else:
                    text = socket.inet_ntop(socket.AF_INET6, b"".join(
                        struct.pack("<I", int(address[i:i + 8], 16)) for i in range(0, 32, 8)))
                found.append((text, int(port, 16)))
    return found


def answers_http(port: int) -> bool:
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
        connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            return connection.recv(5) == b"HTTP/"
        except OSError:  # a Dask comm port waits for its own protocol
            return False


def cluster_sockets(_):
    """Run on a worker: the sockets its process and its nanny's (the caller's: the
    scheduler's too) listen on, and whether each answers HTTP."""
    import os

    return [(address, port, answers_http(port))
            for address, port in listening_sockets({os.getpid(), os.getppid()})]


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc (Linux)")
def test_the_local_dask_cluster_listens_on_loopback_only_and_serves_no_http():
    sockets = [s for found in imap_unordered(cluster_sockets, range(2), jobs=2, scheduler="dask")
               for s in found]
    assert sockets and {address for address, _, _ in sockets} == {"127.0.0.1"}
    assert not any(http for _, _, http in sockets)
