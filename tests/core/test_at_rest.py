"""fsutil's private modes and core.register.rename: files 0600, folders 0700, renames that never
overwrite and survive being cut short."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from brankas.core import config, fsutil
from brankas.core.register import rename

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX modes")


@contextmanager
def loose_umask() -> Iterator[None]:
    """A careless caller's umask (022: new files 0644, folders 0755)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@posix_only
def test_the_data_folder_is_made_private_even_with_a_loose_umask(tmp_path: Path) -> None:
    s = dataclasses.replace(config.load(), home=tmp_path / "a" / "home", database_url=None)
    with loose_umask():
        config.ensure_home(s)
        config.secret_key(s)
    for folder in (s.home, s.tmp, s.keys, s.secret_key_file.parent):
        assert mode(folder) == 0o700, folder
    assert mode(s.secret_key_file) == 0o600
    # An empty database file for SQLite to fill: its -wal and -shm take its mode.
    assert s.database_path.stat().st_size == 0 and mode(s.database_path) == 0o600
    assert mode(tmp_path / "a") == 0o700  # a parent made on the way is private too


@posix_only
def test_staged_files_and_published_folders_are_private(tmp_path: Path) -> None:
    with loose_umask():
        with fsutil.staged_file(tmp_path / "staging") as (staged, fh):
            fh.write(b"x")
        final = tmp_path / "arsip" / "2026" / "a.pdf"
        fsutil.publish(staged, final)
    assert mode(tmp_path / "staging") == 0o700
    assert mode(final) == 0o600
    assert mode(final.parent) == 0o700 and mode(final.parent.parent) == 0o700


@posix_only
def test_private_umask_applies_to_whatever_the_process_creates(tmp_path: Path) -> None:
    with loose_umask():
        previous = fsutil.private_umask()
        try:
            (tmp_path / "d").mkdir()
            (tmp_path / "d" / "f").write_bytes(b"x")
        finally:
            assert previous is not None
            os.umask(previous)
    assert mode(tmp_path / "d") == 0o700 and mode(tmp_path / "d" / "f") == 0o600


@posix_only
def test_tighten_walks_the_folder_and_follows_no_link(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "arsip" / "biasa").mkdir(parents=True)
    (home / "arsip" / "biasa" / "a.pdf").write_bytes(b"a")
    (home / "brankas.sqlite3").write_bytes(b"")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "mine.txt").write_bytes(b"not brankas's")
    os.chmod(outside, 0o755)  # noqa: S103
    os.chmod(outside / "mine.txt", 0o644)
    (home / "link-to-dir").symlink_to(outside)
    (home / "link-to-file").symlink_to(outside / "mine.txt")
    for p in (home, home / "arsip", home / "arsip" / "biasa"):
        os.chmod(p, 0o755)  # noqa: S103 - a loose folder on purpose
    for p in (home / "arsip" / "biasa" / "a.pdf", home / "brankas.sqlite3"):
        os.chmod(p, 0o644)
    changed = fsutil.tighten(home)
    assert set(changed) == {home, home / "arsip", home / "arsip" / "biasa",
                            home / "arsip" / "biasa" / "a.pdf", home / "brankas.sqlite3"}
    for p in (home, home / "arsip", home / "arsip" / "biasa"):
        assert mode(p) == 0o700
    assert mode(home / "arsip" / "biasa" / "a.pdf") == 0o600
    # What the links point at is not Brankas's: untouched.
    assert mode(outside) == 0o755 and mode(outside / "mine.txt") == 0o644
    assert fsutil.tighten(home) == []  # nothing left to do
    assert fsutil.tighten(tmp_path / "absent") == []


# ------------------------------------------------------------------ core.register.rename

def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


DATA = b"age-encryption.org/v1\n...ciphertext..."


def test_rename_moves_the_file_and_keeps_its_bytes(tmp_path: Path) -> None:
    old, new = tmp_path / "K-2026-0001-rapat-rahasia.pdf.age", tmp_path / "K-2026-0001.pdf.age"
    old.write_bytes(DATA)
    assert rename.rename_stored(old, new, sha256=sha(DATA)) is rename.Outcome.RENAMED
    assert not old.exists() and new.read_bytes() == DATA
    # A second run finds it done and changes nothing.
    assert rename.rename_stored(old, new, sha256=sha(DATA)) is rename.Outcome.DONE
    assert new.read_bytes() == DATA


def test_rename_cut_short_after_the_link_removes_the_old_name(tmp_path: Path) -> None:
    old, new = tmp_path / "old.pdf.age", tmp_path / "new.pdf.age"
    old.write_bytes(DATA)
    os.link(old, new)  # killed between making the new name and removing the old one
    outcome = rename.rename_stored(old, new, sha256=sha(DATA))
    assert outcome is rename.Outcome.DONE and outcome.moved
    assert not old.exists() and new.read_bytes() == DATA


def test_rename_never_overwrites_other_content(tmp_path: Path) -> None:
    old, new = tmp_path / "old.pdf.age", tmp_path / "new.pdf.age"
    old.write_bytes(DATA)
    new.write_bytes(b"something else")
    outcome = rename.rename_stored(old, new, sha256=sha(DATA))
    assert outcome is rename.Outcome.CONFLICT and not outcome.moved
    assert old.read_bytes() == DATA and new.read_bytes() == b"something else"


def test_rename_of_a_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    outcome = rename.rename_stored(tmp_path / "old", tmp_path / "new", sha256=sha(DATA))
    assert outcome is rename.Outcome.MISSING and not outcome.moved
    assert list(tmp_path.iterdir()) == []


@posix_only
def test_rename_follows_no_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(DATA)
    old, new = tmp_path / "old.pdf.age", tmp_path / "new.pdf.age"
    old.symlink_to(target)
    assert rename.rename_stored(old, new, sha256=sha(DATA)) is rename.Outcome.CONFLICT
    assert old.is_symlink() and not new.exists()
    new.symlink_to(target)  # a link at the new name does not count as the file
    old.unlink()
    old.write_bytes(DATA)
    assert rename.rename_stored(old, new, sha256=sha(DATA)) is rename.Outcome.CONFLICT
    assert old.read_bytes() == DATA and new.is_symlink()
