"""Every page, in Bahasa Indonesia and in English, with no text of the other language.

The pages are found by walking ``brankas.web.ui.urls`` (a page added later is walked too):
each GET page is rendered by the test client as the first role that may see it, on an
office with real records (documents, requests at each step, backups, custody, a report
through the whole chain and one returned). What a reader sees (text and the attributes a
browser shows) is checked:

- in Indonesian: no untranslated msgid of the catalogue, and no English word of a list;
- in English: no Indonesian word of a list (official terms such as Sandiman, Biasa or NIP
  are allowed by name).

The records' own values (subjects, names, the office's name) are Indonesian in both
languages: they are taken out of the text before it is checked. A failure names the page
and the text found."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polib
import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver

from tests.conftest import office_once

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "src" / "brankas" / "web" / "locale" / "id" / "LC_MESSAGES" / "django.po"

ROLES = ("operator", "kasi", "kabid", "kadis", "admin")

# Pages that are not rendered here, and why.
NOT_PAGES = {
    "logout": "signs out and redirects",
    "set_language": "a POST that redirects",
    "setup": "the first-run page; the office exists already (redirects)",
    "login_code": "only between a password and a code (redirects otherwise)",
    "recover": "the first-run recover page; the office exists already (redirects)",
}
# Pages whose URL names a background job (in memory, per process): rendered with an unknown
# job, which is the page that says so.
JOB_PAGES = {"backup_job", "key_job"}

def _words(text: str) -> set[str]:
    return set(text.split())


# English words that are never Indonesian: one of them in the Indonesian interface is an
# untranslated message (or a value shown raw, e.g. a step name or a check mode).
ENGLISH = _words("""
the and or of to with for from not yes true false is are was be been has have this
that these those which who when where what your you our all any each every other another
add word words more less than then there here only also but because into onto over under
after before about above below between until since while during without within
submit submitted submitting return returned forward forwarded approve approved acknowledge
acknowledged draft drafted completed complete failed failure full sample verify verified
check checked checks intact problems problem missing changed unexpected
open opened close closed send sent receive received register registered assign assigned
request requests report reports document documents disks safe safes backups
user users key keys holder holders role roles password passphrase
date time day days hour hours minute minutes second seconds week month year
page pages next previous search show hide clear filter filters export download print
new edit save cancel delete remove update create created change
name number state step steps note notes detail details outcome action target
entry entries chain
ok denied refused running waiting done none
avoid repeated repeats sequences dates years common uncommon capitalization predictable
guess guessable easy hard strong weak patterns keyboard
""")

# Indonesian words that are never English: one of them in the English interface is a value
# or a label left in Indonesian.
INDONESIAN = _words("""
dan atau yang untuk dengan dari pada ke di tidak belum sudah akan telah oleh dalam
ini itu ada semua setiap lain baru lama
diajukan ditugaskan dikembalikan diteruskan disahkan diterima didaftarkan terkirim
kirim terima daftar tugaskan kembalikan teruskan sahkan
konsep naskah surat permintaan laporan berita pengguna kunci kata sandi frasa
tanggal waktu jam menit detik hari bulan tahun halaman
simpan batal hapus ubah cari tampilkan periksa unduh cetak
penuh sampel utuh bermasalah masalah hilang
berhasil gagal ditolak selesai berjalan menunggu
catatan rincian hasil tindakan sasaran langkah keadaan nomor
kolom wajib diisi sah tidak-sah digit
tambahkan kata lagi hindari urutan berulang
""")

# Official terms (stored values and labels) that stay as they are in English; the labels
# of brankas.core.terms (roles, classes, directions, urgencies) are added to these.
OFFICIAL = [
    "Sandiman", "Kasi", "Kabid", "Kadis", "Kepala Dinas", "Kepala Bidang", "Kepala Seksi",
    "NIP", "Diklat", "perihal", "agenda", "Brankas", "Naskah Dinas",
]
# Code the interface shows as code: action names (document.open), error codes
# (medium_in_safe), paths, commands.
CODE = re.compile(r"^(?:[a-z_]+(?:\.[a-z_*]+)+|[a-z]+(?:_[a-z0-9]+)+|/\S*|brankas [a-z].*|"
                  r"[A-Z_]+)$")


CODE_VALUE = re.compile(r"^[a-z_.-]+$")


def official_terms() -> list[str]:
    from brankas.core import terms

    labels = [*OFFICIAL]
    for table in (terms.ROLE_LABELS, terms.CLASSIFICATION_LABELS, terms.DIRECTION_LABELS,
                  terms.CATEGORY_LABELS, terms.URGENCY_LABELS,
                  terms.EQUIPMENT_KIND_LABELS, terms.CONDITION_LABELS):  # s17 E
        labels += table.values()
    return sorted(set(labels), key=len, reverse=True)


# ---------------------------------------------------------------- the office

def _records(office: SimpleNamespace, base: Path) -> dict[str, Any]:
    from brankas.web.audit.services import audit_record
    from brankas.web.reports import services as rep
    from brankas.web.sendrequests.services import request_create, request_return
    from tests.test_access_matrix import service_requests
    from tests.web.reports.conftest import SIGNING, _office_profile, generate_month
    from tests.web.ui.conftest import register_directly

    _office_profile(office)
    from django.db.models import Max

    from brankas.web.documents.models import AgendaCounter, Document

    month = generate_month(office, incoming=8, outgoing=6, previous=4)
    for row in Document.objects.values("year", "direction").annotate(last=Max("seq")):
        AgendaCounter.objects.update_or_create(year=row["year"], direction=row["direction"],
                                               defaults={"last": row["last"]})
    agenda = register_directly(office, subject="Undangan rapat").agenda
    secret = register_directly(office, subject="Rahasia", classification="rahasia").agenda
    requests = service_requests(office)
    declined = request_create(actor=office.users["kadis"], subject="Ditolak",
                              classification="biasa", addressee="Uji")
    request_return(actor=office.users["kadis"], number=declined.pk, note="Tidak perlu")
    users = office.users
    report = rep.report_create(actor=users["operator"], kind="messages", period="2026-05")
    n = report.number
    rep.report_submit(actor=users["operator"], number=n, passphrase=SIGNING["operator"])
    rep.report_return(actor=users["kasi"], number=n, note="Periode salah")
    rep.report_submit(actor=users["operator"], number=n, passphrase=SIGNING["operator"])
    rep.report_forward(actor=users["kasi"], number=n, summary="Ringkasan Kasi",
                       passphrase=SIGNING["kasi"])
    rep.report_approve(actor=users["kabid"], number=n, passphrase=SIGNING["kabid"])
    rep.report_acknowledge(actor=users["kadis"], number=n, passphrase=SIGNING["kadis"])
    backup = rep.report_create(actor=users["operator"], kind="backup", period="2026-05")
    audit_record(actor="operator", action="backup.run", target="/media/x", outcome="refused",
                 detail={"error": "medium_in_safe", "format": "pdf", "medium": None})
    return {"agenda": agenda, "secret": secret, "request": requests["assign-sandiman"],
            "report": n, "draft": backup.number, "medium": month.media[0].medium_id,
            "safe": month.safe.pk, "run": 1}


@pytest.fixture(scope="module")
def pages_office(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    with office_once(django_db_blocker, tmp_path_factory, _records) as template:
        yield template


@pytest.fixture
def office(pages_office, db, settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    return pages_office.copy_for(settings, tmp_path)


# ---------------------------------------------------------------- the pages

def _patterns(patterns: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for p in patterns:
        if isinstance(p, URLResolver):
            out += _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name:
            out.append((p.name, prefix + str(p.pattern)))
    return out


def ui_pages() -> list[tuple[str, str]]:
    from brankas.web.ui import urls

    return _patterns(urls.urlpatterns)


def _value(name: str, param: str, made: dict[str, Any]) -> str | None:
    if param == "agenda":
        return made["agenda"]
    if param == "medium_id":
        return made["medium"]
    if param == "safe_id":
        return str(made["safe"])
    if param == "job_id":
        return "0" * 32
    if param == "ref":  # s17 E: an equipment item (a known disk, listed without a record)
        return "disk:" + made["medium"]
    if param == "number":
        if name.startswith("report"):
            return str(made["report"])
        if name.startswith("request"):
            return str(made["request"])
        if name.startswith("backup_run"):
            return str(made["run"])
    return None  # a step, a format: not a page


def page_urls(made: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, path) of every page to render; a pattern whose parameters are not a page's
    (a step, a file format) is left out."""
    out = []
    for name, pattern in ui_pages():
        if name in NOT_PAGES:
            continue
        path, ok = pattern, True
        for param in re.findall(r"<(?:\w+:)?(\w+)>", pattern):
            value = _value(name, param, made)
            if value is None:
                ok = False
                break
            path = re.sub(rf"<(?:\w+:)?{param}>", value, path)
        if ok:
            out.append((name, "/" + path))
    return out


class _Visible(HTMLParser):
    """The text a reader sees: text outside script/style, and the attributes shown."""

    SHOWN = ("title", "placeholder", "aria-label", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        for key, value in attrs:
            if value and (key in self.SHOWN or (tag == "input" and key == "value" and
                                                 ("type", "submit") in attrs)):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return parser.parts


def _data_values() -> list[str]:
    """Every text the records hold (Indonesian in both languages), longest first."""
    from django.apps import apps
    from django.db import models

    values: set[str] = set()
    for model in apps.get_models():
        if not model.__module__.startswith("brankas."):
            continue
        fields = [f.name for f in model._meta.get_fields()
                  if isinstance(f, (models.CharField, models.TextField))]
        if not fields:
            continue
        for row in model.objects.values_list(*fields):
            for v in row:
                # A single lower-case word is a code (a state, a step, a mode), shown
                # through a label, never as is: it is not taken out.
                if isinstance(v, str) and len(v.strip()) >= 3 and not CODE_VALUE.match(v):
                    values.add(" ".join(v.split()))
    from brankas.web.accounts.models import User

    values.update(u.display() for u in User.objects.all())
    values.update([v.upper() for v in values])  # the letterhead prints lines in capitals
    return sorted(values, key=len, reverse=True)


def _without(text: str, values: list[str]) -> str:
    for v in values:
        if v in text:
            text = text.replace(v, " ")
    return text


def _english_msgids() -> set[str]:
    catalogue = polib.pofile(str(PO))
    return {e.msgid for e in catalogue if e.msgstr and e.msgid != e.msgstr
            and len(e.msgid) > 3 and "%(" not in e.msgid and "<" not in e.msgid
            and "{" not in e.msgid}


def _found(parts: list[str], lang: str, values: list[str], msgids: set[str]) -> list[str]:
    out = []
    official = official_terms()
    for part in parts:
        if CODE.match(part):
            continue
        if lang == "id" and part in msgids and part not in values:
            out.append(f"untranslated: {part!r}")
            continue
        text = _without(part, values)
        if lang == "id":  # s17 E: the SOP's own loanword (PERALATAN: "Hard disk eksternal")
            text = text.replace("Hard disk eksternal", " ")
        if lang == "en":
            for term in official:
                text = text.replace(term, " ")
        # whole words only: not the letters inside a hash or an identifier ("f00bce81be4e")
        words = re.findall(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z'-]*(?![A-Za-z0-9])", text)
        bad = ENGLISH if lang == "id" else INDONESIAN
        hits = [w for w in words if w.lower() in bad]
        if hits:
            out.append(f"{hits} in {part!r}")
    return out


# The role that saw each page in the other language's walk (who may see a page does not
# depend on the language): tried first, so the refusals before it are not rendered again.
_SEEN_AS: dict[str, str] = {}


def _render(client: Client, office: SimpleNamespace, path: str) -> tuple[str, str] | None:
    """The page as the first role that may see it: (role, html), or None when no role gets
    an HTML page (a download, a POST-only step)."""
    last, not_found = None, None
    lang = client.cookies["django_language"].value
    roles = (*ROLES, "anonymous")
    if path in _SEEN_AS:
        roles = (_SEEN_AS[path], *(r for r in roles if r != _SEEN_AS[path]))
    for role in roles:
        if role == "anonymous":
            client.logout()  # which forgets the cookies
            client.cookies["django_language"] = lang
        else:
            client.force_login(office.users[role])
        r = client.get(path)
        last = r.status_code
        if r.status_code == 405 or not r["Content-Type"].startswith("text/html"):
            return None
        if r.status_code == 200:
            _SEEN_AS[path] = role
            return role, r.content.decode()
        if r.status_code == 404 and not_found is None:
            not_found = role, r.content.decode()
    if not_found is not None:  # a job page: the page that says the job is unknown
        return not_found
    raise AssertionError(f"{path}: nobody sees this page (last status {last})")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_page_speaks_one_language(client: Client, office, pages_office, lang) -> None:  # type: ignore[no-untyped-def]
    made = pages_office.extra
    client.cookies["django_language"] = lang
    values = _data_values()
    msgids = _english_msgids()
    problems, seen = [], 0
    for name, path in page_urls(made):
        got = _render(client, office, path)
        if got is None:
            continue
        role, html = got
        seen += 1
        assert f'<html lang="{lang}">' in html, (name, path)
        for found in _found(visible_text(html), lang, values, msgids):
            problems.append(f"{name} ({path}, as {role}): {found}")
    assert seen > 30
    assert problems == [], "\n".join(problems)


def test_the_walk_finds_every_page_pattern() -> None:
    """Every named pattern is a page, a download, a step, or named in NOT_PAGES."""
    names = {n for n, _ in ui_pages()}
    assert {"documents", "report", "request", "audit", "report_verify"} <= names
    assert set(NOT_PAGES) <= names


def test_the_word_lists_catch_what_they_should() -> None:
    parts = ["Langkah: submit", "Pemeriksaan: full", "Add another word or two."]
    assert len(_found(parts, "id", [], set())) == 3
    assert _found(["Status: Diajukan ke Kadis"], "en", [], set())
    assert _found(["Sangat Rahasia · Sandiman · NIP"], "en", [], set()) == []
    assert _found(["Undangan rapat dan koordinasi"], "en", ["Undangan rapat dan koordinasi"],
                  set()) == []
