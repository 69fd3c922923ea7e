"""The register list's filters and search, and the folder counts, on an office with three
documents built once for the module (moved from test_documents.py: each of its fifteen
tests registered the three again)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.conftest import office_once
from tests.web.ui.conftest import register_directly, text_of
from tests.web.ui.test_documents import subjects_on


def shown(subject: str) -> str:
    """What the list shows: the rahasia one's subject is sealed (issue 16)."""
    return "tersegel" if subject == "sandi baru" else f"Subjek {subject}"


def _three(office, base) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {"agendas": [
        register_directly(office, subject="Subjek laporan keuangan", number="900/1/2026",
                          correspondent="BPKAD").agenda,
        register_directly(office, subject="Subjek sandi baru", classification="rahasia",
                          direction="pengiriman", correspondent="Gubernur Sulawesi Utara").agenda,
        register_directly(office, subject="Subjek undangan upacara", direction="pengiriman",
                          correspondent="Camat Lolak").agenda,
    ]}


@pytest.fixture(scope="module")
def three_office(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The office with three documents (``_three``), built once for this module."""
    with office_once(django_db_blocker, tmp_path_factory, _three) as template:
        yield template


@pytest.fixture
def office(three_office, db, settings, tmp_path):  # type: ignore[no-untyped-def]
    """This test's copy of the module's office (a savepoint, a copy of its folder)."""
    return three_office.copy_for(settings, tmp_path)


@pytest.fixture
def three(office, three_office):  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document

    return [Document.objects.get(agenda=agenda) for agenda in three_office.extra["agendas"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"laporan keuangan", "sandi baru", "undangan upacara"}),
        ("direction=pengiriman", {"sandi baru", "undangan upacara"}),
        ("direction=penerimaan", {"laporan keuangan"}),
        ("classification=rahasia", {"sandi baru"}),
        ("folder=dikecualikan", {"sandi baru"}),
        ("folder=biasa&direction=pengiriman", {"undangan upacara"}),
        ("q=upacara", {"undangan upacara"}),  # subject
        ("q=900%2F1", {"laporan keuangan"}),  # number
        ("q=gubernur", {"sandi baru"}),  # correspondent, any case
        ("q=sandi", set()),  # a sealed subject is not searched without an unlocked key
        ("q=tidak-ada-yang-cocok", set()),
        (f"year={dt.date.today().year}", {"laporan keuangan", "sandi baru", "undangan upacara"}),
        ("year=1999", {"laporan keuangan", "sandi baru", "undangan upacara"}),  # not offered
        ("direction=ke-samping", {"laporan keuangan", "sandi baru", "undangan upacara"}),
    ],
)
def test_the_list_filters_and_searches(signed_in, three, query, expected):
    r = signed_in("kadis").get(f"/documents/?{query}")
    assert r.status_code == 200
    assert subjects_on(text_of(r)) == {shown(s) for s in expected}


def test_search_by_agenda_and_the_folder_counts(signed_in, three):
    client = signed_in("kasi")
    agenda = three[1].agenda
    r = client.get("/documents/", {"q": agenda})
    assert subjects_on(text_of(r)) == {"tersegel"}
    page = text_of(client.get("/"))
    counts = re.findall(r'<span class="folder-title">([^<]+)</span>\s*'
                        r'<span class="folder-count">(\d+)</span>', page)
    assert counts == [("a. Biasa / Pengiriman", "1"), ("b. Biasa / Penerimaan", "1"),
                      ("c. Dikecualikan / Pengiriman", "1"), ("d. Dikecualikan / Penerimaan", "0")]
    assert three[1].agenda in page and "Subjek sandi baru" not in page  # recent: tersegel
