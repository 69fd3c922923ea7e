"""Review of issue 14: deactivating a key holder takes them out of every future
encryption, not only of documents: a request letter, a safe's combination, and a backup's
full register, database snapshot and audit tail are all encrypted to the remaining holders
and the recovery key, never to the revoked key (checked by decrypting with the real
identities)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from brankas.core import crypto
from brankas.core.register.intake import InputFile
from brankas.web.accounts.administration import user_deactivate
from brankas.web.backup.services import backup_run
from brankas.web.custody.models import SafeCombination
from brankas.web.custody.services import safe_add
from brankas.web.sendrequests.services import request_create
from tests.conftest import PASSPHRASES, make_pdf, quick_protected_identity
from tests.identities import opens


def identity_of(name: str):  # type: ignore[no-untyped-def]
    return crypto.parse_identity(quick_protected_identity(PASSPHRASES[name])[0])


def test_a_deactivated_holder_receives_no_letter_combination_or_backup(office, settings,
                                                                     tmp_path: Path):  # type: ignore[no-untyped-def]
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS,
                                           combination_roles=frozenset({"kabid", "kasi"}))
    recovery = crypto.parse_identity(office.recovery_identity)
    user_deactivate(actor=office.users["admin"], username="kabid")
    kabid, kasi = identity_of("kabid"), identity_of("kasi")

    letter = request_create(actor=office.users["kadis"], subject="Surat rahasia",
                            classification="rahasia", addressee="Gubernur",
                            files=[InputFile.from_bytes("surat.pdf", make_pdf(text="r"))])
    data = (office.home / letter.letter_path).read_bytes()
    assert opens(data, kasi) and opens(data, recovery) and not opens(data, kabid)

    safe_add(actor=office.users["operator"], name="Brankas-A", location="Ruang Sandi",
             combination="12-34-56")
    combo = SafeCombination.objects.get()
    assert combo.fingerprints == [office.keys["kasi"].fingerprint]
    assert opens(bytes(combo.ciphertext), kasi) and not opens(bytes(combo.ciphertext), kabid)

    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk, label="Disk-A")
    encrypted = [p for p in disk.rglob("*.age")
                 if p.name in {"register-lengkap.csv.age", "database.json.age"}
                 or p.parent.name == "audit"]
    assert {p.name for p in encrypted} >= {"register-lengkap.csv.age", "database.json.age"}
    assert [p for p in encrypted if p.parent.name == "audit"]  # the audit segment
    for path in encrypted:
        data = path.read_bytes()
        assert opens(data, kasi) and opens(data, recovery), path.name
        assert not opens(data, kabid), path.name


def test_deactivating_a_holder_names_the_safes_whose_combination_they_could_read(
        office, client):  # type: ignore[no-untyped-def]
    """Review of issue 14: a holder who leaves could read the safes' combinations (and still
    can, from a copy, with the revoked key): revocation cannot take that back, so the admin
    is told which combinations to change, on the page, on the command line and in the log."""
    from brankas.web.audit.models import AuditEvent
    from tests.web.ui.conftest import text_of

    safe_add(actor=office.users["operator"], name="Brankas-A", location="Ruang Sandi",
             combination="12-34-56")
    change = user_deactivate(actor=office.users["admin"], username="kasi")
    assert change.combinations == ()  # the Kasi may not read combinations: none to change
    client.force_login(office.users["admin"])
    r = client.post("/users/kabid/", {"op": "deactivate", "confirm": "on"})
    assert r.status_code == 200
    assert "Ganti kombinasi brankas berikut" in text_of(r) and "Brankas-A" in text_of(r)
    entry = AuditEvent.objects.filter(action="user.deactivate").order_by("-seq").first()
    assert entry is not None and entry.detail["combinations_to_change"] == ["Brankas-A"]
