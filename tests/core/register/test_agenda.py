"""agenda.py: agenda numbers from a str.format template."""

from __future__ import annotations

import pytest

from brankas.core.config import DEFAULT_AGENDA_FORMAT
from brankas.core.errors import SetupError
from brankas.core.register.agenda import check_template, format_agenda
from brankas.core.terms import Direction


@pytest.mark.parametrize(
    ("direction", "seq", "year", "expected"),
    [
        (Direction.INCOMING, 1, 2026, "M-2026-0001"),
        (Direction.OUTGOING, 1, 2026, "K-2026-0001"),
        (Direction.OUTGOING, 42, 2027, "K-2027-0042"),
        (Direction.INCOMING, 12345, 2026, "M-2026-12345"),
    ],
)
def test_default_format(direction: Direction, seq: int, year: int, expected: str) -> None:
    assert format_agenda(DEFAULT_AGENDA_FORMAT, seq=seq, year=year, direction=direction) == (
        expected
    )


def test_default_format_passes_its_own_check() -> None:
    assert check_template(DEFAULT_AGENDA_FORMAT) == DEFAULT_AGENDA_FORMAT


@pytest.mark.parametrize(
    "template",
    ["{seq:05d}/{direction}/{year}", "{year}.{code}.{seq}", "Agenda {code}{seq:03d}-{year}"],
)
def test_other_good_templates(template: str) -> None:
    assert check_template(template) == template


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("{code}-{year}", "no {seq}: every document would get the same number"),
        ("{year}-{seq:04d}", "no direction: K and M numbers would collide"),
        ("{code}-{seq:04d}", "no year: numbers restart each year and would collide"),
        ("AGENDA", "no field at all"),
    ],
)
def test_check_template_refuses_ambiguous_templates(template: str, why: str) -> None:
    with pytest.raises(SetupError) as info:
        check_template(template)
    assert info.value.code == "config_invalid", why
    assert info.value.params["name"] == "agenda_format"


@pytest.mark.parametrize(
    "template",
    [
        "{nope}",  # unknown field: KeyError
        "{}",  # positional field: IndexError
        "{0}",
        "{seq!z}",  # unknown conversion: ValueError
        "{year:%Y}",  # bad format spec for an int: ValueError
        "{seq",  # unbalanced brace: ValueError
        "   ",  # blank result
        "{seq.real.nope}",  # attribute lookup on the int: AttributeError
        "{seq[0]}",  # indexing an int: TypeError
    ],
)
def test_broken_templates_are_a_setup_error(template: str) -> None:
    with pytest.raises(SetupError) as info:
        format_agenda(template, seq=1, year=2026, direction=Direction.OUTGOING)
    assert info.value.code == "config_invalid"
    for lang in ("id", "en"):
        assert "agenda_format" in info.value.message(lang)
    with pytest.raises(SetupError):
        check_template(template)
