"""Review of issue 13: recovery share words typed into a web form are secrets. A refused
grant (one share mistyped) must not send the words back in the page (a textarea keeps
what was posted), nor may the page be cacheable."""

from __future__ import annotations

import pytest

from brankas.core import crypto
from brankas.core.keyring import shares as core_shares
from tests.web.ui.test_key_grant_pages import join_kabid2

pytestmark = pytest.mark.usefixtures("no_job_left_running")


def test_a_refused_grant_does_not_echo_the_shares(office, signed_in):  # type: ignore[no-untyped-def]
    join_kabid2(office)
    words = core_shares.split(crypto.parse_identity(office.recovery_identity), shares=5,
                              threshold=3)
    typo = words[2].split()
    typo[20] = "acid" if typo[20] != "acid" else "acne"
    text = "\n\n".join([words[0], words[1], " ".join(typo)])
    client = signed_in("admin")
    page = client.post("/keys/grant/", {"mode": "shares", "to": "kabid2", "shares": text})
    assert page.status_code == 400
    html = page.content.decode()
    # The two good shares are two of the three the key needs: never sent back.
    assert " ".join(words[0].split()[:6]) not in html
    assert " ".join(words[1].split()[:6]) not in html
    assert "no-store" in page.get("Cache-Control", "")
