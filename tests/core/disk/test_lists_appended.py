"""The manifest and sizes grow at their end (``BagState._appends``): a commit adds its
lines and never writes the lists whole; their length and SHA-256 before it are in the
commit journal, and an append cut short is cut back when the disk is next opened. The
lists stay what BagIt tools read (``bagit`` validates, ``sha256sum -c`` passes)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from brankas.core.disk import format as fmt
from brankas.core.disk.bag import Hooks
from brankas.core.disk.listing import Listing
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import assert_on_disk, items, open_bag, sample_files, validate


def _lists(dest: Path) -> dict[str, bytes]:
    return {name: (dest / name).read_bytes() for name in (fmt.MANIFEST, fmt.SIZES)}


def test_a_run_appends_its_lines_and_writes_nothing_else_of_the_lists(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    first = sample_files(30)
    with open_bag(dest) as bag:
        bag.add_files(items(first))
        known = bag.list_hashes()
    before = _lists(dest)
    inodes = {name: (dest / name).stat().st_ino for name in before}
    assert known[fmt.MANIFEST] == [len(before[fmt.MANIFEST]),
                                   fmt.sha256_bytes(before[fmt.MANIFEST])]
    more = sample_files(5, start=100)
    with open_bag(dest, known_lists=known) as bag:
        bag.add_files(items(more), checkpoint_files=2)  # three commits: three appends
        after_known = bag.list_hashes()
    after = _lists(dest)
    for name, data in before.items():
        assert after[name].startswith(data), name  # the lines before untouched
        assert (dest / name).stat().st_ino == inodes[name], name  # the same file, grown
        assert after[name].count(b"\n") == data.count(b"\n") + 5
    assert after_known[fmt.MANIFEST] == [len(after[fmt.MANIFEST]),
                                         fmt.sha256_bytes(after[fmt.MANIFEST])]
    validate(dest)  # the bagit library
    check = subprocess.run(["sha256sum", "--quiet", "-c", fmt.MANIFEST], cwd=dest,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert_on_disk(dest, {**first, **more})
    # Opened again with the lists as recorded: read as written, nothing rewritten.
    with open_bag(dest, known_lists=after_known) as bag:
        assert set(bag.entries) == set(first) | set(more)
    assert _lists(dest) == after


def test_an_append_cut_short_is_cut_back_and_the_files_listed_again(tmp_path: Path) -> None:
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(items(sample_files(10)))
        known = bag.list_hashes()
    before = _lists(dest)
    more = sample_files(3, start=50)

    def killed() -> None:
        raise RuntimeError("killed in the commit window")

    with open_bag(dest, known_lists=known, hooks=Hooks(committing=killed)) as bag, \
            pytest.raises(RuntimeError):
        bag.add_files(items(more))
    journal = json.loads((dest / ".brankas-staging" / "commit.json").read_text())
    assert journal["lists"] == {name: [len(data), fmt.sha256_bytes(data)]
                                for name, data in before.items()}
    # The append half-written: a line cut in its middle (as a power cut leaves it; the
    # lines of a journal's files only: any other is not cut, see below).
    appended = (dest / fmt.MANIFEST).read_bytes()[len(before[fmt.MANIFEST]):]
    half = appended.index(b"\n") + 1 + len(appended.split(b"\n")[1]) // 2
    os.truncate(dest / fmt.MANIFEST, len(before[fmt.MANIFEST]) + half)
    with open_bag(dest, known_lists=known) as bag:  # the repair: cut back, listed again
        assert set(more) <= set(bag.entries)
    validate(dest)
    assert_on_disk(dest, {**sample_files(10), **more})
    assert (dest / fmt.MANIFEST).read_bytes().startswith(before[fmt.MANIFEST])


def test_a_journal_whose_lists_do_not_match_cuts_nothing(tmp_path: Path) -> None:
    """The journal is the disk's word: lengths whose first bytes are not those recorded
    cut nothing (the lists are read and checked as any disk's)."""
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(items(sample_files(10)))
    before = _lists(dest)
    body = {"run": "9", "files": [],
            "lists": {fmt.MANIFEST: [10, "0" * 64], fmt.SIZES: [5, "f" * 64]}}
    (dest / ".brankas-staging" / "commit.json").write_text(json.dumps(body))
    with open_bag(dest) as bag:
        assert set(bag.entries) == set(sample_files(10))
    assert _lists(dest) == before
    validate(dest)


def test_the_listings_total_follows_every_change() -> None:
    rng = random.Random(7)
    listing = Listing()
    listing.replace_entries({f"p{i}": f"{i:064x}" for i in range(50)})
    for step in range(2000):
        path = f"p{rng.randrange(60)}"
        what = rng.random()
        if what < 0.4 and path in listing.entries:
            listing.sizes[path] = rng.randrange(10_000)
        elif what < 0.6:
            listing.entries[path] = f"{step:064x}"
        elif what < 0.7 and path in listing.sizes:
            del listing.sizes[path]
        elif what < 0.8 and path in listing.entries:
            del listing.entries[path]
        assert listing.total == sum(listing.sizes.values()), step


def _planted_journal(dest: Path, lists: dict[str, list[object]],
                     files: list[dict[str, object]] | None = None) -> None:
    body = {"run": "9", "files": files or [], "lists": lists}
    (dest / ".brankas-staging" / "commit.json").write_text(json.dumps(body))


def test_a_planted_journal_with_a_matching_prefix_cuts_no_line_of_a_file_it_does_not_name(
        tmp_path: Path) -> None:
    """Review s18: a journal planted on the disk recording the first half of the genuine
    lists (their true length and SHA-256) made Brankas itself cut the office's own lines
    off: the files stayed in data/, unlisted, and every later backup refused the disk.
    Only the lines of the files the journal names (each with its hash or size) are cut,
    and those are listed again when in data/ whole."""
    dest = tmp_path / "disk"
    files = sample_files(10)
    with open_bag(dest) as bag:
        bag.add_files(items(files))
        known = bag.list_hashes()
    before = _lists(dest)
    prefix = {name: data[:data.index(b"\n", len(data) // 2) + 1] for name, data in before.items()}
    _planted_journal(dest, {name: [len(data), fmt.sha256_bytes(data)]
                            for name, data in prefix.items()})
    with open_bag(dest, known_lists=known) as bag:
        assert set(bag.entries) == set(files)
        bag.add_files(items(sample_files(2, start=40)))  # the disk still takes a backup
    for name, data in before.items():
        assert (dest / name).read_bytes().startswith(data), name
    validate(dest)
    # Even the empty prefix (length 0: the SHA-256 of nothing) cuts nothing.
    before = _lists(dest)
    _planted_journal(dest, {name: [0, fmt.sha256_bytes(b"")] for name in before})
    with open_bag(dest) as bag:
        assert set(bag.entries) == set(files) | set(sample_files(2, start=40))
    assert _lists(dest) == before


def test_a_planted_journal_naming_its_files_cuts_only_their_lines_and_lists_them_again(
        tmp_path: Path) -> None:
    """The cut a journal may make: lines of the files it names, with the hash and size
    it records; a file whole in data/ is then listed again (nothing lost)."""
    dest = tmp_path / "disk"
    files = sample_files(6)
    with open_bag(dest) as bag:
        bag.add_files(items(files))
    before = _lists(dest)
    lines = {name: data.splitlines(keepends=True) for name, data in before.items()}
    named = [line.split(b"  data/", 1)[1].rstrip(b"\n").decode()
             for line in lines[fmt.MANIFEST][-2:]]
    records = [{"path": p, "staged": f"{0:012x}-{i:08d}.part", "sha256": fmt.sha256_bytes(files[p]),
                "size": len(files[p])} for i, p in enumerate(named)]
    lists: dict[str, list[object]] = {}
    for name in before:
        keep = [line for line in lines[name]
                if line.split(b"  data/", 1)[1].rstrip(b"\n").decode() not in named]
        assert len(keep) == 4
        # The lines of the named files moved to the end: what an append leaves.
        moved = b"".join(keep) + b"".join(line for line in lines[name] if line not in keep)
        (dest / name).write_bytes(moved)
        lists[name] = [len(b"".join(keep)), fmt.sha256_bytes(b"".join(keep))]
    _planted_journal(dest, lists, records)
    with open_bag(dest) as bag:
        assert set(bag.entries) == set(files)
    validate(dest)
    assert_on_disk(dest, files)


def test_a_journal_never_makes_brankas_write_through_a_link_where_there_is_no_o_nofollow(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review s18: the cut opened the list with O_NOFOLLOW or, where there is none
    (Windows), followed a link: a disk whose manifest is a link to a file of the
    machine, with a journal recording [0, SHA-256 of nothing], had that file emptied."""
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(items(sample_files(3)))
    outside = tmp_path / "laptop-file.txt"
    outside.write_bytes(b"a file of the office's machine\n")
    (dest / fmt.MANIFEST).unlink()
    (dest / fmt.MANIFEST).symlink_to(outside)
    _planted_journal(dest, {fmt.MANIFEST: [0, fmt.sha256_bytes(b"")]})
    monkeypatch.delattr(os, "O_NOFOLLOW")  # as on Windows
    with pytest.raises(BrankasError):
        open_bag(dest)
    assert outside.read_bytes() == b"a file of the office's machine\n"


def test_an_append_whose_end_is_nuls_is_cut_back(tmp_path: Path) -> None:
    """A power cut on a FAT/NTFS disk may leave the list grown with NULs where the lines
    were not yet written: cut back like any interrupted append."""
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(items(sample_files(4)))
        known = bag.list_hashes()
    before = _lists(dest)

    def killed() -> None:
        raise RuntimeError("killed in the commit window")

    more = sample_files(2, start=60)
    with open_bag(dest, known_lists=known, hooks=Hooks(committing=killed)) as bag, \
            pytest.raises(RuntimeError):
        bag.add_files(items(more))
    appended = (dest / fmt.SIZES).read_bytes()[len(before[fmt.SIZES]):]
    (dest / fmt.SIZES).write_bytes(before[fmt.SIZES] + appended[:7] + b"\0" * 40)
    with open_bag(dest, known_lists=known) as bag:
        assert set(more) <= set(bag.entries)
    validate(dest)
    assert (dest / fmt.SIZES).read_bytes().startswith(before[fmt.SIZES])


def test_a_journal_never_has_a_list_past_its_limit_read_or_cut(tmp_path: Path) -> None:
    """Review s18: the cut hashed as many bytes as the journal recorded, before the lists'
    size limit was checked: a sparse manifest of any size (1 TiB reads for hours) with
    a journal recording nearly all of it was read whole, and cut. A list past its limit
    is left to be refused (``disk_file_too_large``), unread."""
    dest = tmp_path / "disk"
    with open_bag(dest) as bag:
        bag.add_files(items(sample_files(2)))
    path = "arsip/biasa/pengiriman/2026/B-9999-nota-dinas.pdf"
    line = f"{'a' * 64}  data/{path}\n".encode()
    length = fmt.MANIFEST_LIMIT + 1
    digest = hashlib.sha256((dest / fmt.MANIFEST).read_bytes())
    with open(dest / fmt.MANIFEST, "r+b") as fh:
        zeros = length - 1 - fh.seek(0, os.SEEK_END)
        fh.truncate(length)  # sparse: no room used
        fh.seek(length - 1)
        fh.write(b"\n" + line)
    block = bytes(1 << 22)
    for _ in range(zeros >> 22):
        digest.update(block)
    digest.update(block[:zeros % (1 << 22)] + b"\n")
    _planted_journal(dest, {fmt.MANIFEST: [length, digest.hexdigest()]},
                     [{"path": path, "staged": f"{0:012x}-{1:08d}.part", "sha256": "a" * 64,
                       "size": 1}])
    with pytest.raises(BrankasError) as info:
        open_bag(dest)
    assert info.value.code == "disk_file_too_large"
    assert (dest / fmt.MANIFEST).stat().st_size == length + len(line)
