"""Template filters for the request pages: the official labels of states and urgencies."""

from __future__ import annotations

from django import template

from brankas.core.chains.request import STATE_LABELS, STATE_LABELS_EN, State, number_text
from brankas.core.terms import URGENCY_LABELS, Urgency

register = template.Library()


@register.filter
def state_label(value: str) -> str:
    """The state in the page's language: the official Indonesian label, or its English."""
    from brankas.web.ui.common import language

    try:
        state = State(value)
    except ValueError:
        return value
    return STATE_LABELS_EN[state] if language() == "en" else STATE_LABELS[state]


@register.filter
def request_number(value: int) -> str:
    """``P-12``: the number as the papers print it."""
    return number_text(int(value))


@register.filter
def urgency_label(value: str) -> str:
    try:
        return URGENCY_LABELS[Urgency(value)]
    except ValueError:
        return value
