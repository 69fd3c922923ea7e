"""The register's search by text counts at most SEARCH_CAP matches (issue 15: no index
serves a substring on SQLite, so the count stops instead of reading the whole table) and
says "more than" beyond it."""

from __future__ import annotations

import pytest

from tests.web.ui.test_query_counts import add_rows


@pytest.mark.django_db
def test_the_paginator_counts_up_to_its_cap(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document
    from brankas.web.ui.common import BoundedPaginator

    add_rows(office, documents=7, runs=0, audit=0)
    qs = Document.objects.filter(subject__icontains="rapat").order_by("-registered_at")
    capped = BoundedPaginator(qs, 2, cap=5)
    assert (capped.count, capped.capped, capped.num_pages) == (5, True, 3)
    whole = BoundedPaginator(qs, 2, cap=50)
    assert (whole.count, whole.capped) == (7, False)


def test_the_register_says_more_than_beyond_the_cap(office, signed_in, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.ui.documents import views

    add_rows(office, documents=70, runs=0, audit=0)
    client = signed_in("kasi")
    monkeypatch.setattr(views, "SEARCH_CAP", 55)
    page = client.get("/documents/", {"q": "rapat"}).content.decode()  # Indonesian first
    assert "Lebih dari 55 dokumen" in page
    page = client.get("/documents/", {"direction": "penerimaan"}).content.decode()
    assert "Lebih dari" not in page  # only a search by text is capped
    monkeypatch.setattr(views, "SEARCH_CAP", 1000)
    page = client.get("/documents/", {"q": "rapat"}).content.decode()
    assert "Lebih dari" not in page and "70 dokumen" in page


@pytest.mark.django_db
def test_a_first_page_with_fewer_matches_than_a_page_is_not_counted(office) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from brankas.web.documents.models import Document
    from brankas.web.ui.common import BoundedPaginator

    add_rows(office, documents=7, runs=0, audit=0)
    qs = Document.objects.filter(subject__icontains="rapat").order_by("-registered_at")
    with CaptureQueriesContext(connection) as few:
        page = BoundedPaginator(qs, 50, cap=1000).get_page(None)
        assert (len(page.object_list), page.paginator.count, page.has_next()) == (7, 7, False)
    assert len(few) == 1  # the page alone
    with CaptureQueriesContext(connection) as many:
        page = BoundedPaginator(qs, 3, cap=1000).get_page("1")
        assert (len(page.object_list), page.paginator.count, page.has_next()) == (3, 7, True)
    assert len(many) == 2  # the first page (one row more, to know), the count


@pytest.mark.django_db
def test_every_page_of_a_capped_search_is_the_one_it_was(office) -> None:  # type: ignore[no-untyped-def]
    """Only the count is bounded: the pages past the cap are still reached (Next), hold
    the rows they held, and a page number beyond the end gives the last page, as Django's
    Paginator does."""
    from django.core.paginator import Paginator

    from brankas.web.documents.models import Document
    from brankas.web.ui.common import BoundedPaginator

    add_rows(office, documents=11, runs=0, audit=0)
    qs = Document.objects.filter(subject__icontains="rapat").order_by("-registered_at", "-seq")
    for number in [None, "", "1", 1, "2", "3", "4", "5", "6", "7", "99", "abc", "0", "-1"]:
        plain = Paginator(qs, 2).get_page(number)
        bounded = BoundedPaginator(qs, 2, cap=5).get_page(number)
        assert ([d.pk for d in bounded.object_list], bounded.number, bounded.has_next(),
                bounded.has_previous()) == ([d.pk for d in plain.object_list], plain.number,
                                            plain.has_next(), plain.has_previous()), number


def test_the_register_shows_the_last_page_past_the_cap(office, signed_in, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.ui.documents import views

    add_rows(office, documents=70, runs=0, audit=0)
    client = signed_in("kasi")
    monkeypatch.setattr(views, "SEARCH_CAP", 55)  # counted: 55 of the 70 matches
    first = client.get("/documents/", {"q": "rapat"}).content.decode()
    assert "Lebih dari 55 dokumen" in first and 'rel="next"' in first
    page = client.get("/documents/", {"q": "rapat", "page": "2"}).content.decode()
    assert "Q-00069" in page and "Q-00050" in page  # the oldest match, the 51st... 70th
    assert 'rel="next"' not in page and 'rel="prev"' in page
    assert "Halaman 2" in page and "Halaman 2 dari" not in page  # the total is not known
    beyond = client.get("/documents/", {"q": "rapat", "page": "9"}).content.decode()
    assert "Q-00069" in beyond  # a page beyond the end: the last one
