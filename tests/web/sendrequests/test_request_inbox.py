"""The request inbox: one query built from the chain's rule (``REQUEST.waiting_states``),
bounded by the dashboard's slice, and the same rows as the holder rule gives."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brankas.core.register.intake import InputFile
from tests.conftest import make_pdf


def _clone(template: Any, n: int, *, state: str, assignee: Any) -> None:
    from brankas.web.sendrequests.models import SendRequest

    now = timezone.now()
    rows = []
    for _ in range(n):
        r = SendRequest.objects.get(pk=template.pk)
        r.pk = None
        r.state, r.assignee, r.state_since, r.letter_path = state, assignee, now, ""
        rows.append(r)
    SendRequest.objects.bulk_create(rows)


@pytest.fixture
def template(office) -> Any:  # type: ignore[no-untyped-def]
    from brankas.web.sendrequests.services import request_create

    return request_create(actor=office.users["kadis"], subject="Uji", classification="biasa",
                          addressee="Gubernur", requester_unit="Setda", requester_name="Sekda",
                          files=[InputFile.from_bytes("surat.pdf", make_pdf(text="x"))])


def _old_inbox(user: Any, states: list[str]):  # type: ignore[no-untyped-def]
    """The inbox as the holder rule reads (assigned to the user or to nobody)."""
    from brankas.web.sendrequests.models import SendRequest

    qs = SendRequest.objects.filter(state__in=states)
    return qs.filter(Q(assignee=user) | Q(assignee__isnull=True)).order_by("state_since", "pk")


def test_a_kadis_with_many_new_requests_is_served_within_a_stock_sqlite_limit(
        office, template) -> None:  # type: ignore[no-untyped-def]
    """SQLite's compiled-in default is 999 host parameters before 3.32 and 32766 after
    (this machine's build allows 250000). The inbox binds a fixed few parameters, not one
    per waiting request, and reads only the rows it shows."""
    from brankas.web.sendrequests.selectors import request_inbox

    kadis = office.users["kadis"]
    _clone(template, 1000, state="diajukan", assignee=None)
    connection.ensure_connection()
    raw = connection.connection
    limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    try:
        assert len(list(_old_inbox(kadis, ["diajukan"])[:5])) == 5  # the old query: fine
        with CaptureQueriesContext(connection) as ctx:
            assert len(list(request_inbox(kadis)[:5])) == 5
        assert len(ctx.captured_queries) == 1 and "LIMIT 5" in ctx.captured_queries[0]["sql"]
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, limit)


def test_the_inbox_lists_the_same_rows_as_the_old_query(office, template) -> None:  # type: ignore[no-untyped-def]
    """Correctness: on a mixed population the new inbox equals the old one for every
    user (order included)."""
    from brankas.web.accounts.services import user_create
    from brankas.web.sendrequests.selectors import request_inbox

    users = dict(office.users)
    for role, name in {"sandiman": "operator2", "kasi": "kasi2", "kabid": "kabid2",
                       "kadis": "kadis2"}.items():
        users[name] = user_create(actor=users["admin"], username=name, role=role,
                                  password="Second-Pass-2026!", full_name=name)
    states = ["diajukan", "ditugaskan-kabid", "ditugaskan-kasi", "ditugaskan-sandiman",
              "diterima", "didaftarkan", "terkirim", "dikembalikan"]
    for state in states:
        for assignee in [None, *users.values()]:
            _clone(template, 2, state=state, assignee=assignee)
    holder = {"sandiman": ["ditugaskan-sandiman", "diterima", "didaftarkan"],
              "kasi": ["ditugaskan-kasi"], "kabid": ["ditugaskan-kabid"],
              "kadis": ["diajukan"], "admin": []}
    for name, user in users.items():
        if user.role == "admin":  # no request-view: refused (tests/web/test_read_permission)
            continue
        old = [r.pk for r in _old_inbox(user, holder[user.role])] if holder[user.role] else []
        assert [r.pk for r in request_inbox(user)] == old, name
