"""Every filter the web offers is served by an index (issue 15): the database's own plan
(SQLite ``EXPLAIN QUERY PLAN``; PostgreSQL ``EXPLAIN`` with sequential scans priced out,
tests/web/test_indexes_pg.py) of each selector's query set, as the pages run it.

On SQLite a plan line ``SCAN documents_document`` without ``USING ... INDEX`` is a read of
every row; ``USE TEMP B-TREE FOR ORDER BY`` a sort of every match before the first page.
The search by text (a substring: ``icontains``) has no B-tree index on SQLite: it reads the
ordering index and stops after a page of matches, and its count is bounded
(``BoundedPaginator``); on PostgreSQL trigram indexes serve it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

KASI = SimpleNamespace(username="kasi", role="kasi")  # may list, search, view audit and runs

DOCUMENTS, AUDIT = "documents_document", "audit_auditevent"
REQUESTS, REPORTS, RUNS, COPIES = ("dispatch_sendrequest", "reports_report",
                                   "backup_backuprun", "backup_backupcopy")


def _documents(**filters: Any) -> Any:
    from brankas.web.documents.selectors import document_list

    return document_list(actor=KASI, **filters)


def _audit(**filters: Any) -> Any:
    from brankas.web.audit.selectors import AuditFilter, audit_list

    return audit_list(actor=KASI, filters=AuditFilter(**filters))


def _audit_prefix() -> Any:
    from brankas.web.audit.services import AuditEntry, audit_record_many

    # the prefix names the actions the log holds (none: nothing to read, no plan)
    audit_record_many([AuditEntry(actor="a", action=action)
                       for action in ["document.open", "document.view", "auth.login"]])
    return _audit(action="document.")


def _folder() -> Any:
    return _documents().filter(category="dikecualikan")


def _counts() -> Any:
    from django.db.models import Count

    from brankas.web.documents.models import Document

    # document_counts' query (it returns a dict)
    return Document.objects.order_by().values("category", "direction").annotate(n=Count("*"))


def _recovery_only() -> Any:
    from django.db.models import Count

    from brankas.web.documents.models import Document

    # keys.selectors._recovery_only_sets over the exempted documents (dashboard, coverage)
    return (Document.objects.filter(category="dikecualikan").order_by().values("recipients")
            .annotate(n=Count("*")))


def _copies() -> Any:
    from brankas.web.backup.selectors import copies_per_document

    return copies_per_document()


def _runs() -> Any:
    from brankas.web.backup.selectors import run_list

    return run_list(actor=KASI)  # type: ignore[arg-type]


def _requests(**filters: Any) -> Any:
    from brankas.web.sendrequests.selectors import request_list

    return request_list(actor=KASI, **filters)


def _reports() -> Any:
    from brankas.web.reports.selectors import report_list

    return report_list(actor=KASI)  # type: ignore[arg-type]


def _inbox() -> Any:
    from brankas.web.reports.models import Report

    return Report.objects.filter(state__in=["submitted", "approved"]).order_by("number")


# (name, the page's query set, its table, on SQLite: the index the plan must name, whether
# the rows come in the list's order from it: no sort of every match)
CASES: list[tuple[str, Callable[[], Any], str, str, bool]] = [
    ("register", lambda: _documents(), DOCUMENTS, "doc_registered_idx", True),
    ("register by direction", lambda: _documents(direction="penerimaan"), DOCUMENTS,
     "doc_direction_idx", True),
    ("register by classification", lambda: _documents(classification="rahasia"), DOCUMENTS,
     "doc_classification_idx", True),
    ("register by year", lambda: _documents(year=2024), DOCUMENTS, "doc_year_idx", True),
    ("register by folder", _folder, DOCUMENTS, "doc_category_idx", True),
    # a query the SQLite field index cannot serve (under 3 characters; a longer one found
    # in few rows is narrowed by it: tests/web/text/test_search_fields.py)
    ("register search", lambda: _documents(query="ra"), DOCUMENTS, "doc_registered_idx",
     True),
    ("dashboard folder counts", _counts, DOCUMENTS, "doc_folder_idx", True),
    ("dashboard copies per document", _copies, COPIES, "USING INDEX", False),
    ("dashboard documents only the recovery key opens", _recovery_only, DOCUMENTS,
     "doc_recipients_idx", True),
    ("audit", lambda: _audit(), AUDIT, "sqlite_autoindex_audit_auditevent", True),
    ("audit by user", lambda: _audit(actor="kabid"), AUDIT, "audit_actor_idx", True),
    ("audit by action", lambda: _audit(action="document.open"), AUDIT, "audit_action_idx",
     True),
    ("audit by action prefix", _audit_prefix, AUDIT, "audit_action_idx",
     False),
    ("audit by outcome", lambda: _audit(outcome="denied"), AUDIT, "audit_outcome_idx", True),
    # newest first: read in the order of seq, stopping after a page (the count: audit_at_idx)
    ("audit since", lambda: _audit(since=dt.date(2026, 1, 1)), AUDIT,
     "sqlite_autoindex_audit_auditevent", True),
    ("backup runs", _runs, RUNS, "sqlite_autoindex_backup_backuprun", True),
    ("requests", lambda: _requests(), REQUESTS, "request_created_idx", True),
    ("requests by state", lambda: _requests(state="submitted"), REQUESTS,
     "request_state_idx", True),
    ("reports", _reports, REPORTS, "sqlite_autoindex_reports_report", True),
    ("reports inbox", _inbox, REPORTS, "report_state_idx", False),
]
IDS = [c[0] for c in CASES]


def sqlite_plan(qs: Any) -> list[str]:
    """The ``EXPLAIN QUERY PLAN`` lines of the query (its detail column)."""
    from django.db import connection

    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [str(row[-1]) for row in cursor.fetchall()]


def full_scans(lines: list[str], table: str) -> list[str]:
    return [line for line in lines
            if re.fullmatch(rf"SCAN {table}( AS \w+)?", line.strip())]


ON_ANOTHER_DATABASE = ("SQLite plans only: the suite runs on another database here "
                       "(PostgreSQL plans: test_indexes_pg.py)")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "make", "table", "index", "ordered"), CASES, ids=IDS)
def test_every_filter_is_served_by_an_index_on_sqlite(
        name: str, make: Callable[[], Any], table: str, index: str, ordered: bool) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip(ON_ANOTHER_DATABASE)
    page = make()[:50]
    lines = sqlite_plan(page)
    assert not full_scans(lines, table), (name, lines)
    assert any(table in line and index in line for line in lines), (name, index, lines)
    if ordered:
        assert not any("TEMP B-TREE" in line for line in lines), (name, lines)
    # the count the paginator asks for reads an index too
    count_lines = sqlite_plan(make().order_by().values("pk"))
    assert not full_scans(count_lines, table) or name in UNFILTERED, (name, count_lines)


# A count of every row: SQLite reads the smallest index or the table, either is every row
# (a fixed cost per page, not per filter); the search's count is bounded instead.
UNFILTERED = {"register", "audit", "backup runs", "requests", "reports", "register search",
              "dashboard copies per document"}


def test_a_plain_scan_is_told_from_an_index_scan() -> None:
    """The check above can fail: a bare scan is found, an index scan is not."""
    assert full_scans(["SCAN documents_document"], DOCUMENTS)
    assert not full_scans(["SCAN documents_document USING INDEX doc_registered_idx"], DOCUMENTS)
    assert not full_scans(["SEARCH documents_document USING INDEX doc_year_idx (year=?)"],
                          DOCUMENTS)


@pytest.mark.django_db
def test_an_unindexed_filter_would_be_caught() -> None:
    """A filter on a column no index leads with (the notes) shows as a full scan."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip(ON_ANOTHER_DATABASE)
    from brankas.web.documents.models import Document

    lines = sqlite_plan(Document.objects.filter(notes="x").order_by()[:50])
    assert full_scans(lines, DOCUMENTS), lines


@pytest.mark.django_db
def test_the_years_are_every_year_with_documents_newest_first(office) -> None:  # type: ignore[no-untyped-def]
    """``document_years`` (the register's year filter): one index seek per year."""
    from brankas.web.documents.models import Document
    from brankas.web.documents.selectors import document_years
    from tests.web.ui.test_query_counts import add_rows

    assert document_years() == sorted(
        set(Document.objects.values_list("year", flat=True)), reverse=True)
    add_rows(office, documents=4, runs=0, audit=0)
    Document.objects.filter(agenda__startswith="Q-").update(year=2019)
    Document.objects.filter(agenda="Q-00001").update(year=2023)
    years = document_years()
    assert years == sorted(set(Document.objects.values_list("year", flat=True)), reverse=True)
    assert 2019 in years and 2023 in years


@pytest.mark.django_db
def test_the_audit_actions_are_every_action_once_in_order() -> None:
    """``audit_actions`` (the audit page's action filter): one index seek per action."""
    from brankas.web.audit.models import AuditEvent
    from brankas.web.audit.selectors import audit_actions
    from brankas.web.audit.services import AuditEntry, audit_record_many

    audit_record_many([AuditEntry(actor="a", action=action, target="", outcome="ok", detail={})
                       for action in ["document.view", "auth.login", "document.view",
                                      "backup.run", "auth.login", "a.first"]])
    expected = sorted(set(AuditEvent.objects.values_list("action", flat=True)))
    assert audit_actions() == expected
    assert expected[0] == "a.first" and len(expected) >= 4


SEARCHED = ["agenda", "number", "subject", "correspondent"]


@pytest.mark.django_db
def test_the_search_is_tested_in_the_ordering_index_on_sqlite() -> None:
    """On SQLite the register's ordering index also holds the four searched columns
    (documents 0006): the search by text reads it in the list's order and tests each entry
    there, not every column of every row of the table; the count of a search too. The index
    holds the columns as stored, nothing else (no new copy of a text)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip(ON_ANOTHER_DATABASE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pragma_index_info('doc_registered_idx') ORDER BY seqno")
        columns = [row[0] for row in cursor.fetchall()]
    assert columns == ["registered_at", "seq", *SEARCHED]
    # the scan's query (under 3 characters: the field index serves longer ones, session 19)
    count = sqlite_plan(_documents(query="ra").order_by().values("pk")[:1001])
    assert any("COVERING INDEX doc_registered_idx" in line for line in count), count


@pytest.mark.django_db
def test_a_count_reading_the_table_would_be_caught() -> None:
    """The check above can fail: a search that also tests the notes (not in the index)
    reads the table rows, and the plan says so (no covering index)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip(ON_ANOTHER_DATABASE)
    from brankas.web.documents.models import Document

    qs = (Document.objects.filter(notes__icontains="rapat").order_by("-registered_at", "-seq")
          .values("pk")[:1001])
    assert not any("COVERING INDEX doc_registered_idx" in line for line in sqlite_plan(qs))
