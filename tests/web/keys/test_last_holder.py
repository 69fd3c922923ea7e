"""Review of issue 13: revoking the last holder leaves the archive to the recovery key
alone. A revoke with a rekey that cannot run (no reader would be left) must be refused
before anything changes; a revoke that leaves documents no active holder opens must say
so (the CLI names it), not pass silently."""

from __future__ import annotations

import pytest

from brankas.core import crypto
from brankas.core.errors import BrankasError
from brankas.web.keys.models import HolderKey
from brankas.web.keys.revocation import key_revoke
from tests.web.keys.test_grants import archive  # noqa: F401


def test_a_rekey_revoking_the_last_holder_is_refused_before_the_revocation(office, archive):  # noqa: F811
    key_revoke(actor=office.users["admin"], holder="kasi")
    recovery = crypto.parse_identity(office.recovery_identity)
    with pytest.raises(BrankasError):
        key_revoke(actor=office.users["admin"], holder="kabid", rekey=True, recovery=recovery)
    # Refused: nothing changed (the kabid's key is not half-revoked without its rekey).
    assert HolderKey.objects.get(holder=office.users["kabid"]).revoked_at is None


def test_revoking_the_last_holder_says_the_archive_is_left_to_the_recovery_key(
        office, archive):  # noqa: F811
    key_revoke(actor=office.users["admin"], holder="kasi")
    result = key_revoke(actor=office.users["admin"], holder="kabid")
    # Every exempted document (3) and the letter now open with the recovery key only.
    assert getattr(result, "recovery_only", None) == 4


@pytest.mark.parametrize(("holder", "rekey", "code"), [
    ("operator", False, "grant_no_key"),  # a user with no key
    ("kabid", True, "field_invalid"),  # a rekey without the recovery shares
])
def test_a_refused_revocation_is_audited_with_its_reason(office, holder, rekey, code) -> None:
    from brankas.web.audit.models import AuditEvent

    with pytest.raises(BrankasError) as exc:
        key_revoke(actor=office.users["admin"], holder=holder, rekey=rekey)
    assert exc.value.code == code
    entry = AuditEvent.objects.get(action="key.revoke")
    assert (entry.outcome, entry.target, entry.detail["error"]) == ("failed", holder, code)
    assert not HolderKey.objects.filter(revoked_at__isnull=False).exists()
