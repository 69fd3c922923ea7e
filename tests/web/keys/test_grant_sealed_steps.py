"""The sealed register values of a grant, re-encrypted a batch of rows at a time
(``rewrap_sealed_steps``), the grant taking those steps between its files: each batch is
one transaction (a grant cut short leaves each row as it was or done), and a grant whose
steps run one row at a time between its files still opens every value to the new holder."""

from __future__ import annotations

import pytest

from brankas.core import crypto
from brankas.core.errors import InvalidInput
from brankas.web.documents.models import Document
from brankas.web.documents.sealing import SealedRewrap, rewrap_sealed_steps
from brankas.web.keys import grants
from brankas.web.keys.grants import key_grant
from brankas.web.keys.selectors import recipients_adding
from brankas.web.sendrequests.models import SendRequest
from brankas.web.sendrequests.services import request_create
from tests.conftest import PASSPHRASES
from tests.web.keys.test_grants import KABID2_PASSPHRASE, join_kabid2, register
from tests.web.keys.test_sealed_rewrap import shown


def test_each_step_commits_its_rows_and_a_failed_step_leaves_its_rows(office) -> None:
    docs = [register(office, f"Perihal Bertahap {i}") for i in range(5)]
    new_key = join_kabid2(office)
    kabid = crypto.unlock_identity(bytes(office.keys["kabid"].protected_identity),
                                   PASSPHRASES["kabid"], username="kabid")
    failing = [False]

    def readers_for(purpose, to):  # type: ignore[no-untyped-def]
        if new_key.fingerprint in to:
            return None
        if failing[0]:  # as a revocation of kabid2's key meanwhile would
            raise InvalidInput("grant_no_key", username="kabid2")
        return recipients_adding(to, new_key, purpose=purpose)

    out = SealedRewrap()
    steps = rewrap_sealed_steps(out, rows=2, readers_for=readers_for,
                                identities_for=lambda to: [kabid])

    def granted(doc: Document) -> bool:
        fresh = Document.objects.get(pk=doc.pk)
        return all(new_key.fingerprint in e["to"] for e in fresh.sealed.values())

    next(steps)  # rows 1 and 2, committed together
    assert [granted(d) for d in docs] == [True, True, False, False, False]
    assert out.values == 6
    next(steps)
    assert [granted(d) for d in docs] == [True, True, True, True, False]
    failing[0] = True
    with pytest.raises(InvalidInput):
        next(steps)
    # the failed step's transaction left its row as it was; the others stay done
    assert [granted(d) for d in docs] == [True, True, True, True, False]
    assert shown(office, "kabid2", KABID2_PASSPHRASE, docs[0]) == "Perihal Bertahap 0"
    assert shown(office, "kabid2", KABID2_PASSPHRASE, docs[-1]) == "tersegel"


def test_a_grant_taking_one_row_per_step_between_files_opens_every_value(
        office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(grants, "SEALED_ROWS_MEANWHILE", 1)
    docs = [register(office, f"Perihal Selang {i}") for i in range(2)]
    # requests to send with sealed values and no letter: more rows than two files leave
    # waits for, so most are done after the files
    reqs = [request_create(actor=office.users["operator"], subject=f"Permintaan {i}",
                           classification="rahasia", addressee="Gubernur") for i in range(8)]
    new_key = join_kabid2(office)
    summary = key_grant(actor=office.users["kabid"], to="kabid2",
                        passphrase=PASSPHRASES["kabid"])
    assert summary.failed == []
    assert summary.documents == 2
    assert summary.sealed == 2 * 3 + 8 * 2  # subject, notes, attachments; subject, notes
    for i, doc in enumerate(docs):
        assert shown(office, "kabid2", KABID2_PASSPHRASE, doc) == f"Perihal Selang {i}"
    for req in reqs:
        fresh = SendRequest.objects.get(pk=req.pk)
        assert all(new_key.fingerprint in e["to"] for e in fresh.sealed.values())
    again = key_grant(actor=office.users["kabid"], to="kabid2", passphrase=PASSPHRASES["kabid"])
    assert again.sealed == 0 and again.files == 0
