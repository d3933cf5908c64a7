"""Score archives written byte-identically and read back; source repositories read at a commit."""

import subprocess

import pytest

from cclib.archives import ArchiveError, SourceTree, pack_archives, read_archives


def test_archives_are_the_same_bytes_for_the_same_files_and_split_by_size(tmp_path):
    files = {f"midi/{name}.mid": bytes([i]) * 3000 for i, name in enumerate("dcba")}
    files[f"midi/{'long-name-' * 15}.mid"] = b"beyond the 100 characters of a plain tar header"
    first = pack_archives(files, tmp_path / "a", chunk_bytes=7000)
    second = pack_archives(dict(reversed(files.items())), tmp_path / "b", chunk_bytes=7000)
    assert [p.name for p in first] == ["midi-1.tar.xz", "midi-2.tar.xz"]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert read_archives(tmp_path / "a") == files
    pack_archives({"midi/x.mid": b"x"}, tmp_path / "a")  # a new import replaces the old archives
    assert sorted(p.name for p in (tmp_path / "a").glob("*.xz")) == ["midi-1.tar.xz"]


def test_a_damaged_archive_is_named(tmp_path):
    (tmp_path / "midi-1.tar.xz").write_bytes(b"not xz at all")
    with pytest.raises(ArchiveError, match="midi-1.tar.xz: damaged archive"):
        read_archives(tmp_path)


def git(folder, *arguments):
    return subprocess.run(["git", "-C", str(folder), *arguments], check=True,
                          capture_output=True, text=True).stdout.strip()


def test_a_git_repository_is_read_at_the_pinned_commit(tmp_path):
    repo = tmp_path / "repo"
    (repo / "ftp").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "ftp" / "a.ly").write_text("first")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    pinned = git(repo, "rev-parse", "HEAD")
    (repo / "ftp" / "a.ly").write_text("second, later")
    (repo / "ftp" / "b.ly").write_text("new")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "two")
    with SourceTree(repo, pinned) as tree:
        assert tree.commit == pinned and tree.files() == {"ftp/a.ly": 5}
        assert tree.read("ftp/a.ly") == b"first"
        with pytest.raises(ArchiveError, match="ftp/b.ly: not a file"):
            tree.read("ftp/b.ly")
    assert SourceTree(repo).read("ftp/b.ly") == b"new"
    with pytest.raises(ArchiveError, match="git rev-parse failed"):
        SourceTree(repo, "0" * 40)
    with pytest.raises(ArchiveError, match="no such folder"):
        SourceTree(tmp_path / "nowhere")
