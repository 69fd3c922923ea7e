"""The one way files on a backup disk are opened: never through a link, only regular files,
bounded, and never waiting on a FIFO. Each case names the refusal it must get."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from brankas.core.disk import fs as diskfs
from brankas.core.errors import SetupError

posix_only = pytest.mark.skipif(os.name == "nt", reason="symlinks and FIFOs need POSIX here")


@pytest.mark.parametrize(("path", "why"), [
    ("", "empty"), ("/etc/passwd", "absolute"), ("data/../../x", "'..'"),
    ("data/./x", "'.'"), ("data//x", "empty"), ("C:/Windows/x", "drive letter"),
    ("c:x", "drive letter"), ("//server/share/x", "absolute"), ("data\\..\\x", "backslash"),
    ("data/x\x00y", "control"), ("data/x\ny", "control"), ("data/file:stream", "colon"),
    ("a/" + "b" * 256, "longer than 255"), ("a/" * 600, "longer than 1024"),
])
def test_unsafe_relative_paths_are_named(path: str, why: str) -> None:
    reason = diskfs.check_relative(path)
    assert reason is not None and why.split()[0] in reason


def test_safe_relative_paths_pass() -> None:
    assert diskfs.check_relative("data/arsip/biasa/penerimaan/2026/M-2026-0001.pdf") is None


def test_a_regular_file_is_read_within_its_limit(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_bytes(b"x" * 100)
    assert diskfs.read_file(tmp_path, "data/a.txt", limit=100) == b"x" * 100
    with pytest.raises(SetupError) as refused:
        diskfs.read_file(tmp_path, "data/a.txt", limit=99)
    assert refused.value.code == "disk_file_too_large"


def test_a_path_that_climbs_out_is_refused_before_any_open(tmp_path: Path) -> None:
    with pytest.raises(SetupError) as refused:
        diskfs.open_file(tmp_path, "data/../../etc/passwd")
    assert refused.value.code == "disk_path_invalid"


@posix_only
def test_a_link_is_never_followed_at_the_end_or_on_the_way(tmp_path: Path) -> None:
    outside = tmp_path / "laptop"
    outside.mkdir()
    (outside / "secret.txt").write_text("laptop")
    disk = tmp_path / "disk"
    (disk / "data").mkdir(parents=True)
    (disk / "data" / "file-link").symlink_to(outside / "secret.txt")
    (disk / "data" / "dir-link").symlink_to(outside)
    for rel in ("data/file-link", "data/dir-link/secret.txt"):
        with pytest.raises(SetupError) as refused:
            diskfs.read_file(disk, rel, limit=1000)
        assert refused.value.code == "disk_link", rel
    with pytest.raises(SetupError) as refused:
        diskfs.real_dir(disk, "data/dir-link/new", create=True)
    assert refused.value.code == "disk_link"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


@posix_only
def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "manifest-sha256.txt")
    outcome: list[BaseException | None] = []

    def read() -> None:
        try:
            diskfs.read_file(tmp_path, "manifest-sha256.txt", limit=1 << 20)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - the outcome is checked below
            outcome.append(exc)

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the test's own thread before failing
        with open(tmp_path / "manifest-sha256.txt", "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert isinstance(outcome[0], SetupError) and outcome[0].code == "disk_not_regular"


@posix_only
def test_a_folder_or_device_in_place_of_a_file_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "bag-info.txt").mkdir()
    with pytest.raises(SetupError) as refused:
        diskfs.read_file(tmp_path, "bag-info.txt", limit=10)
    assert refused.value.code == "disk_not_regular"
    try:
        os.mknod(tmp_path / "zero", 0o600 | stat.S_IFCHR, os.makedev(1, 5))
    except PermissionError:
        pytest.skip("creating a device node is not permitted here")
    with pytest.raises(SetupError) as refused:
        diskfs.read_file(tmp_path, "zero", limit=10)
    assert refused.value.code == "disk_not_regular"


def test_real_dir_makes_folders_and_names_the_ones_it_made(tmp_path: Path) -> None:
    folder, made = diskfs.real_dir(tmp_path, "data/arsip/biasa", create=True)
    assert folder == tmp_path / "data" / "arsip" / "biasa" and folder.is_dir()
    assert made == [tmp_path, tmp_path / "data", tmp_path / "data" / "arsip"]
    (tmp_path / "data" / "file").write_text("x")
    with pytest.raises(SetupError) as refused:
        diskfs.real_dir(tmp_path, "data/file/below", create=True)
    assert refused.value.code == "disk_not_regular"


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_an_entry_under_a_loop_of_links_is_a_link_not_a_crash(tmp_path: Path) -> None:
    """Found by the hostile-disk property test: ``data/a`` a link to ``data`` itself makes
    ``data/a/a/a`` a loop (ELOOP); it is a link to every caller, and nothing is made there."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a").symlink_to(tmp_path / "data" / "a")  # a link to itself
    assert diskfs.lkind(tmp_path / "data" / "a" / "a") == "link"
    assert diskfs.lkind(tmp_path / "data" / "a" / "a" / "a") == "link"
    with pytest.raises(SetupError):
        diskfs.real_dir(tmp_path, "data/a/a", create=True)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["a"]
