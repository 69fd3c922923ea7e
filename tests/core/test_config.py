"""config.py and terms.py: typed settings and the classification policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from brankas.core import config, terms
from brankas.core.errors import SetupError
from brankas.core.terms import Category, Classification, Direction


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BRANKAS_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("BRANKAS_MAX_FILE_MB", " 7 ")
    monkeypatch.setenv("BRANKAS_MAX_UPLOAD_MB", "")
    monkeypatch.setenv("BRANKAS_DEBUG", "yes")
    s = config.load()
    assert s.home == tmp_path / "data"
    assert s.max_file_mb == 7
    assert s.max_upload_mb == 100  # blank means the default
    assert s.debug is True
    assert s.archive == s.home / "arsip" and s.tmp.parent == s.home


@pytest.mark.parametrize(("raw", "detail"), [("banyak", "not a whole number"), ("0", "below 1"),
                                             ("-5", "below 1"), ("1.5", "not a whole number")])
def test_bad_numbers_are_a_setup_error(monkeypatch: pytest.MonkeyPatch, raw: str,
                                       detail: str) -> None:
    monkeypatch.setenv("BRANKAS_MAX_IMAGE_PIXELS", raw)
    with pytest.raises(SetupError) as info:
        config.load()
    assert info.value.code == "config_invalid"
    assert "BRANKAS_MAX_IMAGE_PIXELS" in info.value.message("id")
    assert detail in info.value.message("en")


def test_key_check_months(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRANKAS_KEY_CHECK_MONTHS", raising=False)
    assert config.load().key_check_months == 6
    monkeypatch.setenv("BRANKAS_KEY_CHECK_MONTHS", "3")
    assert config.load().key_check_months == 3
    monkeypatch.setenv("BRANKAS_KEY_CHECK_MONTHS", "0")
    with pytest.raises(SetupError) as info:
        config.load()
    assert "BRANKAS_KEY_CHECK_MONTHS" in info.value.message("en")


def test_secret_key_is_made_once(tmp_path: Path) -> None:
    import dataclasses

    s = dataclasses.replace(config.load(), home=tmp_path / "home")
    first = config.secret_key(s)
    assert len(first) >= 50
    assert config.secret_key(s) == first
    assert (s.secret_key_file.stat().st_mode & 0o077) == 0  # readable by the owner only


@pytest.mark.parametrize(
    ("classification", "category"),
    [("biasa", Category.REGULAR), ("terbatas", Category.EXEMPTED),
     ("rahasia", Category.EXEMPTED), ("sangat-rahasia", Category.EXEMPTED)],
)
def test_only_biasa_is_not_exempted(classification: str, category: Category) -> None:
    assert terms.category_of(classification) is category
    assert terms.is_exempted(classification) is (category is Category.EXEMPTED)


def test_the_four_sop_folders_in_order() -> None:
    assert [(c.value, d.value) for c, d in terms.store_folders()] == [
        ("biasa", "pengiriman"), ("biasa", "penerimaan"),
        ("dikecualikan", "pengiriman"), ("dikecualikan", "penerimaan"),
    ]
    assert set(terms.CLASSIFICATION_LABELS) == set(Classification)
    assert set(terms.DIRECTION_CODES) == set(Direction)
    assert terms.DIRECTION_CODES[Direction.INCOMING] == "M"
