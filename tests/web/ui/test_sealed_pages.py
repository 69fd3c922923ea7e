"""Sealed register fields on the web (issue 16): registration seals them (the confirmation
shows what was typed, once), other roles see "tersegel" on the list, the document page,
search, the request chain and reports; a key holder who unlocks their key sees and searches
them; the key lives in server memory only (never the session, a cookie or the database),
is locked at sign-out, on "lock" and after the idle time, and every unlock and lock is
audited. The database is scanned whole (every row, the session store and the audit log
included) with the data folder and the temporary folders; with sealing off, the same scan
finds the marker (the control)."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASES, make_pdf
from tests.leakscan import SHARED_TEMP, scan_for
from tests.web.ui.conftest import post_register, text_of

MARKER = "ZQXSEGELWEB"
TYPED = {"subject": f"Perihal {MARKER}-S", "notes": f"Catatan {MARKER}-N",
         "attachments": f"Lampiran {MARKER}-A"}


def database_text() -> str:
    """Every row of every table, as SQL text (the test database, in memory)."""
    from django.db import connection

    connection.ensure_connection()
    return "\n".join(connection.connection.iterdump())


def files_with(marker: str, home: Path, started: float, *, shared: bool = True) -> list[Path]:
    roots = [home, *((Path(tempfile.gettempdir()), *SHARED_TEMP) if shared else ())]
    return scan_for(marker.encode(), roots, since=started - 1,
                    exclude=(Path(__file__).resolve().parent,))


def register_secret(client, **extra):  # type: ignore[no-untyped-def]
    return post_register(client, [("surat.pdf", make_pdf(text="isi surat rahasia"))],
                         classification="rahasia", **TYPED, **extra)


@pytest.fixture
def sealed_doc(signed_in, office):  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document

    started = time.time()
    client = signed_in("operator")
    r = register_secret(client)
    assert r.status_code == 302, r.content[:500]
    doc = Document.objects.get()
    assert r["Location"] == f"/documents/{doc.agenda}/"
    assert MARKER not in database_text()  # the session holds a token, the values are in memory
    return doc, client.get(r["Location"]), started


@pytest.mark.slow  # walks the shared temporary folders
def test_registration_seals_and_the_confirmation_shows_what_was_typed(sealed_doc, office,
                                                                      signed_in):
    doc, confirmation, started = sealed_doc
    page = text_of(confirmation)
    assert all(v in page for v in TYPED.values())  # the confirmation, once
    assert confirmation["Cache-Control"] == "no-store"
    assert (doc.subject, doc.notes, doc.attachments) == ("", "", "")
    assert set(doc.sealed) == {"subject", "notes", "attachments"}
    assert doc.correspondent  # readable unless configured
    assert MARKER not in database_text()
    assert files_with(MARKER, office.home, started) == []
    # The same user, on the page again: sealed (and nothing of it kept in the session).
    again = text_of(signed_in("operator").get(f"/documents/{doc.agenda}/"))
    assert MARKER not in again and "tersegel" in again
    assert MARKER not in database_text()


def test_the_registration_keeps_nothing_in_clear(sealed_doc, office) -> None:
    """The quick half of the slow test above: the database and the data folder."""
    doc, _r, started = sealed_doc
    assert doc.subject == "" and MARKER not in database_text()
    assert files_with(MARKER, office.home, started, shared=False) == []


def test_control_with_sealing_off_the_scan_finds_the_marker(signed_in, office, settings):
    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, sealed_fields=frozenset())
    r = register_secret(signed_in("operator"))
    assert r.status_code == 302
    assert MARKER in database_text()


def test_other_roles_see_tersegel(sealed_doc, signed_in):  # type: ignore[no-untyped-def]
    """Each role in turn on the one sealed document (registered once: each role only reads)."""
    doc, _r, _s = sealed_doc
    for name in ("operator", "kadis", "admin", "kabid"):
        client = signed_in(name)
        listing = ""
        for url in ("/documents/", f"/documents/{doc.agenda}/"):
            r = client.get(url)
            assert r.status_code == 200, (name, url)
            assert MARKER not in text_of(r), (name, url)
            listing = listing or text_of(r)
        assert "tersegel" in listing and doc.agenda in listing, name
        # A search by a sealed word finds nothing for a locked key (the box echoes the words).
        for q in (MARKER, "tersegel"):
            r = client.get(f"/documents/?q={q}")
            assert r.status_code == 200 and doc.agenda not in text_of(r), (name, q)


def test_a_holder_unlocks_sees_searches_and_locks(sealed_doc, signed_in, office):
    from brankas.web.audit.models import AuditEvent
    from brankas.web.documents import sealing

    doc, _r, started = sealed_doc
    client = signed_in("kabid")
    # A wrong passphrase: nothing unlocked, audited as denied.
    client.post("/sealed/unlock", {"passphrase": "salah sekali bukan ini", "next": "/documents/"})
    assert MARKER not in text_of(client.get(f"/documents/{doc.agenda}/"))
    r = client.post("/sealed/unlock", {"passphrase": PASSPHRASES["kabid"],
                                       "next": "/documents/"})
    assert r.status_code == 302 and r["Location"] == "/documents/"
    page = text_of(client.get(f"/documents/{doc.agenda}/"))
    assert all(v in page for v in TYPED.values())
    assert TYPED["subject"] in text_of(client.get("/documents/"))
    found = text_of(client.get(f"/documents/?q={MARKER.lower()}-s"))
    assert doc.agenda in found and TYPED["subject"] in found
    # Nothing of it in the session store, a cookie or any row: the key is in memory only.
    text = database_text()
    assert MARKER not in text and PASSPHRASES["kabid"] not in text
    assert all(MARKER not in c.value and "AGE-SECRET" not in c.value
               for c in client.cookies.values())
    assert files_with(MARKER, office.home, started, shared=False) == []
    # Lock: sealed again.
    client.post("/sealed/lock", {"next": "/documents/"})
    assert MARKER not in text_of(client.get(f"/documents/{doc.agenda}/"))
    # Unlock again, then sign out: the key is forgotten.
    before = sealing.unlocked_count()
    client.post("/sealed/unlock", {"passphrase": PASSPHRASES["kabid"]})
    assert sealing.unlocked_count() == before + 1
    client.post("/logout/")
    assert sealing.unlocked_count() == before
    entries = list(AuditEvent.objects.filter(action__startswith="sealed.")
                   .values_list("action", "outcome", "detail"))
    assert [(a, o) for a, o, _d in entries] == [
        ("sealed.unlock", "denied"), ("sealed.unlock", "ok"), ("sealed.lock", "ok"),
        ("sealed.unlock", "ok"), ("sealed.lock", "ok")]
    assert [d["reason"] for a, _o, d in entries if a == "sealed.lock"] == ["lock", "sign-out"]


def test_an_idle_key_is_locked(sealed_doc, signed_in):
    from brankas.web.audit.models import AuditEvent
    from brankas.web.documents import sealing

    doc, _r, _s = sealed_doc
    client = signed_in("kabid")
    client.post("/sealed/unlock", {"passphrase": PASSPHRASES["kabid"]})
    assert MARKER in text_of(client.get(f"/documents/{doc.agenda}/"))
    token = client.session["brankas_sealed_token"]
    key = sealing._KEYS[token]
    key.last_used -= key.idle_seconds + 1  # as if left idle past BRANKAS_UNLOCK_IDLE_MINUTES
    assert MARKER not in text_of(client.get(f"/documents/{doc.agenda}/"))
    assert token not in sealing._KEYS and key.identities == [] and not key.cache
    assert AuditEvent.objects.filter(action="sealed.lock", detail__reason="idle").exists()


def test_a_role_without_a_key_may_not_unlock(sealed_doc, signed_in):
    from brankas.web.audit.models import AuditEvent

    r = signed_in("operator").post("/sealed/unlock", {"passphrase": "apa saja di sini"})
    assert r.status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", detail__action="unseal").exists()


def test_the_request_chain_keeps_the_subject_sealed(signed_in, office):
    from brankas.web.documents.models import Document
    from brankas.web.sendrequests.models import SendRequest
    from brankas.web.sendrequests.services import request_create

    req = request_create(actor=office.users["operator"], subject=f"Permintaan {MARKER}-R",
                         classification="rahasia", addressee="Gubernur",
                         notes=f"Catatan {MARKER}-RN")
    req = SendRequest.objects.get(pk=req.pk)
    assert (req.subject, req.notes) == ("", "") and set(req.sealed) == {"subject", "notes"}
    assert req.addressee == "Gubernur"
    for name in ("kadis", "operator"):
        client = signed_in(name)
        for url in ("/requests/?show=all", f"/requests/{req.pk}/"):
            r = client.get(url)
            assert r.status_code == 200 and MARKER not in text_of(r)
            assert "tersegel" in text_of(r)
    assert f'href="/requests/{req.pk}/"' not in text_of(
        signed_in("kasi").get(f"/requests/?show=all&q={MARKER}"))  # locked: not searched
    client = signed_in("kasi")
    client.post("/sealed/unlock", {"passphrase": PASSPHRASES["kasi"]})
    assert f"Permintaan {MARKER}-R" in text_of(client.get(f"/requests/{req.pk}/"))
    found = text_of(client.get(f"/requests/?show=all&q={MARKER.lower()}-r"))
    assert f"Permintaan {MARKER}-R" in found
    assert MARKER not in database_text()
    assert not Document.objects.exists()
