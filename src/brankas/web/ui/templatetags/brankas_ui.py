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
    """``1 h 05 min`` / ``4 min 10 s``: the time from opening the form to registering."""
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    mins, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {mins:02d} min"
    if mins:
        return f"{mins} min {secs:02d} s"
    return f"{secs} s"
