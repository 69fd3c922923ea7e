"""The register table's rows rendered by one tag (``document_rows``, issue 15 C) are the
rows the template wrote, line for line (the indentation between the rows aside), in both
languages: compared here with the template
the tag replaced, for hostile values (markup and quotes in every text, an agenda with a
slash, spaces, ``%``, ``?`` and ``#``, texts at and past the truncation limits, decomposed
characters) and a classification that is not one of ours. Records only (no files)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import engines
from django.utils import translation

TEMPLATE = """{% load brankas_ui %}{% for doc in documents %}
  <tr>
    <td class="nowrap"><a href="{% url 'ui:document' doc.agenda %}">{{ doc.agenda }}</a></td>
    <td class="nowrap">{{ doc.doc_date|date:"j M Y" }}</td>
    <td>{{ doc.direction|direction_label }}</td>
    <td><span class="badge badge-{{ doc.classification }}">{% if doc.exempted %}\
{% include "ui/_lock.html" %}{% endif %}{{ doc.classification|classification_label }}\
</span></td>
    <td>{{ doc.number }}</td>
    <td>{{ doc.subject|truncatechars:90 }}</td>
    <td>{{ doc.correspondent|truncatechars:50 }}</td>
  </tr>
{% endfor %}"""

HOSTILE = ["<script>alert(1)</script>", '"onmouseover="alert(1)', "a'b&c<d>", "x" * 50,
           "x" * 51, "y" * 90, "y" * 91, "e\u0301" * 10, "e\u0301" * 60, "e\u0301" * 95,
           "Q/2026/0001", "  spaced  ", "%2F?#;=", "\u200b", "é" * 100]


def _documents() -> list:  # type: ignore[type-arg]
    from brankas.web.documents.models import Document

    return [Document(agenda=value, doc_date=dt.date(2026, 1 + i % 12, 1 + i),
                     direction="penerimaan" if i % 2 else "pengiriman",
                     classification=("rahasia", "biasa", '<x">')[i % 3],
                     category="dikecualikan" if i % 3 == 0 else "biasa",
                     number=value, subject=value * 2, correspondent=value)
            for i, value in enumerate(HOSTILE)]


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_rows_are_the_template_s_rows(language: str) -> None:
    engine = engines["django"]
    documents = _documents()
    documents += documents[::-1]  # each date, direction and badge again (made once: s22)
    with translation.override(language):
        old = engine.from_string(TEMPLATE).render({"documents": documents})
        new = engine.from_string("{% load brankas_ui %}{% document_rows documents %}").render(
            {"documents": documents})
    assert "<script>" not in new and "&lt;script&gt;" in new
    assert _lines(new) == _lines(old)


def _lines(html: str) -> list[str]:
    return [line.strip() for line in html.splitlines() if line.strip()]
