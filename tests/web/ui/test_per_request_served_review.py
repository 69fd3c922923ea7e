"""Review (s24) of ``changes.per_request`` (17f617f) on a real ``brankas serve`` (waitress,
its threads reused from one request to the next): an admin and a Sandiman ask for the
dashboard at once, over and over, while the office is renamed by the CLI. Every page shows
what its user's role shows (nothing of the other user's), and the office as it was at
least when the request was sent (nothing kept from an earlier request)."""

from __future__ import annotations

import re
import sys
import threading
import time

import pytest

from tests.browser.conftest import serve
from tests.browser.test_server_buffers import Browserless
from tests.conftest import quick_key_making

pytestmark = [pytest.mark.slow, pytest.mark.process]

ADMIN = {"BRANKAS_USER": "admin", "BRANKAS_PASSWORD": "Admin-Pass-2026!"}


def _get(client: Browserless, path: str) -> str:
    with client.opener.open(client.url + path) as r:
        return r.read().decode()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="as the server tests")
def test_two_roles_at_once_on_reused_threads_see_their_own_and_the_current(
        tmp_path, django_db_setup) -> None:  # type: ignore[no-untyped-def]
    with serve(tmp_path, quick_keys=True) as server:
        with quick_key_making():
            for args, env in [
                (["init", "--office", "Dinas Nama-0", "--admin", "admin"],
                 {"BRANKAS_PASSWORD": ADMIN["BRANKAS_PASSWORD"]}),
                (["user", "add", "operator", "--role", "sandiman"],
                 {**ADMIN, "BRANKAS_NEW_PASSWORD": "Sandiman-Pass-2026!"})]:
                r = server.cli(*args, env=env)
                assert r.returncode == 0, r.stderr
        clients = {}
        for user, password in (("admin", ADMIN["BRANKAS_PASSWORD"]),
                               ("operator", "Sandiman-Pass-2026!")):
            c = Browserless(server.url)
            assert c.post("/login/", {"csrfmiddlewaretoken": c.token("/login/"),
                                      "username": user, "password": password}) == 302
            clients[user] = c
        # what only the admin's dashboard shows (the users' page): never on the Sandiman's
        assert 'href="/users/"' in _get(clients["admin"], "/")
        assert 'href="/users/"' not in _get(clients["operator"], "/")

        generation = [0]
        stop = threading.Event()
        wrong: list[str] = []
        seen = {"admin": 0, "operator": 0}

        def ask(user: str) -> None:
            while not stop.is_set():
                sent = generation[0]
                page = _get(clients[user], "/")
                names = [int(n) for n in re.findall(r"Dinas Nama-(\d+)", page)]
                if not names or min(names) < sent:
                    wrong.append(f"{user}: sent at {sent}, shows {names}")
                if ('href="/users/"' in page) != (user == "admin"):
                    wrong.append(f"{user}: the other role's page")
                seen[user] += 1

        threads = [threading.Thread(target=ask, args=(u,)) for u in
                   ("admin", "operator", "admin", "operator")]
        for t in threads:
            t.start()
        try:
            for n in range(1, 7):
                r = server.cli("office", "set", "--name", f"Dinas Nama-{n}", env=ADMIN)
                assert r.returncode == 0, r.stderr
                generation[0] = n  # committed: every request sent from now shows it
            # and a few more pages of each user after the last change, at least ten in all
            # (however few the renames' time let through on a loaded machine)
            before = dict(seen)
            deadline = time.monotonic() + 120
            while ((min(seen[u] - before[u] for u in seen) < 5 or min(seen.values()) < 10)
                   and time.monotonic() < deadline):
                time.sleep(0.1)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        assert not wrong, wrong[:10]
        assert min(seen.values()) >= 10, seen
