"""s22: on SQLite (UTC), the audit segment's lines are made by SQLite (``json_object``),
not by Python string calls per field; every line is still the entry its hash covers."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from brankas.core.disk import segments as segs
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_content, audit_record
from brankas.web.backup import segments


def _check(data: bytes) -> None:
    chain = segs.Chain()
    events = list(AuditEvent.objects.order_by("seq"))
    rows = data.split(b"\n")
    assert rows[-1] == b"" and len(rows) - 1 == len(events)
    for line, event in zip(rows, events, strict=False):
        row = chain.take(line)  # the sequence, prev_hash and the content's hash
        content = {k: row[k] for k in ("seq", "at", "actor", "action", "target", "outcome",
                                       "detail")}
        assert json.dumps(content, allow_nan=True) == json.dumps(
            json.loads(json.dumps(audit_content(event))), allow_nan=True)
    assert chain.seq == events[-1].seq and chain.prev == events[-1].hash


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_makes_the_lines(office) -> None:  # type: ignore[no-untyped-def]
    audit_record(actor="operator \u00e9", action="document.open",
                 target='K-1 "kutip" \\ / \u2028 \x01',
                 detail={"a": [1, 2.5, None, True, 1e100], "b": {"baris": "satu\ndua"}})
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    with CaptureQueriesContext(connection) as queries:
        data = b"".join(segments.lines(0, last.seq))
    assert any("json_object" in q["sql"] for q in queries.captured_queries)
    assert not any("json_object" not in q["sql"] and "audit" in q["sql"]
                   for q in queries.captured_queries)  # no piece made by Python
    _check(data)


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_pieces_of_two_lines_make_the_whole_log(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(segments, "BATCH", 2)
    for i in range(6):
        audit_record(actor="operator", action="document.open", target=f"K-{i}",
                     detail={"i": i, "s": "\u00e9\t"})
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    data = b"".join(segments.lines(0, last.seq))
    _check(data)
    middle = b"".join(segments.lines(2, 5)).splitlines()
    assert [json.loads(x)["seq"] for x in middle] == [3, 4, 5]
