"""Dates and times on papers as Indonesians write them: "5 Desember 2026", "14.30".

Plain Python: the caller gives a time already in the office's time zone (the web layer's
``timezone.localtime``), or an aware time and the zone to show it in.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember"]

# A time zone's name as Indonesians print it; other zones keep their own abbreviation.
ZONE_WORDS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
              "Asia/Jayapura": "WIT"}


def date_id(value: date | datetime | None) -> str:
    """``5 Desember 2026``; ``-`` for no date."""
    if value is None:
        return "-"
    return f"{value.day} {MONTHS_ID[value.month - 1]} {value.year}"


def time_id(value: datetime) -> str:
    """``14.30`` (the Indonesian way of writing a time of day)."""
    return f"{value.hour:02d}.{value.minute:02d}"


def zone_word(value: datetime | tzinfo | None) -> str:
    """``WIB`` for a time in Asia/Jakarta, else the zone's own abbreviation."""
    zone = value.tzinfo if isinstance(value, datetime) else value
    if zone is None:
        return ""
    key = getattr(zone, "key", "") or str(zone)
    if key in ZONE_WORDS:
        return ZONE_WORDS[key]
    at = value if isinstance(value, datetime) else datetime.now(zone)
    return at.tzname() or key


def datetime_id(value: datetime | None, zone: tzinfo | None = None, *,
                with_zone: bool = True) -> str:
    """``5 Desember 2026 14.30 WIB``; ``zone``: shown in that zone (else as given)."""
    if value is None:
        return "-"
    if zone is not None and value.tzinfo is not None:
        value = value.astimezone(zone)
    text = f"{date_id(value)} {time_id(value)}"
    word = zone_word(value) if with_zone else ""
    return f"{text} {word}" if word else text


_STAMP = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::\d{2})?)?"
                    r"(?![\d-])")


def restyle(text: str) -> str:
    """``2026-05-07 16:00`` and ``2026-05-07`` inside a text written as ``7 Mei 2026 16.00``
    and ``7 Mei 2026`` (the figures stored in a report keep ISO dates: they are data)."""

    def one(m: re.Match[str]) -> str:
        year, month, day = int(m[1]), int(m[2]), int(m[3])
        if not 1 <= month <= 12 or not 1 <= day <= 31:
            return m[0]
        out = f"{day} {MONTHS_ID[month - 1]} {year}"
        return out + (f" {m[4]}.{m[5]}" if m[4] else "")

    return _STAMP.sub(one, text)
