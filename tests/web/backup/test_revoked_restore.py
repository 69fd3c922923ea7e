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


def test_a_holder_deactivated_while_restoring_decrypts_nothing_more(office, archive,  # noqa: F811
                                                                    tmp_path: Path):
    """Review of issue 14: a restore with ``--decrypt`` (a web job, or a long command) that
    was running when its holder was deactivated went on decrypting every later document
    with the identities it had unlocked at the start; the rest now stays encrypted."""
    from brankas.web.accounts.administration import user_deactivate

    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk, label="Disk-A")

    def deactivated_after_the_first(i: int, total: int, done: int, size: int) -> None:
        if i == 1:  # the first document is out; the admin deactivates the Kabid now
            user_deactivate(actor=office.users["admin"], username="kabid")

    out = tmp_path / "out"
    report = backup_restore(actor=office.users["kabid"], dest=disk, to=out,
                            passphrase=PASSPHRASES["kabid"],
                            on_progress=deactivated_after_the_first)
    first, *rest = archive.docs
    assert report.decrypted == [first.agenda]
    assert set(report.restored) == {d.agenda for d in [*archive.docs, archive.biasa]}
    assert len(list(out.rglob("*.pdf.age"))) == len(rest)  # still encrypted
    opened = AuditEvent.objects.filter(action="document.open", actor="kabid")
    assert [e.target for e in opened] == [first.agenda]
