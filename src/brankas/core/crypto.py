"""The cipher suite, kept behind this one module.

Suite ``age-v1``: the age format (C2SP age-encryption.org/v1) with X25519 recipients,
through pyrage's streaming calls, so any exempted file opens with the standard ``age``
tool. Secret identities are kept as age passphrase-encrypted files (scrypt), which the
``age`` tool also reads (``age -d -i holder.age``). Should BSSN rules require another
suite, it goes here beside this one; every encrypted file records its suite's name.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyrage
from pyrage import x25519

from brankas.core.errors import CryptoFailure, InvalidInput

SUITE = "age-v1"
EXTENSION = ".age"


@dataclass(frozen=True)
class KeyPair:
    identity: str  # AGE-SECRET-KEY-1…, never stored unprotected
    recipient: str  # age1…


def generate() -> KeyPair:
    ident = x25519.Identity.generate()
    return KeyPair(identity=str(ident), recipient=str(ident.to_public()))


def recipient_fingerprint(recipient: str) -> str:
    """A short, stable name for a public key (first 16 hex digits of its SHA-256)."""
    return hashlib.sha256(recipient.encode("ascii")).hexdigest()[:16]


def check_recipient(recipient: str) -> str:
    try:
        x25519.Recipient.from_str(recipient.strip())
    except Exception as exc:  # pyrage raises its own RecipientError
        raise InvalidInput("field_invalid", field="recipient", detail=str(exc)) from None
    return recipient.strip()


def protect_identity(identity: str, passphrase: str) -> bytes:
    """The identity as an age scrypt file, readable with ``age -d`` and the passphrase."""
    return pyrage.passphrase.encrypt((identity + "\n").encode("ascii"), passphrase)


def unlock_identity(protected: bytes, passphrase: str, *, username: str) -> x25519.Identity:
    try:
        text = pyrage.passphrase.decrypt(protected, passphrase).decode("ascii")
    except Exception:
        raise CryptoFailure("passphrase_wrong", username=username) from None
    for line in text.splitlines():
        if line.startswith("AGE-SECRET-KEY-1"):
            return x25519.Identity.from_str(line.strip())
    raise CryptoFailure("passphrase_wrong", username=username)


# rage picks the work factor that takes about a second on the machine that encrypts (16-18
# on office laptops; Go's age always uses 18). A file from a disk asking for more than 20
# (1 GiB of memory, seconds per try) is not one of ours and is not tried.
MAX_WORK_FACTOR = 20


def scrypt_work_factor(protected: bytes) -> int | None:
    """The scrypt work factor (log2 N) an age passphrase file asks for, or None when its
    header does not hold one scrypt stanza. Read before trying a passphrase on a file from
    a disk: a forged file may ask for minutes of work (rage itself stops near 16 s)."""
    head = protected[:512].split(b"\n")
    if len(head) < 2 or not head[0].startswith(b"age-encryption.org/"):
        return None
    parts = head[1].split(b" ")
    if len(parts) != 4 or parts[:2] != [b"->", b"scrypt"] or not parts[3].isdigit():
        return None
    return int(parts[3])


def parse_identity(text: str) -> x25519.Identity:
    for line in text.splitlines():
        if line.strip().startswith("AGE-SECRET-KEY-1"):
            try:
                return x25519.Identity.from_str(line.strip())
            except Exception:  # pyrage.IdentityError: a mistyped or damaged key
                raise InvalidInput("field_invalid", field="identity",
                                   detail="the AGE-SECRET-KEY-1 line is not a valid age "
                                          "identity (mistyped?)") from None
    raise InvalidInput("field_invalid", field="identity", detail="no AGE-SECRET-KEY-1 line")


class _Relay(io.RawIOBase):
    """Passes reads and writes through and remembers the first exception they raised.

    pyrage turns any exception of the source or destination into its own error type with
    the errno lost; the relay lets us re-raise the original (a full disk stays ENOSPC)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.error: BaseException | None = None

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return self.raw.readinto(buffer) or 0  # type: ignore[attr-defined]
        except BaseException as exc:
            self.error = self.error or exc
            raise

    def write(self, data: Any) -> int:
        try:
            written = self.raw.write(data)
        except BaseException as exc:
            self.error = self.error or exc
            raise
        return len(data) if written is None else written

    def flush(self) -> None:
        self.raw.flush()


def _run(call: Any, src: BinaryIO, dst: BinaryIO, keys: list[Any]) -> None:
    src_relay, dst_relay = _Relay(src), _Relay(dst)
    try:
        call(src_relay, dst_relay, keys)
    except Exception as exc:
        original = src_relay.error or dst_relay.error
        if original is not None and original is not exc:
            raise original from None
        raise


def encrypt_stream(src: BinaryIO, dst: BinaryIO, recipients: list[str]) -> None:
    """Encrypt ``src`` to ``dst`` in constant memory (age STREAM, 64 KiB chunks)."""
    if not recipients:
        raise ValueError("at least one recipient is needed")
    parsed = [x25519.Recipient.from_str(r) for r in recipients]
    _run(pyrage.encrypt_io, src, dst, parsed)


def decrypt_stream(src: BinaryIO, dst: BinaryIO, identities: list[x25519.Identity]) -> None:
    """Decrypt in constant memory. Each chunk is authenticated before it is written, and a
    truncated or altered file raises; callers release ``dst`` only after this returns."""
    _run(pyrage.decrypt_io, src, dst, identities)


def encrypt_bytes(data: bytes, recipients: list[str]) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, recipients)
    return out.getvalue()


def decrypt_bytes(data: bytes, identities: list[x25519.Identity]) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(data), out, identities)
    return out.getvalue()
