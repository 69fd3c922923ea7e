"""Safes, combinations and disk custody through the services (real SQLite, real disks in
temporary folders): the role rules, the sequence rules, and the reminders."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from brankas.core.errors import AccessDenied, BrankasError, Conflict, CryptoFailure
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.audit.models import AuditEvent
from brankas.web.backup.models import BackupRun, Medium
from brankas.web.backup.selectors import backup_status
from brankas.web.backup.services import backup_run
from brankas.web.custody.models import CustodyMove, MediumCustody, Safe, SafeCombination
from brankas.web.custody.selectors import custody_warnings, return_reminder
from brankas.web.custody.services import (
    medium_move,
    safe_add,
    safe_combinations_read,
    safe_set_combination,
)
from brankas.web.documents.services import document_register
from tests.conftest import PASSPHRASES, make_pdf

MARKER = "KOMBINASI-31-07-44"


def combos(office, name: str = "Brankas-A", combination: str = MARKER) -> Safe:  # type: ignore[no-untyped-def]
    return safe_add(actor=office.users["operator"], name=name, location="Ruang Sandi",
                    combination=combination)


def read(office, who: str = "kabid", **kwargs):  # type: ignore[no-untyped-def]
    return safe_combinations_read(actor=office.users[who], passphrase=PASSPHRASES[who],
                                  **kwargs)


def register(office, subject: str) -> None:  # type: ignore[no-untyped-def]
    meta = metadata.build(direction="pengiriman", classification="biasa", number="1",
                          doc_date="2026-11-20", subject=subject, correspondent="Sekda")
    document_register(actor=office.users["operator"], meta=meta,
                      files=[InputFile.from_bytes("a.pdf", make_pdf(text=subject))])


# -- combinations ---------------------------------------------------------------------------

def test_a_combination_is_stored_only_encrypted_and_only_the_kabid_reads_it(office) -> None:  # type: ignore[no-untyped-def]
    combos(office)
    stored = SafeCombination.objects.get()
    assert MARKER.encode() not in bytes(stored.ciphertext)
    assert bytes(stored.ciphertext).startswith(b"age-encryption.org/v1")
    assert stored.fingerprints == [office.keys["kabid"].fingerprint]
    [entry] = read(office, name="brankas-a")  # names match without regard to case
    assert entry.combination == MARKER and entry.current
    for who in ("operator", "kasi", "kadis", "admin"):
        with pytest.raises(AccessDenied):
            safe_combinations_read(actor=office.users[who], passphrase="x", name="Brankas-A")
    # Audited, never with the number itself.
    views = AuditEvent.objects.filter(action="safe.combination.view")
    assert [e.actor for e in views] == ["kabid"]
    assert not any(MARKER in str(e.detail) for e in AuditEvent.objects.all())


def test_the_recovery_key_opens_a_combination_with_the_age_tool(office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    combos(office)
    (tmp_path / "c.age").write_bytes(bytes(SafeCombination.objects.get().ciphertext))
    (tmp_path / "recovery.txt").write_text(office.recovery_identity + "\n")
    out = subprocess.run(["age", "-d", "-i", str(tmp_path / "recovery.txt"),
                          str(tmp_path / "c.age")], capture_output=True, check=True)
    assert out.stdout.decode() == MARKER


def test_a_wrong_passphrase_is_refused_and_audited(office) -> None:  # type: ignore[no-untyped-def]
    combos(office)
    with pytest.raises(CryptoFailure):
        safe_combinations_read(actor=office.users["kabid"], passphrase="salah sekali",
                               name="Brankas-A")
    failed = AuditEvent.objects.get(action="safe.combination.view")
    assert failed.outcome == "failed" and failed.actor == "kabid"


def test_who_manages_safes(office) -> None:  # type: ignore[no-untyped-def]
    for who in ("kasi", "kadis", "admin"):
        with pytest.raises(AccessDenied):
            safe_add(actor=office.users[who], name=f"S-{who}", location="x", combination="1")
    assert not Safe.objects.exists()
    safe_add(actor=office.users["kabid"], name="Brankas-K", location="Ruang Kabid",
             combination="1-2-3")
    with pytest.raises(Conflict):
        safe_add(actor=office.users["operator"], name="BRANKAS-K", location="x", combination="9")
    with pytest.raises(AccessDenied):
        safe_set_combination(actor=office.users["kasi"], name="Brankas-K", combination="4")
    assert SafeCombination.objects.count() == 1


@pytest.mark.parametrize("bad", ["", "   ", "12\n34", "x" * 101, "1\x002"])
def test_a_bad_combination_is_refused_and_nothing_is_stored(office, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BrankasError) as info:
        combos(office, combination=bad)
    assert info.value.code == "combination_invalid"
    assert not Safe.objects.exists() and not SafeCombination.objects.exists()


def test_a_new_combination_keeps_the_old_one_superseded(office) -> None:  # type: ignore[no-untyped-def]
    combos(office)
    safe_set_combination(actor=office.users["operator"], name="Brankas-A", combination="99-88")
    [current] = read(office, name="Brankas-A")
    assert current.combination == "99-88" and current.current
    both = read(office, name="Brankas-A", history=True)
    assert [(e.combination, e.current) for e in both] == [("99-88", True), (MARKER, False)]
    assert AuditEvent.objects.filter(action="safe.combination.set").count() == 1


def test_the_office_may_widen_the_readers_and_old_combinations_follow(office, settings) -> None:  # type: ignore[no-untyped-def]
    combos(office)  # encrypted to the Kabid only
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS,
                                           combination_roles=frozenset({"kabid", "kasi"}))
    with pytest.raises(AccessDenied) as info:  # the Kasi may now, but it is not for her key
        read(office, "kasi", name="Brankas-A")
    assert info.value.code == "combination_not_for_you"
    read(office, "kabid", name="Brankas-A")  # the Kabid opens it: re-encrypted to both
    assert sorted(SafeCombination.objects.get().fingerprints) == sorted(
        [office.keys["kabid"].fingerprint, office.keys["kasi"].fingerprint])
    assert read(office, "kasi", name="Brankas-A")[0].combination == MARKER


def test_no_allowed_holder_with_a_key_means_no_combination(office, settings) -> None:  # type: ignore[no-untyped-def]
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, combination_roles=frozenset({"kadis"}))
    with pytest.raises(BrankasError) as info:
        combos(office)
    assert info.value.code == "combination_no_holder" and "Kepala Dinas" in info.value.message()
    assert not Safe.objects.exists()


# -- disks ----------------------------------------------------------------------------------

def test_custody_sequence_with_backups(office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register(office, "Surat satu")
    combos(office)
    op = office.users["operator"]
    disk = tmp_path / "disk"
    first = backup_run(actor=op, dest=disk, label="D1")
    medium = first.medium
    assert MediumCustody.objects.get(medium=medium).state == "out"
    assert return_reminder(medium) == {"label": "D1", "safe": "Brankas-A",
                                       "command": 'brankas media checkin "D1" --safe "Brankas-A"'}

    medium_move(actor=op, medium="d1", move="checkin", safe="Brankas-A")
    assert return_reminder(medium) is None
    with pytest.raises(Conflict) as info:
        medium_move(actor=op, medium="D1", move="checkin", safe="Brankas-A")
    assert info.value.code == "medium_already_in_safe"

    before = sorted(p.relative_to(disk) for p in disk.rglob("*"))
    register(office, "Surat dua")
    with pytest.raises(Conflict) as info:
        backup_run(actor=op, dest=disk)
    assert info.value.code == "backup_medium_in_safe"
    assert sorted(p.relative_to(disk) for p in disk.rglob("*")) == before  # untouched
    assert BackupRun.objects.count() == 1
    refused = AuditEvent.objects.filter(action="backup.run").last()
    assert refused is not None and refused.outcome == "refused"

    with pytest.raises(BrankasError) as info:
        medium_move(actor=op, medium="D1", move="checkout")
    assert info.value.code == "custody_reason_required"
    medium_move(actor=op, medium="D1", move="checkout", reason="back up mingguan")
    backup_run(actor=op, dest=disk)
    medium_move(actor=op, medium=medium.medium_id[:8], move="retire", reason="sektor rusak")
    with pytest.raises(Conflict) as info:
        backup_run(actor=op, dest=disk)
    assert info.value.code == "backup_medium_retired"
    with pytest.raises(Conflict):
        medium_move(actor=op, medium="D1", move="checkout", reason="coba")

    moves = list(CustodyMove.objects.filter(medium=medium).values_list(
        "move", "from_state", "to_state", "actor__username"))
    assert moves == [("first_seen", "", "out", "operator"),
                     ("checkin", "out", "in_safe", "operator"),
                     ("checkout", "in_safe", "out", "operator"),
                     ("retire", "out", "retired", "operator")]
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="custody.")] == [
        "custody.checkin", "custody.checkout", "custody.retire"]


def test_only_the_sandiman_moves_disks(office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register(office, "Surat")
    backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="D1")
    combos(office)
    for who in ("kasi", "kabid", "kadis", "admin"):
        with pytest.raises(AccessDenied):
            medium_move(actor=office.users[who], medium="D1", move="checkin", safe="Brankas-A")
    assert CustodyMove.objects.count() == 1  # only first_seen


def test_a_retired_or_lost_disk_no_longer_counts_as_a_copy(office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    register(office, "Surat")
    op = office.users["operator"]
    backup_run(actor=op, dest=tmp_path / "d1", label="D1")
    backup_run(actor=op, dest=tmp_path / "d2", label="D2")
    assert backup_status().warnings == []
    medium_move(actor=op, medium="D2", move="lost", reason="tertinggal di kendaraan")
    assert backup_status().on_one_disk == 1
    medium_move(actor=op, medium="D1", move="retire", reason="rusak")
    assert backup_status().on_no_disk == 1


def test_reminders(office, tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    register(office, "Surat")
    op = office.users["operator"]
    combos(office)
    for label in ("D1", "D2"):
        backup_run(actor=op, dest=tmp_path / label, label=label)
    assert custody_warnings() == []
    later = timezone.now() + timedelta(hours=25)
    assert {(w.code, w.params["label"]) for w in custody_warnings(later)} == {
        ("out_too_long", "D1"), ("out_too_long", "D2")}
    for label in ("D1", "D2"):
        medium_move(actor=op, medium=label, move="checkin", safe="Brankas-A")
    assert [(w.code, w.params) for w in custody_warnings()] == [
        ("one_safe", {"safe": "Brankas-A"})]
    safe_add(actor=op, name="Brankas-B", location="Kantor Bupati", combination="5-5")
    medium_move(actor=op, medium="D2", move="checkout", reason="pindah")
    medium_move(actor=op, medium="D2", move="checkin", safe="Brankas-B")
    assert custody_warnings() == []
    half_year = timezone.now() + timedelta(days=200)
    assert {w.code for w in custody_warnings(half_year)} == {"not_verified"}
    Medium.objects.filter(label="D1").update(last_verified_at=timezone.now() + timedelta(days=190))
    assert [w.params["label"] for w in custody_warnings(half_year)] == ["D2"]
    medium_move(actor=op, medium="D2", move="lost", reason="hilang saat dipindah")
    assert [w.code for w in custody_warnings()] == ["lost"]


def test_the_recovery_identity_rewraps_combinations_for_a_new_kabid(office, settings) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.accounts.services import user_create
    from brankas.web.custody.services import safe_combinations_rewrap
    from tests.conftest import add_key

    combos(office)
    old_kabid = office.users["kabid"]
    old_kabid.is_active = False
    old_kabid.save()
    new = user_create(actor=office.users["admin"], username="kabid2", role="kabid",
                      password="Kabid2-Pass-2026!", full_name="Kabid Baru")
    add_key(new, "sungai jernih mengalir ke laut biru")
    with pytest.raises(AccessDenied) as info:
        safe_combinations_read(actor=new, passphrase="sungai jernih mengalir ke laut biru",
                               name="Brankas-A")
    assert info.value.code == "combination_not_for_you"
    from brankas.core import crypto

    for wrong, code in (("AGE-SECRET-KEY-1" + "Q" * 58, "field_invalid"),
                        (crypto.generate().identity, "recover_cannot_unlock")):
        with pytest.raises(BrankasError) as err:
            safe_combinations_rewrap(actor=office.users["operator"], recovery_identity=wrong)
        assert err.value.code == code
    assert safe_combinations_rewrap(actor=office.users["operator"],
                                    recovery_identity=office.recovery_identity) == 1
    [entry] = safe_combinations_read(actor=new, passphrase="sungai jernih mengalir ke laut biru",
                                     name="Brankas-A")
    assert entry.combination == MARKER
    assert list(AuditEvent.objects.filter(action="safe.combination.rewrap")
                .values_list("outcome", flat=True)) == ["failed", "ok"]


def test_a_first_backup_records_no_reason_in_either_language(office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The first backup to a disk wrote the system's own bilingual reason ("back up pertama /
    first backup"), shown as such on the disk's page and the custody record in both
    languages. It writes none now (the move's name says it), and an older row's text is
    shown in neither."""
    from brankas.web.custody.selectors import move_as_dict

    register(office, "Surat")
    backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="D1")
    first = CustodyMove.objects.get()
    assert (first.move, first.reason, first.reason_shown) == ("first_seen", "", "")
    CustodyMove.objects.filter(pk=first.pk).update(reason="back up pertama / first backup")
    first.refresh_from_db()
    assert first.reason_shown == "" and move_as_dict(first)["reason"] == ""
    combos(office)
    medium_move(actor=office.users["operator"], medium="D1", move="checkin",
                safe="Brankas-A", reason="kembali ke brankas")
    assert CustodyMove.objects.get(move="checkin").reason_shown == "kembali ke brankas"
