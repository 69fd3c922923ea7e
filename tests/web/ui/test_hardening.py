"""Web hardening: CSP and security headers, no inline script, CSRF, the idle timeout,
re-authentication before opening exempted content and exporting, and a production mode
that passes ``manage.py check --deploy``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import PASSWORDS
from tests.web.ui.conftest import register_directly, text_of

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "src" / "brankas" / "web"
# The shared templates, and each area's beside its views (web/ui/<area>/templates).
TEMPLATES = [WEB / "templates", *sorted(WEB.joinpath("ui").glob("*/templates"))]


def csp(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split(" ", 1)[1] if " " in part.strip() else ""
            for part in (p.strip() for p in header.split(";")) if part}


def test_pages_carry_a_strict_csp_and_security_headers(signed_in):
    r = signed_in("kabid").get("/documents/")
    policy = csp(r)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in r["Content-Security-Policy"]
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Referrer-Policy"] == "same-origin"
    assert r["X-Frame-Options"] == "DENY"
    assert r["Cross-Origin-Opener-Policy"] == "same-origin"


def test_only_the_pdf_view_may_be_framed_by_its_own_page(signed_in, office):
    doc = register_directly(office)
    r = signed_in("kabid").get(f"/documents/{doc.agenda}/pdf")
    assert r.status_code == 200
    assert csp(r)["frame-ancestors"] == "'self'" and r["X-Frame-Options"] == "SAMEORIGIN"


def test_templates_have_no_inline_script_style_or_handlers():
    offenders = []
    paths = [path for folder in TEMPLATES for path in folder.rglob("*.html")]
    assert len(paths) > len(list(TEMPLATES[0].rglob("*.html")))
    for path in paths:
        text = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=",
                        r"\son[a-z]+\s*=", r"javascript:"):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append(f"{path.name}: {pattern}")
    assert offenders == []


def test_csrf_is_enforced_on_every_form(office):
    client = Client(enforce_csrf_checks=True)
    client.force_login(office.users["operator"])
    for url in ("/documents/new/", "/backup/", "/logout/", "/reauth/", "/keys/"):
        assert client.post(url, {}).status_code == 403, url


def test_an_idle_session_ends_and_is_audited(signed_in, settings):
    from brankas.web.audit.models import AuditEvent
    from brankas.web.ui.security import LAST_SEEN

    client = signed_in("kasi")
    assert client.get("/documents/").status_code == 200
    session = client.session
    session[LAST_SEEN] = time.time() - settings.BRANKAS_SESSION_IDLE_SECONDS - 5
    session.save()
    r = client.get("/documents/")
    assert r.status_code == 302 and r["Location"].startswith("/login/?next=")
    assert client.get("/documents/").status_code == 302  # signed out for good
    entry = AuditEvent.objects.filter(action="auth.logout").latest("seq")
    assert (entry.actor, entry.detail["reason"]) == ("kasi", "idle")


def test_an_active_session_stays(signed_in):
    from brankas.web.ui.security import LAST_SEEN

    client = signed_in("kasi")
    session = client.session
    session[LAST_SEEN] = time.time() - 60
    session.save()
    assert client.get("/documents/").status_code == 200


def stale_password(client: Client) -> None:
    from brankas.web.ui.security import PASSWORD_AT

    session = client.session
    session[PASSWORD_AT] = time.time() - 6 * 60
    session.save()


def test_export_asks_for_the_password_again_after_five_minutes(signed_in, office):
    from brankas.web.audit.models import AuditEvent

    client = signed_in("kabid")
    assert client.get("/audit/export.csv").status_code == 200  # just signed in
    stale_password(client)
    r = client.get("/audit/export.csv?action=auth.")
    assert r.status_code == 302
    assert r["Location"] == "/reauth/?next=%2Faudit%2Fexport.csv%3Faction%3Dauth."
    page = client.get(r["Location"])
    assert "Konfirmasi kata sandi" in text_of(page)
    wrong = client.post("/reauth/", {"password": "salah-sekali", "next": "/audit/export.csv"})
    assert wrong.status_code == 200 and "kata sandi salah" in text_of(wrong)
    assert AuditEvent.objects.filter(actor="kabid", action="auth.login",
                                     outcome="failed").exists()
    ok = client.post("/reauth/", {"password": PASSWORDS["kabid"],
                                  "next": "/audit/export.csv?action=auth."})
    assert ok.status_code == 302 and ok["Location"] == "/audit/export.csv?action=auth."
    assert client.get(ok["Location"]).status_code == 200


def test_opening_an_exempted_document_asks_for_the_password_again(signed_in, office):
    doc = register_directly(office, classification="rahasia")
    client = signed_in("kabid")
    stale_password(client)
    r = client.post(f"/documents/{doc.agenda}/open", {"passphrase": "apa saja"})
    assert r.status_code == 302
    assert r["Location"] == f"/reauth/?next=%2Fdocuments%2F{doc.agenda}%2F"


def test_the_reauth_page_never_redirects_off_site(signed_in):
    client = signed_in("kabid")
    r = client.post("/reauth/", {"password": PASSWORDS["kabid"],
                                 "next": "https://evil.invalid/"})
    assert r.status_code == 302 and r["Location"] == "/"


@pytest.mark.parametrize("production", [True, False])
def test_production_settings_pass_the_deploy_check(tmp_path, production):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"DJANGO_SETTINGS_MODULE": "brankas.web.settings",
                "BRANKAS_HOME": str(tmp_path / "home"),
                "BRANKAS_ALLOWED_HOSTS": "brankas.kominfo.example.go.id"})
    if production:
        env["BRANKAS_PRODUCTION"] = "1"
    # Through Brankas's manage.py (the instance service prepares the data folder first:
    # importing the settings makes no secret).
    r = subprocess.run([sys.executable, "-m", "brankas.instance", "manage", "check", "--deploy",
                        "--fail-level", "WARNING"], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=120)
    if production:
        assert r.returncode == 0, r.stderr
        assert "no issues" in r.stdout
    else:  # the embedded default (plain HTTP on the office laptop) is not a deployment
        assert r.returncode != 0 and "security.W004" in r.stderr
