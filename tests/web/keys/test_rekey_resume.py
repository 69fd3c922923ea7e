"""Review of issue 13: a rekey that resumes an older, unfinished rekey job must not skip
files that job re-encrypted to readers who have since been revoked."""

from __future__ import annotations

import pytest

from brankas.core import crypto
from brankas.web.documents.models import Document
from brankas.web.keys.models import RewrapJob
from brankas.web.keys.revocation import key_revoke
from brankas.web.sendrequests.models import SendRequest
from tests.conftest import PASSPHRASES
from tests.web.keys.test_grants import archive, identity, join_kabid2  # noqa: F401


def test_a_later_revocation_rekeys_files_an_unfinished_rekey_already_did(office, archive):  # noqa: F811
    join_kabid2(office)
    recovery = crypto.parse_identity(office.recovery_identity)
    # One damaged file: the first rekey (kasi revoked) does every other file and ends FAILED.
    bad = archive.docs[2]
    path = office.home / bad.stored_path
    data = bytearray(path.read_bytes())
    data[-20] ^= 1
    path.write_bytes(bytes(data))
    first = key_revoke(actor=office.users["admin"], holder="kasi", rekey=True,
                       recovery=recovery)
    assert first.rekey is not None and [f["number"] for f in first.rekey.failed] == [bad.agenda]
    assert RewrapJob.objects.get(kind=RewrapJob.REKEY).state == RewrapJob.FAILED
    kabid_fp = office.keys["kabid"].fingerprint
    # Those files were re-encrypted to kabid (then still a holder).
    assert all(kabid_fp in d.recipients for d in Document.objects.exclude(suite="")
               .exclude(pk=bad.pk))
    # Later the kabid leaves (or his laptop is stolen): revoked with a rekey.
    second = key_revoke(actor=office.users["admin"], holder="kabid", rekey=True,
                        recovery=recovery)
    assert second.rekey is not None
    kabid_identity = identity(PASSPHRASES["kabid"])
    for d in Document.objects.exclude(suite="").exclude(pk=bad.pk):
        assert kabid_fp not in d.recipients, d.agenda
        with pytest.raises(Exception):  # noqa: B017,PT011 - pyrage: not a recipient
            crypto.decrypt_bytes((office.home / d.stored_path).read_bytes(), [kabid_identity])
    letter = SendRequest.objects.get()
    assert kabid_fp not in letter.letter_recipients
