"""errors.py: every refusal exists in both languages and formats with its own placeholders."""

from __future__ import annotations

import string

import pytest

from brankas.core import errors
from brankas.core.errors import MESSAGES, BrankasError, InvalidInput


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_has_both_languages_with_the_same_placeholders(code: str) -> None:
    indonesian, english = MESSAGES[code]
    assert indonesian.strip() and english.strip()
    assert indonesian != english
    assert placeholders(indonesian) == placeholders(english)
    assert all(name.isidentifier() for name in placeholders(english)), "positional field"


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_formats_with_dummy_values(code: str) -> None:
    params = {name: f"<{name}-value>" for name in placeholders(MESSAGES[code][1])}
    exc = BrankasError(code, **params)
    for lang in ("id", "en"):
        text = exc.message(lang)
        assert text.strip()
        for value in params.values():
            assert value in text
    assert str(exc) == exc.message("en")


def test_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        BrankasError("no_such_code")


def test_pair_parameters_follow_the_language() -> None:
    exc = errors.AccessDenied("permission_denied", role="kadis",
                              action=("mendaftarkan dokumen", "register documents"))
    assert exc.message("id") == "peran kadis tidak boleh mendaftarkan dokumen"
    assert exc.message("en") == "the role kadis may not register documents"


def test_language_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    exc = InvalidInput("file_empty", name="x.pdf")
    monkeypatch.setenv("BRANKAS_LANG", "en_US.UTF-8")
    assert exc.message() == "file x.pdf is empty"
    monkeypatch.setenv("BRANKAS_LANG", "id")
    assert exc.message() == "berkas x.pdf kosong"
    monkeypatch.delenv("BRANKAS_LANG")
    assert exc.message() == "berkas x.pdf kosong"  # Bahasa Indonesia first
    assert exc.as_dict() == {"error": "file_empty", "kind": "invalid",
                             "message": "berkas x.pdf kosong"}


def test_each_subclass_has_its_own_kind() -> None:
    kinds = [cls.kind for cls in (errors.InvalidInput, errors.NotFound, errors.Conflict,
                                  errors.AccessDenied, errors.AuthenticationFailed,
                                  errors.CryptoFailure, errors.IntegrityFailure,
                                  errors.SetupError)]
    assert len(set(kinds)) == len(kinds)
