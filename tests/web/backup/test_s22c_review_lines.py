"""Outside review of s22 (the audit segment's lines made by SQLite's ``json_object`` on
SQLite in UTC): the same entries through both paths (SQLite's and Python's, the one
PostgreSQL and other zones still take) give lines that parse to the same values, hash as
their entries claim, and differ in bytes only inside the detail (SQLite minifies it;
Python copies the stored text). No reader compares the lines' bytes: a segment is
encrypted as written (its SHA-256 is of that file), recover parses each line.

And a disk whose first segment was written by the Python path and continued by the SQLite
one (an office updated between two runs) verifies and recovers whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from brankas.core import crypto
from brankas.core.audit import hashchain
from brankas.core.disk import segments as segs
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_content, audit_record
from brankas.web.backup import segments

pytestmark = pytest.mark.skipif("connection.vendor != 'sqlite'")

CONTROL = "".join(chr(c) for c in range(0x20)) + "\x7f"
HOSTILE = CONTROL + "\u2028\u2029 \U0001f600 \u00e9 \u4e2d\u6587 \\ \\\\ \" '' / \\u0000"

# Details recorded through the service (Django stores ``json.dumps`` of them).
DETAILS = [
    {},
    {"s": HOSTILE, HOSTILE: HOSTILE},
    {"ints": [2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**40, 0, -1]},
    {"floats": [-0.0, 0.0, 1.0, 1, 1e5, 1e16, 1e300, 5e-324, 0.1, -1.5e-7, True, False]},
    {"z": 1, "a": 2, "m": {"y": [], "b": {}, "c": [None, {"": ""}]}},
    {"long": "x\u00e9\n" * 100_000},
    [1, "two"], "text", 5, None,
]
# Detail texts stored as they are (raw SQL): what Django does not write but the column's
# CHECK (``json_valid``) lets in.
RAW = [
    '{"a":1,"a":2}',  # duplicate keys: the last wins, in both readings
    '{ "b" : [ 1 , 2 ] ,\n\t"a" : "x" }',  # whitespace and a raw newline
    '{"n":1E5,"m":-0,"k":1.0e+2,"d":123456789012345678901234567890.5,"e":-0.0}',
    '{"e":"\\u00e9\\/\\u0000\\u001f\\ud83d\\ude00\\"\\\\"}',  # escapes kept as escapes
    '{"r":"\u2028 \u00e9 \U0001f600 \x7f"}',  # raw non-ASCII and DEL in the text
    "[]", '""', "-0",
]
# Stored by raw SQL only (json_valid takes them): Python reads them as infinity and None,
# which the column refuses when recover stores them again ('Infinity' fails its CHECK,
# None is SQL NULL): the same with either path, not s22's (reported, not fixed here).
UNRECOVERABLE = ["1e400", "null"]


def _record_all(raw: list[str] = RAW) -> None:
    audit_record(actor=HOSTILE, action='a"\\', target="T" * 300_000, outcome="ok\x00")
    audit_record(actor="operat\u00f6r \u4e2d", action="x", target="", outcome="")
    for d in DETAILS:
        audit_record(actor="operator", action="document.open", target=HOSTILE,
                     detail=d)  # type: ignore[arg-type]
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    seq, prev = last.seq, last.hash
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    for n, text in enumerate(raw):
        seq += 1
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (seq, at, actor, action, target, outcome, detail, "  # noqa: S608
                "prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [seq, f"2026-12-06 01:02:{n:02d}" + (".000004" if n % 2 else ""),
                 HOSTILE, "raw", "", "ok", text, prev, f"{seq:064x}"])
        event = AuditEvent.objects.get(seq=seq)  # the hash of what the ORM reads back
        event.hash = hashchain.entry_hash(prev, audit_content(event))
        AuditEvent.objects.filter(seq=seq).update(hash=event.hash)
        prev = event.hash


def _lines(monkeypatch: pytest.MonkeyPatch, by_sqlite: bool, after: int, head: int
           ) -> list[bytes]:
    monkeypatch.setattr(segments, "SQLITE_LINES", by_sqlite)
    with CaptureQueriesContext(connection) as queries:
        data = b"".join(segments.lines(after, head))
    assert any("json_object" in q["sql"] for q in queries.captured_queries) == by_sqlite
    assert data.endswith(b"\n")
    return data[:-1].split(b"\n")


def _outside_detail(line: bytes) -> tuple[bytes, bytes]:
    # The fields before the detail are strings (their quotes escaped) and the ones after
    # are hashes: the first ``,"detail":`` and the last ``,"prev_hash":`` are the line's.
    return line[:line.index(b',"detail":')], line[line.rindex(b',"prev_hash":'):]


def test_both_paths_give_the_same_entries(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _record_all([*RAW, *UNRECOVERABLE])
    events = list(AuditEvent.objects.order_by("seq"))
    head = events[-1].seq
    for after in (0, 3):  # the whole log and a range in the middle
        for batch in (5000, 3):  # one piece, and pieces of three rows
            monkeypatch.setattr(segments, "BATCH", batch)
            by_python = _lines(monkeypatch, False, after, head)
            by_sqlite = _lines(monkeypatch, True, after, head)
            wanted = [e for e in events if e.seq > after]
            assert len(by_python) == len(by_sqlite) == len(wanted)
            prev = wanted[0].prev_hash
            python_chain = segs.Chain(after, prev)
            sqlite_chain = segs.Chain(after, prev)
            for py, sq, event in zip(by_python, by_sqlite, wanted, strict=True):
                # Each line is an entry whose hash holds (strict: no break allowed).
                a, b = python_chain.take(py), sqlite_chain.take(sq)
                # The same values, told apart as the hash tells them (1 from 1.0, -0.0
                # from 0.0, True from 1, key order of the detail).
                assert hashchain.canonical(a) == hashchain.canonical(b), event.seq
                assert json.dumps(a) == json.dumps(b), event.seq
                content = {k: b[k] for k in segs._CONTENT}
                assert hashchain.canonical(content) == hashchain.canonical(
                    audit_content(event)), event.seq
                assert b["hash"] == event.hash and b["prev_hash"] == event.prev_hash
                # Byte for byte the same outside the detail (the text fields escaped as
                # ``encode_basestring`` escapes them), the detail no longer for SQLite.
                assert _outside_detail(py) == _outside_detail(sq), event.seq
                assert len(sq) <= len(py)
            assert (sqlite_chain.seq, sqlite_chain.prev) == (head, events[-1].hash)


def test_what_neither_path_meets_cannot_be_stored(office) -> None:  # type: ignore[no-untyped-def]
    before = AuditEvent.objects.count()
    # NaN and infinities: the hash takes them, the column's CHECK (json_valid) does not.
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(IntegrityError):
            audit_record(actor="operator", action="x", detail={"v": bad})
    # A lone surrogate: the entry's canonical text is UTF-8, it has none.
    for field in ({"actor": "\ud800"}, {"target": "\udfff"}, {"detail": {"v": "\ud800"}}):
        with pytest.raises(UnicodeEncodeError):
            audit_record(**{"actor": "operator", "action": "x", **field})  # type: ignore[arg-type]
    assert AuditEvent.objects.count() == before


@pytest.mark.slow  # two backups, a verify and a recover process
def test_a_disk_begun_by_python_lines_and_continued_by_sqlite_lines(
        office, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.backup.services import backup_run, medium_verify
    from tests.conftest import cli

    disk = tmp_path / "disk"
    identity = [crypto.parse_identity(office.recovery_identity)]
    monkeypatch.setattr(segments, "SQLITE_LINES", False)  # the code before s22
    _record_all()
    backup_run(actor=office.users["operator"], dest=disk)
    monkeypatch.setattr(segments, "SQLITE_LINES", True)
    for d in DETAILS[1:5]:
        audit_record(actor=HOSTILE, action="document.open", target=HOSTILE, detail=d)  # type: ignore[arg-type]
    backup_run(actor=office.users["operator"], dest=disk)
    names = sorted(p.name for p in (disk / "data" / "audit").iterdir())
    assert len(names) == 2, names
    old, new = (crypto.decrypt_bytes((disk / "data" / "audit" / n).read_bytes(), identity)
                for n in names)
    assert b'"detail":{"s": ' in old and b'"detail":{"s":"' in new  # both kinds of line

    report, _ = medium_verify(actor=office.users["operator"], dest=disk)
    assert report.ok, report.as_dict()

    key = tmp_path / "recovery.txt"
    key.write_text(office.recovery_identity + "\n")
    home = tmp_path / "pulih"
    r = cli(home, tmp_path, "recover", str(disk), "--home", str(home), "--identity",
            str(key), "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["ok"] is True and out["audit_ok"] is True, out
    import sqlite3
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        recovered = list(db.execute(
            "SELECT seq, hash, detail FROM audit_auditevent ORDER BY seq"))
    ours = list(AuditEvent.objects.order_by("seq").values_list("seq", "hash", "detail"))
    last = segs.name_range(f"audit/{names[-1]}")
    assert last is not None
    head = last[1]
    assert [r[:2] for r in recovered[:head]] == [o[:2] for o in ours[:head]]
    assert [json.loads(r[2]) for r in recovered[:head]] == [o[2] for o in ours[:head]]


@pytest.mark.parametrize("by_sqlite", [False, True])
def test_a_detail_sqlites_json_refuses_is_written_as_before(
        office, monkeypatch, tmp_path: Path, by_sqlite: bool) -> None:  # type: ignore[no-untyped-def]
    """A detail SQLite's ``json()`` refuses though the row is there: its CHECK bypassed
    (``ignore_check_constraints``, another tool), or nested deeper than this SQLite takes
    (3.45 and later: 1,000 levels; 3.44 and earlier took 2,000). The Python path copies
    the stored text; the SQLite path raised ``OperationalError: malformed JSON`` and the
    whole backup failed. A speed-up must not change the outcome: the run completes and
    writes the line as before (what recover then makes of it is the same either way)."""
    from brankas.web.backup.services import backup_run

    monkeypatch.setattr(segments, "SQLITE_LINES", by_sqlite)
    monkeypatch.setattr(segments, "BATCH", 2)  # the bad row in the second piece
    for i in range(3):
        audit_record(actor="operator", action="document.open", target=f"K-{i}")
    bad = AuditEvent.objects.order_by("seq")[2]
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA ignore_check_constraints = 1")
        cursor.execute(f"UPDATE {table} SET detail = %s WHERE seq = %s",  # noqa: S608
                       ["{a:1", bad.seq])
        cursor.execute("PRAGMA ignore_check_constraints = 0")
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert last is not None
    lines = b"".join(segments.lines(0, last)).splitlines()
    assert [json.loads(x)["seq"] for x in lines[:2]] == [1, 2]
    assert b'"detail":{a:1,"prev_hash"' in lines[2]  # the stored text, as before s22
    assert [json.loads(x)["seq"] for x in lines[3:]] == list(range(4, last + 1))
    outcome = backup_run(actor=office.users["operator"], dest=tmp_path / "disk")
    assert outcome.run.status == "completed"
