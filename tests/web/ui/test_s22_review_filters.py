"""Session 22's review: the register's cached filter fields (``views.filter_fields``)
keep nothing an edited address chooses. A value not among a field's choices (an error)
is rendered for its request and forgotten: the cache holds only the valid values, at most
one entry per language, field, choice and choices, never an attacker's string (an address
of up to waitress's 256 KiB of headers, 512 entries kept: a quarter of a gigabyte a
process)."""

from __future__ import annotations

from django.http import QueryDict
from django.utils import translation


def _form(get: dict[str, str]):  # type: ignore[no-untyped-def]
    from brankas.web.ui.documents.forms import FilterForm

    data = QueryDict(mutable=True)
    data.update(get)
    form = FilterForm(data, years=[2026, 2025])
    form.filters()
    return form


def test_s22_review_an_edited_filter_value_is_not_kept() -> None:
    from brankas.web.ui.documents import views

    views._FILTER_HTML.clear()
    with translation.override("id"):
        views.filter_fields(_form({"year": "2026", "direction": "penerimaan"}))
        kept = dict(views._FILTER_HTML)
        for i in range(40):
            hostile = f"{i}" + "9" * 20_000
            form = _form({"year": hostile, "direction": hostile, "folder": hostile,
                          "classification": hostile})
            made = views.filter_fields(form)
            for name in views.CACHED_FILTERS:  # rendered as Django renders it, errors too
                assert made[name] == str(form[name].label_tag()) + str(form[name])
                assert 'aria-invalid="true"' in made[name]
    # the valid choices' renderings only: nothing of the edited values
    assert views._FILTER_HTML.keys() == kept.keys()
    assert sum(len(repr(k)) for k in views._FILTER_HTML) < 20_000
