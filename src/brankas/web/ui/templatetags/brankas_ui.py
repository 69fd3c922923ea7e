"""Small template filters for the Brankas pages."""

from __future__ import annotations

import datetime as dt

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


@register.filter
def shown(row: object, field: str) -> str:
    """A register field as this user may see it (issue 16): the value revealed to an
    unlocked holder, else "tersegel" (translated) where it is sealed, else the column."""
    from django.utils.translation import gettext

    return str(row.shown(field, gettext("sealed")))  # type: ignore[attr-defined]
