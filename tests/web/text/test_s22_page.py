"""Session 22, the register page (issue 19's search page): the filter form's select fields
are rendered once per language, value, choices and errors in a process
(``views.filter_fields``), and are what Django renders for the same form, for valid,
empty and edited (invalid) values, in both languages; the page shows the chosen values."""

from __future__ import annotations

import pytest
from django.utils import translation

GETS = [{}, {"q": "rapat"}, {"direction": "penerimaan", "year": "2026"},
        {"classification": "rahasia", "folder": "dikecualikan"},
        {"year": "abc", "direction": "<script>"}, {"year": "1999"},
        {"classification": "biasa", "direction": "pengiriman", "year": "2025"}]


@pytest.mark.parametrize("language", ["id", "en"])
def test_s22_the_cached_filter_fields_are_django_s(language: str) -> None:
    from django.http import QueryDict

    from brankas.web.ui.documents import views
    from brankas.web.ui.documents.forms import FilterForm

    views._FILTER_HTML.clear()
    with translation.override(language):
        for _ in range(2):  # made, then from the cache
            for get in GETS:
                data = QueryDict(mutable=True)
                data.update(get)
                form = FilterForm(data, years=[2026, 2025])
                form.filters()
                fresh = FilterForm(data, years=[2026, 2025])
                fresh.filters()
                made = views.filter_fields(form)
                for name in views.CACHED_FILTERS:
                    assert made[name] == str(fresh[name].label_tag()) + str(fresh[name]), (
                        get, name)
        assert 0 < len(views._FILTER_HTML) <= views.FILTER_HTML_MAX
    with translation.override("en" if language == "id" else "id"):  # another language
        form = FilterForm(QueryDict(), years=[2026])
        form.filters()
        assert views.filter_fields(form)["direction"] == (
            str(form["direction"].label_tag()) + str(form["direction"]))


@pytest.mark.django_db
def test_s22_the_page_shows_the_chosen_filters(office, signed_in) -> None:  # type: ignore[no-untyped-def]
    from tests.web.text.test_search import doc

    doc(office, body="rapat koordinasi", year=2026)
    client = signed_in("kasi")
    for year in ("2026", ""):
        page = client.get("/documents/", {"q": "rapat", "year": year,
                                          "direction": "penerimaan"}).content.decode()
        assert ('<option value="2026" selected>' in page) == (year == "2026")
        assert '<option value="penerimaan" selected>' in page
        assert 'name="q"' in page and 'value="rapat"' in page
