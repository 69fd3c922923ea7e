"""Agenda numbers: sequential per year and direction, never reused.

The format is a ``str.format`` template with the fields ``seq`` (int), ``year`` (int),
``code`` (``K`` for pengiriman / surat keluar, ``M`` for penerimaan / surat masuk) and
``direction``. Default: ``{code}-{year}-{seq:04d}``, e.g. ``M-2026-0001``.
"""

from __future__ import annotations

from brankas.core.errors import SetupError
from brankas.core.terms import DIRECTION_CODES, Direction


def format_agenda(template: str, *, seq: int, year: int, direction: Direction) -> str:
    try:
        text = template.format(
            seq=seq, year=year, code=DIRECTION_CODES[direction], direction=direction.value
        )
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        raise SetupError("config_invalid", name="agenda_format", detail=str(exc)) from None
    if not text.strip():
        raise SetupError("config_invalid", name="agenda_format", detail="empty result")
    return text


def check_template(template: str) -> str:
    a = format_agenda(template, seq=1, year=2026, direction=Direction.OUTGOING)
    b = format_agenda(template, seq=2, year=2026, direction=Direction.OUTGOING)
    c = format_agenda(template, seq=1, year=2026, direction=Direction.INCOMING)
    d = format_agenda(template, seq=1, year=2027, direction=Direction.OUTGOING)
    if len({a, b, c, d}) != 4:
        raise SetupError(
            "config_invalid",
            name="agenda_format",
            detail="the format must contain {seq}, {year} and {code} or {direction}",
        )
    return template
