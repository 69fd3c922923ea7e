"""Sealed register fields on the web (issue 16), an outside review's findings: a page that
shows a revealed sealed value must not be kept by the browser's cache (a file on the same
laptop whose data folder the sealing protects)."""

from __future__ import annotations

import time

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


def test_the_key_is_per_session_and_the_typed_values_are_the_typists_once(
        sealed_doc, signed_in, office):  # noqa: F811
    """Found sound: a second session of the same holder does not share the unlocked key;
    signing out of one locks only its own; what a Sandiman typed is shown to them once,
    to nobody else, and not after its time."""
    from django.test import Client

    from brankas.web.documents import sealing

    def client_of(name: str) -> Client:  # a browser of its own (its own session)
        c = Client()
        c.force_login(office.users[name])
        return c

    doc, first, _s = sealed_doc
    assert MARKER in text_of(first)  # the confirmation, once
    one, two = client_of("kabid"), client_of("kabid")
    one.post("/sealed/unlock", {"passphrase": PASSPHRASES["kabid"]})
    assert MARKER in text_of(one.get(f"/documents/{doc.agenda}/"))
    assert MARKER not in text_of(two.get(f"/documents/{doc.agenda}/"))
    # Another user given the holder's token in their own session sees nothing.
    kasi = client_of("kasi")
    session = kasi.session
    session["brankas_sealed_token"] = one.session["brankas_sealed_token"]
    session.save()
    assert MARKER not in text_of(kasi.get(f"/documents/{doc.agenda}/"))
    two.post("/sealed/unlock", {"passphrase": PASSPHRASES["kabid"]})
    one.post("/logout/")
    assert MARKER in text_of(two.get(f"/documents/{doc.agenda}/"))
    # The typed values: not another user's, not twice, not after their time.
    token = sealing.remember_typed(user_id=office.users["operator"].pk, agenda=doc.agenda,
                                   values=TYPED)
    assert sealing.take_typed(token, user_id=office.users["kabid"].pk, agenda=doc.agenda) is None
    assert sealing.take_typed(token, user_id=office.users["operator"].pk,
                              agenda=doc.agenda) is None  # taken (and dropped) above
    token = sealing.remember_typed(user_id=office.users["operator"].pk, agenda=doc.agenda,
                                   values=TYPED)
    who, where, values, _expires = sealing._TYPED[token]
    sealing._TYPED[token] = (who, where, values, time.monotonic() - 1)  # its time passed
    assert sealing.take_typed(token, user_id=who, agenda=doc.agenda) is None


def test_the_request_register_form_marks_its_sealed_fields_sensitive(signed_in, office):
    """The letter-to-register form takes notes and attachments that are sealed, as the
    register form does: they are marked sensitive (never in an error report)."""
    from brankas.web.sendrequests.services import request_create

    req = request_create(actor=office.users["operator"], subject="Permintaan",
                         classification="rahasia", addressee="Gubernur")
    r = signed_in("operator").post(f"/requests/{req.pk}/register/",
                                   {"notes": f"Catatan {MARKER}", "attachments": "1 berkas"})
    marked = getattr(r.wsgi_request, "sensitive_post_parameters", ())
    assert {"notes", "attachments"} <= set(marked), r.status_code
