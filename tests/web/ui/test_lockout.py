"""One lockout for the web and the command line: django-axes's table, limit and cool-off.

The web's sign-in is counted by django-axes with its real request; a command-line sign-in
(no request) by ``accounts.lockout`` in the same table under the same name. Since issue 14
a lock-out is per name and source address (the command line's rows have none), so five
wrong passwords from one machine lock nobody out elsewhere. No service builds a request
for a caller that has none."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from brankas.core.errors import AuthenticationFailed
from brankas.web.accounts import lockout
from brankas.web.accounts.loginname import login_name
from brankas.web.accounts.services import user_authenticate
from tests import sources
from tests.conftest import PASSWORDS

SRC = Path(__file__).resolve().parents[3] / "src" / "brankas"


def sign_in(client, username: str, password: str, address: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


def fail_on_the_command_line(name: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed) as exc:
            user_authenticate(username=name, password="not the password")
        assert exc.value.code in {"auth_failed", "auth_locked"}


def test_command_line_failures_lock_the_command_line_not_the_web(client, office, settings):
    """Issue 14: a lock-out is per name AND source; the command line has no address."""
    fail_on_the_command_line("kasi", settings.AXES_FAILURE_LIMIT)
    assert lockout.login_locked("kasi")
    with pytest.raises(AuthenticationFailed) as exc:
        user_authenticate(username="kasi", password=PASSWORDS["kasi"])
    assert exc.value.code == "auth_locked"
    rows = list(AccessAttempt.objects.values_list("username", "ip_address", "user_agent"))
    assert rows == [("kasi", None, lockout.CLI_AGENT)]
    assert sign_in(client, "kasi", PASSWORDS["kasi"]).status_code == 302


def test_web_failures_from_one_address_lock_that_address_only(client, office, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert sign_in(client, "kadis", "wrong", "10.0.0.66").status_code in {200, 429}
    assert sign_in(client, "kadis", PASSWORDS["kadis"], "10.0.0.66").status_code == 429
    # The Kadis at their own desk, and on the command line, still sign in.
    assert sign_in(client, "kadis", PASSWORDS["kadis"], "10.0.0.5").status_code == 302
    assert user_authenticate(username="kadis", password=PASSWORDS["kadis"]).username == "kadis"
    locked = lockout.lockouts("kadis")
    assert [(lo.username, lo.address, lo.failures) for lo in locked] == [
        ("kadis", "10.0.0.66", settings.AXES_FAILURE_LIMIT)]


def test_the_limit_counts_one_source_and_a_sign_in_resets_it(client, office, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        sign_in(client, "kadis", "wrong")
    fail_on_the_command_line("kadis", limit - 1)
    assert not lockout.login_locked("kadis") and lockout.lockouts("kadis") == []
    assert sign_in(client, "kadis", PASSWORDS["kadis"]).status_code == 302  # resets its own
    assert list(AccessAttempt.objects.filter(username="kadis").values_list(
        "ip_address", flat=True)) == [None]
    fail_on_the_command_line("kadis", 1)
    assert lockout.login_locked("kadis")


def test_a_name_that_is_no_users_is_counted_under_its_tag(office, settings):
    typed = "Sandi-Rahasia-2026!"
    fail_on_the_command_line(typed, settings.AXES_FAILURE_LIMIT)
    tag = login_name(typed)
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [tag]
    assert lockout.login_locked(tag) and not lockout.login_locked(typed)


def test_failures_older_than_the_cool_off_no_longer_count(office, settings):
    fail_on_the_command_line("operator", settings.AXES_FAILURE_LIMIT)
    assert lockout.login_locked("operator")
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - timedelta(seconds=1))
    assert not lockout.login_locked("operator")
    assert user_authenticate(username="operator",
                             password=PASSWORDS["operator"]).username == "operator"
    fail_on_the_command_line("operator", 1)  # the old rows are dropped, one failure counts
    assert list(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == [1]


def test_another_lockout_setting_is_refused_not_counted_differently(office, settings):
    settings.AXES_LOCKOUT_PARAMETERS = ["username"]
    with pytest.raises(Exception, match="AXES_LOCKOUT_PARAMETERS"):
        lockout.login_locked("kasi")


def test_no_service_builds_an_http_request():
    """Only Django builds requests: nothing under src/ constructs an ``HttpRequest`` or a
    ``RequestFactory`` for a caller that has none."""
    made, names = [], ("HttpRequest", "RequestFactory", "WSGIRequest")
    for path, found in sources.nodes(SRC, containing=names):
        for node in found:
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in names:
                    made.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert made == []


def test_behind_the_proxy_the_address_is_the_one_it_appended(client, office, settings):
    """``BRANKAS_BEHIND_PROXY=1``: the last X-Forwarded-For address (the proxy's own
    addition), not what the client wrote before it; otherwise REMOTE_ADDR alone."""
    settings.BRANKAS_TRUST_FORWARDED_FOR = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "kadis", "password": "wrong"},
                    REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.168.7.9")
    assert [lo.address for lo in lockout.lockouts("kadis")] == ["192.168.7.9"]
    settings.BRANKAS_TRUST_FORWARDED_FOR = False
    r = client.post("/login/", {"username": "kabid", "password": "wrong"},
                    REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.168.7.9")
    assert r.status_code == 200
    assert set(AccessAttempt.objects.filter(username="kabid").values_list(
        "ip_address", flat=True)) == {"10.0.0.1"}


def test_each_failed_sign_in_is_audited_with_the_address_it_is_locked_by(client, office,
                                                                         settings):
    """Review of issue 14: the lock-out is per name and address, and docs/security.md says
    every failure is an audit entry with its source; the entry named the browser only, so
    once the lock-out expired (or was lifted) nothing told where the guesses came from."""
    from brankas.web.audit.models import AuditEvent

    sign_in(client, "kadis", "wrong", "10.0.0.66")
    settings.BRANKAS_TRUST_FORWARDED_FOR = True
    client.post("/login/", {"username": "kadis", "password": "wrong"},
                REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.168.7.9")
    sign_in(client, "kadis", PASSWORDS["kadis"], "10.0.0.5")
    fail_on_the_command_line("kadis", 1)
    rows = [(e.outcome, e.detail.get("address")) for e in
            AuditEvent.objects.filter(action="auth.login", actor="kadis").order_by("seq")]
    assert rows == [("failed", "10.0.0.66"), ("failed", "192.168.7.9"), ("ok", "10.0.0.5"),
                    ("failed", None)]
