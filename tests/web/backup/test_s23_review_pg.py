"""Review of s23 (the early audit segment) on PostgreSQL: the run's tests there, and an
entry numbered but not yet committed when the run reads its sources (another connection
holds the counter's lock): the run's view (REPEATABLE READ) and the segment thread's own
connection (READ COMMITTED) must still make the whole chained log up to the head (s24: the
child's segment and the entries since, made at the close)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from django.db import connection, transaction

from brankas.core import crypto
from brankas.core.disk import segments as segs
from brankas.web.audit.services import audit_record
from brankas.web.backup import segments
from brankas.web.backup.services import backup_run
from tests.web.backup.test_s23_early_segment import (  # noqa: F401 (collected here too)
    _seal_statement,
    early,
    test_a_run_that_fails_stops_the_thread_and_leaves_no_file,
    test_the_segment_made_while_copying_holds_the_log_up_to_the_runs_head,
)
from tests.web.backup.test_s23_review import (  # noqa: F401 (collected here too)
    test_a_run_failing_in_its_read_after_the_thread_started_stops_the_thread,
    test_the_childs_failure_or_its_kill_mid_segment_leaves_the_segment_to_the_close,
    test_the_early_segment_is_byte_for_byte_the_segment_made_at_the_close,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """This module's tests on a PostgreSQL database of its own."""


def test_an_entry_committed_only_while_the_run_copies_is_in_the_segment_once(
        transactional_db, office, tmp_path: Path, early) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for i in range(20):
        audit_record(actor="operator", action="document.open", target=f"K-{i}")
    holding, release = threading.Event(), threading.Event()
    numbered: list[int] = []

    def writer() -> None:
        try:
            with transaction.atomic():  # the counter's row locked until the commit
                numbered.append(audit_record(actor="kasi", action="auth.login").seq)
                holding.set()
                release.wait(60)
        finally:
            connection.close()

    other = threading.Thread(target=writer)

    def on_start(run) -> None:  # type: ignore[no-untyped-def]
        other.start()
        assert holding.wait(60)

    def on_progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        if not release.is_set():
            release.set()
            other.join(60)

    disk = tmp_path / "disk"
    outcome = backup_run(actor=office.users["operator"], dest=disk, on_start=on_start,
                         on_progress=on_progress)
    assert release.is_set() and numbered and len(early) == 1
    assert early[0].first_head < numbered[0]  # not in the run's view when it started
    assert not early[0].fell_back  # the child made it, through its own connection
    head = outcome.control["audit_head"]
    listed = _seal_statement(disk)[segs.STATEMENT_KEY]["segments"]
    # s24: the child's segment (up to the head the run read with its sources, which
    # the entry numbered then is after) and the entries since, made at the close.
    first_head = early[0].first_head
    assert [x[1:3] for x in listed] == [[1, first_head], [first_head + 1, head["seq"]]]
    assert head["seq"] >= numbered[0]
    identity = crypto.parse_identity(office.recovery_identity)
    plain = b""
    for name, _first, _last, sha in listed:
        data = (disk / "data" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
        plain += crypto.decrypt_bytes(data, [identity])
    assert plain == b"".join(segments.lines(0, head["seq"]))
    chain = segs.Chain()
    for line in plain.splitlines():
        chain.take(line)
    assert (chain.seq, chain.prev) == (head["seq"], head["hash"])
