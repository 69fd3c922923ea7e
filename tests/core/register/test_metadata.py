"""metadata.py: the data-input form, checked the same way for the web and the CLI."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from brankas.core.errors import InvalidInput
from brankas.core.register import metadata
from brankas.core.terms import Classification, Direction

TODAY = dt.date(2026, 11, 20)
GOOD: dict[str, Any] = {
    "direction": "penerimaan",
    "classification": "rahasia",
    "number": "005/12/2026",
    "doc_date": "2026-11-20",
    "subject": "Undangan rapat koordinasi",
    "correspondent": "Bupati Bolaang Mongondow",
}


def build(**changes: Any) -> metadata.DocumentInput:
    return metadata.build(**{**GOOD, **changes})


def test_a_good_form() -> None:
    doc = build(attachments="1 berkas", notes="baris satu\nbaris\tdua", pages="3")
    assert doc.direction is Direction.INCOMING
    assert doc.classification is Classification.RAHASIA
    assert doc.doc_date == dt.date(2026, 11, 20)
    assert doc.subject == "Undangan rapat koordinasi"
    assert doc.notes == "baris satu\nbaris\tdua"  # multi-line notes keep their layout
    assert doc.pages == 3


BAD_FORMS: list[tuple[str, dict[str, Any], str, str]] = [
    # case, changes, code, field or value that the message must name
    ("subject missing", {"subject": ""}, "field_required", "subject"),
    ("subject blank", {"subject": "   \n\t "}, "field_required", "subject"),
    ("subject only controls", {"subject": "\x00\u202e\x07"}, "field_required", "subject"),
    ("correspondent missing", {"correspondent": None}, "field_required", "correspondent"),
    ("subject too long", {"subject": "x" * 501}, "field_too_long", "subject"),
    ("number too long", {"number": "1" * 101}, "field_too_long", "number"),
    ("correspondent too long", {"correspondent": "y" * 301}, "field_too_long", "correspondent"),
    ("attachments too long", {"attachments": "z" * 201}, "field_too_long", "attachments"),
    ("notes too long", {"notes": "n" * 5001}, "field_too_long", "notes"),
    ("bad direction", {"direction": "keluar"}, "direction_invalid", "keluar"),
    ("empty direction", {"direction": ""}, "direction_invalid", "pengiriman"),
    ("bad classification", {"classification": "rahasia sekali"}, "classification_invalid",
     "rahasia sekali"),
    ("empty classification", {"classification": ""}, "classification_invalid", "biasa"),
    ("pages not a number", {"pages": "tiga"}, "field_invalid", "pages"),
    ("pages zero", {"pages": 0}, "field_invalid", "pages"),
    ("pages negative", {"pages": "-2"}, "field_invalid", "pages"),
    ("date too early", {"doc_date": "1900-01-01"}, "date_invalid", "1900-01-01"),
    ("date far future", {"doc_date": "3000-01-01"}, "date_invalid", "3000-01-01"),
    ("month 13", {"doc_date": "2026-13-01"}, "date_invalid", "2026-13-01"),
    ("day first", {"doc_date": "20-11-2026"}, "date_invalid", "20-11-2026"),
    ("slashes", {"doc_date": "2026/11/20"}, "date_invalid", "2026/11/20"),
    ("30 February", {"doc_date": "2026-02-30"}, "date_invalid", "2026-02-30"),
    ("empty date", {"doc_date": ""}, "date_invalid", "YYYY-MM-DD"),
    ("a date object too early", {"doc_date": dt.date(1900, 1, 1)}, "date_invalid", "1900"),
]


@pytest.mark.parametrize(("changes", "code", "named"), [b[1:] for b in BAD_FORMS],
                         ids=[b[0] for b in BAD_FORMS])
def test_bad_form_is_refused(changes: dict[str, Any], code: str, named: str) -> None:
    with pytest.raises(InvalidInput) as info:
        build(**changes)
    assert info.value.code == code
    for lang in ("id", "en"):
        assert named in info.value.message(lang)


@pytest.mark.parametrize("field", sorted(metadata.LIMITS))
def test_limits_are_inclusive(field: str) -> None:
    limit = metadata.LIMITS[field]
    assert len(metadata.clean_text("a" * limit, field, required=True)) == limit


@pytest.mark.parametrize(
    "value",
    ["2026-W47-5", "2026W475", "20261120"],  # ISO week and basic forms: not YYYY-MM-DD
)
def test_only_the_extended_calendar_date_form_is_accepted(value: str) -> None:
    with pytest.raises(InvalidInput) as info:
        metadata.parse_date(value, today=TODAY)
    assert info.value.code == "date_invalid"


def test_date_range_edges() -> None:
    assert metadata.parse_date("1945-08-17", today=TODAY) == metadata.EARLIEST
    assert metadata.parse_date(" 2027-11-21 ", today=TODAY) == dt.date(2027, 11, 21)
    for value in ("1945-08-16", "2027-11-22"):
        with pytest.raises(InvalidInput) as info:
            metadata.parse_date(value, today=TODAY)
        assert info.value.code == "date_invalid"
    assert metadata.parse_date(dt.date(2026, 1, 2), today=TODAY) == dt.date(2026, 1, 2)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Surat\x00 undangan\x07", "Surat undangan"),
        ("Rapat \u202eanggaran\u200b", "Rapat anggaran"),
        ("\ufeffNota dinas", "Nota dinas"),
        ("\x00 Undangan rapat \x1b", "Undangan rapat"),  # trimmed after the controls go
        ("Caf\u0065\u0301", "Caf\u00e9"),  # NFC
        ("baris\nsatu", "barissatu"),  # a single-line field loses line breaks
    ],
)
def test_control_and_format_characters_are_stripped(raw: str, expected: str) -> None:
    assert metadata.clean_text(raw, "subject", required=True) == expected


@pytest.mark.parametrize(
    "text", ["Sangat Rahasia", "sangat_rahasia", " SANGAT-RAHASIA ", "sangat rahasia"]
)
def test_classification_parsing(text: str) -> None:
    assert metadata.parse_class(text) is Classification.SANGAT_RAHASIA


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Biasa", Classification.BIASA), ("terbatas", Classification.TERBATAS),
     ("RAHASIA", Classification.RAHASIA)],
)
def test_classification_labels(text: str, expected: Classification) -> None:
    assert metadata.parse_class(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [(" Pengiriman ", Direction.OUTGOING), ("PENERIMAAN", Direction.INCOMING)],
)
def test_direction_parsing(text: str, expected: Direction) -> None:
    assert metadata.parse_direction(text) is expected
