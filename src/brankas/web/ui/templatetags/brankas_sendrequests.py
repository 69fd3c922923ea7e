"""Template filters for the request pages: the official labels of states and urgencies."""

from __future__ import annotations

from django import template

from brankas.core.chains.request import STATE_LABELS, State
from brankas.core.terms import URGENCY_LABELS, Urgency

register = template.Library()


@register.filter
def state_label(value: str) -> str:
    try:
        return STATE_LABELS[State(value)]
    except ValueError:
        return value


@register.filter
def urgency_label(value: str) -> str:
    try:
        return URGENCY_LABELS[Urgency(value)]
    except ValueError:
        return value
