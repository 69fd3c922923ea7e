"""Bahasa Indonesia first, English a full translation; the catalogue is complete and compiled."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from tests.web.ui.conftest import text_of

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "src" / "brankas" / "web"
PO = WEB / "locale" / "id" / "LC_MESSAGES" / "django.po"


@functools.cache
def english_msgids() -> frozenset[str]:
    """The catalogue's English texts a page must not show through on an Indonesian page
    (those whose translation differs, longer than 3 characters, without a placeholder or
    markup), read once per test process (the committed catalogue does not change in a run)."""
    catalogue = polib.pofile(str(PO))
    return frozenset(e.msgid for e in catalogue if e.msgid != e.msgstr and len(e.msgid) > 3
                     and "%(" not in e.msgid and "<" not in e.msgid)


def test_indonesian_by_default_english_on_request(signed_in):
    client = signed_in("operator")
    page = text_of(client.get("/documents/new/"))
    assert '<html lang="id">' in page
    assert "Daftarkan dokumen" in page and "Formulir input data" in page
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/documents/new/"})
    assert r.status_code == 302 and r["Location"] == "/documents/new/"
    page = text_of(client.get("/documents/new/"))
    assert '<html lang="en">' in page
    assert "Register a document" in page and "Data-input form" in page
    assert "Formulir input data" not in page
    # The official terms stay as they are in English.
    for term in ("Pengiriman", "Penerimaan", "Biasa", "Terbatas", "Rahasia", "Sangat Rahasia",
                 "Dikecualikan", "perihal"):
        assert term in page, term
    client.post("/i18n/setlang/", {"language": "id", "next": "/"})
    assert '<html lang="id">' in text_of(client.get("/"))


@pytest.mark.parametrize("url", ["/", "/documents/", "/documents/new/", "/keys/", "/users/",
                                 "/safes/", "/backup/media/", "/reports/"])
def test_no_english_left_on_indonesian_pages(client, office, url):
    """Every label of the page is translated: no msgid shows through."""
    english = english_msgids()
    user = "admin" if url == "/users/" else "operator"
    client.force_login(office.users[user])
    page = text_of(client.get(url))
    shown = {m for m in english if f">{m}<" in page or f'"{m}"' in page}
    assert shown == set()


def test_the_catalogue_is_complete_and_compiled():
    catalogue = polib.pofile(str(PO))
    assert catalogue.metadata["Language"] == "id"
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert all(e.msgstr.strip() or any(e.msgstr_plural.values()) for e in catalogue)
    check = subprocess.run([sys.executable, str(ROOT / "scripts" / "compile_messages.py"),
                            "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    """Extract the messages again (``makemessages``, into a copy) and compare the msgids."""
    tree = tmp_path / "web"
    shutil.copytree(WEB, tree, ignore=shutil.ignore_patterns("static", "__pycache__"))
    (tmp_path / "extract_settings.py").write_text(
        "from brankas.web.settings import *  # noqa\n"
        f"LOCALE_PATHS = [{str(tree / 'locale')!r}]\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "extract_settings",
           "BRANKAS_HOME": str(tmp_path / "home")}
    r = subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "id",
                        "--no-location", "--no-obsolete"],
                       cwd=tree, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    fresh = polib.pofile(str(tree / "locale" / "id" / "LC_MESSAGES" / "django.po"))
    committed = polib.pofile(str(PO))
    assert {e.msgid for e in fresh} == {e.msgid for e in committed}
