"""The office recovery identity as SLIP-39 shares (``shamir-mnemonic``), without Django.

``split`` cuts the identity's 32 secret bytes into N shares of 33 words, any K of which
rebuild it (one group, SLIP-39 passphrase always empty: the paper is the secret).
``parse`` reads one share as a person typed it back from paper: lenient about layout
(case, spaces, line breaks, numbering such as ``1. word`` or ``[1] word``, the numbered
boxes copied from the sheet, lines starting with ``#``), strict about the words: an
unknown word is refused by its position, a mistyped one by the SLIP-39 checksum, and the
refusal names the share (the file name given). ``combine`` checks a set first (one
split, no share twice, enough shares), then rebuilds the secret.

The library's README warns that it is not hardened against side channels: split on the
office laptop, offline (docs/security.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import shamir_mnemonic
from pyrage import x25519
from shamir_mnemonic.share import Share
from shamir_mnemonic.utils import MnemonicError
from shamir_mnemonic.wordlist import WORD_INDEX_MAP

from brankas.core import crypto
from brankas.core.errors import InvalidInput

MAX_SHARES = 16  # SLIP-39: at most 16 members in a group
WORDS = 33  # a share of a 32-byte secret
# A word on paper: letters only, perhaps after its box number. Digits, dots, brackets and
# box lines are layout.
_WORD = re.compile(r"(?:(\d+)[^\w]*)?([^\W\d_]+)")


@dataclass(frozen=True)
class ParsedShare:
    """One share read back: its name (for messages), words and what SLIP-39 encodes."""

    name: str
    words: tuple[str, ...]
    identifier: int  # the split's random identifier (15 bits)
    number: int  # 1-based: "Bagian 2 dari N"
    threshold: int  # K

    @property
    def mnemonic(self) -> str:
        return " ".join(self.words)


def check_numbers(shares: int, threshold: int) -> None:
    """Refuse a split SLIP-39 cannot make: N in 1..16, 1 <= K <= N, K = 1 only for N = 1."""
    if not (1 <= shares <= MAX_SHARES and 1 <= threshold <= shares) or (
            threshold == 1 and shares != 1):
        raise InvalidInput("recovery_split_bad_numbers", shares=shares, threshold=threshold)


def split(identity: x25519.Identity | str, *, shares: int, threshold: int) -> list[str]:
    """The identity as ``shares`` mnemonics (33 words each), any ``threshold`` of which
    rebuild it. Every call makes a new split (a new random identifier)."""
    check_numbers(shares, threshold)
    secret = crypto.identity_secret(identity)
    groups = shamir_mnemonic.generate_mnemonics(1, [(threshold, shares)], secret, b"")
    return [" ".join(m.split()) for m in groups[0]]


def words_of(text: str) -> list[str]:
    """The words of a typed share, layout removed (see the module's doc). When every word
    carries its box number and the numbers are 1..n once each, the words go in the order
    of the numbers: text copied from the sheet runs across the rows of boxes, which are
    numbered down the columns. Otherwise the order is the text's."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    found = _WORD.findall("\n".join(lines).lower())
    words = [word for _, word in found]
    numbers = [int(n) if n else 0 for n, _ in found]
    if sorted(numbers) == list(range(1, len(words) + 1)):
        return [word for _, word in sorted(zip(numbers, words, strict=True))]
    return words


def parse(name: str, text: str) -> ParsedShare:
    """One typed share, checked alone, so that a refusal names it: every word in the
    SLIP-39 list (``share_word_unknown`` with its position), 33 words, the checksum
    (``share_checksum``), one group (``share_invalid``)."""
    words = words_of(text)
    for position, word in enumerate(words, start=1):
        if word not in WORD_INDEX_MAP:
            raise InvalidInput("share_word_unknown", name=name, position=position, word=word)
    if len(words) != WORDS:
        raise InvalidInput("share_invalid", name=name, detail=(
            f"sebuah bagian berisi {WORDS} kata, yang ini {len(words)}",
            f"a share has {WORDS} words, this one {len(words)}"))
    try:
        share = Share.from_mnemonic(" ".join(words))
    except MnemonicError as exc:
        if "checksum" in str(exc):
            raise InvalidInput("share_checksum", name=name) from None
        raise InvalidInput("share_invalid", name=name, detail=str(exc)) from None
    if share.group_count != 1 or share.group_threshold != 1:
        raise InvalidInput("share_invalid", name=name, detail=(
            "bagian dari pembagian berkelompok, bukan buatan Brankas",
            "a share of a split into groups, not made by Brankas"))
    return ParsedShare(name=name, words=tuple(words), identifier=share.identifier,
                       number=share.index + 1, threshold=share.member_threshold)


def check_set(shares: Sequence[ParsedShare]) -> None:
    """One split (``shares_mixed``), no share twice (``shares_duplicate``), at least the
    threshold (``shares_too_few``)."""
    if not shares:
        raise InvalidInput("shares_too_few", threshold="?", given=0)
    first = shares[0]
    seen: dict[int, ParsedShare] = {}
    for share in shares:
        if (share.identifier, share.threshold) != (first.identifier, first.threshold):
            raise InvalidInput("shares_mixed", name=first.name, other=share.name)
        if share.number in seen:
            raise InvalidInput("shares_duplicate", name=seen[share.number].name,
                               other=share.name, number=share.number)
        seen[share.number] = share
    if len(shares) < first.threshold:
        raise InvalidInput("shares_too_few", threshold=first.threshold, given=len(shares))


def _combine(shares: Sequence[ParsedShare]) -> bytes:
    try:
        return shamir_mnemonic.combine_mnemonics([s.mnemonic for s in shares], b"")
    except MnemonicError as exc:  # checked before; what is left: a digest that fails
        raise InvalidInput("share_invalid", name=", ".join(s.name for s in shares),
                           detail=str(exc)) from None


def combine(shares: Sequence[ParsedShare]) -> bytes:
    """The 32 secret bytes the shares rebuild (``check_set`` first). SLIP-39 combines
    exactly K shares: the first K are combined, and every further share must rebuild the
    same secret with K - 1 of them (so that no share given is left unchecked)."""
    check_set(shares)
    k = shares[0].threshold
    secret = _combine(shares[:k])
    for extra in shares[k:]:
        if _combine([*shares[:k - 1], extra]) != secret:
            raise InvalidInput("shares_mixed", name=shares[0].name, other=extra.name)
    if len(secret) != crypto.SECRET_SIZE:
        raise InvalidInput("share_invalid", name=", ".join(s.name for s in shares), detail=(
            f"rahasia {len(secret)} byte, bukan kunci age", f"a {len(secret)}-byte secret, "
            "not an age key"))
    return secret


def identity(texts: Sequence[tuple[str, str]]) -> x25519.Identity:
    """The identity rebuilt from (name, typed text) pairs: each parsed, the set checked,
    combined. Only in memory; the caller compares it with the office's recipient."""
    return crypto.identity_from_secret(combine([parse(name, text) for name, text in texts]))


def share_text(mnemonic: str) -> str:
    """A share file's content: the words alone, eleven to a line (what a person types
    back from the sheet), nothing else."""
    words = mnemonic.split()
    return "\n".join(" ".join(words[i:i + 11]) for i in range(0, len(words), 11)) + "\n"
