"""The register's search page with content matches (session 23 review): the page reads its
rows without their registrant (``document_search(..., registrant=False)``), so it must
not read a user per row either. Rendered with a few matches and again with a page and
more of them (field and content matches, some exempted, hostile texts), for every role
and both languages: the same number of queries (one more at most: the capped count), no
user joined, nothing of the texts' markup unescaped. On PostgreSQL too
(test_search_page_queries_pg.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.web.text.test_search import doc

pytestmark = pytest.mark.django_db

ROLES = ("operator", "kasi", "kabid", "kadis", "admin")
URLS = ("/documents/?q=rapat", "/documents/?q=rapat&page=2",
        "/documents/?q=undangan&direction=penerimaan")


def _add(office: Any, count: int, first: int) -> None:
    for i in range(count):
        doc(office, subject="Perihal rapat" if i % 3 == 0 else "Tanpa kata",
            classification="biasa" if i % 5 else "rahasia",
            body=f"undangan rapat <script>alert({first + i})</script> \ue000x\ue001 & \"'")


def _read(client: Any, url: str) -> tuple[list[str], str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return [q["sql"] for q in captured.captured_queries], response.content.decode()


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_search_page_reads_no_user_per_row(office, client, language: str) -> None:  # type: ignore[no-untyped-def]
    def counts() -> dict[tuple[str, str], int]:
        out = {}
        for name in ROLES:
            client.force_login(office.users[name])
            client.cookies["django_language"] = language
            for url in URLS:
                sqls, page = _read(client, url)
                assert not any('"accounts_user"' in s and "documents_document" in s
                               for s in sqls), (name, url)
                # the snippets shown, their markup escaped (PostgreSQL's headline drops tags)
                assert "<script>" not in page and "alert(" in page, (name, url)
                assert connection.vendor != "sqlite" or "&lt;script&gt;" in page
                out[(name, url)] = len(sqls)
        return out

    _add(office, 3, 0)
    few = counts()
    _add(office, 130, 100)
    many = counts()
    grown = {k: (few[k], many[k]) for k in few if many[k] > few[k] + 1}
    assert not grown, grown
