"""The pages work offline: every asset ships with the package, nothing points elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[3] / "src" / "brankas" / "web"
REMOTE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def test_no_template_or_static_file_refers_to_a_remote_url():
    files = [*WEB.joinpath("templates").rglob("*.html"),
             *WEB.joinpath("ui").glob("*/templates/**/*.html"),
             *WEB.joinpath("static").rglob("*")]
    assert files
    offenders = {}
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8").replace(SVG_NAMESPACE, "")
        if found := REMOTE.findall(text):
            offenders[str(path.relative_to(WEB))] = found
    assert offenders == {}


def test_the_static_files_the_pages_use_exist(client, office):
    client.force_login(office.users["operator"])
    page = client.get("/documents/new/").content.decode()
    for ref in re.findall(r'(?:href|src)="/static/([^"]+)"', page):
        assert (WEB / "static" / ref).is_file(), ref
    assert "brankas/brankas.css" in page and "brankas/brankas.js" in page


def test_an_unknown_page_is_a_friendly_404(client, office):
    client.force_login(office.users["kasi"])
    r = client.get("/tidak-ada/")
    assert r.status_code == 404
    assert "Halaman ini tidak ada." in r.content.decode()


def test_an_expired_form_explains_itself(office):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    r = client.post("/login/", {"username": "kasi", "password": "x"})
    assert r.status_code == 403
    assert "Formulir sudah kedaluwarsa" in r.content.decode()
