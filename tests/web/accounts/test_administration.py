"""User administration (issue 14): every rule and refusal of the services, and the audit
entries they leave. Real SQLite, real keys and real age: a deactivated key holder is
checked by decrypting what is encrypted next with the real identities."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from brankas.core import crypto
from brankas.core.errors import AccessDenied, AuthenticationFailed, BrankasError
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.accounts import lockout
from brankas.web.accounts.administration import (
    password_change,
    password_reset,
    qualification_record,
    qualification_withdraw,
    user_activate,
    user_deactivate,
    user_set_role,
    user_unlock,
)
from brankas.web.accounts.models import Qualification, User
from brankas.web.accounts.selectors import unqualified_sandimans, user_state
from brankas.web.accounts.services import user_authenticate, user_create
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_verify
from brankas.web.keys.models import HolderKey
from tests.conftest import PASSPHRASES, PASSWORDS, make_pdf, quick_protected_identity
from tests.identities import opens

NEW_PASSWORD = "Ganti-Sandi-2026!"


def last(action: str) -> AuditEvent:
    event = AuditEvent.objects.filter(action=action).order_by("-seq").first()
    assert event is not None, action
    return event


def refused(code: str, fn, **kwargs) -> BrankasError:  # type: ignore[no-untyped-def]
    with pytest.raises(BrankasError) as exc:
        fn(**kwargs)
    assert exc.value.code == code
    return exc.value


def identity_of(name: str):  # type: ignore[no-untyped-def]
    return crypto.parse_identity(quick_protected_identity(PASSPHRASES[name])[0])


def register_exempted(office):  # type: ignore[no-untyped-def]
    from brankas.web.documents.services import document_register

    meta = metadata.build(direction="penerimaan", classification="rahasia", number="1",
                          doc_date="2026-11-20", subject="Surat rahasia", correspondent="Sekda")
    doc = document_register(actor=office.users["operator"], meta=meta,
                            files=[InputFile.from_bytes("a.pdf", make_pdf(text="rahasia"))],
                            allow_duplicate=True)
    return (office.home / doc.stored_path).read_bytes()


# ---------------------------------------------------------------- who may

@pytest.mark.parametrize("name", ["operator", "kasi", "kabid", "kadis"])
def test_only_the_admin_administers_users_and_each_refusal_is_audited(office, name):
    user = office.users[name]
    attempts = [
        (user_deactivate, {"username": "kadis"}),
        (user_activate, {"username": "kadis"}),
        (user_set_role, {"username": "kadis", "role": "kabid"}),
        (password_reset, {"username": "kadis", "new_password": NEW_PASSWORD}),
        (user_unlock, {"username": "kadis"}),
        (qualification_record, {"username": "operator", "training": "Diklat Sandiman",
                                "passed_on": "2025-01-01"}),
        (qualification_withdraw, {"username": "operator", "number": 1}),
    ]
    for fn, kwargs in attempts:
        before = AuditEvent.objects.filter(action="access.denied", actor=name).count()
        with pytest.raises(AccessDenied):
            fn(actor=user, **kwargs)
        assert AuditEvent.objects.filter(action="access.denied", actor=name).count() == before + 1
    kadis = User.objects.get(username="kadis")
    assert kadis.is_active and kadis.role == "kadis" and not kadis.must_change_password
    assert not Qualification.objects.exists()


# ---------------------------------------------------------------- deactivate, reactivate

def test_a_deactivated_user_keeps_their_history_and_cannot_sign_in(office):
    admin = office.users["admin"]
    register_exempted(office)  # the Sandiman's own entries in the log
    change = user_deactivate(actor=admin, username="operator")
    assert change.revoked is None  # the Sandiman holds no key
    operator = User.objects.get(username="operator")  # never deleted
    assert not operator.is_active
    assert AuditEvent.objects.filter(actor="operator").exists()  # their history stays
    entry = last("user.deactivate")
    assert (entry.actor, entry.target, entry.outcome) == ("admin", "operator", "ok")
    with pytest.raises(AuthenticationFailed) as exc:
        user_authenticate(username="operator", password=PASSWORDS["operator"])
    assert exc.value.code == "auth_failed"
    refused("user_already_inactive", user_deactivate, actor=admin, username="operator")
    user_activate(actor=admin, username="operator")
    assert last("user.activate").target == "operator"
    assert user_authenticate(username="operator", password=PASSWORDS["operator"]).is_active
    refused("user_already_active", user_activate, actor=admin, username="operator")
    assert audit_verify() is None


def test_the_admin_cannot_deactivate_themselves_nor_the_last_active_admin(office):
    admin = office.users["admin"]
    refused("user_self", user_deactivate, actor=admin, username="admin")
    entry = last("user.deactivate")
    assert entry.outcome == "failed" and entry.detail["error"] == "user_self"
    second = user_create(actor=admin, username="admin2", role="admin", password=NEW_PASSWORD)
    user_deactivate(actor=second, username="admin")  # another admin is left: admin2
    refused("user_last_admin", user_set_role, actor=second, username="admin2", role="kasi")
    refused("user_self", user_deactivate, actor=second, username="admin2")
    user_activate(actor=second, username="admin")
    user_deactivate(actor=User.objects.get(username="admin"), username="admin2")
    assert list(User.objects.filter(role="admin", is_active=True)
                .values_list("username", flat=True)) == ["admin"]


def test_the_last_admin_rule_counts_active_admins_only(office):
    admin = office.users["admin"]
    second = user_create(actor=admin, username="admin2", role="admin", password=NEW_PASSWORD)
    user_deactivate(actor=admin, username="admin2")
    # admin2 is inactive: admin is the last active one, whoever acts.
    refused("user_last_admin", user_set_role, actor=admin, username="admin", role="kadis")
    assert User.objects.get(username="admin").role == "admin"
    assert not User.objects.get(pk=second.pk).is_active


def test_deactivating_a_key_holder_revokes_their_key_and_they_receive_nothing(office):
    before = register_exempted(office)
    assert opens(before, identity_of("kabid"))
    change = user_deactivate(actor=office.users["admin"], username="kabid")
    assert change.revoked is not None
    assert change.revoked.newly_revoked == [office.keys["kabid"].fingerprint]
    assert change.revoked.still_opens == []  # no backup disk yet
    assert HolderKey.objects.get(pk=office.keys["kabid"].pk).revoked_at is not None
    assert last("key.revoke").target == "kabid"
    assert last("user.deactivate").detail["revoked_keys"] == [office.keys["kabid"].fingerprint]
    after = register_exempted(office)
    assert opens(after, identity_of("kasi")) and not opens(after, identity_of("kabid"))
    assert opens(after, crypto.parse_identity(office.recovery_identity))
    user_activate(actor=office.users["admin"], username="kabid")  # the key stays revoked
    again = register_exempted(office)
    assert not opens(again, identity_of("kabid")) and opens(again, identity_of("kasi"))


# ---------------------------------------------------------------- the role

def test_a_holder_moved_to_a_role_without_keys_is_revoked_between_holders_kept(office):
    admin = office.users["admin"]
    change = user_set_role(actor=admin, username="kasi", role="kabid")
    assert change.revoked is None and change.old_role == "kasi"
    assert HolderKey.objects.get(pk=office.keys["kasi"].pk).revoked_at is None
    entry = last("user.role")
    assert entry.detail["from"] == "kasi" and entry.detail["to"] == "kabid"
    change = user_set_role(actor=admin, username="kasi", role="sandiman")
    assert change.revoked is not None and change.user.role == "sandiman"
    assert HolderKey.objects.get(pk=office.keys["kasi"].pk).revoked_at is not None
    data = register_exempted(office)
    assert not opens(data, identity_of("kasi")) and opens(data, identity_of("kabid"))


def test_a_role_change_is_refused_when_nothing_changes_or_the_role_is_unknown(office):
    admin = office.users["admin"]
    refused("role_unchanged", user_set_role, actor=admin, username="kasi", role="kasi")
    refused("role_invalid", user_set_role, actor=admin, username="kasi", role="bupati")
    refused("user_not_found", user_set_role, actor=admin, username="nobody", role="kasi")
    assert User.objects.get(username="kasi").role == "kasi"
    assert last("user.role").outcome == "failed"


def test_an_admin_cannot_change_their_own_role_to_become_a_key_holder(office):
    """Review of issue 14: the admin holds no key and reads no secret. Changing one's own
    role (to Kabid, then making one's own key) would let an admin give themselves what the
    SOP keeps from them; another admin must do it, as for deactivating oneself."""
    admin = office.users["admin"]
    user_create(actor=admin, username="admin2", role="admin", password=NEW_PASSWORD)
    exc = refused("user_self", user_set_role, actor=admin, username="admin", role="kabid")
    assert "peran" in exc.message("id") and "role" in exc.message("en")
    assert User.objects.get(username="admin").role == "admin"
    entry = last("user.role")
    assert (entry.actor, entry.target, entry.outcome) == ("admin", "admin", "failed")
    assert entry.detail["error"] == "user_self"
    # Another admin may.
    user_set_role(actor=User.objects.get(username="admin2"), username="admin", role="kabid")
    assert User.objects.get(username="admin").role == "kabid"


def test_requests_held_by_a_deactivated_or_moved_user_wait_for_their_role(office):
    """Review of issue 14: a request assigned to a user waits for that user alone. Once
    they were deactivated (or given another role) nobody could ever move it again; it now
    waits for any active user of the role, and the release is audited."""
    from brankas.web.sendrequests import services as requests

    admin, kadis = office.users["admin"], office.users["kadis"]
    req = requests.request_create(actor=kadis, subject="Kirim berita", classification="biasa",
                                  addressee="Gubernur")
    requests.request_assign(actor=kadis, number=req.pk, assignee_username="kabid")
    kabid2 = user_create(actor=admin, username="kabid2", role="kabid", password=NEW_PASSWORD)
    user_deactivate(actor=admin, username="kabid")
    assert last("user.deactivate").detail["requests_released"] == [req.pk]
    requests.request_assign(actor=kabid2, number=req.pk, assignee_username="kasi")
    kasi2 = user_create(actor=admin, username="kasi2", role="kasi", password=NEW_PASSWORD)
    user_set_role(actor=admin, username="kasi", role="kadis")
    assert last("user.role").detail["requests_released"] == [req.pk]
    moved = requests.request_assign(actor=kasi2, number=req.pk, assignee_username="operator")
    assert moved.assignee == office.users["operator"]
    # Given back to a holder who has left: it waits for their role, not for them.
    user_deactivate(actor=admin, username="kasi2")
    back = requests.request_return(actor=office.users["operator"], number=req.pk,
                                   note="alamat kurang")
    assert back.state == "ditugaskan-kasi" and back.assignee is None
    kasi3 = user_create(actor=admin, username="kasi3", role="kasi", password=NEW_PASSWORD)
    requests.request_assign(actor=kasi3, number=req.pk, assignee_username="operator")
    assert audit_verify() is None


# ---------------------------------------------------------------- passwords

def test_a_reset_password_works_once_and_must_be_changed(office):
    admin = office.users["admin"]
    refused("password_invalid", password_reset, actor=admin, username="kasi",
            new_password="pendek")
    refused("user_self", password_reset, actor=admin, username="admin",
            new_password=NEW_PASSWORD)
    password_reset(actor=admin, username="kasi", new_password=NEW_PASSWORD)
    kasi = User.objects.get(username="kasi")
    assert kasi.must_change_password and kasi.check_password(NEW_PASSWORD)
    entry = last("user.password.reset")
    assert (entry.actor, entry.target, entry.outcome) == ("admin", "kasi", "ok")
    assert NEW_PASSWORD not in str(entry.detail)
    changed = password_change(username="kasi", old_password=NEW_PASSWORD,
                              new_password="Sandi-Baru-Kasi-2026", via="test")
    assert not changed.must_change_password
    assert last("user.password.change").detail["after_reset"] is True


def test_changing_ones_own_password_needs_the_old_one_and_a_strong_new_one(office):
    refused("auth_failed", password_change, username="kadis", old_password="salah",
            new_password=NEW_PASSWORD)
    assert last("auth.login").outcome == "failed"
    refused("password_same", password_change, username="kadis",
            old_password=PASSWORDS["kadis"], new_password=PASSWORDS["kadis"])
    refused("password_invalid", password_change, username="kadis",
            old_password=PASSWORDS["kadis"], new_password="12345678901")
    assert User.objects.get(username="kadis").check_password(PASSWORDS["kadis"])
    password_change(username="kadis", old_password=PASSWORDS["kadis"],
                    new_password=NEW_PASSWORD)
    assert User.objects.get(username="kadis").check_password(NEW_PASSWORD)
    entry = last("user.password.change")
    assert (entry.actor, entry.target, entry.outcome) == ("kadis", "kadis", "ok")


# ---------------------------------------------------------------- lock-outs

def test_the_admin_lifts_a_lock_out_through_django_axes(office, settings):
    admin = office.users["admin"]
    refused("user_not_locked", user_unlock, actor=admin, username="kadis")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        with pytest.raises(AuthenticationFailed):
            user_authenticate(username="kadis", password="salah")
    assert lockout.login_locked("kadis")
    assert user_state(actor=admin, username="kadis").locked
    assert user_unlock(actor=admin, username="kadis") == 1
    assert not AccessAttempt.objects.filter(username="kadis").exists()
    assert user_authenticate(username="kadis", password=PASSWORDS["kadis"]).username == "kadis"
    entry = last("user.unlock")
    assert entry.target == "kadis" and entry.detail["addresses"] == ["cli"]


def test_an_old_lock_out_is_over_and_not_listed(office, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        with pytest.raises(AuthenticationFailed):
            user_authenticate(username="kadis", password="salah")
    assert [lo.username for lo in lockout.lockouts()] == ["kadis"]
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(hours=1))
    assert lockout.lockouts() == []


# ---------------------------------------------------------------- qualifications

def test_a_qualification_is_recorded_and_withdrawn_never_edited(office):
    admin = office.users["admin"]
    assert [u.username for u in unqualified_sandimans()] == ["operator"]
    record = qualification_record(actor=admin, username="operator", training="Diklat Sandiman",
                                  certificate_number="123/DS/2025", passed_on="2025-03-14")
    assert (record.passed_on, record.recorded_by) == (dt.date(2025, 3, 14), admin)
    assert unqualified_sandimans() == []
    entry = last("user.qualify")
    assert entry.target == "operator" and entry.detail["certificate"] == "123/DS/2025"
    qualification_withdraw(actor=admin, username="operator", number=record.pk)
    record.refresh_from_db()
    assert record.withdrawn_at is not None and record.withdrawn_by == admin
    assert [u.username for u in unqualified_sandimans()] == ["operator"]
    refused("qualification_withdrawn", qualification_withdraw, actor=admin,
            username="operator", number=record.pk)
    refused("qualification_not_found", qualification_withdraw, actor=admin,
            username="kasi", number=record.pk)
    assert last("user.qualification.withdraw").outcome == "failed"


@pytest.mark.parametrize(("training", "passed_on", "code"), [
    ("", "2025-01-01", "field_required"),
    ("Diklat Sandiman", "2025-13-01", "qualification_date_invalid"),
    ("Diklat Sandiman", "kemarin", "qualification_date_invalid"),
    ("Diklat Sandiman", (dt.date.today() + dt.timedelta(days=2)).isoformat(),
     "qualification_date_invalid"),
    ("x" * 201, "2025-01-01", "field_too_long"),
])
def test_a_bad_qualification_is_refused_and_audited(office, training, passed_on, code):
    refused(code, qualification_record, actor=office.users["admin"], username="operator",
            training=training, passed_on=passed_on)
    assert not Qualification.objects.exists()
    assert last("user.qualify").detail["error"] == code


def test_an_inactive_sandiman_needs_no_qualification_warning(office):
    user_deactivate(actor=office.users["admin"], username="operator")
    assert unqualified_sandimans() == []
