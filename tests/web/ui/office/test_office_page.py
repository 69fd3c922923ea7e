"""The office profile page (issue 14): the admin edits the letterhead, the logo and the
SOP sheet; the preview shows the letterhead; other roles are refused; a bad logo is named
beside its field and nothing is saved."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from brankas.web.accounts.models import Office
from brankas.web.audit.models import AuditEvent
from tests.web.ui.conftest import text_of

FIELDS = {"name": "Dinas Kominfo Bolmong", "government": "Pemerintah Kabupaten Bolaang Mongondow",
          "department": "Dinas Komunikasi dan Informatika",
          "division": "Bidang Persandian dan Statistik", "address": "Jl. Trans Sulawesi",
          "city": "Lolak", "phone": "", "email": "", "letterhead_extra": "", "place": "Lolak",
          "sop_number": "800/123/DKI/2025", "sop_made_on": "", "sop_revised_on": "",
          "sop_effective_on": "02/01/2025", "sop_approved_by": "Kepala Dinas"}


def _png(size=(60, 60), mode="RGBA") -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    Image.new(mode, size, (200, 10, 10, 255) if mode == "RGBA" else 1).save(out, format="PNG")
    return out.getvalue()


def test_the_admin_edits_the_profile_and_sees_the_letterhead(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin")
    page = text_of(client.get("/"))
    assert 'href="/office/"' in page  # in the admin's menu
    r = client.get("/office/")
    assert r.status_code == 200 and "Profil kantor" in text_of(r)
    logo = SimpleUploadedFile("logo.png", _png(), content_type="image/png")
    r = client.post("/office/", {**FIELDS, "logo": logo})
    assert r.status_code == 302, text_of(r)
    office_row = Office.objects.get()
    assert office_row.place == "Lolak" and str(office_row.sop_effective_on) == "2025-01-02"
    [entry] = AuditEvent.objects.filter(action="office.update")
    assert entry.actor == "admin" and entry.detail["changed"]["sop_number"] == [
        "", "800/123/DKI/2025"]
    assert entry.detail["changed"]["logo"][0] is None
    page = text_of(client.get("/office/"))
    assert "PEMERINTAH KABUPATEN BOLAANG MONGONDOW" in page
    assert "SOP Nomor 800/123/DKI/2025 tanggal 2 Januari 2025" in page
    assert 'src="/office/logo.png"' in page
    r = client.get("/office/logo.png")
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    # saved again unchanged: nothing to record
    assert client.post("/office/", FIELDS).status_code == 302
    assert AuditEvent.objects.filter(action="office.update").count() == 1


def test_a_bad_logo_is_refused_beside_its_field(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("admin")
    bomb = SimpleUploadedFile("besar.png", _png((5000, 5000), mode="1"),
                              content_type="image/png")
    r = client.post("/office/", {**FIELDS, "logo": bomb})
    assert r.status_code == 400 and "logo terlalu besar" in text_of(r)
    text = SimpleUploadedFile("logo.png", b"GIF89a not really", content_type="image/png")
    r = client.post("/office/", {**FIELDS, "logo": text})
    assert r.status_code == 400 and "PNG atau JPEG" in text_of(r)
    r = client.post("/office/", {**FIELDS, "email": "bukan"})
    assert r.status_code == 400 and "bukan alamat pos-el" in text_of(r)
    assert not AuditEvent.objects.filter(action="office.update").exists()
    assert Office.objects.get().place == ""


def test_other_roles_may_not_edit_the_profile(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    for name in ("kadis", "kabid", "kasi", "operator"):
        client = signed_in(name)
        assert 'href="/office/"' not in text_of(client.get("/"))
        assert client.get("/office/").status_code == 403
        assert client.post("/office/", FIELDS).status_code == 403
        assert client.get("/office/logo.png").status_code == 403
    assert Office.objects.get().place == ""
