"""A page's number of queries does not grow with the rows it shows or counts (issue 15):
each list page and the dashboard, rendered with a few rows and again with many more, runs
the same number of queries (no query per row: select_related, aggregates, one count).
The rows are made directly (records only, no files): the pages read records."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

PAGES = {
    "kasi": ["/", "/documents/", "/documents/?q=Perihal", "/documents/?direction=penerimaan",
             "/audit/", "/audit/?q=document", "/backup/", "/backup/runs/", "/backup/media/",
             "/requests/?show=all", "/reports/"],
    "admin": ["/", "/audit/"],
    "operator": ["/", "/documents/"],
}


def add_rows(office: Any, documents: int, runs: int, audit: int, reports: int = 0) -> None:
    """``documents`` register entries (every second one on both disks), ``runs`` backup
    runs, ``audit`` audit entries, ``reports`` draft reports (each by a user: the list
    shows who made it)."""
    from brankas.web.audit.services import AuditEntry, audit_record_many
    from brankas.web.backup.models import BackupCopy, BackupRun, Medium
    from brankas.web.documents.models import Document

    operator = office.users["operator"]
    media = list(Medium.objects.order_by("pk"))
    if not media:
        now = timezone.now()
        media = [Medium.objects.create(medium_id=f"{i}" * 8 + "-0000-4000-8000-000000000000",
                                       label=f"DISK-{i}", first_used_at=now, last_used_at=now)
                 for i in range(2)]
    start = Document.objects.filter(agenda__startswith="Q-").count()
    first_run = (BackupRun.objects.order_by("-number").values_list("number", flat=True)
                 .first() or 0) + 1
    now = timezone.now()
    docs = []
    for i in range(start, start + documents):
        direction = "penerimaan" if i % 2 else "pengiriman"
        classification = "biasa" if i % 4 else "rahasia"
        at = now - timedelta(minutes=i)
        docs.append(Document(
            agenda=f"Q-{i:05d}", year=2026, seq=10_000 + i, direction=direction,
            classification=classification,
            category="biasa" if classification == "biasa" else "dikecualikan",
            number=f"{i}/Q/2026", doc_date=at.date(), subject=f"Perihal rapat {i}",
            correspondent=f"Instansi {i}", registered_by=operator, form_opened_at=at,
            registered_at=at, source="web", source_sha256=f"{i:064x}", content_sha256="0" * 64,
            content_size=1000, stored_path=f"arsip/q/{i}.pdf", stored_sha256="0" * 64,
            stored_size=1000))
    made = Document.objects.bulk_create(docs)
    BackupCopy.objects.bulk_create([BackupCopy(document=d, medium=m)
                                    for d in made[::2] for m in media])
    for n in range(first_run, first_run + runs):
        BackupRun.objects.create(number=n, medium=media[n % 2], operator=operator,
                                 folder=f"run-{n}", dest="/media/disk", started_at=now,
                                 finished_at=now, status=BackupRun.COMPLETED,
                                 agendas=[d.agenda for d in made[:3]], files_added=3)
    audit_record_many([AuditEntry(actor="operator", action="document.view", target=f"Q-{i}",
                                  outcome="ok", detail={}) for i in range(audit)])
    from brankas.web.reports.models import Report

    first_report = (Report.objects.order_by("-number").values_list("number", flat=True)
                    .first() or 0) + 1
    Report.objects.bulk_create([
        Report(number=n, kind="backup", period=f"2025-{n % 12 + 1:02d}", created_at=now,
               created_by=office.users["kasi"])
        for n in range(first_report, first_report + reports)])


def queries(client: Any, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured), response.status_code


@pytest.fixture
def counts(office, client):  # type: ignore[no-untyped-def]
    def count_all() -> dict[tuple[str, str], int]:
        out = {}
        for name, urls in PAGES.items():
            client.force_login(office.users[name])
            for url in urls:
                out[(name, url)] = queries(client, url)[0]
        return out

    return count_all


def test_no_page_runs_a_query_per_row(office, counts) -> None:  # type: ignore[no-untyped-def]
    add_rows(office, documents=3, runs=2, audit=3, reports=2)
    few = counts()
    add_rows(office, documents=160, runs=60, audit=120, reports=60)  # past a page (50)
    many = counts()
    # A search by text counts its matches only when they fill more than its first page
    # (BoundedPaginator): one query more, once, not one per row.
    counted = {("kasi", "/documents/?q=Perihal"): 1, ("kasi", "/audit/?q=document"): 1}
    grown = {page: (few[page], many[page]) for page in few
             if many[page] > few[page] + counted.get(page, 0)}
    assert not grown, grown


def test_the_count_would_catch_a_query_per_row(office, client) -> None:  # type: ignore[no-untyped-def]
    """The measure can fail: reading each row's user without select_related is a query
    per row, and the count sees it grow."""
    from brankas.web.documents.models import Document

    def per_row() -> int:
        with CaptureQueriesContext(connection) as captured:
            [d.registered_by.username for d in Document.objects.all()[:50]]
        return len(captured)

    add_rows(office, documents=3, runs=0, audit=0)
    few = per_row()
    add_rows(office, documents=20, runs=0, audit=0)
    assert per_row() > few


# Issue 15 (s24): the dashboard's parts ask for the same figures (the office row, the
# register's folder counts); the key-coverage page for the same key holders twice. One GET
# reads each once (web/changes.py ``per_request``): no statement runs twice, and each page
# stays within the queries it runs now (the dashboard: 33, 26 and 25 before; its equipment
# warnings read no last check and no bare safe: two fewer for the roles that see them).
ONCE_PAGES = {("kasi", "/"): 26, ("admin", "/"): 21, ("operator", "/"): 20,
              ("kasi", "/keys/coverage/"): 15, ("admin", "/keys/coverage/"): 15}


def _statements(client: Any, url: str) -> list[str]:
    import re

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    # the same statement at another instant ("created_at < now") is the same statement
    return [re.sub(r"'\d{4}-\d\d-\d\d[ T][\d:.+]*'", "'<time>'", q["sql"])
            for q in captured.captured_queries]


def test_a_page_reads_each_figure_once(office, client) -> None:  # type: ignore[no-untyped-def]
    from collections import Counter

    add_rows(office, documents=3, runs=2, audit=3, reports=2)
    client.get("/")  # the first request of a client asks whether the office is set up
    for (role, url), most in ONCE_PAGES.items():
        client.force_login(office.users[role])
        statements = _statements(client, url)
        twice = [sql for sql, n in Counter(statements).items() if n > 1]
        assert not twice, (role, url, twice)
        assert len(statements) <= most, (role, url, len(statements), statements)


def test_what_a_page_read_once_is_read_again_by_the_next(office, client) -> None:  # type: ignore[no-untyped-def]
    """The figures one GET shares are gone when it ends: the next request (another user's,
    or after a change) reads them again; a POST and code outside a request read every
    time."""
    from brankas.web import changes
    from brankas.web.accounts.models import Office
    from brankas.web.accounts.selectors import office_get

    client.force_login(office.users["kasi"])
    assert client.get("/").status_code == 200
    Office.objects.update(name="Dinas Kedua")
    client.force_login(office.users["admin"])
    assert "Dinas Kedua" in client.get("/").content.decode()
    assert office_get() is not office_get()  # outside a request: read on every call
    calls = []
    assert changes.per_request("t", lambda: calls.append(1)) is None
    changes.per_request("t", lambda: calls.append(1))
    assert len(calls) == 2
