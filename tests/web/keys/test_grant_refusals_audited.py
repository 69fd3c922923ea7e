"""Review of issue 13: a grant refused because of whom it is for (a revoked key, no key,
oneself) is audited like a wrong passphrase is; nothing is re-encrypted."""

from __future__ import annotations

import pytest

from brankas.core.errors import BrankasError
from brankas.web.audit.models import AuditEvent
from brankas.web.keys.grants import key_grant
from brankas.web.keys.revocation import key_revoke
from tests.conftest import PASSPHRASES
from tests.web.keys.test_grants import archive, join_kabid2  # noqa: F401


@pytest.mark.parametrize("to", ["kabid2-revoked", "operator", "kabid"])
def test_a_refused_grant_is_audited(office, archive, to):  # noqa: F811
    join_kabid2(office)
    if to == "kabid2-revoked":
        key_revoke(actor=office.users["admin"], holder="kabid2")
        to = "kabid2"
    before = AuditEvent.objects.filter(action="key.grant").count()
    with pytest.raises(BrankasError):
        key_grant(actor=office.users["kabid"], to=to, passphrase=PASSPHRASES["kabid"])
    refused = AuditEvent.objects.filter(action="key.grant").exclude(outcome="ok")
    assert AuditEvent.objects.filter(action="key.grant").count() == before + 1
    entry = refused.order_by("-pk").first()
    assert entry is not None and entry.actor == "kabid" and entry.target == to
