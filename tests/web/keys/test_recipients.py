"""Who receives an exempted file: one selector (``recipients_for``) and one definition of an
active key (``HolderKey.objects.active``), through every place that encrypts.

The office fixture gives the Kasi and the Kabid a key. Each test changes who holds an
active key (a user made inactive, a key retired) and checks the readers of what is
encrypted next, by decrypting it with the real identities."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from django.utils import timezone

from brankas.core import crypto
from brankas.core.errors import AccessDenied, InvalidInput, SetupError
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.keys.models import HolderKey
from brankas.web.keys.selectors import (
    RECOVERY,
    Purpose,
    any_key_holder,
    recipients_adding,
    recipients_for,
    user_has_key,
    users_with_key,
)
from tests.conftest import PASSPHRASES, add_key, make_pdf, quick_protected_identity
from tests.identities import opens


def identity_of(name: str):  # type: ignore[no-untyped-def]
    """The fixture holder's own identity (``add_key`` caches one per passphrase)."""
    return crypto.parse_identity(quick_protected_identity(PASSPHRASES[name])[0])


def deactivate(office, name: str) -> None:  # type: ignore[no-untyped-def]
    user = office.users[name]
    user.is_active = False
    user.save()



def exempted(subject: str = "Surat rahasia"):  # type: ignore[no-untyped-def]
    return metadata.build(direction="penerimaan", classification="rahasia", number="1",
                          doc_date="2026-11-20", subject=subject, correspondent="Sekda")


# ---------------------------------------------------------------- the selector


def test_an_active_key_is_unretired_and_held_by_an_active_user(office) -> None:
    kasi, kabid = office.keys["kasi"], office.keys["kabid"]
    assert set(HolderKey.objects.active()) == {kasi, kabid}
    deactivate(office, "kabid")
    HolderKey.objects.filter(pk=kasi.pk).update(retired_at=timezone.now())
    assert list(HolderKey.objects.active()) == []
    assert set(HolderKey.objects.unretired()) == {kabid}
    kabid.refresh_from_db()
    assert not kabid.active  # the one-key form agrees with the query
    assert not any_key_holder() and users_with_key() == set()
    assert not user_has_key(office.users["kabid"].pk)


def revoke(office, name: str) -> None:  # type: ignore[no-untyped-def]
    HolderKey.objects.filter(pk=office.keys[name].pk).update(
        revoked_at=timezone.now(), revoked_by=office.users["admin"])


def test_a_revoked_key_is_neither_unretired_nor_active(office) -> None:
    kasi, kabid = office.keys["kasi"], office.keys["kabid"]
    revoke(office, "kabid")
    assert list(HolderKey.objects.unretired()) == [kasi]
    assert list(HolderKey.objects.active()) == [kasi]
    kabid.refresh_from_db()
    assert kabid.revoked and not kabid.active and kabid.retired_at is None
    assert users_with_key() == {office.users["kasi"].pk}
    for purpose in Purpose:
        if purpose is not Purpose.COMBINATION:
            assert {r.holder for r in recipients_for(purpose=purpose).all()} == {"kasi",
                                                                                  RECOVERY}
    with pytest.raises(SetupError):  # the Kabid was the one reader of combinations
        recipients_for(purpose=Purpose.COMBINATION)


@pytest.mark.parametrize("purpose", list(Purpose))
def test_every_purpose_names_the_active_keys_and_the_recovery_key(office, settings,
                                                                  purpose) -> None:
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS,
                                           combination_roles=frozenset({"kasi", "kabid"}))
    readers = recipients_for(purpose=purpose)
    holders = {r.holder for r in readers.all()}
    assert holders == {"kasi", "kabid", RECOVERY}
    assert readers.age()[-1] == office.office.recovery_recipient
    assert readers.holder_fingerprints() == sorted(k.fingerprint for k in office.keys.values())


@pytest.mark.parametrize("purpose", list(Purpose))
def test_an_inactive_user_and_a_retired_key_receive_nothing(office, purpose) -> None:
    deactivate(office, "kabid")
    HolderKey.objects.filter(pk=office.keys["kasi"].pk).update(retired_at=timezone.now())
    if purpose in (Purpose.DOCUMENT, Purpose.LETTER):
        with pytest.raises(SetupError) as exc:
            recipients_for(purpose=purpose)
        assert exc.value.code == "no_key_holder"
    elif purpose is Purpose.COMBINATION:
        with pytest.raises(SetupError) as exc:
            recipients_for(purpose=purpose)
        assert exc.value.code == "combination_no_holder"
        assert "Kabid" in exc.value.message("en")
    else:  # a backup disk is written anyway: the paper recovery key opens it
        readers = recipients_for(purpose=purpose)
        assert [r.holder for r in readers.all()] == [RECOVERY]


def test_a_combination_goes_to_the_roles_that_may_read_it(office) -> None:
    readers = recipients_for(purpose=Purpose.COMBINATION)  # the Kabid by default
    assert [r.holder for r in readers.all()] == ["kabid", RECOVERY]


# ---------------------------------------------------------------- every place that encrypts


def test_a_document_is_encrypted_to_active_holders_only(office) -> None:
    from brankas.web.documents.services import document_register

    deactivate(office, "kabid")
    doc = document_register(actor=office.users["operator"], meta=exempted(),
                            files=[InputFile.from_bytes("a.pdf", make_pdf(text="aktif"))])
    data = (office.home / doc.stored_path).read_bytes()
    assert opens(data, identity_of("kasi")) and not opens(data, identity_of("kabid"))
    assert opens(data, crypto.parse_identity(office.recovery_identity))
    assert office.keys["kabid"].fingerprint not in doc.recipients
    assert office.keys["kasi"].fingerprint in doc.recipients


def test_an_import_is_encrypted_to_active_holders_only(office, tmp_path: Path) -> None:
    from brankas.web.documents.importer import run_import
    from brankas.web.documents.models import Document

    folder = tmp_path / "lama" / "dikecualikan" / "penerimaan" / "2025"
    folder.mkdir(parents=True)
    make_pdf(folder / "surat lama.pdf", text="impor")
    deactivate(office, "kasi")
    run_import(actor=office.users["operator"], folder=tmp_path / "lama")
    doc = Document.objects.get()
    data = (office.home / doc.stored_path).read_bytes()
    assert opens(data, identity_of("kabid")) and not opens(data, identity_of("kasi"))


def test_an_import_without_an_active_holder_stops_at_the_first_exempted_file(
        office, tmp_path: Path) -> None:
    from brankas.web.documents.importer import run_import
    from brankas.web.documents.models import Document

    folder = tmp_path / "lama" / "dikecualikan" / "penerimaan" / "2025"
    folder.mkdir(parents=True)
    make_pdf(folder / "surat lama.pdf", text="impor")
    deactivate(office, "kasi")
    deactivate(office, "kabid")
    with pytest.raises(SetupError) as exc:
        run_import(actor=office.users["operator"], folder=tmp_path / "lama")
    assert exc.value.code == "no_key_holder"
    assert not Document.objects.exists()


def test_a_request_letter_is_encrypted_to_active_holders_only(office) -> None:
    from brankas.web.sendrequests.services import request_create

    deactivate(office, "kabid")
    req = request_create(actor=office.users["kadis"], subject="Berita rahasia",
                         classification="rahasia", addressee="Gubernur",
                         files=[InputFile.from_bytes("s.pdf", make_pdf(text="surat"))])
    data = (office.home / req.letter_path).read_bytes()
    assert opens(data, identity_of("kasi")) and not opens(data, identity_of("kabid"))
    assert office.keys["kabid"].fingerprint not in req.letter_recipients


def test_a_request_letter_without_an_active_holder_is_refused(office) -> None:
    from brankas.web.sendrequests.models import SendRequest
    from brankas.web.sendrequests.services import request_create

    deactivate(office, "kasi")
    deactivate(office, "kabid")
    with pytest.raises(SetupError) as exc:
        request_create(actor=office.users["kadis"], subject="Berita rahasia",
                       classification="rahasia", addressee="Gubernur",
                       files=[InputFile.from_bytes("s.pdf", make_pdf(text="surat"))])
    assert exc.value.code == "no_key_holder"
    assert not SendRequest.objects.exists()


def test_a_combination_is_encrypted_to_active_readers_only(office, settings) -> None:
    from brankas.web.custody.models import SafeCombination
    from brankas.web.custody.services import safe_add

    settings.BRANKAS = dataclasses.replace(settings.BRANKAS,
                                           combination_roles=frozenset({"kasi", "kabid"}))
    deactivate(office, "kasi")
    safe_add(actor=office.users["operator"], name="Brankas-A", location="Ruang Sandi",
             combination="12-34-56")
    combo = SafeCombination.objects.get()
    data = bytes(combo.ciphertext)
    assert opens(data, identity_of("kabid")) and not opens(data, identity_of("kasi"))
    assert combo.fingerprints == [office.keys["kabid"].fingerprint]


def test_a_backup_encrypts_register_snapshot_and_audit_segment_to_active_holders_only(
        office, tmp_path: Path) -> None:
    from brankas.core.disk.layout import RECIPIENTS, REGISTER_FULL, SNAPSHOT
    from brankas.web.backup.services import backup_run
    from brankas.web.documents.services import document_register

    document_register(actor=office.users["operator"], meta=exempted(),
                      files=[InputFile.from_bytes("a.pdf", make_pdf(text="cadangan"))])
    deactivate(office, "kabid")
    dest = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=dest, label="A")
    recovery = crypto.parse_identity(office.recovery_identity)
    for name in (f"backup/*/{REGISTER_FULL}", f"backup/*/{SNAPSHOT}", "audit/*.jsonl.age"):
        [path] = dest.glob(f"data/{name}")
        data = path.read_bytes()
        assert opens(data, identity_of("kasi")), name
        assert opens(data, recovery), name
        assert not opens(data, identity_of("kabid")), name
    [listed] = dest.glob(f"data/backup/*/{RECIPIENTS}")
    text = listed.read_text()
    assert office.keys["kasi"].recipient in text
    assert office.keys["kabid"].recipient not in text


def test_the_laptops_recipients_file_lists_the_active_keys(office) -> None:
    from brankas.web.keys.services import keys_write_files

    deactivate(office, "kabid")
    keys_write_files()
    text = (office.home / "keys" / "recipients.txt").read_text()
    assert office.keys["kasi"].recipient in text
    assert office.keys["kabid"].recipient not in text
    assert office.office.recovery_recipient in text


# ---------------------------------------------------------------- readers after a grant


def fingerprints_of(readers) -> set[str]:  # type: ignore[no-untyped-def]
    return {r.fingerprint for r in readers.all()}


def test_a_grant_adds_the_key_to_the_active_readers_and_the_recovery_key(office) -> None:
    kasi, kabid = office.keys["kasi"], office.keys["kabid"]
    kadis = add_key(office.users["kadis"], "gunung tinggi awan putih senja")
    recovery = crypto.recipient_fingerprint(office.office.recovery_recipient)
    readers = recipients_adding([kasi.fingerprint, recovery], kadis, purpose=Purpose.DOCUMENT)
    assert fingerprints_of(readers) == {kasi.fingerprint, kadis.fingerprint, recovery}
    assert readers.age()[-1] == office.office.recovery_recipient
    assert kabid.fingerprint not in readers.holder_fingerprints()  # it did not read it before
    # the recovery key is added even when the file's record leaves it out
    readers = recipients_adding([kabid.fingerprint], kadis, purpose=Purpose.LETTER)
    assert fingerprints_of(readers) == {kabid.fingerprint, kadis.fingerprint, recovery}


def test_revoked_keys_and_inactive_users_drop_out_of_a_grant(office) -> None:
    kasi, kabid = office.keys["kasi"], office.keys["kabid"]
    kadis = add_key(office.users["kadis"], "gunung tinggi awan putih senja")
    revoke(office, "kabid")
    deactivate(office, "kasi")
    readers = recipients_adding([kasi.fingerprint, kabid.fingerprint], kadis,
                                purpose=Purpose.DOCUMENT)
    assert readers.holder_fingerprints() == [kadis.fingerprint]


def test_a_holder_who_renewed_their_key_reads_on_through_the_new_one(office) -> None:
    old = office.keys["kasi"]
    HolderKey.objects.filter(pk=old.pk).update(retired_at=timezone.now())
    new = add_key(office.users["kasi"], "lampu kota menyala di malam hari")
    readers = recipients_adding([old.fingerprint], office.keys["kabid"],
                                purpose=Purpose.DOCUMENT)
    assert readers.holder_fingerprints() == sorted([new.fingerprint,
                                                    office.keys["kabid"].fingerprint])


def test_a_grant_to_a_revoked_or_replaced_key_is_refused(office) -> None:
    kasi, kabid = office.keys["kasi"], office.keys["kabid"]
    revoke(office, "kabid")
    with pytest.raises(InvalidInput) as exc:
        recipients_adding([kasi.fingerprint], kabid, purpose=Purpose.DOCUMENT)
    assert exc.value.code == "key_revoked" and kabid.fingerprint in exc.value.message("en")
    HolderKey.objects.filter(pk=kasi.pk).update(retired_at=timezone.now())
    with pytest.raises(InvalidInput) as exc:
        recipients_adding([], kasi, purpose=Purpose.DOCUMENT)
    assert exc.value.code == "grant_no_key"


def test_a_combination_goes_only_to_the_roles_that_read_combinations(office) -> None:
    kasi, kabid = office.keys["kasi"], office.keys["kabid"]
    kadis = add_key(office.users["kadis"], "gunung tinggi awan putih senja")
    with pytest.raises(AccessDenied):  # the Kadis may not read combinations (default)
        recipients_adding([kabid.fingerprint], kadis, purpose=Purpose.COMBINATION)
    readers = recipients_adding([kasi.fingerprint], kabid, purpose=Purpose.COMBINATION)
    assert readers.holder_fingerprints() == [kabid.fingerprint]  # the Kasi may not either
