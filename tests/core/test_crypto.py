"""crypto.py: keys, passphrase-protected identities and streaming age encryption."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from pathlib import Path

import pyrage
import pytest

from brankas.core import crypto
from brankas.core.errors import CryptoFailure, InvalidInput
from tests.agefile import passphrase_encrypt
from tests.conftest import PASSPHRASES, protected_identity, quick_protected_identity

PLAINTEXT = b"%PDF-1.7\nSURAT RAHASIA: rencana anggaran 2026\n" + bytes(range(256)) * 600
# Whatever the decrypting side raises for a damaged file (pyrage reports some damage as
# OSError from its I/O adapter, some as DecryptError).
DAMAGE = (pyrage.DecryptError, OSError)


def encrypt(data: bytes, recipients: list[str]) -> bytes:
    out = io.BytesIO()
    crypto.encrypt_stream(io.BytesIO(data), out, recipients)
    return out.getvalue()


@pytest.fixture(scope="module")
def holders() -> list[crypto.KeyPair]:
    return [crypto.generate(), crypto.generate()]


def test_generate_gives_a_matching_pair() -> None:
    pair = crypto.generate()
    assert pair.identity.startswith("AGE-SECRET-KEY-1")
    assert pair.recipient.startswith("age1")
    assert crypto.check_recipient(f"  {pair.recipient}\n") == pair.recipient
    assert str(crypto.parse_identity(pair.identity).to_public()) == pair.recipient
    assert crypto.generate().recipient != pair.recipient


def test_fingerprint_is_stable_and_short() -> None:
    pair = crypto.generate()
    fp = crypto.recipient_fingerprint(pair.recipient)
    assert fp == hashlib.sha256(pair.recipient.encode()).hexdigest()[:16]
    assert crypto.recipient_fingerprint(crypto.generate().recipient) != fp


@pytest.mark.parametrize("bad", ["", "age1", "AGE-SECRET-KEY-1QQQ", "ssh-ed25519 AAAA"])
def test_check_recipient_refuses_garbage(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        crypto.check_recipient(bad)
    assert info.value.code == "field_invalid"


def test_parse_identity_needs_a_secret_key_line() -> None:
    pair = crypto.generate()
    assert str(crypto.parse_identity(f"# created: today\n{pair.identity}\n").to_public()) == (
        pair.recipient
    )
    with pytest.raises(InvalidInput):
        crypto.parse_identity("# nothing here\n" + pair.recipient)


@pytest.mark.slow
def test_protect_and_unlock_round_trip() -> None:
    identity, recipient, protected = protected_identity(PASSPHRASES["kasi"])
    assert identity.encode() not in protected  # the file is ciphertext
    assert protected.startswith(b"age-encryption.org/v1\n-> scrypt ")
    unlocked = crypto.unlock_identity(protected, PASSPHRASES["kasi"], username="kasi")
    assert str(unlocked) == identity
    assert str(unlocked.to_public()) == recipient


def test_wrong_passphrase_is_refused() -> None:
    """At a small work factor (tests/agefile.py): a key file of rage's factor takes the same
    way (``keyring.agepass`` up to ``MAX_WORK_FACTOR``), which the round trip above opens."""
    _, _, protected = quick_protected_identity(PASSPHRASES["kasi"])
    assert crypto.scrypt_work_factor(protected) <= crypto.MAX_WORK_FACTOR
    with pytest.raises(CryptoFailure) as info:
        crypto.unlock_identity(protected, PASSPHRASES["kasi"] + "x", username="kasi")
    assert info.value.code == "passphrase_wrong"
    assert "kasi" in info.value.message("id") and "kasi" in info.value.message("en")


def test_unlock_finds_the_key_line_among_comments() -> None:
    """A key file as age-keygen writes it (comment lines before the key), protected as
    ``age -p`` protects it (at a small work factor: tests/agefile.py)."""
    identity = pyrage.x25519.Identity.generate()
    protected = passphrase_encrypt(f"# created: today\n# public key: {identity.to_public()}\n"
                                   f"{identity}\n".encode(), "sandi rahasia")
    opened = crypto.unlock_identity(protected, "sandi rahasia", username="siti")
    assert str(opened.to_public()) == str(identity.to_public())
    with pytest.raises(CryptoFailure):
        crypto.unlock_identity(protected, "sandi salah", username="siti")


def test_unlock_refuses_a_file_that_is_not_a_protected_identity() -> None:
    with pytest.raises(CryptoFailure) as info:
        crypto.unlock_identity(b"not an age file", "whatever", username="kabid")
    assert info.value.code == "passphrase_wrong"


def test_two_recipients_each_decrypt_alone(holders: list[crypto.KeyPair]) -> None:
    ciphertext = encrypt(PLAINTEXT, [h.recipient for h in holders])
    assert ciphertext.startswith(b"age-encryption.org/v1\n")
    assert ciphertext.count(b"\n-> X25519 ") == 2
    assert b"SURAT RAHASIA" not in ciphertext
    for holder in holders:
        identity = crypto.parse_identity(holder.identity)
        assert crypto.decrypt_bytes(ciphertext, [identity]) == PLAINTEXT


def test_an_outsider_cannot_decrypt(holders: list[crypto.KeyPair]) -> None:
    ciphertext = encrypt(PLAINTEXT, [holders[0].recipient])
    outsider = crypto.parse_identity(crypto.generate().identity)
    with pytest.raises(DAMAGE):
        crypto.decrypt_bytes(ciphertext, [outsider])


def test_encrypt_needs_a_recipient() -> None:
    with pytest.raises(ValueError):
        crypto.encrypt_stream(io.BytesIO(b"x"), io.BytesIO(), [])


def test_empty_plaintext_round_trips(holders: list[crypto.KeyPair]) -> None:
    identity = crypto.parse_identity(holders[0].identity)
    assert crypto.decrypt_bytes(encrypt(b"", [holders[0].recipient]), [identity]) == b""


def header_length(ciphertext: bytes) -> int:
    return ciphertext.index(b"\n---") + len(b"\n--- ") + 43 + 1  # "--- " + base64 MAC + "\n"


@pytest.mark.parametrize("where", ["first chunk", "middle", "last byte"])
def test_a_flipped_byte_in_the_body_is_detected(holders: list[crypto.KeyPair],
                                                where: str) -> None:
    ciphertext = bytearray(encrypt(PLAINTEXT, [holders[0].recipient]))
    body_start = header_length(bytes(ciphertext)) + 16  # after the 16-byte payload nonce
    position = {"first chunk": body_start + 5, "middle": (body_start + len(ciphertext)) // 2,
                "last byte": len(ciphertext) - 1}[where]
    ciphertext[position] ^= 0x01
    with pytest.raises(DAMAGE):
        crypto.decrypt_bytes(bytes(ciphertext), [crypto.parse_identity(holders[0].identity)])


def test_a_changed_header_is_detected(holders: list[crypto.KeyPair]) -> None:
    ciphertext = bytearray(encrypt(PLAINTEXT, [holders[0].recipient]))
    mac_at = ciphertext.index(b"\n--- ") + 6
    ciphertext[mac_at] = ord("A") if ciphertext[mac_at] != ord("A") else ord("B")
    with pytest.raises(DAMAGE):
        crypto.decrypt_bytes(bytes(ciphertext), [crypto.parse_identity(holders[0].identity)])


@pytest.mark.parametrize("keep", [0.5, 0.99, "one chunk", "minus one byte"])
def test_a_truncated_ciphertext_is_detected(holders: list[crypto.KeyPair], keep) -> None:  # type: ignore[no-untyped-def]
    ciphertext = encrypt(PLAINTEXT, [holders[0].recipient])
    body_start = header_length(ciphertext) + 16
    cut = {"one chunk": body_start + 64 * 1024 + 16,  # exactly at a chunk boundary
           "minus one byte": len(ciphertext) - 1}.get(keep) if isinstance(keep, str) else (
        int(len(ciphertext) * keep))
    assert len(PLAINTEXT) > 64 * 1024  # more than one STREAM chunk
    with pytest.raises(DAMAGE):
        crypto.decrypt_bytes(ciphertext[:cut], [crypto.parse_identity(holders[0].identity)])


# ---------------------------------------------------------------- constant memory

SIZE = 64 * 1024 * 1024


class LazySource(io.RawIOBase):
    """``SIZE`` bytes made up on demand, hashed as they are handed out."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.hash = hashlib.sha256()
        self.counter = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self.left)
        self.counter += 1
        view = memoryview(buffer)[:n]
        view[:] = (self.counter.to_bytes(8, "little") * (n // 8 + 1))[:n]
        self.hash.update(view)
        self.left -= n
        return n


class HashingSink(io.RawIOBase):
    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def]
        self.hash.update(data)
        self.size += len(data)
        return len(data)


def test_streaming_keeps_memory_far_below_the_data_size(tmp_path: Path,
                                                        holders: list[crypto.KeyPair]) -> None:
    source = LazySource(SIZE)
    target = tmp_path / "big.age"
    tracemalloc.start()
    try:
        with open(target, "wb") as out:
            crypto.encrypt_stream(source, out, [holders[0].recipient])  # type: ignore[arg-type]
        encrypt_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        sink = HashingSink()
        with open(target, "rb") as src:
            crypto.decrypt_stream(src, sink, [crypto.parse_identity(holders[0].identity)])  # type: ignore[arg-type]
        decrypt_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert source.left == 0
    # age adds 16 bytes per 64 KiB chunk plus a small header.
    assert SIZE < target.stat().st_size < SIZE + SIZE // 4096 + 1024
    assert sink.size == SIZE
    assert sink.hash.hexdigest() == source.hash.hexdigest()
    assert encrypt_peak < 8 * 1024 * 1024, encrypt_peak
    assert decrypt_peak < 8 * 1024 * 1024, decrypt_peak
