"""Sealed register fields on the web (issue 16), an outside review's findings: a page that
shows a revealed sealed value must not be kept by the browser's cache (a file on the same
laptop whose data folder the sealing protects)."""

from __future__ import annotations

from tests.conftest import PASSPHRASES
from tests.web.ui.test_sealed_pages import MARKER, TYPED, sealed_doc, text_of  # noqa: F401


def test_pages_showing_revealed_values_are_not_cached(sealed_doc, signed_in, office):  # noqa: F811
    from brankas.web.sendrequests.services import request_create

    doc, _r, _s = sealed_doc
    req = request_create(actor=office.users["operator"], subject=f"Permintaan {MARKER}-R",
                         classification="rahasia", addressee="Gubernur")
    client = signed_in("kabid")
    client.post("/sealed/unlock", {"passphrase": PASSPHRASES["kabid"]})
    for url in ("/documents/", f"/documents/?q={MARKER.lower()}-s", "/requests/?show=all",
                f"/requests/?show=all&q={MARKER.lower()}-r", f"/requests/{req.pk}/",
                f"/documents/{doc.agenda}/"):
        r = client.get(url)
        assert r.status_code == 200 and MARKER in text_of(r), url
        assert "no-store" in r.get("Cache-Control", ""), url
