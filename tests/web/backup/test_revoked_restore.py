"""Review of issue 13: a revoked key opens nothing through Brankas. ``restore --decrypt``
(backup_restore with a passphrase) must refuse it as ``open`` does, not decrypt the disk's
copies with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from brankas.core.errors import AccessDenied
from brankas.web.audit.models import AuditEvent
from brankas.web.backup.restore import backup_restore
from brankas.web.backup.services import backup_run
from brankas.web.keys.revocation import key_revoke
from tests.conftest import PASSPHRASES
from tests.web.keys.test_grants import archive  # noqa: F401


def test_a_revoked_holder_cannot_decrypt_through_restore(office, archive, tmp_path: Path):  # noqa: F811
    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk, label="Disk-A")
    key_revoke(actor=office.users["admin"], holder="kabid")
    out = tmp_path / "out"
    with pytest.raises(AccessDenied) as refused:
        backup_restore(actor=office.users["kabid"], dest=disk, to=out,
                       passphrase=PASSPHRASES["kabid"])
    assert refused.value.code == "key_revoked"
    # Nothing decrypted: no plaintext PDF of a rahasia document came out.
    opened = [p for p in out.rglob("*.pdf")] if out.exists() else []
    assert opened == []
    assert AuditEvent.objects.filter(action="backup.restore", outcome="denied").exists()
