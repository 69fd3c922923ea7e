"""passphrase.py: key holders' passphrases must resist an offline attack on scrypt."""

from __future__ import annotations

import pytest

from brankas.core.errors import InvalidInput
from brankas.core.passphrase import MIN_LENGTH, MIN_SCORE, check_passphrase
from tests.conftest import PASSPHRASES

WEAK = {
    "short but random": "Xq7!vB2#",
    "common password": "password1234",
    "repeated characters": "aaaaaaaaaaaaaaaaaaaa",
    "keyboard walk": "qwertyuiop123456",
    "sequence": "abcdefghijklmnop",
    "empty": "",
}


@pytest.mark.parametrize("passphrase", list(WEAK.values()), ids=list(WEAK))
def test_weak_passphrases_are_refused(passphrase: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_passphrase(passphrase)
    exc = info.value
    assert exc.code == "passphrase_weak"
    assert exc.params["min_length"] == MIN_LENGTH
    assert exc.params["min_score"] == MIN_SCORE
    assert 0 <= exc.params["score"] <= 4
    assert all(h.strip() for h in exc.params["hint"])  # (Bahasa Indonesia, English)
    for lang in ("id", "en"):
        assert str(MIN_LENGTH) in exc.message(lang)


def test_short_passphrase_is_refused_even_if_it_scores_well() -> None:
    # 11 random characters can score 3 or 4; the length rule still applies.
    with pytest.raises(InvalidInput) as info:
        check_passphrase("k9#Vq!2zR@w")
    assert info.value.code == "passphrase_weak"


@pytest.mark.parametrize(
    "passphrase",
    [*PASSPHRASES.values(), "correct horse battery staple", "kopi tubruk hujan jendela"],
)
def test_strong_word_passphrases_are_accepted(passphrase: str) -> None:
    assert check_passphrase(passphrase) is None


def test_the_username_itself_is_refused_through_user_inputs() -> None:
    username = "bambang.sutrisno.kominfo"
    check_passphrase(username)  # strong when nothing is known about the user ...
    with pytest.raises(InvalidInput) as info:  # ... weak when the attacker knows the name
        check_passphrase(username, user_inputs=[username])
    assert info.value.code == "passphrase_weak"


@pytest.mark.parametrize(
    "passphrase",
    ["kopi tubruk hujan jendela sawah merah kuda berlari menara biru lembah sunyi pagi",
     "lembah sunyi menara biru pagi " * 40],
    ids=["80 characters", "1200 characters"],
)
def test_long_passphrases_are_accepted(passphrase: str) -> None:
    # zxcvbn 4.5 raises ValueError beyond 72 characters; a long passphrase is a good one.
    assert len(passphrase) > 72
    assert check_passphrase(passphrase) is None


# -- issue 14: zxcvbn's English feedback, through a table in both languages ---------------

def _zxcvbn_texts() -> set[str]:
    """Every warning and suggestion zxcvbn can give, read from its own source."""
    import ast
    from pathlib import Path

    import zxcvbn

    tree = ast.parse((Path(zxcvbn.__file__).parent / "feedback.py").read_text())
    return {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_"
            and node.args and isinstance(node.args[0], ast.Constant)}


def test_every_zxcvbn_feedback_text_is_in_the_table() -> None:
    from brankas.core.passphrase import FEEDBACK

    texts = _zxcvbn_texts()
    assert len(texts) > 20
    assert texts - set(FEEDBACK) == set()
    for english, (indonesian, again) in FEEDBACK.items():
        assert again == english and indonesian and indonesian != english


@pytest.mark.parametrize("weak", ["password", "abcabcabcabc", "Qwertyuiop1!", "19801980",
                                  "budi"])
def test_the_hint_of_a_weak_passphrase_speaks_the_users_language(weak: str) -> None:
    from brankas.core.errors import InvalidInput
    from brankas.core.passphrase import FEEDBACK, check_passphrase

    with pytest.raises(InvalidInput) as info:
        check_passphrase(weak)
    indonesian, english = info.value.message("id"), info.value.message("en")
    assert not any(text in indonesian for text in FEEDBACK), indonesian
    assert "Add another word" not in indonesian and "guess" not in indonesian
    hint = info.value.params["hint"]
    assert hint[0] in indonesian and hint[1] in english
