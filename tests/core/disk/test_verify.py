"""verify: every missing, changed and unexpected file named precisely, in each mode."""

from __future__ import annotations

from pathlib import Path

import bagit
import pytest

from brankas.core.disk.verify import SAMPLE_SPACE, Changed, verify
from brankas.core.errors import BrankasError
from tests.core.disk.test_bag import flip, items, open_bag, sample_files


@pytest.fixture
def disk(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    dest = tmp_path / "disk"
    files = {**sample_files(30),
             **sample_files(10, start=200, prefix="arsip/dikecualikan/penerimaan/2025")}
    with open_bag(dest) as bag:
        bag.add_files(items(files))
    return dest, files


def test_an_intact_disk_is_ok_in_every_mode(disk: tuple[Path, dict[str, bytes]]) -> None:
    dest, files = disk
    total = sum(map(len, files.values()))
    for workers in (1, 2):
        report = verify(dest, workers=workers)
        assert report.ok, report
        assert (report.files_hashed, report.bytes_hashed) == (40, total)
        assert (report.files_total, report.bytes_total) == (40, total)
        assert report.medium is not None
    assert verify(dest, mode="fast").ok and verify(dest, mode="fast").files_hashed == 0
    sample = verify(dest, mode="sample", sample_percent=25)
    assert sample.ok and 0 < sample.files_hashed < 40 and sample.next_offset == SAMPLE_SPACE // 4


def damage(dest: Path, files: dict[str, bytes]) -> dict[str, str]:
    names = sorted(files)
    victims = {"flipped": names[3], "truncated": names[11], "deleted": names[20]}
    flip(dest / "data" / victims["flipped"])
    with open(dest / "data" / victims["truncated"], "r+b") as fh:
        fh.truncate(10)
    (dest / "data" / victims["deleted"]).unlink()
    (dest / "data/arsip/biasa/pengiriman/2026/extra.pdf").write_bytes(b"not in the manifest")
    return victims


def test_full_names_each_missing_changed_and_unexpected_file(
    disk: tuple[Path, dict[str, bytes]],
) -> None:
    dest, files = disk
    victims = damage(dest, files)
    report = verify(dest)
    assert not report.ok
    assert report.missing == [victims["deleted"]]
    assert report.unexpected == ["arsip/biasa/pengiriman/2026/extra.pdf"]
    assert [(c.path, c.reason) for c in report.changed] == sorted(
        [(victims["flipped"], "sha256"), (victims["truncated"], "size")]
    )
    truncated = next(c for c in report.changed if c.reason == "size")
    assert truncated == Changed(victims["truncated"], "size",
                                str(len(files[victims["truncated"]])), "10")
    assert any("Payload-Oxum" in p for p in report.tag_problems)  # the totals moved too
    with pytest.raises(bagit.BagValidationError):  # the reference library agrees
        bagit.Bag(str(dest)).validate()


def test_fast_catches_truncation_and_deletion_but_not_a_same_size_flip(
    disk: tuple[Path, dict[str, bytes]],
) -> None:
    dest, files = disk
    victims = damage(dest, files)
    report = verify(dest, mode="fast")
    assert report.missing == [victims["deleted"]]
    assert [c.path for c in report.changed] == [victims["truncated"]]
    assert report.unexpected == ["arsip/biasa/pengiriman/2026/extra.pdf"]
    assert report.files_hashed == 0


def test_fast_alone_misses_a_flipped_byte(disk: tuple[Path, dict[str, bytes]]) -> None:
    dest, files = disk
    flip(dest / "data" / sorted(files)[0])
    assert verify(dest, mode="fast").ok
    assert not verify(dest).ok


def test_sample_runs_chained_by_offset_cover_the_whole_disk(
    disk: tuple[Path, dict[str, bytes]],
) -> None:
    dest, files = disk
    for path in files:  # every file changed, none resized: only hashing finds them
        flip(dest / "data" / path)
    found: set[str] = set()
    offset, hashed = 12345, 0
    for _ in range(10):
        report = verify(dest, mode="sample", sample_percent=10, sample_offset=offset)
        assert {c.path for c in report.changed}.isdisjoint(found)  # each slice is new
        found |= {c.path for c in report.changed}
        hashed += report.files_hashed
        assert report.next_offset is not None
        offset = report.next_offset
    assert found == set(files) and hashed == len(files)
    assert offset == 12345 + 10 * (-(-SAMPLE_SPACE // 10)) - SAMPLE_SPACE


def test_a_changed_or_missing_tag_file_is_named(disk: tuple[Path, dict[str, bytes]]) -> None:
    dest, _ = disk
    with open(dest / "bag-info.txt", "a") as fh:
        fh.write("Contact-Name: someone\n")
    (dest / "PANDUAN-PEMULIHAN.txt").unlink()
    report = verify(dest, mode="fast")
    assert report.tag_problems == ["PANDUAN-PEMULIHAN.txt: missing", "bag-info.txt: changed"]
    assert not report.ok and not report.missing and not report.changed


def test_progress_reaches_the_total(disk: tuple[Path, dict[str, bytes]]) -> None:
    dest, files = disk
    seen: list[tuple[int, int, int, int]] = []
    verify(dest, on_progress=lambda *a: seen.append(a))
    total = sum(map(len, files.values()))
    assert seen[0] == (0, 40, 0, total) and seen[-1] == (40, 40, total, total)


def test_report_as_dict_is_json_ready(disk: tuple[Path, dict[str, bytes]]) -> None:
    import json

    dest, files = disk
    (dest / "data" / sorted(files)[0]).unlink()
    body = json.loads(json.dumps(verify(dest).as_dict()))
    assert body["ok"] is False and body["missing"] == [sorted(files)[0]]


def test_verify_refuses_what_is_not_a_disk(tmp_path: Path) -> None:
    with pytest.raises(BrankasError) as info:
        verify(tmp_path / "absent")
    assert info.value.code == "backup_dest_missing"
    with pytest.raises(BrankasError) as info:
        verify(tmp_path)
    assert info.value.code == "backup_not_brankas"
    with pytest.raises(ValueError):
        verify(tmp_path, mode="quick")

