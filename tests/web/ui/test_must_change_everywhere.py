"""Review of issue 14: a user whose password the admin reset reaches no page but changing
it. Every route of the web interface is asked, by GET and by POST, as such a user (the
Kabid, who holds a key); only my account, signing in and out and the language switch
answer, every other one sends them to my account."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import get_resolver

from brankas.web.accounts.models import User
from brankas.web.ui.accounts.middleware import ALLOWED


def routes() -> list[tuple[str, str]]:
    """Every named route of the interface, its parameters filled with a sample value."""
    found = []
    for pattern in get_resolver("brankas.web.ui.urls").url_patterns:
        route = str(pattern.pattern)
        url = "/" + re.sub(r"<(?:(\w+):)?(\w+)>",
                           lambda m: "1" if m.group(1) == "int" else "x", route)
        found.append((f"ui:{pattern.name}", url))
    return found


def test_a_reset_password_keeps_every_other_page_closed(client: Client, office):  # type: ignore[no-untyped-def]
    kabid = User.objects.get(username="kabid")
    kabid.must_change_password = True
    kabid.save(update_fields=["must_change_password"])
    found = routes()
    assert len(found) > 60 and ("ui:user", "/users/x/") in found
    opened = []
    for name, url in found:
        for method in ("get", "post"):
            client.force_login(kabid)  # signing out (an allowed page) ends the session
            r = getattr(client, method)(url)
            if not (r.status_code == 302 and r["Location"] == "/account/"):
                opened.append(name)
    assert set(opened) <= ALLOWED
    assert "ui:account" in opened
