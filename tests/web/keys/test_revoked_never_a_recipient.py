"""Review of issue 13: after ``key revoke`` the revoked key is in no new encryption: a
registration, a request letter, a safe combination, a backup's encrypted register and
snapshot (held)."""

from __future__ import annotations

from pathlib import Path

import pytest

from brankas.core import crypto
from brankas.core.register.intake import InputFile
from brankas.web.backup.services import backup_run
from brankas.web.custody.models import SafeCombination
from brankas.web.custody.services import safe_set_combination
from brankas.web.keys.revocation import key_revoke
from brankas.web.sendrequests.services import request_create
from tests.conftest import PASSPHRASES, make_pdf
from tests.identities import opens
from tests.web.keys.test_grants import archive, identity, join_kabid2, register  # noqa: F401


def test_the_revoked_key_receives_nothing_new(office, archive, tmp_path: Path):  # noqa: F811
    join_kabid2(office)  # a combination reader stays
    key_revoke(actor=office.users["admin"], holder="kabid")
    kabid = identity(PASSPHRASES["kabid"])
    kasi = identity(PASSPHRASES["kasi"])
    doc = register(office, "Sesudah Pencabutan")
    assert opens((office.home / doc.stored_path).read_bytes(), kasi)
    assert not opens((office.home / doc.stored_path).read_bytes(), kabid)
    req = request_create(actor=office.users["kadis"], subject="Surat baru",
                         classification="rahasia", addressee="Gubernur",
                         files=[InputFile.from_bytes("s.pdf", make_pdf(text="baru"))])
    assert not opens((office.home / req.letter_path).read_bytes(), kabid)
    safe_set_combination(actor=office.users["operator"], name="Brankas-A",
                         combination="24-68-02")
    new = SafeCombination.objects.get(superseded_at__isnull=True)
    assert not opens(bytes(new.ciphertext), kabid)
    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk, label="A")
    encrypted = [p for p in (disk / "data" / "backup").rglob("*.age")]
    assert encrypted
    for path in encrypted:
        assert opens(path.read_bytes(), crypto.parse_identity(office.recovery_identity)), path
        assert not opens(path.read_bytes(), kabid), path


@pytest.mark.parametrize("who", ["kabid"])
def test_the_revoked_holder_checks_and_changes_nothing(office, who):  # type: ignore[no-untyped-def]
    from brankas.core.errors import AccessDenied
    from brankas.web.keys.lifecycle import key_check, key_passphrase_change

    key_revoke(actor=office.users["admin"], holder=who)
    with pytest.raises(AccessDenied):
        key_check(actor=office.users[who], holder=who, passphrase=PASSPHRASES[who])
    with pytest.raises(AccessDenied):
        key_passphrase_change(actor=office.users[who], holder=who, old=PASSPHRASES[who],
                              new="sebuah frasa sandi baru yang panjang sekali")
