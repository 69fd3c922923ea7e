"""Small template filters for the Brankas pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from brankas.core.terms import CLASSIFICATION_LABELS, DIRECTION_LABELS, Classification, Direction

register = template.Library()


@register.filter
def minutes(value: dt.timedelta | None) -> int:
    """Whole minutes of a duration (at least 1), e.g. the lockout's cool-off."""
    if not value:
        return 0
    return max(1, int(value.total_seconds() // 60))


@register.filter
def direction_label(value: str) -> str:
    try:
        return DIRECTION_LABELS[Direction(value)]
    except ValueError:
        return value


@register.filter
def classification_label(value: str) -> str:
    try:
        return CLASSIFICATION_LABELS[Classification(value)]
    except ValueError:
        return value


@register.filter
def duration(value: dt.timedelta | None) -> str:
    """``1 jam 05 menit`` / ``4 menit 10 detik`` (``1 h 05 min`` / ``4 min 10 s`` in
    English): the time from opening the form to registering, a job's time left."""
    if value is None:
        return ""
    from brankas.web.ui.common import language

    h, m, s = ("h", "min", "s") if language() == "en" else ("jam", "menit", "detik")
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    mins, secs = divmod(rest, 60)
    if hours:
        return f"{hours} {h} {mins:02d} {m}"
    if mins:
        return f"{mins} {m} {secs:02d} {s}"
    return f"{secs} {s}"


# -- issue 14: one wording of codes, sizes and times on every page -----------------------

def _pick(pair: tuple[str, str]) -> str:
    from brankas.web.ui.common import language

    return pair[1] if language() == "en" else pair[0]


CHECK_MODES = {"full": ("penuh", "full"), "fast": ("cepat", "fast"),
               "sample": ("sampel", "sample")}


@register.filter
def report_step(value: str) -> str:
    """A step of the report chain as the papers word it (``diajukan`` / ``submitted``)."""
    from brankas.core.chains.report import STEP_WORDS, Step

    try:
        return _pick(STEP_WORDS[Step(value)])
    except ValueError:
        return value


@register.filter
def report_state(value: str) -> str:
    from brankas.core.chains.report import STATE_WORDS, State

    try:
        return _pick(STATE_WORDS[State(value)])
    except ValueError:
        return value


@register.filter
def check_mode(value: str) -> str:
    """A disk check's mode: ``penuh`` / ``full``, ``sampel`` / ``sample``."""
    return _pick(CHECK_MODES[value]) if value in CHECK_MODES else value


@register.filter
def size(value: int | None) -> str:
    """A size in bytes in the one style of the interface: ``1,5 MB`` (id), ``1.5 MB`` (en),
    1024-based as a file manager shows it (``brankas.web.ui.formats``)."""
    from brankas.web.ui.formats import size_text

    return size_text(value)


@register.filter
def when(value: dt.datetime | str | None) -> str:
    """A moment in the office's time zone, ``5 Des 2026 14:03`` (an ISO text is read first)."""
    from brankas.web.ui.formats import when_text

    return when_text(value)


@register.filter
def outcome_label(value: str) -> str:
    from brankas.web.audit.outcomes import outcome_words

    return _pick(outcome_words(value))


@register.filter
def detail_pairs(detail: object) -> list[tuple[str, str]]:
    """An audit entry's details as (label, value) pairs a reader understands."""
    from brankas.web.ui.formats import detail_pairs as pairs

    return pairs(detail)


@register.filter
def source_words(source: str) -> str:
    """Where a document came in (web, command line, import), in the page's language."""
    from brankas.web.ui.formats import source_words as words

    return words(source)


@register.filter
def report_number(report: object) -> str:
    """A report's number as its paper prints it."""
    from brankas.web.reports.selectors import report_number_text

    return report_number_text(report)  # type: ignore[arg-type]


# -- issue 15 C: the register's rows, rendered in one call ---------------------------------

def _document_href() -> tuple[str, str]:
    """A document page's address around its agenda (``reverse`` once, not once a row)."""
    from django.urls import reverse

    marker = "AGENDA0MARKER"
    url = reverse("ui:document", args=[marker])
    head, _sep, tail = url.partition(marker)
    return head, tail


def _truncated(text: str, limit: int) -> str:
    """``truncatechars``: a text already within ``limit`` characters and composed (NFC,
    as the core stores text) is left as it is (combining characters only shorten what
    Django counts), else Django's own rule (which also composes the text)."""
    import unicodedata

    if len(text) <= limit and unicodedata.is_normalized("NFC", text):
        return text
    from django.utils.text import Truncator

    return Truncator(text).chars(limit)


@register.simple_tag
def document_rows(documents: Any) -> str:
    """The ``<tr>`` of each document of the register table (``ui/_document_table.html``):
    the same cells the template wrote, without a template node per cell (a page of 50 rows
    was about two thirds of the register page's time). Escaped by ``html.escape`` itself
    (Django's ``escape`` is that, behind a lazy-text wrapper: s22), the labels and dates
    made once per distinct value of the page."""
    from html import escape
    from urllib.parse import quote

    from django.template.loader import render_to_string
    from django.utils.formats import date_format
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext

    from brankas.core.terms import Category

    head, tail = _document_href()
    lock = render_to_string("ui/_lock.html")
    sealed = gettext("sealed")  # issue 16: a sealed field reads "tersegel" unless revealed
    exempted = Category.EXEMPTED.value
    dates: dict[Any, str] = {}
    directions: dict[str, str] = {}
    classes: dict[tuple[str, bool], str] = {}
    rows = []
    for doc in documents:
        agenda = str(doc.agenda)
        href = (head + quote(agenda, safe="!$&'()*+,;=/~:@") + tail if "/" not in agenda
                else _reverse_document(agenda))
        day = dates.get(doc.doc_date)
        if day is None:
            day = dates[doc.doc_date] = escape(str(date_format(doc.doc_date, "j M Y")))
        direction = directions.get(doc.direction)
        if direction is None:
            direction = directions[doc.direction] = escape(str(direction_label(doc.direction)))
        badge = classes.get((doc.classification, doc.category == exempted))
        if badge is None:
            badge = classes[(doc.classification, doc.category == exempted)] = (
                f'<span class="badge badge-{escape(str(doc.classification))}">'
                f'{lock if doc.category == exempted else ""}'
                f'{escape(str(classification_label(doc.classification)))}</span>')
        rows.append(
            f'  <tr>\n'
            f'    <td class="nowrap"><a href="{escape(href)}">{escape(agenda)}</a></td>\n'
            f'    <td class="nowrap">{day}</td>\n'
            f'    <td>{direction}</td>\n'
            f'    <td>{badge}</td>\n'
            f'    <td>{escape(str(doc.number))}</td>\n'
            f'    <td>{escape(_truncated(str(doc.shown("subject", sealed)), 90))}'
            f'{_snippet(doc)}</td>\n'
            f'    <td>{escape(_truncated(str(doc.shown("correspondent", sealed)), 50))}</td>\n'
            f'  </tr>\n')
    return mark_safe("".join(rows))  # noqa: S308 (every value above is escaped)


def _snippet(doc: Any) -> str:
    """A search result's snippet of its text (issue 19: web/text/selectors.py), escaped,
    the matches in <mark>; nothing for a row without one."""
    snippet = getattr(doc, "snippet", None)
    if not snippet:
        return ""
    from brankas.web.text.fts import snippet_html

    return f'<div class="snippet">{snippet_html(snippet)}</div>'


def _reverse_document(agenda: str) -> str:
    from django.urls import reverse

    return reverse("ui:document", args=[agenda])


@register.filter
def shown(row: object, field: str) -> str:
    """A register field as this user may see it (issue 16): the value revealed to an
    unlocked holder, else "tersegel" (translated) where it is sealed, else the column."""
    from django.utils.translation import gettext

    return str(row.shown(field, gettext("sealed")))  # type: ignore[attr-defined]


@register.filter
def file_name(name: str) -> str:
    """An original file's name as shown: a sealed one (stored as "tersegel", issue 16) in
    the page's language."""
    from django.utils.translation import gettext

    from brankas.core.sealing import SEALED_LABEL

    return gettext("sealed") if name == SEALED_LABEL else name
