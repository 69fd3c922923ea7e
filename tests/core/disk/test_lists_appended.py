"""The manifest and sizes grow at their end (``BagState._appends``): a commit adds its
lines and never writes the lists whole; their length and SHA-256 before it are in the
commit journal, and an append cut short is cut back when the disk is next opened. The
lists stay what BagIt tools read (``bagit`` validates, ``sha256sum -c`` passes)."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from brankas.core.disk import format as fmt
from brankas.core.disk.bag import Hooks
from brankas.core.disk.listing import Listing
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
    # The append half-written: a line cut in its middle (as a power cut leaves it).
    with open(dest / fmt.MANIFEST, "ab") as fh:
        fh.write(b"0123abcd  data/arsip/cut-he")
    with open_bag(dest, known_lists=known) as bag:  # the repair: cut back, listed again
        assert set(more) <= set(bag.entries)
    validate(dest)
    assert_on_disk(dest, {**sample_files(10), **more})
    assert b"cut-he" not in (dest / fmt.MANIFEST).read_bytes()


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
