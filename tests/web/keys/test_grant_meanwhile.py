"""What happens beside a grant while it runs (done from its progress callback, in its
process: at a point between its files): a document registered meanwhile is sealed to the
grantee and the current readers; a holder revoked meanwhile receives none of the sealed
values re-encrypted after the revocation (the audit log's per-batch entries say which
rows were re-encrypted before it)."""

from __future__ import annotations

from brankas.web.audit.models import AuditEvent
from brankas.web.documents.models import Document
from brankas.web.keys import grants
from brankas.web.keys.grants import key_grant
from brankas.web.keys.revocation import key_revoke
from brankas.web.sendrequests.models import SendRequest
from brankas.web.sendrequests.services import request_create
from tests.conftest import PASSPHRASES
from tests.web.keys.test_grants import KABID2_PASSPHRASE, join_kabid2, register
from tests.web.keys.test_sealed_rewrap import shown


def test_registered_and_revoked_while_a_grant_runs(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(grants, "SEALED_ROWS_MEANWHILE", 1)
    docs = [register(office, f"Perihal Sela {i}") for i in range(10)]
    reqs = [request_create(actor=office.users["operator"], subject=f"Permintaan {i}",
                           classification="rahasia", addressee="Gubernur") for i in range(6)]
    new_key = join_kabid2(office)
    kasi_fp = office.keys["kasi"].fingerprint
    assert all(kasi_fp in d.sealed["subject"]["to"] for d in docs)
    meanwhile: list[Document] = []
    revoked_at: list[int] = []

    def progress(_p) -> None:  # type: ignore[no-untyped-def]
        if not meanwhile:  # after the first files
            key_revoke(actor=office.users["admin"], holder="kasi")
            last = AuditEvent.objects.order_by("-seq").first()
            assert last is not None
            revoked_at.append(last.seq)
            meanwhile.append(register(office, "Perihal Didaftar Sela"))

    summary = key_grant(actor=office.users["kabid"], to="kabid2",
                        passphrase=PASSPHRASES["kabid"], on_progress=progress)
    assert meanwhile and summary.failed == []
    # registered meanwhile: to the grantee, without the holder revoked just before
    new = Document.objects.get(pk=meanwhile[0].pk)
    assert new_key.fingerprint in new.sealed["subject"]["to"]
    assert kasi_fp not in new.sealed["subject"]["to"]
    assert shown(office, "kabid2", KABID2_PASSPHRASE, new) == "Perihal Didaftar Sela"
    assert shown(office, "kabid", PASSPHRASES["kabid"], new) == "Perihal Didaftar Sela"
    # every sealed value now opens to the grantee; those re-encrypted after the
    # revocation leave the revoked holder out
    before = {(e.detail["kind"], pk) for e in AuditEvent.objects.filter(
        action="key.grant", detail__stage="sealed.rows", seq__lt=revoked_at[0])
        for pk in e.detail["rows"]}
    for kind, model, rows in (("document", Document, docs), ("sendrequest", SendRequest, reqs)):
        for row in rows:
            fresh = model.objects.get(pk=row.pk)
            for entry in fresh.sealed.values():
                assert new_key.fingerprint in entry["to"]
                if (kind, row.pk) not in before:
                    assert kasi_fp not in entry["to"], (kind, row.pk)
    assert shown(office, "kabid2", KABID2_PASSPHRASE, docs[-1]) == "Perihal Sela 9"
