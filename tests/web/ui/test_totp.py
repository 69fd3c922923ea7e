"""The optional second factor for key holders (TOTP through django-otp): enrolment, then
the web sign-in and the command line ask for a current code."""

from __future__ import annotations

import base64
import re
import subprocess
import sys

import pytest
from django.test import Client
from django_otp.oath import totp

from tests.conftest import PASSWORDS
from tests.web.ui.conftest import text_of


def code(secret: str) -> str:
    return f"{totp(base64.b32decode(secret)):06d}"


def unthrottle(user) -> None:  # type: ignore[no-untyped-def]
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for device in TOTPDevice.objects.filter(user=user):
        device.throttle_reset()


def test_a_key_holder_enrols_and_then_needs_a_code_to_sign_in(signed_in, office):
    from brankas.web.audit.models import AuditEvent

    client = signed_in("kabid")
    assert "Aplikasi autentikator" in text_of(client.get("/keys/"))
    page = text_of(client.post("/account/authenticator/", {"step": "begin"}))
    secret = re.search(r'<code class="secret">([A-Z2-7=]+)</code>', page).group(1)  # type: ignore[union-attr]
    assert "otpauth://totp/" in page
    wrong = client.post("/account/authenticator/", {"step": "confirm", "code": "000000"
                                                    if code(secret) != "000000" else "111111"})
    assert "kode autentikator salah" in text_of(wrong)
    unthrottle(office.users["kabid"])  # django-otp slows down retries after a failure
    r = client.post("/account/authenticator/", {"step": "confirm", "code": code(secret)})
    assert r.status_code == 302
    assert AuditEvent.objects.filter(action="user.totp_enrol", actor="kabid").exists()

    fresh = Client()
    r = fresh.post("/login/", {"username": "kabid", "password": PASSWORDS["kabid"]})
    assert r.status_code == 302 and r["Location"].startswith("/login/code/")
    assert fresh.get("/documents/").status_code == 302  # not signed in yet
    bad = fresh.post("/login/code/", {"code": "12345x"})
    assert "kode autentikator salah" in text_of(bad)
    assert AuditEvent.objects.filter(actor="kabid", action="auth.login", outcome="failed",
                                     detail__reason="totp").exists()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=office.users["kabid"], confirmed=True)
    device.last_t = -1  # the code used at enrolment may be used again in this test
    device.save()
    unthrottle(office.users["kabid"])
    ok = fresh.post("/login/code/", {"code": code(secret)})
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert fresh.get("/documents/").status_code == 200


def test_a_user_without_a_code_signs_in_with_the_password_alone(office):
    client = Client()
    r = client.post("/login/", {"username": "kasi", "password": PASSWORDS["kasi"]})
    assert r.status_code == 302 and r["Location"] == "/"


def test_the_code_page_needs_the_password_first(client, office):
    assert client.get("/login/code/")["Location"] == "/login/"


@pytest.mark.parametrize("name", ["operator", "admin"])
def test_only_key_holders_enrol(signed_in, name):
    assert signed_in(name).post("/account/authenticator/", {"step": "begin"}).status_code == 403


def test_the_command_line_asks_for_the_code(office, tmp_path):
    """The CLI's sign-in goes through ``totp_check`` (tested here in-process on the same
    database; the subprocess CLI shares the code path in ``brankas.cli.auth``)."""
    from brankas.core.errors import AuthenticationFailed
    from brankas.web.accounts.totp import totp_check, totp_enrol_begin, totp_enrol_confirm

    kasi = office.users["kasi"]
    totp_check(user=kasi, token=None, via="brankas-cli")  # not enrolled: nothing asked
    secret = totp_enrol_begin(user=kasi).secret
    totp_enrol_confirm(user=kasi, token=code(secret))
    with pytest.raises(AuthenticationFailed) as info:
        totp_check(user=kasi, token=None, via="brankas-cli")
    assert info.value.code == "totp_required"
    with pytest.raises(AuthenticationFailed) as info:
        totp_check(user=kasi, token="999999" if code(secret) != "999999" else "888888",
                   via="brankas-cli")
    assert info.value.code == "totp_wrong"


def test_the_real_cli_refuses_a_holder_without_the_code(run_cli, cli_office, cli_home):
    script = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'brankas.web.settings'); django.setup()\n"
        "from brankas.web.accounts.models import User\n"
        "from brankas.web.accounts.totp import totp_enrol_begin, totp_enrol_confirm\n"
        "from django_otp.oath import totp\nimport base64\n"
        "u = User.objects.get(username='kabid'); s = totp_enrol_begin(user=u).secret\n"
        "totp_enrol_confirm(user=u, token=f'{totp(base64.b32decode(s)):06d}'); print(s)\n"
    )
    env = {"BRANKAS_HOME": str(cli_home), "PATH": "/usr/bin:/bin"}
    import os

    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    r = run_cli("list", user="kabid")
    assert r.returncode == 1 and "authenticator" in r.stderr
    r = run_cli("list", user="kabid", env={"BRANKAS_TOTP": "000000"})
    assert r.returncode == 1
    assert run_cli("list", user="kasi").returncode == 0
