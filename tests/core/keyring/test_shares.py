"""core.keyring.shares: the recovery identity as SLIP-39 shares, typed back from paper.
Each refusal named: an unknown word by its position, a mistyped word by the checksum,
too few shares, shares of two splits, the same share twice; any K of N rebuild the key."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shamir_mnemonic.wordlist import WORDLIST

from brankas.core import crypto
from brankas.core.errors import InvalidInput
from brankas.core.keyring import shares


@pytest.fixture(scope="module")
def made() -> tuple[str, str, list[str]]:
    pair = crypto.generate()
    return pair.identity, pair.recipient, shares.split(pair.identity, shares=5, threshold=3)


def _named(mnemonics: list[str], numbers: tuple[int, ...]) -> list[tuple[str, str]]:
    return [(f"share-{i}-of-5.txt", mnemonics[i - 1]) for i in numbers]


def test_a_share_is_33_words_numbered_1_to_n_with_the_threshold(made) -> None:
    _, _, mnemonics = made
    assert len(mnemonics) == 5
    parsed = [shares.parse(f"s{i}", m) for i, m in enumerate(mnemonics, start=1)]
    assert all(len(p.words) == shares.WORDS == 33 for p in parsed)
    assert [p.number for p in parsed] == [1, 2, 3, 4, 5]
    assert {p.threshold for p in parsed} == {3}
    assert len({p.identifier for p in parsed}) == 1


@pytest.mark.parametrize("numbers", list(itertools.combinations(range(1, 6), 3)))
def test_any_three_of_five_rebuild_the_identity(made, numbers) -> None:
    identity, recipient, mnemonics = made
    rebuilt = shares.identity(_named(mnemonics, numbers))
    assert str(rebuilt) == identity
    assert str(rebuilt.to_public()) == recipient


def test_four_and_five_shares_rebuild_it_too_in_any_order(made) -> None:
    identity, _, mnemonics = made
    assert str(shares.identity(_named(mnemonics, (5, 1, 4, 2)))) == identity
    assert str(shares.identity(_named(mnemonics, (3, 2, 5, 4, 1)))) == identity


@pytest.mark.parametrize("numbers", [(1, 2), (4,), (3, 5)])
def test_fewer_than_the_threshold_are_refused(made, numbers) -> None:
    _, _, mnemonics = made
    with pytest.raises(InvalidInput) as err:
        shares.identity(_named(mnemonics, numbers))
    assert err.value.code == "shares_too_few"
    assert err.value.params == {"threshold": 3, "given": len(numbers)}


def test_no_share_at_all_is_too_few() -> None:
    with pytest.raises(InvalidInput) as err:
        shares.identity([])
    assert err.value.code == "shares_too_few"


def test_one_word_changed_is_refused_by_the_checksum_naming_the_file(made) -> None:
    _, _, mnemonics = made
    words = mnemonics[1].split()
    for position in (0, 5, 16, 32):
        changed = list(words)
        changed[position] = next(w for w in WORDLIST if w != words[position])
        texts = _named(mnemonics, (1, 3)) + [("kertas-pak-budi.txt", " ".join(changed))]
        with pytest.raises(InvalidInput) as err:
            shares.identity(texts)
        assert err.value.code == "share_checksum"
        assert err.value.params == {"name": "kertas-pak-budi.txt"}
        assert "kertas-pak-budi.txt" in err.value.message("en")
        assert "kertas-pak-budi.txt" in err.value.message("id")


def test_an_unknown_word_is_refused_by_its_position(made) -> None:
    _, _, mnemonics = made
    words = mnemonics[0].split()
    words[6] = "merpati"
    with pytest.raises(InvalidInput) as err:
        shares.parse("bagian-1.txt", " ".join(words))
    assert err.value.code == "share_word_unknown"
    assert err.value.params == {"name": "bagian-1.txt", "position": 7, "word": "merpati"}
    # A digit inside a word splits it: still refused, never silently read.
    words = mnemonics[0].split()
    words[2] = words[2][:2] + "1" + words[2][2:]
    with pytest.raises(InvalidInput) as err:
        shares.parse("bagian-1.txt", " ".join(words))
    assert err.value.code in {"share_word_unknown", "share_invalid", "share_checksum"}


@pytest.mark.parametrize("count", [0, 20, 32, 34])
def test_a_wrong_number_of_words_is_refused(made, count) -> None:
    _, _, mnemonics = made
    words = (mnemonics[0].split() * 2)[:count]
    with pytest.raises(InvalidInput) as err:
        shares.parse("pendek.txt", " ".join(words))
    assert err.value.code == "share_invalid"
    assert err.value.params["name"] == "pendek.txt"


def test_shares_of_two_splits_are_refused_even_of_the_same_key(made) -> None:
    identity, _, mnemonics = made
    again = shares.split(identity, shares=5, threshold=3)
    texts = [("a.txt", mnemonics[0]), ("b.txt", mnemonics[1]), ("c.txt", again[2])]
    with pytest.raises(InvalidInput) as err:
        shares.identity(texts)
    assert err.value.code == "shares_mixed"
    assert err.value.params == {"name": "a.txt", "other": "c.txt"}
    # Each split alone rebuilds the same key: splitting again does not end the old shares.
    assert str(shares.identity(_named(again, (2, 3, 4)))) == identity
    assert str(shares.identity(_named(mnemonics, (2, 3, 4)))) == identity


def test_shares_of_another_key_are_refused_when_mixed() -> None:
    a = shares.split(crypto.generate().identity, shares=3, threshold=2)
    b = shares.split(crypto.generate().identity, shares=3, threshold=2)
    with pytest.raises(InvalidInput) as err:
        shares.identity([("a1", a[0]), ("b2", b[1])])
    assert err.value.code == "shares_mixed"


def test_the_same_share_twice_is_refused(made) -> None:
    _, _, mnemonics = made
    texts = [("a.txt", mnemonics[0]), ("b.txt", mnemonics[3]),
             ("a-copy.txt", mnemonics[0].upper())]
    with pytest.raises(InvalidInput) as err:
        shares.identity(texts)
    assert err.value.code == "shares_duplicate"
    assert err.value.params == {"name": "a.txt", "other": "a-copy.txt", "number": 1}


def test_layout_is_forgiven(made) -> None:
    identity, _, mnemonics = made
    words = mnemonics[2].split()
    numbered = "\n".join(f"{i}. {w}" for i, w in enumerate(words, start=1))
    boxed = "\n".join(f"| {i:>2} {w.upper()} |" for i, w in enumerate(words, start=1))
    bracketed = " ".join(f"[{i}]{w.capitalize()}" for i, w in enumerate(words, start=1))
    loose = "# share three, Pak Budi\n\n   " + "\n\n".join(
        "\t  ".join(words[i:i + 4]) for i in range(0, 33, 4)) + "\n\r\n"
    for text in (numbered, boxed, bracketed, loose, shares.share_text(mnemonics[2])):
        parsed = shares.parse("x", text)
        assert parsed.words == tuple(words), text
    boxed_other = "\n".join(f"| {i:>2} {w.upper()} |"
                            for i, w in enumerate(mnemonics[4].split(), start=1))
    rebuilt = shares.identity([("1", numbered), ("2", boxed_other), ("3", mnemonics[0])])
    assert str(rebuilt) == identity


def test_boxes_copied_across_the_rows_go_back_in_the_order_of_their_numbers(made) -> None:
    """The sheet numbers its boxes down the columns (1..11 | 12..22 | 23..33); text copied
    from it runs across the rows: 1 12 23 2 13 24 ..."""
    _, _, mnemonics = made
    words = mnemonics[3].split()
    rows = [" ".join(f"{n} {words[n - 1]}" for n in (r + 1, r + 12, r + 23)) for r in range(11)]
    assert shares.parse("copied", "\n".join(rows)).words == tuple(words)


def test_the_share_file_holds_the_words_and_nothing_else(made) -> None:
    _, _, mnemonics = made
    text = shares.share_text(mnemonics[4])
    assert text.split() == mnemonics[4].split()
    assert text.endswith("\n") and len(text.splitlines()) == 3


@pytest.mark.parametrize(("n", "k"), [(0, 0), (17, 3), (5, 6), (5, 1), (3, 0), (2, -1)])
def test_numbers_slip39_cannot_split_are_refused(n, k) -> None:
    with pytest.raises(InvalidInput) as err:
        shares.split(crypto.generate().identity, shares=n, threshold=k)
    assert err.value.code == "recovery_split_bad_numbers"


@pytest.mark.parametrize(("n", "k"), [(1, 1), (2, 2), (16, 16), (16, 2)])
def test_the_limits_split(n, k) -> None:
    identity = crypto.generate().identity
    made = shares.split(identity, shares=n, threshold=k)
    assert len(made) == n
    picked = random.Random(n * 100 + k).sample(range(n), k)
    assert str(shares.identity([(str(i), made[i]) for i in picked])) == identity


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 8), data=st.data())
def test_property_k_rebuild_and_k_minus_one_do_not(n, data) -> None:
    k = data.draw(st.integers(2, n))
    identity = crypto.identity_from_secret(data.draw(st.binary(min_size=32, max_size=32)))
    made = shares.split(identity, shares=n, threshold=k)
    order = data.draw(st.permutations(range(n)))
    assert str(shares.identity([(str(i), made[i]) for i in order[:k]])) == str(identity)
    with pytest.raises(InvalidInput) as err:
        shares.identity([(str(i), made[i]) for i in order[:k - 1]])
    assert err.value.code == "shares_too_few"


@settings(max_examples=40, deadline=None)
@given(position=st.integers(0, 32), replacement=st.sampled_from(WORDLIST), which=st.integers(0, 4))
def test_property_any_one_word_changed_is_refused_by_name(made, position, replacement,
                                                           which) -> None:
    _, _, mnemonics = made
    words = mnemonics[which].split()
    if words[position] == replacement:
        return
    words[position] = replacement
    with pytest.raises(InvalidInput) as err:
        shares.parse("geser.txt", " ".join(words))
    assert err.value.code == "share_checksum"
    assert err.value.params["name"] == "geser.txt"


_SEPARATORS = st.sampled_from([" ", "  ", "\n", "\r\n", "\t", " | ", ", ", ". ", "\n\n"])


@settings(max_examples=40, deadline=None)
@given(data=st.data(), numbered=st.booleans(), which=st.integers(0, 4))
def test_property_layout_never_changes_the_words(made, data, numbered, which) -> None:
    """Any case, any separators, with or without box numbers: the same share."""
    _, _, mnemonics = made
    words = mnemonics[which].split()
    parts = []
    for i, word in enumerate(words, start=1):
        cased = "".join(c.upper() if data.draw(st.booleans()) else c for c in word)
        if numbered:
            cased = data.draw(st.sampled_from([f"{i}. ", f"{i}) ", f"[{i}] ", f"{i:02d} "])) \
                + cased
        parts.append(cased + data.draw(_SEPARATORS))
    assert shares.parse("acak", "".join(parts)).words == tuple(words)
