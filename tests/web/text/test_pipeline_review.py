"""s19 review of the text pipeline: defects found, each held by a test.

- A journal part found the text rows to carry by their time (``read_at`` later than the
  previous marks' latest, less a minute): a row written while the clock was behind (NTP
  stepping back, a laptop's clock set right after running ahead, a PostgreSQL commit
  that took longer than the minute) was never carried, and a recover gave the old text.
- The register cell's cut counted code points, not the UTF-16 units a spreadsheet counts
  (32,767 per cell): text of astral letters overflowed it; and it cut a letter from its
  combining accent.
- A killed process's OCR workdir whose pid was taken by another process (after a
  reboot: pids start again) was kept forever.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import unicodedata
from typing import Any

from django.utils.timezone import now as timezone_now

from brankas.web.backup import journal
from brankas.web.backup.registers import TEXT_CELL_MAX, TEXT_CUT, register_text
from brankas.web.backup.snapshot import DISK_MODELS, snapshot_write
from brankas.web.text import services as text
from brankas.web.text.models import DocumentText
from tests.web.text.test_pipeline import register

LABEL = "text.DocumentText"
BASE = journal.Ref("0001_x", "a" * 64)


def _full() -> list[dict[str, Any]]:
    out = io.BytesIO()
    snapshot_write(out, labels=DISK_MODELS)
    return json.loads(out.getvalue())


def _part(marks: dict[str, Any], *, previous: journal.Ref | None, folder: str) -> bytes:
    out = io.BytesIO()
    journal.part_write(out, labels=DISK_MODELS, base=BASE, previous=previous,
                       run_folder=folder, medium_id="m-1", table_modes=journal.modes(marks))
    return out.getvalue()


def _texts(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["model"] == "text.documenttext"]


def test_a_text_written_while_the_clock_was_behind_is_carried_by_the_next_part(
        office) -> None:  # type: ignore[no-untyped-def]
    docs = [register(office) for _ in range(3)]
    for doc in docs:
        text.text_read(document=doc)
    base, marks = _full(), journal.marks(1)
    # the clock steps back an hour (or was an hour ahead when the rows above were
    # written): a document read again gets a time before the marks' latest
    DocumentText.objects.filter(pk=docs[0].pk).update(
        body="dibaca ulang", read_at=timezone_now() - dt.timedelta(hours=1))
    assert journal.modes(marks)[LABEL] is not None  # it changed: carried
    part1, ref1 = _part(marks, previous=None, folder="0002_x"), journal.Ref("0002_x", "b" * 64)
    moment1, marks = _full(), journal.marks(1)
    composed = journal.compose(base, [(ref1, part1)], base_ref=BASE, medium_id="m-1",
                               allowed=DISK_MODELS)
    assert _texts(composed) == _texts(moment1)
    # a new row whose time is before the marks' latest by more than the margin (a
    # PostgreSQL commit that waited, a clock behind): carried too
    late = register(office)
    text.text_read(document=late)
    DocumentText.objects.filter(pk=late.pk).update(
        read_at=timezone_now() - dt.timedelta(days=2))
    part2, ref2 = _part(marks, previous=ref1, folder="0003_x"), journal.Ref("0003_x", "c" * 64)
    moment2, marks = _full(), journal.marks(1)
    composed = journal.compose(base, [(ref1, part1), (ref2, part2)], base_ref=BASE,
                               medium_id="m-1", allowed=DISK_MODELS)
    assert _texts(composed) == _texts(moment2)
    # the same row rewritten twice, the second time with the very same time (a clock
    # that stands still, or coarse): its new content is carried
    DocumentText.objects.filter(pk=docs[1].pk).update(body="pertama")
    DocumentText.objects.filter(pk=docs[1].pk).update(body="kedua", content_sha256="1" * 64)
    mode = journal.modes(marks)[LABEL]
    assert mode is not None and docs[1].pk in mode[2]
    # and nothing changed: nothing carried
    _ = _part(marks, previous=ref2, folder="0004_x")
    assert journal.modes(journal.marks(1))[LABEL] is None


def test_the_marks_of_a_large_text_table_stay_small_in_the_seal(office) -> None:  # type: ignore[no-untyped-def]
    """100,000 rows: the marks are per group of rows, not per row (the seal is read
    whole, at most ``core.disk.seal.SEAL_LIMIT``)."""
    doc = register(office)
    text.text_read(document=doc)
    mark = journal.timed_mark(LABEL)
    per_group = len(json.dumps(mark.get("groups"))) / max(1, len(mark.get("groups") or {}))
    assert per_group < 40
    assert 100_000 / journal.TIMED_GROUP * per_group < 100_000  # under 100 kB


def _utf16(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def test_a_register_cell_fits_a_spreadsheet_cell_in_utf16_units() -> None:
    # mathematical letters a PDF's text layer carries (U+1D400...): two units each
    body = "\U0001d400" * 20000
    cell = register_text(body)
    assert _utf16(cell) <= 32767
    assert cell.endswith(TEXT_CUT) and cell[:-len(TEXT_CUT)] == body[:len(cell) - len(TEXT_CUT)]
    # plain text: as before, cut at TEXT_CELL_MAX
    assert len(register_text("a" * 40000)) == TEXT_CELL_MAX + len(TEXT_CUT)
    assert register_text("a" * TEXT_CELL_MAX) == "a" * TEXT_CELL_MAX


def test_a_register_cell_is_not_cut_inside_a_letter_and_its_accent() -> None:
    body = "a" * (TEXT_CELL_MAX - 1) + "e\u0301\u0323" + "b" * 100
    cell = register_text(body)
    kept = cell[:-len(TEXT_CUT)]
    assert body.startswith(kept)
    assert not unicodedata.combining(body[len(kept)])  # the next one starts a letter
    assert kept == "a" * (TEXT_CELL_MAX - 1)
    # a ZWJ sequence (an emoji family) is not split after its joiner either
    family = "\U0001f468\u200d\U0001f469"
    body = "a" * (TEXT_CELL_MAX - 2) + family + "b" * 10
    kept = register_text(body)[:-len(TEXT_CUT)]
    assert not kept.endswith("\u200d") and body[len(kept)] != "\u200d"


def test_a_stale_workdir_whose_pid_was_reused_is_swept_once_old(office) -> None:  # type: ignore[no-untyped-def]
    base = text.ocr_workdirs()
    base.mkdir(parents=True)
    reused = base / "1-deadbeef"  # pid 1 is alive (init), but not OCR's: left by a boot ago
    reused.mkdir()
    (reused / "dokumen.pdf").write_bytes(b"%PDF- salinan")
    old = timezone_now().timestamp() - 3 * 86400
    os.utime(reused, (old, old))
    fresh = base / "1-0badcafe"  # one in use now (as far as anyone can tell): kept
    fresh.mkdir()
    assert text.ocr_workdirs_sweep() == 1
    assert not reused.exists() and fresh.is_dir()


def test_an_exempted_document_row_never_gives_text_to_the_registers(office) -> None:  # type: ignore[no-untyped-def]
    """Defence in depth: a text row for an exempted document (none is ever written; one
    could only come from outside: a database copied or recovered from elsewhere) is never
    put in the register CSVs (the full one is encrypted, but it is not where a secret
    letter's plaintext belongs)."""
    from brankas.web.backup.registers import REGISTER_ROW
    from brankas.web.backup.services import _register_rows

    secret = register(office, classification="rahasia")
    DocumentText.objects.create(document=secret, status="text", method="pdf",
                                body="RAHASIA-DARI-LUAR", pages=1,
                                content_sha256=secret.stored_sha256, read_at=timezone_now())
    at = REGISTER_ROW.index("text_body")
    rows = {row[1]: row for row in _register_rows(None)}
    assert rows[secret.agenda][at] == ""


def test_the_restore_guides_say_what_every_journal_mode_means() -> None:
    """The guide on the disk is how a clerk rebuilds the database without Brankas: a part
    of s19 carries the text rows as "merge", which the guides never explained."""
    from pathlib import Path

    import brankas.core.disk

    folder = Path(brankas.core.disk.__file__).parent / "guides"
    for name in ("restore-en.txt", "restore-id.txt"):
        guide = (folder / name).read_text(encoding="utf-8")
        for mode in (journal.REPLACE, journal.APPEND, journal.UPDATE, journal.MERGE):
            assert f'"{mode}"' in guide, (name, mode)
