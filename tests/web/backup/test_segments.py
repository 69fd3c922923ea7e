"""The audit segment writer (``web/backup/segments.py``) reads rows through a plain cursor
and builds each line itself; every line must hold exactly what the entry's hash covers,
whatever the entry holds: times on a whole second (no microseconds), text with quotes,
control characters and non-ASCII letters, nested details with newlines in their strings.
And the sealed list's checks (``core/disk/segments.py``)."""

from __future__ import annotations

import datetime
import json

from brankas.core.audit import hashchain
from brankas.core.disk import segments as segs
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_content, audit_record
from brankas.web.backup import segments


def test_each_line_is_the_entry_its_hash_covers(office) -> None:  # type: ignore[no-untyped-def]
    audit_record(actor="operator", action="document.open",
                 target='K-2026-0001 "kutip" \u00e9\u00e8 \u4e2d\u6587 \\ /',
                 detail={"a": [1, 2.5, None, True], "b": {"baris": "satu\ndua\r\ttiga"},
                         "c": "\u2028\x00\x1b", "d": "\u00e9"})
    whole = audit_record(actor="kabid \u00e9", action="key.unlock", outcome="denied")
    # The newest entry made on a whole second (its hash made anew: it is the last).
    whole.at = datetime.datetime(2026, 12, 1, 8, 0, 0, tzinfo=datetime.UTC)
    whole.hash = hashchain.entry_hash(whole.prev_hash, audit_content(whole))
    AuditEvent.objects.filter(pk=whole.pk).update(at=whole.at, hash=whole.hash)
    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None
    data = b"".join(segments.lines(0, last.seq))
    chain = segs.Chain()
    events = list(AuditEvent.objects.order_by("seq"))
    rows = data.split(b"\n")
    assert rows[-1] == b"" and len(rows) - 1 == len(events)
    for line, event in zip(rows, events, strict=False):
        row = chain.take(line)  # sequence, prev_hash and the hash of the content
        content = {k: row[k] for k in ("seq", "at", "actor", "action", "target", "outcome",
                                       "detail")}
        assert content == json.loads(json.dumps(audit_content(event)))
    assert events[-1].at.microsecond == 0
    assert (chain.seq, chain.prev) == (last.seq, last.hash)
    # Read in pieces (5,000 rows each): a range in the middle gives just those entries.
    middle = b"".join(segments.lines(1, 2)).splitlines()
    assert [json.loads(x)["seq"] for x in middle] == [2]


def test_the_sealed_list_must_make_the_log_from_entry_one_to_the_head() -> None:
    def seg(first: int, last: int, sha: str = "a" * 64) -> segs.Segment:
        return segs.Segment(segs.segment_path(first, last), first, last, sha)

    one, two = seg(1, 10), seg(11, 12, "b" * 64)
    entries = {one.path: one.sha256, two.path: two.sha256}
    head = {"seq": 12, "hash": "h"}
    assert segs.list_problems([one, two], head, entries) == []
    assert "is missing" in segs.list_problems([one, two], head, {one.path: one.sha256})[0]
    assert "not what the office sealed" in segs.list_problems(
        [one, two], head, {**entries, two.path: "c" * 64})[0]
    assert "a gap" in segs.list_problems([one, seg(12, 12)], head, entries)[0]
    assert "overlaps" in segs.list_problems([one, seg(10, 12)], head, entries)[0]
    assert "a gap" in segs.list_problems([two, one], head, entries)[0]  # reordered
    assert "overlaps" in segs.list_problems([one, one, two], head, entries)[0]
    assert "a gap" in segs.list_problems([two], head, entries)[0]  # not from entry 1
    assert "the sealed head is 13" in segs.list_problems([one, two], {"seq": 13}, entries)[0]
    renamed = segs.Segment(segs.segment_path(11, 13), 11, 12, "b" * 64)
    assert "its name is not its range" in segs.list_problems([one, renamed], head, entries)[0]
    value = segs.statement_value([one, two])
    assert segs.from_statement(value) == [one, two]
    for bad in ({"format": "x", "segments": []}, {**value, "segments": [["a", 1, "2", "h"]]},
                {**value, "segments": "no"}):
        try:
            segs.from_statement(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
