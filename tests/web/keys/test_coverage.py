"""Who can open each exempted file (``key_coverage``), and the dashboard's key warnings
(``key_warnings``): exact answers for documents and letters whose recipients name current,
replaced, revoked and inactive holders' keys, each warning with ``now`` fixed, and a
coverage of 20,000 documents read in a fixed handful of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.paginator import Paginator
from django.utils import timezone

from brankas.core.errors import AccessDenied
from brankas.web.audit.models import AuditEvent
from brankas.web.keys.coverage import key_coverage_view
from brankas.web.keys.models import RecoverySplit
from brankas.web.keys.selectors import (
    Coverage,
    KeyWarning,
    Opener,
    key_coverage,
    key_warnings,
    months_between,
    recovery_only_counts,
)
from tests.web.keys.coverage_data import documents, fake_key, letter, recovery_fp


def _holders(row) -> list[tuple[str, bool]]:  # type: ignore[no-untyped-def]
    return [(h.username, h.current) for h in row.holders]


@pytest.fixture
def mixed(office):  # type: ignore[no-untyped-def]
    """Kasi and Kabid hold active keys (the office fixture); Kasi also an older, replaced
    key; the Kadis a revoked key; a former Kabid, no longer active, a key."""
    from brankas.web.accounts.services import user_create

    users = office.users
    now = timezone.now()
    old = fake_key(users["kasi"], retired_at=now)
    revoked = fake_key(users["kadis"], revoked_at=now, revoked_by=users["admin"])
    former = user_create(actor=users["admin"], username="kabidlama", role="kabid",
                         password="Sawah-Hijau-Pagi-2026!", full_name="Kabid Lama")
    gone = fake_key(former)
    former.is_active = False
    former.save(update_fields=["is_active"])
    kasi, kabid = office.keys["kasi"].fingerprint, office.keys["kabid"].fingerprint
    rec = recovery_fp(office)
    op = users["operator"]
    docs = documents(op, [
        [kasi, kabid, rec],  # 0: both holders
        [old.fingerprint, rec],  # 1: Kasi, through the replaced key
        [old.fingerprint, kasi, rec],  # 2: Kasi, through the current key
        [revoked.fingerprint, rec],  # 3: recovery only
        [gone.fingerprint, rec],  # 4: recovery only
        ["0123456789abcdef", rec],  # 5: a key no longer on record: recovery only
        [kabid],  # 6: Kabid, and not the recovery key
    ])
    biasa = documents(op, [[]], classification="biasa")
    letters = [letter(op, [kabid, rec]), letter(op, [revoked.fingerprint, rec]),
               letter(op, [], classification="biasa"), letter(op, None)]
    return {"docs": docs, "biasa": biasa, "letters": letters, "rec": rec,
            "revoked": revoked, "old": old, "former": former}


def test_coverage_names_the_active_holders_of_each_file(office, mixed) -> None:
    rows = list(key_coverage(actor=office.users["kabid"]))
    by_label = {r.label: r for r in rows}
    docs, letters = mixed["docs"], mixed["letters"]
    assert set(by_label) == {d.agenda for d in docs} | {f"P-{letters[0].pk}",
                                                       f"P-{letters[1].pk}"}
    expected = [[("kabid", True), ("kasi", True)], [("kasi", False)], [("kasi", True)], [], [],
                [], [("kabid", True)]]
    assert [_holders(by_label[d.agenda]) for d in docs] == expected
    assert [by_label[d.agenda].recovery_only for d in docs] == [False] * 3 + [True] * 3 + [False]
    assert [by_label[d.agenda].recovery for d in docs] == [True] * 6 + [False]
    assert _holders(by_label[f"P-{letters[0].pk}"]) == [("kabid", True)]
    assert by_label[f"P-{letters[1].pk}"].recovery_only
    assert {r.kind for r in rows[:7]} == {"document"} and {r.kind for r in rows[7:]} == {"letter"}
    assert by_label[docs[0].agenda].holders[1] == Opener("kasi", "Kasi Test", "kasi", True)
    assert by_label[docs[0].agenda].classification == "rahasia"


def test_the_recovery_only_filter_and_its_counts_agree(office, mixed) -> None:
    coverage = key_coverage(actor=office.users["admin"], recovery_only=True)
    docs, letters = mixed["docs"], mixed["letters"]
    assert sorted(r.label for r in coverage) == sorted(
        [d.agenda for d in docs[3:6]] + [f"P-{letters[1].pk}"])
    assert coverage.count() == 4
    assert recovery_only_counts() == (3, 1)


def test_pages_of_the_coverage_cross_from_documents_to_letters(office, mixed) -> None:
    coverage = key_coverage(actor=office.users["kasi"])
    everything = [r.label for r in coverage]
    pages = Paginator(coverage, 3)
    assert pages.count == 9 and pages.num_pages == 3
    assert [r.label for n in pages.page_range for r in pages.page(n)] == everything
    assert [r.label for r in coverage[6:9]] == everything[6:9]  # two documents, a letter


def test_only_the_holders_and_the_admin_see_it_and_viewing_is_audited(office, mixed) -> None:
    with pytest.raises(AccessDenied):
        key_coverage(actor=office.users["operator"], via="cli")
    denied = AuditEvent.objects.filter(action="access.denied", actor="operator").last()
    assert denied.detail["action"] == "view-key-coverage"
    key_coverage_view(actor=office.users["kadis"], via="web", target="/keys/coverage/",
                      recovery_only=True)
    entry = AuditEvent.objects.filter(action="key.coverage").get()
    assert (entry.actor, entry.target, entry.detail) == (
        "kadis", "/keys/coverage/", {"via": "web", "recovery_only": True})


def test_a_registered_document_is_covered_by_every_active_holder(office) -> None:
    from tests.web.ui.conftest import register_directly

    doc = register_directly(office, classification="rahasia")
    (row,) = key_coverage(actor=office.users["admin"])
    assert (row.label, _holders(row), row.recovery) == (doc.agenda,
                                                        [("kabid", True), ("kasi", True)], True)


@pytest.mark.slow  # 4,000 inserts
def test_coverage_of_4000_documents_takes_a_fixed_number_of_queries(
        office, django_assert_max_num_queries) -> None:
    """A query a row would be thousands here (20,000 documents before s20: a fifth of the
    inserts, the same bound on the queries)."""
    kasi, rec = office.keys["kasi"].fingerprint, recovery_fp(office)
    revoked = fake_key(office.users["kadis"], revoked_at=timezone.now())
    documents(office.users["operator"],
              [[kasi, rec] if n % 4 else [revoked.fingerprint, rec] for n in range(4_000)])
    with django_assert_max_num_queries(4):  # keys, the office, documents, letters
        rows = list(key_coverage(actor=office.users["kasi"]))
    assert len(rows) == 4_000
    assert sum(r.recovery_only for r in rows) == 1_000
    with django_assert_max_num_queries(3):  # keys, documents grouped, letters grouped
        assert recovery_only_counts() == (1_000, 0)
    with django_assert_max_num_queries(8):
        page = Paginator(Coverage(recovery_only=True), 50).page(20)  # the last one
    assert len(page.object_list) == 50 and all(r.recovery_only for r in page.object_list)


# ---------------------------------------------------------------- warnings

NOW = dt.datetime(2027, 6, 15, 9, 0, tzinfo=dt.UTC)


def _codes(warnings: list[KeyWarning]) -> list[str]:
    return [w.code for w in warnings]


def _split(office, *, created: dt.datetime, checked: dt.datetime | None = None):  # type: ignore[no-untyped-def]
    split = RecoverySplit.objects.create(identifier=1234, threshold=3, shares=5,
                                         recovery_fingerprint=recovery_fp(office),
                                         last_checked_at=checked)
    RecoverySplit.objects.filter(pk=split.pk).update(created_at=created)  # auto_now_add
    return split


def _checked(office, when: dt.datetime) -> None:
    from brankas.web.keys.models import HolderKey

    HolderKey.objects.filter(pk__in=[k.pk for k in office.keys.values()]).update(
        last_checked_at=when)


def test_a_fresh_office_warns_of_no_recovery_split_and_of_nothing_else(office) -> None:
    _checked(office, NOW - dt.timedelta(days=2))
    assert key_warnings(now=NOW) == [KeyWarning("no_recovery_split")]


def test_a_split_of_another_recovery_key_does_not_count(office) -> None:
    _checked(office, NOW)
    RecoverySplit.objects.create(identifier=1, threshold=2, shares=3,
                                 recovery_fingerprint="ffffffffffffffff")
    assert _codes(key_warnings(now=NOW)) == ["no_recovery_split"]


def test_documents_only_the_recovery_key_opens_are_counted(office, mixed) -> None:
    _checked(office, NOW)
    _split(office, created=NOW - dt.timedelta(days=10))
    assert key_warnings(now=NOW) == [KeyWarning("documents_recovery_only",
                                                {"count": 4, "documents": 3, "letters": 1})]


def test_a_holder_who_has_not_proved_the_passphrase_for_six_months(office, settings) -> None:
    from brankas.web.keys.models import HolderKey

    _split(office, created=NOW - dt.timedelta(days=10))
    kasi, kabid = office.keys["kasi"], office.keys["kabid"]
    checked = dt.datetime(2026, 12, 15, 9, 0, tzinfo=dt.UTC)  # six months before NOW
    HolderKey.objects.filter(pk=kasi.pk).update(last_checked_at=checked)
    HolderKey.objects.filter(pk=kabid.pk).update(created_at=checked + dt.timedelta(minutes=1))
    (warning,) = key_warnings(now=NOW)
    assert warning == KeyWarning("key_unchecked", {"username": "kasi", "full_name": "Kasi Test",
                                                   "months": 6, "since": checked,
                                                   "never": False})
    # Kabid never checked: counted from the key's creation, one minute short of six months.
    later = key_warnings(now=NOW + dt.timedelta(minutes=1))
    assert [(w.params["username"], w.params["never"]) for w in later] == [
        ("kabid", True), ("kasi", False)]
    settings.BRANKAS = settings.BRANKAS.__class__(**{**vars(settings.BRANKAS),
                                                     "key_check_months": 7})
    assert key_warnings(now=NOW + dt.timedelta(minutes=1)) == []


def test_a_revoked_or_replaced_key_needs_no_check(office, mixed) -> None:
    from brankas.web.keys.models import HolderKey

    _split(office, created=NOW)
    HolderKey.objects.update(last_checked_at=NOW - dt.timedelta(days=400))
    HolderKey.objects.filter(pk=office.keys["kabid"].pk).update(last_checked_at=NOW)
    unchecked = [w.params["username"] for w in key_warnings(now=NOW)
                 if w.code == "key_unchecked"]
    assert unchecked == ["kasi"]  # not the Kadis (revoked), the former Kabid, Kasi's old key


def test_the_last_share_check_older_than_a_year(office) -> None:
    _checked(office, NOW)
    _split(office, created=NOW - dt.timedelta(days=800),
           checked=NOW - dt.timedelta(days=366))
    assert key_warnings(now=NOW) == [KeyWarning("recovery_check_old", {
        "days": 366, "since": NOW - dt.timedelta(days=366), "never": False})]
    RecoverySplit.objects.update(last_checked_at=NOW - dt.timedelta(days=364))
    assert key_warnings(now=NOW) == []


def test_a_split_never_checked_counts_from_its_making(office) -> None:
    _checked(office, NOW)
    _split(office, created=NOW - dt.timedelta(days=370))
    (warning,) = key_warnings(now=NOW)
    assert (warning.code, warning.params["days"], warning.params["never"]) == (
        "recovery_check_old", 370, True)


def test_a_newer_split_never_checked_is_said_so(office) -> None:
    _checked(office, NOW)
    _split(office, created=NOW - dt.timedelta(days=900), checked=NOW - dt.timedelta(days=800))
    _split(office, created=NOW - dt.timedelta(days=370))
    old = next(w for w in key_warnings(now=NOW) if w.code == "recovery_check_old")
    assert (old.params["days"], old.params["never"]) == (370, True)


def test_several_splits_warn_that_older_shares_still_work(office) -> None:
    _checked(office, NOW)
    _split(office, created=NOW - dt.timedelta(days=500), checked=NOW - dt.timedelta(days=400))
    _split(office, created=NOW - dt.timedelta(days=30))  # the newer split: checked recently
    assert key_warnings(now=NOW) == [KeyWarning("several_splits", {"count": 2})]


def test_no_office_no_warnings(db) -> None:
    assert key_warnings(now=NOW) == []


@pytest.mark.parametrize(("start", "end", "months"), [
    ((2026, 1, 31), (2026, 2, 28), 0), ((2026, 1, 31), (2026, 3, 1), 1),
    ((2026, 12, 15), (2027, 6, 15), 6), ((2026, 6, 15), (2026, 6, 1), 0),
])
def test_months_between_counts_whole_calendar_months(start, end, months) -> None:
    a, b = (dt.datetime(*d, 9, tzinfo=dt.UTC) for d in (start, end))
    assert months_between(a, b) == months
