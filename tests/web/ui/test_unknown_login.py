"""A password typed into the user-name field is kept nowhere: a failed sign-in for a name
that is no user's is recorded as ``unknown:<tag>`` in the audit log and in django-axes's
tables, and the page does not show it again; a real user's name is kept, and locks."""

from __future__ import annotations

from django.db import connection

from brankas.web.accounts.loginname import UNKNOWN_PREFIX, login_name
from brankas.web.audit.models import AuditEvent
from tests.conftest import PASSWORDS
from tests.web.ui.conftest import text_of


def sign_in(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": username, "password": password})


def database_text() -> str:
    """Every value of every table of the database, as text."""
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    parts.append(value.decode("utf-8", "replace") if isinstance(value, bytes)
                                 else str(value))
    return "\n".join(parts)


def test_a_password_typed_as_the_name_is_nowhere_in_the_database(client, office):
    typed = PASSWORDS["kadis"]
    r = sign_in(client, typed, "something else")
    assert r.status_code == 200 and "nama pengguna atau kata sandi salah" in text_of(r)
    assert typed not in r.content.decode()  # not shown again in the name field
    entry = AuditEvent.objects.get(action="auth.login", outcome="failed")
    assert entry.actor.startswith(UNKNOWN_PREFIX) and entry.actor == login_name(typed)
    assert typed not in database_text()
    from axes.models import AccessAttempt

    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [entry.actor]


def test_the_same_wrong_name_groups_and_locks_without_being_shown(client, office):
    typed = "Rahasia-Sekali-2026!"
    for _ in range(4):
        assert sign_in(client, typed, "x").status_code == 200
    r = sign_in(client, typed, "x")  # the fifth failure locks that (unknown) name
    assert r.status_code == 429 and typed not in r.content.decode()
    actors = set(AuditEvent.objects.filter(action="auth.login", outcome="failed")
                 .values_list("actor", flat=True))
    assert actors == {login_name(typed)}
    assert login_name("another wrong name") != login_name(typed)
    assert typed not in database_text()
    # Real users are not affected, and their own name is recorded.
    assert sign_in(client, "kasi", "wrong").status_code == 200
    assert AuditEvent.objects.filter(actor="kasi", outcome="failed").count() == 1
    assert sign_in(client, "kasi", PASSWORDS["kasi"]).status_code == 302


def test_the_page_empties_the_name_after_any_failure(client, office):
    r = sign_in(client, "operator", "wrong password")
    page = r.content.decode()
    assert 'name="username"' in page and 'value="operator"' not in page


def test_known_names_are_kept_and_nothing_stays_nothing(office):
    assert login_name("") == ""
    assert login_name("kabid") == "kabid"
    assert login_name("Kabid").startswith(UNKNOWN_PREFIX)  # as the sign-in matches: exactly
