"""The request pages: the chain with a return, the pre-filled registration, the role rules
on the web, the dashboard's inbox and overdue warning, and an exempted web upload that
never reaches the disk in plaintext."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from brankas.web.documents.models import Document
from brankas.web.sendrequests.models import SendRequest
from tests.conftest import PASSPHRASES, make_pdf
from tests.web.ui.conftest import make_padded_pdf, text_of
from tests.web.ui.test_leak import SIZE, new_marker, own_tmp, scanner  # noqa: F401 (fixtures)


def create(client, *, classification="biasa", letter: bytes | None = None, **fields):  # type: ignore[no-untyped-def]
    data = {"subject": "Berita banjir", "classification": classification,
            "addressee": "BPBD Provinsi", "urgency": "sangat-segera",
            "requester_unit": "Setda", "requester_name": "Sekda", "notes": ""}
    data.update(fields)
    if letter is not None:
        data["letter"] = [SimpleUploadedFile("surat.pdf", letter)]
    return client.post("/requests/new/", data)


def test_the_chain_on_the_web(client, office):
    u = office.users
    letter = make_pdf(text="surat banjir")
    client.force_login(u["operator"])
    r = create(client, letter=letter)
    assert r.status_code == 302
    req = SendRequest.objects.get()
    assert r["Location"] == f"/requests/{req.pk}/"
    url = f"/requests/{req.pk}/"

    # The Kadis sees it waiting on the dashboard, and assigns the Kabid.
    client.force_login(u["kadis"])
    page = text_of(client.get("/"))
    assert 'id="request-inbox"' in page and "Berita banjir" in page
    assert client.post(url + "assign", {"to": "kabid", "note": "segera"}).status_code == 302
    assert 'id="request-inbox"' not in text_of(client.get("/"))
    client.force_login(u["kabid"])
    assert client.post(url + "assign", {"to": "kasi"}).status_code == 302
    client.force_login(u["kasi"])
    # A return needs a reason; then it goes back to the Kabid, who sees the reason.
    r = client.post(url + "return", {"note": ""})
    assert r.status_code == 400
    assert client.post(url + "return", {"note": "Nomor telepon tidak ada"}).status_code == 302
    client.force_login(u["kabid"])
    page = text_of(client.get(url))
    assert 'id="returned"' in page and "Nomor telepon tidak ada" in page
    assert client.post(url + "assign", {"to": "kasi"}).status_code == 302
    client.force_login(u["kasi"])
    assert client.post(url + "assign", {"to": "operator"}).status_code == 302
    client.force_login(u["operator"])
    assert client.post(url + "receive", {"note": ""}).status_code == 302

    # The registration form is pre-filled from the request.
    page = text_of(client.get(url + "register/"))
    assert 'value="BPBD Provinsi"' in page and "Berita banjir" in page
    r = client.post(url + "register/", {"number": "", "doc_date": "1900-01-01",
                                        "correspondent": "BPBD Provinsi"})
    assert r.status_code == 400 and Document.objects.count() == 0
    r = client.post(url + "register/", {"number": "360/5/2026",
                                        "doc_date": timezone.localdate().isoformat(),
                                        "correspondent": "BPBD Provinsi"})
    assert r.status_code == 302, text_of(r)
    doc = Document.objects.get()
    assert doc.direction == "pengiriman" and doc.subject == "Berita banjir"
    assert (office.home / doc.stored_path).read_bytes() == letter
    page = text_of(client.get(url))
    assert f'href="/documents/{doc.agenda}/"' in page
    assert f'href="/requests/{req.pk}/" id="document-request"' in text_of(
        client.get(f"/documents/{doc.agenda}/"))

    assert client.post(url + "sent", {"channel": "JKS", "reference": "B-9"}).status_code == 302
    req.refresh_from_db()
    assert req.state == "terkirim" and req.document == doc and req.reference == "B-9"
    page = text_of(client.get("/requests/?show=all"))
    assert "Terkirim" in page


def test_roles_on_the_web(client, office):
    u = office.users
    client.force_login(u["operator"])
    create(client)
    req = SendRequest.objects.get()
    url = f"/requests/{req.pk}/"
    for name in ("kabid", "kasi", "operator"):
        client.force_login(u[name])
        assert client.post(url + "assign", {"to": "kabid"}).status_code == 403
    client.force_login(u["admin"])
    assert client.get("/requests/").status_code == 403
    assert client.get("/requests/new/").status_code == 403
    client.force_login(u["kadis"])
    # The Kadis cannot skip the Kabid: the form says so beside the field.
    r = client.post(url + "assign", {"to": "kasi"})
    assert r.status_code == 400
    req.refresh_from_db()
    assert req.state == "diajukan"


def test_overdue_requests_are_flagged_on_the_dashboard(client, office, settings):
    client.force_login(office.users["kasi"])
    create(client)
    assert "longer than" not in text_of(client.get("/"))  # Indonesian by default
    SendRequest.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    page = text_of(client.get("/"))
    assert "lebih dari 24 jam" in page and "/requests/?show=overdue" in page
    assert "Berita banjir" in text_of(client.get("/requests/?show=overdue"))


@pytest.mark.slow  # walks the temporary folders for the plaintext
def test_exempted_web_upload_never_in_plaintext(client, office, scanner):  # noqa: F811
    marker = new_marker()
    pdf = make_padded_pdf(text=marker.decode(), size=SIZE)
    client.force_login(office.users["kadis"])
    r = create(client, classification="rahasia", letter=pdf)
    assert r.status_code == 302
    req = SendRequest.objects.get()
    assert req.letter_path.endswith(".pdf.age") and req.letter_size == len(pdf)
    assert scanner(marker) == []
    # The Kabid downloads it, decrypted in memory only.
    client.force_login(office.users["kabid"])
    r = client.post(f"/requests/{req.pk}/letter", {"passphrase": PASSPHRASES["kabid"]})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    assert b"".join(r.streaming_content) == pdf
    assert scanner(marker) == []
    # The Sandiman cannot.
    client.force_login(office.users["operator"])
    assert client.post(f"/requests/{req.pk}/letter", {}).status_code == 403


def test_request_pages_are_in_indonesian(client, office):
    """Every label of the request pages is translated: no msgid shows through."""
    from tests.web.ui.test_i18n import english_msgids

    english = english_msgids()
    client.force_login(office.users["kadis"])
    create(client, letter=make_pdf(text="x"))
    number = SendRequest.objects.get().pk
    for url in ("/", "/requests/", "/requests/new/", f"/requests/{number}/"):
        page = text_of(client.get(url))
        assert "Permintaan pengiriman" in page
        assert {m for m in english if f">{m}<" in page or f'"{m}"' in page} == set(), url
