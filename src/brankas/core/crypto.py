"""The cipher suite, kept behind this one module.

Suite ``age-v1``: the age format (C2SP age-encryption.org/v1) with X25519 recipients,
through pyrage (its streaming calls for files, one call for bytes in memory), so any
exempted file opens with the standard ``age`` tool. Secret identities are kept as age
passphrase-encrypted files (scrypt), which the ``age`` tool also reads (``age -d -i
holder.age``). Should BSSN rules require another suite, it goes here beside this one;
every encrypted file records its suite's name.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import queue
import threading
from collections.abc import Iterator
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
    """A holder's identity from its passphrase-protected key file. Opened by
    ``keyring.agepass`` (the scrypt work without the interpreter's lock, so a grant's
    other threads go on meanwhile; the binary age files the age library writes, which is
    how every key file is made). A key made on a machine so fast that rage chose a work
    factor above ``MAX_WORK_FACTOR`` (more memory than ``hashlib.scrypt`` takes) goes to
    the age library; files from a disk are checked against that bound before (see
    ``scrypt_work_factor``)."""
    from brankas.core.keyring import agepass

    try:
        factor = scrypt_work_factor(protected)
        if factor is not None and factor > MAX_WORK_FACTOR:
            plain = pyrage.passphrase.decrypt(protected, passphrase)
        else:
            plain = agepass.decrypt(protected, passphrase, max_work_factor=MAX_WORK_FACTOR)
        text = plain.decode("ascii")
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
                                   detail=("baris AGE-SECRET-KEY-1 bukan identitas age yang sah "
                                           "(salah ketik?)",
                                           "the AGE-SECRET-KEY-1 line is not a valid age "
                                           "identity (mistyped?)")) from None
    raise InvalidInput("field_invalid", field="identity",
                       detail=("tidak ada baris AGE-SECRET-KEY-1", "no AGE-SECRET-KEY-1 line"))


# -- an identity as its 32 secret bytes (the recovery shares split these) -------------
#
# An age X25519 identity is the Bech32 encoding (BIP-173) of its 32-byte scalar under the
# human-readable part "age-secret-key-", written in upper case. The encoder and decoder
# below follow the BIP-173 reference code (github.com/sipa/bech32, ref/python); no
# dependency for ~30 lines. Bech32, not Bech32m: age uses the original checksum constant.

_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_IDENTITY_HRP = "age-secret-key-"
_RECIPIENT_HRP = "age"
SECRET_SIZE = 32  # bytes of an X25519 identity


def _bech32_polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_BECH32_GENERATOR):
            chk ^= gen if (top >> i) & 1 else 0
    return chk


def _bech32_hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int,
                  pad: bool) -> list[int] | None:
    acc = bits = 0
    out = []
    maxv = (1 << to_bits) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            return None
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or ((acc << (to_bits - bits)) & maxv):
        return None
    return out


def _bech32_encode(hrp: str, data: bytes) -> str:
    words = _convert_bits(data, 8, 5, True)
    assert words is not None
    values = _bech32_hrp_expand(hrp) + words
    polymod = _bech32_polymod([*values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32_CHARSET[d] for d in words + checksum)


def _bech32_decode(text: str) -> tuple[str, bytes] | None:
    """(hrp, data) of a Bech32 string, or None when it is not one (mixed case, a character
    outside the alphabet, a wrong checksum, bad padding)."""
    if text.lower() != text and text.upper() != text:
        return None
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        return None
    text = text.lower()
    pos = text.rfind("1")
    if pos < 1 or pos + 7 > len(text):
        return None
    hrp = text[:pos]
    if any(c not in _BECH32_CHARSET for c in text[pos + 1:]):
        return None
    values = [_BECH32_CHARSET.find(c) for c in text[pos + 1:]]
    if _bech32_polymod(_bech32_hrp_expand(hrp) + values) != 1:
        return None
    data = _convert_bits(values[:-6], 5, 8, False)
    return None if data is None else (hrp, bytes(data))


def identity_secret(identity: x25519.Identity | str) -> bytes:
    """The 32 secret bytes of an age X25519 identity (``AGE-SECRET-KEY-1…``), its
    checksum checked. Only for splitting it into recovery shares; keep the bytes in memory."""
    decoded = _bech32_decode(str(identity).strip())
    if decoded is None or decoded[0] != _IDENTITY_HRP or len(decoded[1]) != SECRET_SIZE:
        raise InvalidInput("field_invalid", field="identity",
                           detail=("bukan identitas AGE-SECRET-KEY-1 yang sah (salah ketik?)",
                                   "not a valid AGE-SECRET-KEY-1 identity (mistyped?)"))
    return decoded[1]


def recipient_bytes(recipient: str) -> bytes:
    """The 32-byte X25519 public key of an age recipient (``age1…``), its checksum
    checked (the header-only grant writes stanzas for it, ``keyring.agehdr``)."""
    decoded = _bech32_decode(recipient.strip())
    if decoded is None or decoded[0] != _RECIPIENT_HRP or len(decoded[1]) != SECRET_SIZE:
        raise InvalidInput("field_invalid", field="recipient",
                           detail=("bukan penerima X25519 age1… yang sah",
                                   "not a valid age1… X25519 recipient"))
    return decoded[1]


def identity_from_secret(secret: bytes) -> x25519.Identity:
    """The age identity whose 32 secret bytes are ``secret`` (rebuilt from recovery
    shares); the inverse of ``identity_secret``."""
    if len(secret) != SECRET_SIZE:
        raise InvalidInput("field_invalid", field="identity",
                           detail=(f"identitas berukuran {SECRET_SIZE} bita, bukan {len(secret)}",
                                   f"an identity is {SECRET_SIZE} bytes, not {len(secret)}"))
    return x25519.Identity.from_str(_bech32_encode(_IDENTITY_HRP, secret).upper())


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
    """``data`` encrypted in one call (an age file as ``encrypt_stream`` makes one, which
    ``decrypt_stream`` and the ``age`` tool read): no Python read and write round per 64 KiB
    chunk, no copy into and out of in-memory streams (an offsite push encrypts each
    document of up to 1 MiB so: 11-16 % less of the encryption's CPU, s21)."""
    if not recipients:
        raise ValueError("at least one recipient is needed")
    return pyrage.encrypt(bytes(data), list(_parsed(tuple(recipients))))


@functools.lru_cache(maxsize=32)
def _parsed(recipients: tuple[str, ...]) -> tuple[x25519.Recipient, ...]:
    """Recipients as pyrage takes them, parsed once for the many files of one run."""
    return tuple(x25519.Recipient.from_str(r) for r in recipients)


def decrypt_bytes(data: bytes, identities: list[x25519.Identity]) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(data), out, identities)
    return out.getvalue()


# -- re-encryption: decrypt and encrypt again as one stream -----------------------------

PIPE_PIECES = 8  # pieces of plaintext in flight between the two sides (≤ 8 × 1 MiB)


class _Closed(Exception):
    """The other side of a ``_Pipe`` stopped (it failed): stop too."""


class _Pipe:
    """A bounded in-memory pipe between the decrypting thread (writes) and the encrypting
    caller (reads). Plaintext lives only in its few pieces, never in a file."""

    def __init__(self, pieces: int = PIPE_PIECES) -> None:
        self._q: queue.Queue[bytes | None] = queue.Queue(maxsize=pieces)
        self._stopped = threading.Event()
        self._finished = False
        self._piece = b""
        self._pos = 0
        self._eof = False

    # writer side (the decrypting thread)
    def write(self, data: Any) -> int:
        if self._finished:  # a late flush after a failure (the buffer being freed)
            return len(data)
        piece = bytes(data)
        while True:
            if self._stopped.is_set():
                raise _Closed()
            try:
                self._q.put(piece, timeout=0.1)
                return len(piece)
            except queue.Full:
                continue

    def finish(self) -> None:
        self._finished = True
        while not self._stopped.is_set():
            try:
                self._q.put(None, timeout=0.1)
                return
            except queue.Full:
                continue

    # reader side (the encrypting caller)
    def readinto(self, buffer: Any) -> int:
        while self._pos >= len(self._piece):
            if self._eof:
                return 0
            item = self._q.get()
            if item is None:
                self._eof = True
                return 0
            self._piece, self._pos = item, 0
        n = min(len(buffer), len(self._piece) - self._pos)
        buffer[:n] = self._piece[self._pos:self._pos + n]
        self._pos += n
        return n

    def stop(self) -> None:
        """The reader gives up: the writer stops at its next write; pieces are dropped."""
        self._stopped.set()
        with _suppress_empty():
            while True:
                self._q.get_nowait()


class _suppress_empty:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        return kind is queue.Empty


class _PipeWriter(io.RawIOBase):
    def __init__(self, pipe: _Pipe, plain_hash: Any) -> None:
        self.pipe = pipe
        self.plain_hash = plain_hash

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.plain_hash is not None:
            self.plain_hash.update(data)  # hashlib runs without the GIL on big pieces
        return self.pipe.write(data)


class _PipeReader(io.RawIOBase):
    def __init__(self, pipe: _Pipe) -> None:
        self.pipe = pipe

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self.pipe.readinto(buffer)


def reencrypt_stream(src: BinaryIO, dst: BinaryIO, identities: list[x25519.Identity],
                     recipients: list[str], *, buffer: int = 1 << 20,
                     plain_hash: Any = None) -> None:
    """Decrypt ``src`` with ``identities`` and encrypt it again to ``recipients`` into
    ``dst``, in bounded memory: the decryption runs in a helper thread and hands the
    plaintext through a small in-memory pipe to the encryption (a fresh file key: age
    makes one at every encryption). Nothing of the plaintext is written anywhere but the
    pipe. Raises the first error of either side (a wrong identity, a damaged ``src``, a
    full disk); ``dst`` is then incomplete and must be thrown away. A damaged ``src`` is
    caught at the latest at its end, so a caller keeps ``dst`` only if this returns.
    ``plain_hash`` (a hashlib object), when given, is fed the plaintext as it passes."""
    if not recipients:
        raise ValueError("at least one recipient is needed")
    parsed = [x25519.Recipient.from_str(r) for r in recipients]
    pipe = _Pipe()
    failure: list[BaseException] = []

    def decrypt() -> None:
        out = io.BufferedWriter(_PipeWriter(pipe, plain_hash), buffer_size=buffer)
        try:
            decrypt_stream(src, out, identities)
            out.flush()
        except _Closed:
            return
        except BaseException as exc:  # handed to the caller
            failure.append(exc)
        finally:
            pipe.finish()

    worker = threading.Thread(target=decrypt, name="brankas-decrypt", daemon=True)
    worker.start()
    try:
        plain = io.BufferedReader(_PipeReader(pipe), buffer_size=buffer)
        _run(pyrage.encrypt_io, plain, dst, parsed)  # type: ignore[arg-type]
    except BaseException:
        pipe.stop()
        worker.join()
        if failure:
            raise failure[0] from None
        raise
    worker.join()
    if failure:
        raise failure[0]


@contextlib.contextmanager
def encrypting_writer(dst: BinaryIO, recipients: list[str], *,
                      buffer: int = 1 << 20) -> Iterator[BinaryIO]:
    """A stream to write plaintext into, encrypted to ``recipients`` onto ``dst`` as it
    is written (age STREAM), in bounded memory: the encryption runs in a helper thread
    and takes the plaintext through the same small in-memory pipe as
    ``reencrypt_stream``. The ciphertext is complete when the ``with`` block ends without
    an error; on an error (of either side) ``dst`` is incomplete and must be thrown away.
    For plaintext made piece by piece (a snapshot, a register) that should never be held
    whole."""
    if not recipients:
        raise ValueError("at least one recipient is needed")
    parsed = [x25519.Recipient.from_str(r) for r in recipients]
    pipe = _Pipe()
    failure: list[BaseException] = []

    def encrypt() -> None:
        try:
            plain = io.BufferedReader(_PipeReader(pipe), buffer_size=buffer)
            _run(pyrage.encrypt_io, plain, dst, parsed)  # type: ignore[arg-type]
        except BaseException as exc:  # handed to the writer
            failure.append(exc)
            pipe.stop()

    worker = threading.Thread(target=encrypt, name="brankas-encrypt", daemon=True)
    worker.start()
    out = io.BufferedWriter(_PipeWriter(pipe, None), buffer_size=buffer)
    try:
        try:
            yield out  # type: ignore[misc]
            out.flush()
        except _Closed:
            pass  # the encrypting side failed: its error is raised below
    finally:
        pipe.finish()  # the end of the plaintext (at once when the other side stopped)
        worker.join()
    if failure:
        raise failure[0]
