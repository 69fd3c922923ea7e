"""crypto.identity_secret / identity_from_secret: an age identity as its 32 secret bytes
and back (what recovery shares split), checked against the real ``age-keygen``."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from brankas.core import crypto
from brankas.core.errors import InvalidInput

pytestmark = pytest.mark.skipif(shutil.which("age-keygen") is None,
                                reason="the age-keygen tool is not installed")


def keygen() -> tuple[str, str]:
    """(identity, recipient) as the standard ``age-keygen`` makes and reads them."""
    out = subprocess.run(["age-keygen"], check=True, capture_output=True, text=True).stdout
    [identity] = [line for line in out.splitlines() if line.startswith("AGE-SECRET-KEY-1")]
    recipient = subprocess.run(["age-keygen", "-y"], input=identity + "\n", check=True,
                               capture_output=True, text=True).stdout.strip()
    return identity, recipient


@pytest.fixture(scope="module")
def made() -> list[tuple[str, str]]:
    return [keygen() for _ in range(5)]


def test_an_age_keygen_identity_goes_to_32_bytes_and_back(made) -> None:
    secrets = set()
    for identity, recipient in made:
        secret = crypto.identity_secret(identity)
        assert isinstance(secret, bytes) and len(secret) == 32
        secrets.add(secret)
        rebuilt = crypto.identity_from_secret(secret)
        assert str(rebuilt) == identity  # the same text, upper case
        assert str(rebuilt.to_public()) == recipient  # as age-keygen -y says
    assert len(secrets) == len(made)


def test_a_pyrage_identity_object_is_accepted(made) -> None:
    identity, _ = made[0]
    parsed = crypto.parse_identity(identity)
    assert crypto.identity_secret(parsed) == crypto.identity_secret(identity)
    assert crypto.identity_secret(identity.lower()) == crypto.identity_secret(identity)


def test_a_rebuilt_identity_opens_what_age_encrypted(made, tmp_path) -> None:
    identity, recipient = made[1]
    encrypted = subprocess.run(["age", "-r", recipient], input=b"surat rahasia",
                               check=True, capture_output=True).stdout
    rebuilt = crypto.identity_from_secret(crypto.identity_secret(identity))
    assert crypto.decrypt_bytes(encrypted, [rebuilt]) == b"surat rahasia"


def test_one_changed_character_is_refused_by_the_checksum(made) -> None:
    identity, _ = made[2]
    prefix = len("AGE-SECRET-KEY-1")
    for at in (prefix, prefix + 20, len(identity) - 1):  # first, middle, in the checksum
        alphabet = crypto._BECH32_CHARSET.upper()
        other = alphabet[(alphabet.index(identity[at]) + 1) % 32]
        changed = identity[:at] + other + identity[at + 1:]
        with pytest.raises(InvalidInput) as exc:
            crypto.identity_secret(changed)
        assert exc.value.code == "field_invalid"


@pytest.mark.parametrize("text", [
    "",
    "AGE-SECRET-KEY-1",
    "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",  # not an identity
    "AGE-SECRET-KEY-1Qpzry9x8gf2tvdw0s3jn54khce6mua7l",  # mixed case
])
def test_what_is_no_identity_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        crypto.identity_secret(text)


def test_a_recipient_is_no_identity(made) -> None:
    _, recipient = made[3]
    with pytest.raises(InvalidInput):
        crypto.identity_secret(recipient)  # valid Bech32, the wrong part


def test_a_valid_bech32_of_the_wrong_length_is_refused(made) -> None:
    short = crypto._bech32_encode("age-secret-key-", bytes(31)).upper()
    with pytest.raises(InvalidInput):
        crypto.identity_secret(short)
    for size in (0, 31, 33, 64):
        with pytest.raises(InvalidInput):
            crypto.identity_from_secret(bytes(size))
