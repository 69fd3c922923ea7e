"""The dashboard's figures over every document and every backup copy are computed once per
change of the register or of the copies (web/changes.py: a change stamp kept by the
database), and a change shows at once: each figure is compared with the same aggregate
computed afresh after every kind of write (insert, delete, update, a disk no longer usable),
and the second read without a change is shown to run no aggregate at all.

Committed writes (``transactional_db``): a cached figure is kept only outside a
transaction. tests/web/test_changes_pg.py runs the same on PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext

from tests.web.ui.test_query_counts import add_rows


def fresh() -> dict[str, Any]:
    """The figures computed from the tables, no cache."""
    from brankas.web.backup.selectors import MIN_DISKS, copies_per_document
    from brankas.web.documents.models import Document

    copied = copies_per_document().aggregate(
        some=Count("document"), fewer=Count("document", filter=Q(n__lt=MIN_DISKS)))
    folders = {(r["category"], r["direction"]): r["n"] for r in
               Document.objects.order_by().values("category", "direction").annotate(n=Count("*"))}
    groups = sorted((tuple(r["recipients"]), r["n"]) for r in
                    Document.objects.filter(category="dikecualikan").order_by()
                    .values("recipients").annotate(n=Count("*")))
    total = Document.objects.count()
    return {"on_no_disk": total - copied["some"], "on_one_disk": copied["fewer"],
            "documents": total, "folders": folders, "groups": groups}


def shown() -> dict[str, Any]:
    """The figures as the dashboard reads them (cached)."""
    from brankas.web.backup.selectors import backup_status
    from brankas.web.documents.selectors import document_counts
    from brankas.web.keys.selectors import exempted_recipient_groups

    status = backup_status()
    return {"on_no_disk": status.on_no_disk, "on_one_disk": status.on_one_disk,
            "documents": status.documents, "folders": document_counts(),
            "groups": sorted((tuple(r["recipients"]), r["n"])
                             for r in exempted_recipient_groups())}


def aggregates_run() -> list[str]:
    """The aggregate queries a read of the figures runs."""
    with CaptureQueriesContext(connection) as captured:
        shown()
    return [q["sql"] for q in captured.captured_queries
            if "GROUP BY" in q["sql"] or "COUNT(" in q["sql"].upper()]


def check_every_change(office: Any) -> None:
    from brankas.web.backup.models import BackupCopy, Medium
    from brankas.web.documents.models import Document

    add_rows(office, documents=12, runs=0, audit=0)
    assert shown() == fresh()
    assert aggregates_run() == [], "nothing changed: no aggregate read again"

    first, last = Medium.objects.order_by("pk").first(), Medium.objects.order_by("pk").last()
    steps = {
        "registration": lambda: add_rows(office, documents=1, runs=0, audit=0),
        "copies added": lambda: BackupCopy.objects.bulk_create(
            [BackupCopy(document=d, medium=first)
             for d in Document.objects.filter(copies__isnull=True).order_by("pk")[:3]]),
        "the oldest copy removed": lambda: BackupCopy.objects.filter(
            pk=BackupCopy.objects.order_by("pk").values("pk")[:1]).delete(),
        "the newest copy removed": lambda: BackupCopy.objects.filter(
            pk=BackupCopy.objects.order_by("-pk").values("pk")[:1]).delete(),
        "a copy moved to a document on no disk": lambda: _move_a_copy(first),
        "recipients changed": lambda: Document.objects.filter(
            pk=Document.objects.filter(category="dikecualikan").order_by("pk")
            .values("pk")[:1]).update(recipients=["age1changed"]),
        "a disk reported lost": lambda: _lose(last),
    }
    for name, step in steps.items():
        before = fresh()
        step()
        after = fresh()
        assert after != before, f"{name}: the step changes no figure (the test could not fail)"
        assert shown() == after, name
        assert aggregates_run() == [], f"{name}: read again without a change"


def _move_a_copy(medium: Any) -> None:
    """A copy of a document on two disks given to a document on none (an UPDATE)."""
    from brankas.web.backup.models import BackupCopy
    from brankas.web.documents.models import Document

    bare = Document.objects.filter(copies__isnull=True).order_by("pk").first()
    on_two = (BackupCopy.objects.filter(medium=medium).annotate(n=Count("document__copies"))
              .filter(n__gt=1).order_by("pk").first())
    assert bare is not None and on_two is not None
    BackupCopy.objects.filter(pk=on_two.pk).update(document=bare)


def _lose(medium: Any) -> None:
    from django.utils import timezone

    from brankas.web.custody.models import MediumCustody

    MediumCustody.objects.update_or_create(medium=medium, defaults={
        "state": "lost", "since": timezone.now()})


def test_the_figures_follow_every_change_at_once(transactional_db, office) -> None:  # type: ignore[no-untyped-def]
    check_every_change(office)


def test_a_transaction_s_own_writes_are_not_kept(transactional_db, office) -> None:  # type: ignore[no-untyped-def]
    """Inside a transaction the figures are computed, not kept: after a rollback the
    stamp is as before while a later commit could reuse the in-transaction stamp."""
    from brankas.web.documents.selectors import document_counts

    add_rows(office, documents=4, runs=0, audit=0)
    before = document_counts()

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        add_rows(office, documents=1, runs=0, audit=0)
        inside = document_counts()
        assert sum(inside.values()) == sum(before.values()) + 1
        raise Undo
    assert document_counts() == before
    add_rows(office, documents=1, runs=0, audit=0)  # committed: the same ids and stamp
    assert sum(document_counts().values()) == sum(before.values()) + 1
    assert document_counts() == fresh()["folders"]


def test_the_stamp_would_catch_a_forgotten_change(transactional_db, office) -> None:  # type: ignore[no-untyped-def]
    """The check can fail: with the copies' change counter dropped, a copy given to
    another document leaves the stamp as it was, and the figure shown is stale. (SQLite:
    a missing trigger is seen and nothing is kept, tests/web/test_changes_schema.py; so
    there it is replaced by one under the same name that counts nothing.)"""
    from brankas.web.backup.models import Medium
    from brankas.web.changes import trigger_sql

    add_rows(office, documents=6, runs=0, audit=0)
    assert shown() == fresh()
    table = "backup_backupcopy"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f'DROP TRIGGER "{table}_changes_update"')
            cursor.execute(f'CREATE TRIGGER "{table}_changes_update" AFTER UPDATE ON '
                           f'"{table}" BEGIN SELECT 1; END')
        else:
            cursor.execute(f'DROP TRIGGER "{table}_changes" ON "{table}"')
    try:
        _move_a_copy(Medium.objects.order_by("pk").first())
        assert shown() != fresh()
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f'DROP TRIGGER "{table}_changes_update"')
            for statement in trigger_sql(connection.vendor, table):
                if "CREATE TRIGGER" in statement and (
                        connection.vendor != "sqlite" or "_changes_update" in statement):
                    cursor.execute(statement)


def test_a_page_reads_each_stamp_once_and_the_next_page_sees_a_change(
        transactional_db, office, client) -> None:  # type: ignore[no-untyped-def]
    """Within one GET the register's stamp is read once (the dashboard asks three times);
    the next request reads it again: a registration between two visits shows at once."""
    from brankas.web.documents.models import Document

    add_rows(office, documents=3, runs=0, audit=0)
    client.force_login(office.users["kasi"])
    client.get("/")

    def visit() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            page = client.get("/")
        assert page.status_code == 200
        stamps = [q["sql"] for q in captured.captured_queries
                  if "brankas_changes" in q["sql"] and "documents_document" in q["sql"]]
        return len(stamps), page.content.decode()

    def total(page: str) -> int:
        found = re.search(r'<span class="muted">\((\d+) (?:dokumen|documents?)\)', page)
        assert found, page[:2000]
        return int(found.group(1))

    read, page = visit()
    assert read == 1 and total(page) == Document.objects.count()
    add_rows(office, documents=1, runs=0, audit=0)
    read, page = visit()
    assert read == 1 and total(page) == Document.objects.count()
    assert shown() == fresh()

