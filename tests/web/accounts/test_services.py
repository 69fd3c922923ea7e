"""Setting up the office and adding users."""

from __future__ import annotations

import pytest

from brankas.core.errors import BrankasError
from brankas.web.accounts.models import User
from brankas.web.accounts.services import office_initialize, user_authenticate, user_create
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_verify


def test_office_initialize_twice_is_refused(office):
    with pytest.raises(BrankasError) as exc:
        office_initialize(office_name="Lagi", admin_username="admin2",
                          admin_password="Another-Pass-2026!")
    assert exc.value.code == "already_initialized"
    assert not User.objects.filter(username="admin2").exists()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"username": "x1", "role": "bupati"}, "role_invalid"),
        ({"username": "x2", "role": "kasi", "nip": "123"}, "field_invalid"),
        ({"username": "x3", "role": "kasi", "nip": "19800101200501100A"}, "field_invalid"),
        ({"username": "x4", "role": "kasi", "password": "12345"}, "password_invalid"),
        ({"username": "x5", "role": "kasi", "password": "password123"}, "password_invalid"),
        ({"username": "KASI", "role": "kasi"}, "user_exists"),
        ({"username": "  ", "role": "kasi"}, "field_required"),
    ],
)
def test_bad_user_input_is_refused_and_nothing_created(office, kwargs, code):
    before = User.objects.count()
    args = {"password": "Valid-Pass-2026!", **kwargs}
    with pytest.raises(BrankasError) as exc:
        user_create(actor=office.users["admin"], **args)
    assert exc.value.code == code
    assert User.objects.count() == before


def test_user_has_full_name_position_and_nip(office):
    u = user_create(actor=office.users["admin"], username="sandi2", role="sandiman",
                    password="Valid-Pass-2026!", full_name="Siti Aminah",
                    position="Sandiman Pelaksana", nip="1985 0202 201001 2003")
    u.refresh_from_db()
    assert (u.full_name, u.position, u.nip, u.role) == (
        "Siti Aminah", "Sandiman Pelaksana", "198502022010012003", "sandiman")
    assert u.password.startswith("md5$") or u.password.startswith("argon2")


def test_only_admin_adds_users(office):
    for name in ("operator", "kasi", "kabid", "kadis"):
        with pytest.raises(BrankasError) as exc:
            user_create(actor=office.users[name], username=f"new-{name}", role="kasi",
                        password="Valid-Pass-2026!")
        assert exc.value.code == "permission_denied"


def test_failed_logins_are_audited_and_lock(office, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        with pytest.raises(BrankasError):
            user_authenticate(username="kasi", password="nope")
    with pytest.raises(BrankasError) as exc:
        user_authenticate(username="kasi", password="Kasi-Pass-2026!x")
    assert exc.value.code == "auth_locked"
    failed = AuditEvent.objects.filter(action="auth.login", actor="kasi")
    assert failed.filter(outcome="failed").count() == settings.AXES_FAILURE_LIMIT
    assert failed.filter(outcome="denied").exists()
    assert audit_verify() is None


def test_default_hasher_is_argon2():
    from django.conf import settings

    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    assert hasher.algorithm == "argon2" and hasher.memory_cost == 19456


def test_successful_login_is_audited(office):
    user = user_authenticate(username="kabid", password="Kabid-Pass-2026!")
    assert user.username == "kabid"
    ev = AuditEvent.objects.filter(action="auth.login", actor="kabid").get()
    assert ev.outcome == "ok" and ev.detail["via"] == "brankas-cli"


def test_username_with_odd_characters_is_refused(office):
    with pytest.raises(BrankasError) as exc:
        user_create(actor=office.users["admin"], username="x<y>/z", role="kasi",
                    password="Valid-Pass-2026!")
    assert exc.value.code == "field_invalid"
    assert not User.objects.filter(username="x<y>/z").exists()


def test_a_failed_setup_leaves_no_office_and_can_be_retried(db, brankas_home, settings):
    """If the data folder cannot be laid out, nothing is committed (the recovery key's
    secret would otherwise be lost with an office that counts as set up)."""
    from brankas.web.accounts.models import Office

    (brankas_home / "arsip").write_bytes(b"a file where the archive folder should be")
    with pytest.raises(OSError):
        office_initialize(office_name="Dinas", admin_username="admin",
                          admin_password="Admin-Pass-2026!")
    assert not Office.objects.exists() and not User.objects.exists()
    (brankas_home / "arsip").unlink()
    result = office_initialize(office_name="Dinas", admin_username="admin",
                               admin_password="Admin-Pass-2026!")
    assert result.recovery_identity.startswith("AGE-SECRET-KEY-1")
    assert (brankas_home / "arsip" / "dikecualikan" / "penerimaan").is_dir()
