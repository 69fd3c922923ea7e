"""Opening a disk whose manifest and sizes are, byte for byte, the lists this office last
wrote (``known_lists``, ``Bag.list_hashes``): read without the line checks, to the same
entries and sizes the checked read gives; any other bytes (a line changed, added or
hostile) are read and checked as any disk's."""

from __future__ import annotations

from pathlib import Path

import pytest

from brankas.core.disk import format as fmt
from brankas.core.disk import state
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import items, open_bag, sample_files


@pytest.fixture
def disk(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    dest = tmp_path / "disk"
    files = sample_files(40)
    files["arsip/biasa/pengiriman/2026/B-101-surat-\u00e9.pdf"] = b"%PDF-1.7\n surat"
    with open_bag(dest) as bag:
        bag.add_files(items(files))
        known = bag.list_hashes()
    assert set(known) == {fmt.MANIFEST, fmt.SIZES}
    return dest, known


def test_the_lists_last_written_are_read_to_the_same_entries(
        disk: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    dest, known = disk
    with open_bag(dest) as bag:
        checked = (dict(bag.entries), dict(bag.sizes))
    calls = []
    real = fmt.check_payload_path
    monkeypatch.setattr(fmt, "check_payload_path",
                        lambda p: calls.append(p) or real(p))  # type: ignore[func-returns-value]
    with open_bag(dest, known_lists=known) as bag:
        assert (dict(bag.entries), dict(bag.sizes)) == checked
        assert "arsip/biasa/pengiriman/2026/B-101-surat-\u00e9.pdf" in bag.entries  # non-ASCII
    assert calls == []  # not one line checked again
    assert state.read_known_manifest(dest, known) == checked[0]


def test_other_bytes_are_checked_as_any_disks(disk: tuple[Path, dict[str, str]]) -> None:
    dest, known = disk
    manifest = dest / fmt.MANIFEST
    text = manifest.read_text("utf-8")
    # A hostile line appended (the hash no longer the one written): the full check refuses.
    manifest.write_text(text + f"{'0' * 64}  data/../../laptop/x.txt\n", "utf-8")
    assert state.read_known_manifest(dest, known) is None
    with pytest.raises(BrankasError) as err:
        open_bag(dest, known_lists=known)
    assert err.value.code == "backup_bag_invalid"
    # The same bytes as written, with only the sizes changed: checked (and taken) anew.
    manifest.write_text(text, "utf-8")
    sizes = dest / fmt.SIZES
    first, rest = sizes.read_text("utf-8").split("\n", 1)
    sizes.write_text(f"1 {first.split(' ', 1)[1]}\n{rest}", "utf-8")
    with open_bag(dest, known_lists=known) as bag:
        path = first.split("  ", 1)[1][len("data/"):]
        assert bag.sizes[path] == 1
