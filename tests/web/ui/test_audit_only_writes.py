"""The audit-only writes the web and the command line share, each made by one service:
``document.view`` (``document_view``), ``backup.export`` (``control_list_export``) and the
refusal of an exempted document on the inline PDF route (``document_open(inline=True)``).
The entries are the same whichever interface asks: action, target, outcome and detail."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from brankas.core.errors import AccessDenied
from brankas.web.audit.models import AuditEvent
from tests.conftest import PASSPHRASES, make_pdf
from tests.web.ui.conftest import register_directly, text_of


def entries(action: str) -> list[dict]:  # type: ignore[type-arg]
    return list(AuditEvent.objects.filter(action=action).order_by("seq")
                .values("actor", "target", "outcome", "detail"))


def test_viewing_a_document_is_one_entry_per_view_with_its_interface(office) -> None:
    from brankas.web.documents.services import document_view

    doc = register_directly(office)
    for via in ("cli", "web"):
        assert document_view(actor=office.users["kadis"], agenda=doc.agenda, via=via) == doc
    assert entries("document.view") == [
        {"actor": "kadis", "target": doc.agenda, "outcome": "ok", "detail": {"via": "cli"}},
        {"actor": "kadis", "target": doc.agenda, "outcome": "ok", "detail": {"via": "web"}},
    ]


def test_the_document_page_writes_the_services_entry(signed_in, office) -> None:
    doc = register_directly(office)
    assert signed_in("kasi").get(f"/documents/{doc.agenda}/").status_code == 200
    assert entries("document.view") == [
        {"actor": "kasi", "target": doc.agenda, "outcome": "ok", "detail": {"via": "web"}}]


def test_the_inline_route_refuses_an_exempted_document_even_to_its_holder(office) -> None:
    from brankas.web.documents.services import document_open

    original = make_pdf(text="rahasia inline")
    doc = register_directly(office, classification="rahasia", pdf=original)
    out = io.BytesIO()
    with pytest.raises(AccessDenied) as exc:
        document_open(actor=office.users["kabid"], agenda=doc.agenda, dst=out,
                      passphrase=PASSPHRASES["kabid"], via="web", inline=True)
    assert exc.value.code == "exempted_via_pdf"
    assert out.getvalue() == b""
    assert entries("document.open") == [
        {"actor": "kabid", "target": doc.agenda, "outcome": "denied",
         "detail": {"error": "exempted_via_pdf", "via": "web", "classification": "rahasia"}}]
    # The same holder opens it the ordinary way (a download, with the passphrase).
    document_open(actor=office.users["kabid"], agenda=doc.agenda, dst=out,
                  passphrase=PASSPHRASES["kabid"], via="web")
    assert out.getvalue() == original


def test_a_biasa_document_opens_inline(office) -> None:
    from brankas.web.documents.services import document_open

    original = make_pdf(text="biasa inline")
    doc = register_directly(office, pdf=original)
    out = io.BytesIO()
    document_open(actor=office.users["operator"], agenda=doc.agenda, dst=out, via="web",
                  inline=True)
    assert out.getvalue() == original


@pytest.mark.parametrize(("lang", "text"), [
    ("id", "Dokumen ini Dikecualikan: hanya dapat dibuka dari halamannya, dengan frasa sandi "
           "kunci seorang pemegang kunci."),
    ("en", "This document is exempted: it opens only from its page, with the passphrase of a "
           "key holder&#x27;s key."),
])
def test_the_inline_route_shows_the_refusal_in_the_users_language(signed_in, office, lang,
                                                                   text) -> None:
    doc = register_directly(office, classification="terbatas")
    client = signed_in("kabid")
    client.post("/i18n/setlang/", {"language": lang, "next": "/"})
    r = client.get(f"/documents/{doc.agenda}/pdf")
    assert r.status_code == 403
    assert text in r.content.decode()
    assert entries("document.open")[-1] == {
        "actor": "kabid", "target": doc.agenda, "outcome": "denied",
        "detail": {"error": "exempted_via_pdf", "via": "web", "classification": "terbatas"}}


def test_exporting_a_control_list_is_one_entry_per_export_with_its_interface(
        office, tmp_path: Path) -> None:
    from brankas.web.backup.exports import control_list_export
    from brankas.web.backup.services import backup_run

    register_directly(office)
    run = backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="A").run
    kasi = office.users["kasi"]
    csv_web = control_list_export(actor=kasi, number=run.number, fmt="csv", via="web")
    csv_cli = control_list_export(actor=kasi, number=run.number, fmt="csv", via="cli",
                                  out="daftar.csv")
    assert csv_web == csv_cli and csv_web.strip()
    assert control_list_export(actor=kasi, number=run.number, fmt="xlsx",
                               via="web")[:2] == b"PK"
    target = str(run.number)
    assert entries("backup.export") == [
        {"actor": "kasi", "target": target, "outcome": "ok",
         "detail": {"format": "csv", "via": "web"}},
        {"actor": "kasi", "target": target, "outcome": "ok",
         "detail": {"format": "csv", "via": "cli", "out": "daftar.csv"}},
        {"actor": "kasi", "target": target, "outcome": "ok",
         "detail": {"format": "xlsx", "via": "web"}},
    ]


def test_the_control_list_download_writes_the_services_entry(signed_in, office,
                                                             tmp_path: Path) -> None:
    from brankas.web.backup.services import backup_run

    register_directly(office)
    run = backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="A").run
    client = signed_in("kadis")
    r = client.get(f"/backup/runs/{run.number}/export.csv")
    assert r.status_code == 200, text_of(r)
    assert r["Content-Disposition"] == (
        f'attachment; filename="daftar-kontrol-back-up-{run.number:04d}.csv"')
    assert entries("backup.export") == [
        {"actor": "kadis", "target": str(run.number), "outcome": "ok",
         "detail": {"format": "csv", "via": "web"}}]
