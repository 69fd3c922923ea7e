"""The data-input form of SOP step 1, checked without Django so every interface agrees."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from brankas.core.errors import InvalidInput
from brankas.core.terms import Classification, Direction, parse_classification

LIMITS = {"number": 100, "subject": 500, "correspondent": 300, "attachments": 200, "notes": 5000}
# The request to send a message (``brankas.core.chains.request``) and its steps.
LIMITS.update({"requester_unit": 300, "requester_name": 200, "addressee": 300,
               "channel": 200, "reference": 200, "note": 5000})
EARLIEST = dt.date(1945, 8, 17)  # nothing in a regional register predates the republic


@dataclass(frozen=True)
class DocumentInput:
    direction: Direction
    classification: Classification
    number: str
    doc_date: dt.date
    subject: str
    correspondent: str
    attachments: str = ""
    notes: str = ""
    pages: int | None = None


def clean_text(value: str | None, field: str, *, required: bool, multiline: bool = False) -> str:
    text = unicodedata.normalize("NFC", value or "")
    allowed_controls = {"\n", "\t"} if multiline else set()
    text = "".join(
        ch
        for ch in text
        if ch in allowed_controls or unicodedata.category(ch) not in {"Cc", "Cf"}
    ).strip()
    if required and not text:
        raise InvalidInput("field_required", field=field)
    if len(text) > LIMITS[field]:
        raise InvalidInput("field_too_long", field=field, limit=LIMITS[field])
    return text


def parse_direction(value: str) -> Direction:
    try:
        return Direction((value or "").strip().lower())
    except ValueError:
        raise InvalidInput("direction_invalid", value=value) from None


def parse_class(value: str) -> Classification:
    try:
        return parse_classification(value or "")
    except ValueError:
        raise InvalidInput("classification_invalid", value=value) from None


def parse_date(value: str | dt.date, *, today: dt.date | None = None) -> dt.date:
    today = today or dt.date.today()
    high = today + dt.timedelta(days=366)
    if isinstance(value, dt.date):
        date = value
    else:
        text = (value or "").strip()
        try:
            # Only YYYY-MM-DD: fromisoformat alone also takes 20261120 and 2026-W47-5.
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                raise ValueError(text)
            date = dt.date.fromisoformat(text)
        except ValueError:
            raise InvalidInput("date_invalid", value=value, low=EARLIEST, high=high) from None
    if not EARLIEST <= date <= high:
        raise InvalidInput("date_invalid", value=value, low=EARLIEST, high=high)
    return date


def build(
    *,
    direction: str,
    classification: str,
    number: str,
    doc_date: str | dt.date,
    subject: str,
    correspondent: str,
    attachments: str = "",
    notes: str = "",
    pages: int | str | None = None,
) -> DocumentInput:
    page_count: int | None = None
    if pages not in (None, ""):
        # Plain ASCII digits only: int() alone also takes "1_000", "٣" (Arabic-Indic) and "+5".
        text = str(pages).strip()
        if isinstance(pages, bool) or not re.fullmatch(r"[0-9]{1,7}", text):
            raise InvalidInput("field_invalid", field="pages",
                               detail=("bukan angka", "not a number"))
        page_count = int(text)
        if not 1 <= page_count <= 100_000:
            raise InvalidInput("field_invalid", field="pages",
                               detail=("di luar rentang", "out of range"))
    return DocumentInput(
        direction=parse_direction(direction),
        classification=parse_class(classification),
        number=clean_text(number, "number", required=False),
        doc_date=parse_date(doc_date),
        subject=clean_text(subject, "subject", required=True),
        correspondent=clean_text(correspondent, "correspondent", required=True),
        attachments=clean_text(attachments, "attachments", required=False),
        notes=clean_text(notes, "notes", required=False, multiline=True),
        pages=page_count,
    )
