"""A grant cut short by a database error in one of its sealed-value batches (a real
database error: a trigger refuses one row's update, on SQLite and on PostgreSQL in
test_grant_cut_short_pg.py): the batches committed before it stay done and
openable, and the audit log shows both what was opened to the grantee (each committed
batch, in its own transaction) and that the grant was cut short; the job is not left
"running"."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from brankas.core import crypto
from brankas.web.audit.models import AuditEvent
from brankas.web.documents.models import Document
from brankas.web.keys import grants
from brankas.web.keys.grants import key_grant, key_rekey
from brankas.web.keys.models import RewrapJob
from brankas.web.keys.revocation import key_revoke
from brankas.web.sendrequests.models import SendRequest
from brankas.web.sendrequests.services import request_create
from tests.conftest import PASSPHRASES
from tests.web.keys.test_grants import KABID2_PASSPHRASE, join_kabid2, register
from tests.web.keys.test_sealed_rewrap import shown


def refuse_update(table: str, pk: int) -> str:
    """A trigger (real, in the database) that refuses any update of row ``pk``'s sealed
    values in ``table``; returns the SQL that removes it."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(f"CREATE TEMP TRIGGER refuse_{table} BEFORE UPDATE OF sealed ON "
                        f"{table} WHEN OLD.id = {pk} "
                        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
            return f"DROP TRIGGER refuse_{table}"
        cur.execute(f"CREATE FUNCTION refuse_{table}() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql")
        cur.execute(f"CREATE TRIGGER refuse_{table} BEFORE UPDATE OF sealed ON {table} "
                    f"FOR EACH ROW WHEN (OLD.id = {pk}) EXECUTE FUNCTION refuse_{table}()")
        return f"DROP TRIGGER refuse_{table} ON {table}"


def test_a_grant_cut_short_in_a_sealed_batch_is_audited_with_what_it_did(
        office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(grants, "SEALED_ROWS_MEANWHILE", 1)
    docs = [register(office, f"Perihal Terputus {i}") for i in range(2)]
    reqs = [request_create(actor=office.users["operator"], subject=f"Permintaan {i}",
                           classification="rahasia", addressee="Gubernur") for i in range(3)]
    new_key = join_kabid2(office)
    drop = refuse_update("dispatch_sendrequest", reqs[-1].pk)
    first = AuditEvent.objects.order_by("-seq").first()
    assert first is not None
    with pytest.raises(DatabaseError):
        key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    # the rows before the refused one are done (their batches committed), the refused one
    # is as it was
    assert shown(office, "kabid2", KABID2_PASSPHRASE, docs[0]) == "Perihal Terputus 0"
    for req in reqs[:-1]:
        assert new_key.fingerprint in SendRequest.objects.get(pk=req.pk).sealed["subject"]["to"]
    assert new_key.fingerprint not in SendRequest.objects.get(
        pk=reqs[-1].pk).sealed["subject"]["to"]

    events = list(AuditEvent.objects.filter(seq__gt=first.seq, action="key.grant")
                  .order_by("seq"))
    # every row re-encrypted to the grantee is named in the audit log
    audited: set[tuple[str, int]] = set()
    for e in events:
        if e.detail.get("stage") == "sealed.rows" and e.outcome == "ok":
            audited |= {(e.detail["kind"], pk) for pk in e.detail.get("rows", ())}
    assert {("document", d.pk) for d in docs} | {("sendrequest", r.pk) for r in reqs[:-1]} \
        <= audited
    assert ("sendrequest", reqs[-1].pk) not in audited
    # the grant cut short is visible as such, and its job is not left running
    job = RewrapJob.objects.order_by("-pk").first()
    assert job is not None and job.state == RewrapJob.FAILED
    failed = [e for e in events if e.outcome == "failed" and e.detail.get("job") == job.pk]
    assert failed and failed[-1].detail.get("stage") == "interrupted"
    # a re-run finishes the job without the refusal
    with connection.cursor() as cur:
        cur.execute(drop)
    again = key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    assert again.sealed == 2 and again.failed == []
    assert all(new_key.fingerprint in Document.objects.get(pk=d.pk).sealed["subject"]["to"]
               for d in docs)


def test_a_rekey_cut_short_in_a_sealed_batch_is_audited_and_resumes(office) -> None:  # type: ignore[no-untyped-def]
    docs = [register(office, f"Perihal Cabut {i}") for i in range(2)]
    kasi_fp = office.keys["kasi"].fingerprint
    drop = refuse_update("documents_document", docs[-1].pk)  # the one batch is refused
    first = AuditEvent.objects.order_by("-seq").first()
    assert first is not None
    recovery = crypto.parse_identity(office.recovery_identity)
    key_revoke(actor=office.users["admin"], holder="kasi")
    with pytest.raises(DatabaseError):
        key_rekey(actor=office.users["admin"], recovery=recovery)
    job = RewrapJob.objects.filter(kind=RewrapJob.REKEY).order_by("-pk").first()
    assert job is not None and job.state == RewrapJob.FAILED
    events = list(AuditEvent.objects.filter(seq__gt=first.seq, action="key.rekey")
                  .order_by("seq"))
    assert any(e.outcome == "failed" and e.detail.get("stage") == "interrupted"
               and e.detail.get("job") == job.pk for e in events)
    sealed_rows = [e for e in events if e.detail.get("stage") == "sealed.rows"]
    assert sealed_rows == []  # one batch of 64: refused as a whole, nothing re-encrypted
    assert kasi_fp in Document.objects.get(pk=docs[0].pk).sealed["subject"]["to"]
    with connection.cursor() as cur:
        cur.execute(drop)
    again = key_rekey(actor=office.users["admin"], recovery=recovery)
    assert again.job_id == job.pk and again.failed == []  # the same job, resumed
    for d in docs:
        assert kasi_fp not in Document.objects.get(pk=d.pk).sealed["subject"]["to"]
    rows = AuditEvent.objects.filter(seq__gt=first.seq, action="key.rekey",
                                     detail__stage="sealed.rows")
    assert {pk for e in rows for pk in e.detail["rows"]} >= {d.pk for d in docs}


def test_a_killed_run_found_by_the_next_is_audited_as_cut_short(office) -> None:  # type: ignore[no-untyped-def]
    register(office, "Perihal Sesudah Mati")
    join_kabid2(office)
    # what a grant killed after its start leaves: its job marked running (the SIGKILL
    # itself: tests/cli/keys/test_grant_killed.py)
    killed = RewrapJob.objects.create(kind=RewrapJob.GRANT, actor=office.users["kabid"],
                                      via="x", files_total=3, files_done=1,
                                      started_at=timezone.now())
    first = AuditEvent.objects.order_by("-seq").first()
    assert first is not None
    key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    killed.refresh_from_db()
    assert killed.state == RewrapJob.FAILED
    entry = AuditEvent.objects.get(seq__gt=first.seq, detail__stage="interrupted")
    assert (entry.action, entry.actor, entry.outcome) == ("key.grant", "kabid", "failed")
    assert entry.detail["job"] == killed.pk and entry.detail["files_done"] == 1
