"""A journal part carries only the backup runs added or changed since the disk's last
snapshot or part (``journal.ROW_MARKED``: the runs table of a disk with full runs is
mostly their agenda numbers, which never change once a run is over), and composes to the
full snapshot of its moment."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.utils import timezone

from brankas.core.errors import SetupError
from brankas.web.backup import journal
from brankas.web.backup.models import BackupRun, Medium
from brankas.web.backup.snapshot import DISK_MODELS, snapshot_write

BASE = journal.Ref("0001_x", "a" * 64)


def _full() -> list[dict[str, Any]]:
    out = io.BytesIO()
    snapshot_write(out, labels=DISK_MODELS)
    return json.loads(out.getvalue())


def _part(marks: dict[str, Any], folder: str, previous: journal.Ref | None = None) -> bytes:
    out = io.BytesIO()
    journal.part_write(out, labels=DISK_MODELS, base=BASE, previous=previous,
                       run_folder=folder, medium_id="m-1", table_modes=journal.modes(marks))
    return out.getvalue()


def _runs(part: bytes) -> dict[str, Any]:
    return next(t for t in json.loads(part)["models"] if t["model"] == "backup.BackupRun")


def _run(office: Any, number: int, medium: Medium, **fields: Any) -> BackupRun:
    operator = next(iter(office.users.values()))
    return BackupRun.objects.create(number=number, medium=medium, operator=operator,
                                    dest="/media/a", folder=f"{number:04d}_x",
                                    started_at=timezone.now(), **fields)


def test_a_part_carries_only_the_runs_added_or_changed(office) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    medium = Medium.objects.create(medium_id="m-1", label="A", first_used_at=now,
                                   last_used_at=now)
    full = _run(office, 1, medium, status=BackupRun.COMPLETED,
                agendas=[f"K-{i:06d}" for i in range(5000)])
    running = _run(office, 2, medium)  # the run writing the base: still running
    base, marks = _full(), journal.marks(1)
    # The run that wrote the base completes; a new run starts and writes a part.
    BackupRun.objects.filter(pk=running.pk).update(status=BackupRun.COMPLETED,
                                                   agendas=["K-1", "K-2"])
    third = _run(office, 3, medium)
    part1 = _part(marks, "0003_x")
    runs = _runs(part1)
    assert runs["mode"] == journal.UPDATE
    assert [o["pk"] for o in runs["objects"]] == [running.pk, third.pk]  # not the full run
    assert len(part1) < 5000 * 8  # the full run's agendas are not in it
    ref1 = journal.Ref("0003_x", "b" * 64)
    assert journal.compose(base, [(ref1, part1)], base_ref=BASE, medium_id="m-1",
                           allowed=DISK_MODELS) == _full()
    # Nothing changed but the running run (always carried, its agendas still growing).
    marks = journal.marks(1)
    BackupRun.objects.filter(pk=third.pk).update(agendas=["K-3"])
    part2 = _part(marks, "0004_x", ref1)
    assert [o["pk"] for o in _runs(part2)["objects"]] == [third.pk]
    ref2 = journal.Ref("0004_x", "c" * 64)
    assert journal.compose(base, [(ref1, part1), (ref2, part2)], base_ref=BASE,
                           medium_id="m-1", allowed=DISK_MODELS) == _full()
    # A run gone: the table whole.
    marks = journal.marks(1)
    BackupRun.objects.filter(pk=full.pk).delete()
    assert journal.modes(marks)["backup.BackupRun"] == (journal.REPLACE, 0)
    # Marks of an older Brankas (no rows): the table whole.
    assert journal.modes({"tables": {}})["backup.BackupRun"] == (journal.REPLACE, 0)


def test_an_updated_row_that_neither_exists_nor_follows_is_refused(office) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    medium = Medium.objects.create(medium_id="m-1", label="A", first_used_at=now,
                                   last_used_at=now)
    _run(office, 1, medium, status=BackupRun.COMPLETED)
    _run(office, 2, medium, status=BackupRun.COMPLETED).delete()  # a gap in the ids
    _run(office, 3, medium, status=BackupRun.COMPLETED)
    base = _full()
    key = "backup.backuprun"
    rows = [o for o in base if o["model"] == key]
    stray = {**rows[0], "pk": rows[0]["pk"] + 1}  # between the two: never in the table
    body = {"format": journal.FORMAT, "base": BASE.as_json(), "previous": None,
            "run": "0002_x", "medium_id": "m-1",
            "models": [{"model": "backup.BackupRun", "mode": journal.UPDATE, "after": 0,
                        "objects": [stray]}]}
    with pytest.raises(SetupError, match="neither changed"):
        journal.compose(base, [(journal.Ref("0002_x", "b" * 64), json.dumps(body).encode())],
                        base_ref=BASE, medium_id="m-1", allowed=DISK_MODELS)
    body["models"][0]["objects"] = [rows[1], rows[0]]  # out of order
    with pytest.raises(SetupError, match="not in order"):
        journal.compose(base, [(journal.Ref("0002_x", "b" * 64), json.dumps(body).encode())],
                        base_ref=BASE, medium_id="m-1", allowed=DISK_MODELS)
