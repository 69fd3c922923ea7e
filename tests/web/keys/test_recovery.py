"""web.keys.recovery: splitting the office recovery key (admin only, the identity must be
this office's), checking a set of shares, rebuilding it for a use; every step and every
refusal audited, the words never."""

from __future__ import annotations

import json

import pytest

from brankas.core import crypto
from brankas.core.errors import AccessDenied, CryptoFailure, InvalidInput
from brankas.core.keyring import shares as core_shares
from brankas.web.audit.models import AuditEvent
from brankas.web.custody.models import SafeCombination
from brankas.web.custody.services import safe_add, safe_combinations_read, safe_combinations_rewrap
from brankas.web.keys.models import RecoverySplit
from brankas.web.keys.recovery import (
    recovery_check,
    recovery_split,
    shares_identity,
    split_sheets,
)
from tests.conftest import PASSPHRASES


def _split(office, n: int = 5, k: int = 3):  # type: ignore[no-untyped-def]
    return recovery_split(actor=office.users["admin"], identity_text=office.recovery_identity,
                          shares=n, threshold=k)


def _texts(result, numbers) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(f"share-{i}.txt", result.mnemonics[i - 1]) for i in numbers]


def _no_words_in_audit(mnemonics: list[str], identity: str) -> None:
    dumped = json.dumps([[e.action, e.target, e.detail] for e in AuditEvent.objects.all()])
    assert identity not in dumped
    for m in mnemonics:
        assert " ".join(m.split()[4:8]) not in dumped


def test_the_admin_splits_and_it_is_recorded_and_audited_without_words(office) -> None:
    result = _split(office)
    split = result.split
    assert len(result.mnemonics) == 5
    parsed = [core_shares.parse(str(i), m) for i, m in enumerate(result.mnemonics, start=1)]
    assert [p.number for p in parsed] == [1, 2, 3, 4, 5]
    assert {p.identifier for p in parsed} == {split.identifier}
    assert (split.shares, split.threshold, split.created_by) == (5, 3, office.users["admin"])
    assert split.recovery_fingerprint == crypto.recipient_fingerprint(
        office.office.recovery_recipient)
    assert split.last_checked_at is None
    ev = AuditEvent.objects.get(action="recovery.split")
    assert ev.actor == "admin" and ev.outcome == "ok"
    assert ev.detail == {"identifier": split.identifier, "shares": 5, "threshold": 3,
                         "recovery_fingerprint": split.recovery_fingerprint}
    _no_words_in_audit(result.mnemonics, office.recovery_identity)
    sheets = split_sheets(result, actor=office.users["admin"])
    assert [s.number for s in sheets] == [1, 2, 3, 4, 5]
    assert sheets[0].office == office.office.name and sheets[0].threshold == 3


@pytest.mark.parametrize("name", ["kabid", "kasi", "operator", "kadis"])
def test_only_the_admin_splits_and_a_refusal_is_audited(office, name) -> None:
    with pytest.raises(AccessDenied):
        recovery_split(actor=office.users[name], identity_text=office.recovery_identity,
                       shares=3, threshold=2)
    assert not RecoverySplit.objects.exists()
    ev = AuditEvent.objects.get(action="access.denied")
    assert ev.actor == name and ev.detail["action"] == "recovery-split"


def test_another_identity_is_not_split(office) -> None:
    other = crypto.generate().identity
    with pytest.raises(InvalidInput) as err:
        recovery_split(actor=office.users["admin"], identity_text=other, shares=3, threshold=2)
    assert err.value.code == "field_invalid"
    assert "recovery key" in err.value.message("en")
    assert not RecoverySplit.objects.exists()
    ev = AuditEvent.objects.get(action="recovery.split")
    assert ev.outcome == "failed" and ev.detail["error"] == "field_invalid"
    assert other not in json.dumps(ev.detail)


def test_bad_numbers_are_refused_and_audited(office) -> None:
    with pytest.raises(InvalidInput) as err:
        recovery_split(actor=office.users["admin"], identity_text=office.recovery_identity,
                       shares=3, threshold=4)
    assert err.value.code == "recovery_split_bad_numbers"
    assert AuditEvent.objects.get(action="recovery.split").outcome == "failed"


def test_check_three_of_five_gives_the_fingerprint_and_records_the_check(office) -> None:
    result = _split(office)
    fingerprint = recovery_check(actor=office.users["admin"], shares=_texts(result, (2, 4, 5)))
    assert fingerprint == crypto.recipient_fingerprint(office.office.recovery_recipient)
    result.split.refresh_from_db()
    assert result.split.last_checked_at is not None
    ev = AuditEvent.objects.get(action="recovery.check")
    assert ev.outcome == "ok" and ev.detail["identifier"] == result.split.identifier
    assert ev.detail["recorded_split"] is True
    _no_words_in_audit(result.mnemonics, office.recovery_identity)


def test_check_refusals_are_audited_and_name_the_file(office) -> None:
    result = _split(office)
    admin = office.users["admin"]
    with pytest.raises(InvalidInput) as err:
        recovery_check(actor=admin, shares=_texts(result, (1, 2)))
    assert err.value.code == "shares_too_few"
    words = result.mnemonics[2].split()
    words[10] = "acid" if words[10] != "acid" else "acne"
    with pytest.raises(InvalidInput) as err:
        recovery_check(actor=admin, shares=[*_texts(result, (1, 2)),
                                            ("bu-sari.txt", " ".join(words))])
    assert err.value.code == "share_checksum" and "bu-sari.txt" in err.value.message()
    failed = AuditEvent.objects.filter(action="recovery.check", outcome="failed")
    assert [e.detail["error"] for e in failed.order_by("seq")] == ["shares_too_few",
                                                                 "share_checksum"]
    result.split.refresh_from_db()
    assert result.split.last_checked_at is None


def test_shares_of_another_office_are_refused(office) -> None:
    other = core_shares.split(crypto.generate().identity, shares=3, threshold=2)
    with pytest.raises(CryptoFailure) as err:
        recovery_check(actor=office.users["admin"],
                       shares=[("a", other[0]), ("b", other[2])])
    assert err.value.code == "shares_wrong_office"
    assert err.value.params["expected"] == crypto.recipient_fingerprint(
        office.office.recovery_recipient)


@pytest.mark.parametrize("name", ["kabid", "operator"])
def test_only_the_admin_checks(office, name) -> None:
    result = _split(office)
    with pytest.raises(AccessDenied):
        recovery_check(actor=office.users[name], shares=_texts(result, (1, 2, 3)))
    assert AuditEvent.objects.filter(action="access.denied", actor=name).exists()


def test_shares_identity_rebuilds_the_office_key_and_audits_the_use(office) -> None:
    result = _split(office, 3, 2)
    identity = shares_identity(_texts(result, (3, 1)), actor=office.users["kabid"],
                               purpose="grant")
    assert str(identity) == office.recovery_identity
    ev = AuditEvent.objects.get(action="recovery.shares_used")
    assert (ev.actor, ev.target, ev.outcome) == ("kabid", "grant", "ok")
    result.split.refresh_from_db()
    assert result.split.last_checked_at is not None
    with pytest.raises(InvalidInput):
        shares_identity(_texts(result, (2,)))
    ev = AuditEvent.objects.filter(action="recovery.shares_used").order_by("-seq").first()
    assert ev.outcome == "failed" and ev.actor == "-" and ev.detail["error"] == "shares_too_few"


def test_a_second_split_is_recorded_and_both_still_work(office) -> None:
    first, second = _split(office), _split(office, 3, 2)
    assert first.split.identifier != second.split.identifier or \
        first.mnemonics[0] != second.mnemonics[0]
    assert RecoverySplit.objects.count() == 2
    admin = office.users["admin"]
    assert recovery_check(actor=admin, shares=_texts(first, (1, 2, 3))) == \
        recovery_check(actor=admin, shares=_texts(second, (1, 3)))
    mixed = [*_texts(first, (1, 2)), ("baru.txt", second.mnemonics[2])]
    with pytest.raises(InvalidInput) as err:
        recovery_check(actor=admin, shares=mixed)
    assert err.value.code == "shares_mixed"


def test_safe_rewrap_with_shares(office) -> None:
    kabid = office.users["kabid"]
    safe_add(actor=kabid, name="Brankas A", location="Ruang Sandi", combination="12-34-56")
    result = _split(office, 3, 2)
    count = safe_combinations_rewrap(actor=kabid, shares=_texts(result, (1, 3)))
    assert count == SafeCombination.objects.count() == 1
    [entry] = safe_combinations_read(actor=kabid, passphrase=PASSPHRASES["kabid"])
    assert entry.combination == "12-34-56"
    assert AuditEvent.objects.filter(action="recovery.shares_used",
                                     target="safe.combination.rewrap").exists()
    with pytest.raises(InvalidInput):
        safe_combinations_rewrap(actor=kabid, shares=_texts(result, (2,)))
