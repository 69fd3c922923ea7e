"""The age v1 header, read and written here (a grant rewrites only the header).

An age file (C2SP age, https://c2sp.org/age) is a textual header that wraps a 16-byte
*file key* for each recipient, then the payload: a 16-byte nonce and the STREAM chunks
encrypted under a key derived from the file key and that nonce. A grant adds readers to
a file whose contents do not change, so it needs only a new header: the file key is
unwrapped from the header with one of the granter's identities, the old header's MAC is
checked with it, a new header wraps the same file key for every reader (a fresh
ephemeral X25519 key per stanza) and gets its MAC, and the payload is copied byte for
byte. The payload is never decrypted: no plaintext exists at all during a grant.

This is the one place where Brankas writes part of the age format itself instead of
calling the age library (which offers no header-only operation). It is kept strict:

- the header is read with a bound (``MAX_HEADER`` bytes) and must be exactly the v1
  grammar of the spec: the version line ``age-encryption.org/v1``, one or more stanzas
  ``-> arg...`` (arguments of visible ASCII) with a body in canonical, unpadded base64
  wrapped at 64 columns whose last line is shorter than 64 (possibly empty), and the
  ``--- `` line with the 32-byte MAC in canonical base64. Anything else is refused;
- an X25519 stanza has exactly two arguments, a 32-byte share and a 32-byte body; a
  share giving an all-zero shared secret is refused; a ``scrypt`` stanza is refused
  (Brankas's stored files are encrypted to recipients, never to a passphrase);
- stanzas of other types (``grease``, plugins) are ignored when unwrapping and left out
  of the new header;
- the payload must at least hold its nonce and have a length that STREAM chunks can
  make (the chunks themselves stay sealed; the caller checks the file's SHA-256 against
  the register instead).

Tested against the C2SP CCTV age test vectors (``tests/fixtures/age-testkit``) and both
ways against the ``age`` tool and the age library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from brankas.core import crypto

VERSION_LINE = b"age-encryption.org/v1\n"
MAX_HEADER = 64 * 1024  # a larger header is not one of ours (ours are < 1 KiB)
FILE_KEY_SIZE = 16
NONCE_SIZE = 16
CHUNK_SIZE = 64 * 1024  # plaintext bytes per STREAM chunk
TAG_SIZE = 16
SEALED_CHUNK = CHUNK_SIZE + TAG_SIZE
X25519_TYPE = "X25519"
X25519_INFO = b"age-encryption.org/v1/X25519"
_COLUMNS = 64
_B64_LINE = re.compile(rb"[A-Za-z0-9+/]*")
_ZERO_NONCE = bytes(12)


class AgeHeaderError(Exception):
    """The file is not an age v1 file this module accepts."""


class HeaderInvalid(AgeHeaderError):
    """The header does not parse (or an X25519 stanza is malformed): "header failure"."""


class NoMatch(AgeHeaderError):
    """No X25519 stanza opens with the identities given: "no match"."""


class MacMismatch(AgeHeaderError):
    """A file key was unwrapped but the header's MAC is wrong: "HMAC failure"."""


class PayloadInvalid(AgeHeaderError):
    """The payload is too short for its nonce or its length cannot be STREAM chunks."""


@dataclass(frozen=True)
class Stanza:
    args: tuple[str, ...]  # args[0] is the stanza's type
    body: bytes

    @property
    def type(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Header:
    stanzas: tuple[Stanza, ...]
    mac: bytes  # 32 bytes
    mac_input: bytes  # the header up to and including "---", as read
    size: int  # bytes of the header, the MAC line included


# -- base64 -------------------------------------------------------------------------------

def b64encode(data: bytes) -> bytes:
    """Standard base64 without ``=`` padding."""
    return base64.b64encode(data).rstrip(b"=")


def b64decode(text: bytes) -> bytes:
    """Canonical unpadded base64 only (RFC 4648 section 3.5): no ``=``, no character
    outside the alphabet, no non-zero padding bits."""
    if not _B64_LINE.fullmatch(text) or len(text) % 4 == 1:
        raise HeaderInvalid("not canonical unpadded base64")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise HeaderInvalid("not canonical unpadded base64") from None
    if b64encode(data) != text:
        raise HeaderInvalid("not canonical unpadded base64")
    return data


# -- reading -----------------------------------------------------------------------------

class _Lines:
    def __init__(self, src: BinaryIO, limit: int) -> None:
        self.src = src
        self.left = limit
        self.raw = bytearray()

    def next(self) -> bytes:
        """The next line without its LF; a line without LF (end of file) or past the
        bound is refused."""
        if self.left <= 0:
            raise HeaderInvalid(f"header larger than {MAX_HEADER} bytes")
        line = self.src.readline(self.left)  # type: ignore[call-arg]
        self.left -= len(line)
        if not line.endswith(b"\n"):
            if self.left <= 0:
                raise HeaderInvalid(f"header larger than {MAX_HEADER} bytes")
            raise HeaderInvalid("the header ends before its MAC line")
        self.raw += line
        return line[:-1]


def _visible(arg: bytes) -> bool:
    return bool(arg) and all(0x21 <= c <= 0x7E for c in arg)


def read_header(src: BinaryIO, *, limit: int = MAX_HEADER) -> Header:
    """Parse the header at the start of ``src`` (a buffered binary file), reading at most
    ``limit`` bytes; ``src`` is then at the first byte of the payload."""
    lines = _Lines(src, limit)
    first = lines.next()
    if first + b"\n" != VERSION_LINE:
        raise HeaderInvalid("not an age v1 file (version line)")
    stanzas: list[Stanza] = []
    while True:
        line = lines.next()
        if line.startswith(b"---"):
            if not stanzas:
                raise HeaderInvalid("a header without any stanza")
            if len(line) != 4 + 43 or line[3:4] != b" ":
                raise HeaderInvalid("malformed MAC line")
            mac = b64decode(line[4:])
            if len(mac) != 32:
                raise HeaderInvalid("malformed MAC line")
            mac_input = bytes(lines.raw[: len(lines.raw) - len(line) - 1 + 3])
            return Header(tuple(stanzas), mac, mac_input, len(lines.raw))
        if not line.startswith(b"-> "):
            raise HeaderInvalid("a line that is neither a stanza nor the MAC")
        args = line[3:].split(b" ")
        if not all(_visible(a) for a in args):
            raise HeaderInvalid("an empty or invalid stanza argument")
        body = bytearray()
        while True:
            part = lines.next()
            if len(part) > _COLUMNS:
                raise HeaderInvalid("a stanza body line longer than 64 columns")
            body += part
            if len(part) < _COLUMNS:
                break
        stanzas.append(Stanza(tuple(a.decode("ascii") for a in args), b64decode(bytes(body))))


# -- the file key -------------------------------------------------------------------------

def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=salt, info=info).derive(ikm)


def header_mac(file_key: bytes, mac_input: bytes) -> bytes:
    key = _hkdf(file_key, b"", b"header")
    return hmac.new(key, mac_input, hashlib.sha256).digest()


def _x25519_stanza(stanza: Stanza) -> tuple[bytes, bytes]:
    """(share, body) of a well-formed X25519 stanza, else HeaderInvalid."""
    if len(stanza.args) != 2:
        raise HeaderInvalid("an X25519 stanza must have exactly two arguments")
    share = b64decode(stanza.args[1].encode("ascii"))
    if len(share) != 32:
        raise HeaderInvalid("an X25519 share must be 32 bytes")
    if len(stanza.body) != FILE_KEY_SIZE + TAG_SIZE:
        raise HeaderInvalid("an X25519 stanza body must be 32 bytes")
    return share, stanza.body


def _exchange(secret: X25519PrivateKey, public: bytes) -> bytes:
    try:
        shared = secret.exchange(X25519PublicKey.from_public_bytes(public))
    except ValueError:  # OpenSSL refuses a low-order point (an all-zero secret)
        raise HeaderInvalid("an X25519 share of low order") from None
    if not any(shared):
        raise HeaderInvalid("an X25519 share of low order")
    return shared


def unwrap_file_key(header: Header, identities: Iterable[bytes]) -> bytes:
    """The file key, unwrapped from an X25519 stanza with one of ``identities`` (32 secret
    bytes each, ``crypto.identity_secret``), with the header's MAC checked."""
    if any(s.type == "scrypt" for s in header.stanzas):
        raise HeaderInvalid("a passphrase-encrypted (scrypt) file")
    x_stanzas = [_x25519_stanza(s) for s in header.stanzas if s.type == X25519_TYPE]
    keys = []
    for secret in identities:
        private = X25519PrivateKey.from_private_bytes(secret)
        keys.append((private, private.public_key().public_bytes_raw()))
    for share, body in x_stanzas:
        for private, public in keys:
            shared = _exchange(private, share)
            wrap = _hkdf(shared, share + public, X25519_INFO)
            try:
                file_key = ChaCha20Poly1305(wrap).decrypt(_ZERO_NONCE, body, None)
            except InvalidTag:  # not this identity's stanza
                continue
            if not hmac.compare_digest(header_mac(file_key, header.mac_input), header.mac):
                raise MacMismatch("the header MAC does not match")
            return file_key
    raise NoMatch("no identity opens this file")


# -- writing -------------------------------------------------------------------------------

def encode_stanza(stanza: Stanza) -> bytes:
    body = b64encode(stanza.body)
    lines = [body[i:i + _COLUMNS] for i in range(0, len(body), _COLUMNS)]
    if not lines or len(lines[-1]) == _COLUMNS:
        lines.append(b"")
    arg_line = b"-> " + " ".join(stanza.args).encode("ascii")
    return b"\n".join([arg_line, *lines]) + b"\n"


def recipient_public(recipient: str) -> bytes:
    """The 32-byte X25519 public key of an ``age1…`` recipient (Bech32, checksum checked)."""
    return crypto.recipient_bytes(recipient)


def wrap_x25519(file_key: bytes, recipient: bytes) -> Stanza:
    ephemeral = X25519PrivateKey.generate()  # a fresh one for every stanza
    share = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    if not any(shared):
        raise ValueError("a recipient of low order")
    wrap = _hkdf(shared, share + recipient, X25519_INFO)
    body = ChaCha20Poly1305(wrap).encrypt(_ZERO_NONCE, file_key, None)
    return Stanza((X25519_TYPE, b64encode(share).decode("ascii")), body)


def build_header(file_key: bytes, recipients: Sequence[str]) -> bytes:
    """A new v1 header wrapping ``file_key`` for each ``age1…`` recipient, with its MAC."""
    if len(file_key) != FILE_KEY_SIZE:
        raise ValueError("a file key is 16 bytes")
    if not recipients:
        raise ValueError("at least one recipient is needed")
    publics = [recipient_public(r) for r in recipients]
    head = VERSION_LINE + b"".join(encode_stanza(wrap_x25519(file_key, p))
                                   for p in publics) + b"---"
    return head + b" " + b64encode(header_mac(file_key, head)) + b"\n"


# -- the payload ---------------------------------------------------------------------------

def check_payload_size(size: int) -> None:
    """``size`` (the bytes after the header) must hold the nonce and whole STREAM chunks:
    full sealed chunks and one last chunk of 1 to 64 KiB plaintext, or one empty chunk
    when the whole payload is empty."""
    if size < NONCE_SIZE:
        raise PayloadInvalid("the payload is shorter than its nonce")
    sealed = size - NONCE_SIZE
    if sealed == 0:
        raise PayloadInvalid("the payload has no chunk")
    full, last = divmod(sealed, SEALED_CHUNK)
    if last == 0:
        return  # the last chunk is full
    if last < TAG_SIZE or (last == TAG_SIZE and full > 0):
        raise PayloadInvalid("the payload's last chunk is cut or empty")


def rewrap_stream(src: BinaryIO, dst: BinaryIO, identities: Sequence[bytes],
                  recipients: Sequence[str], *, buffer: int | bytearray = 1 << 20) -> int:
    """Copy the age file ``src`` into ``dst`` with a new header for ``recipients``: the
    file key unwrapped with ``identities`` and the MAC checked first, then the payload
    byte for byte. Returns the payload's size. ``src`` must be buffered; every byte of
    it is read through ``src`` (a caller hashing ``src`` sees the whole file).
    ``buffer``: the copy's buffer, or its size."""
    header = read_header(src)
    file_key = unwrap_file_key(header, identities)
    dst.write(build_header(file_key, recipients))
    del file_key
    size = 0
    buf = bytearray(buffer) if isinstance(buffer, int) else buffer
    view = memoryview(buf)
    while True:
        n = src.readinto(buf)  # type: ignore[attr-defined]
        if not n:
            break
        dst.write(view[:n])
        size += n
    check_payload_size(size)
    return size


def identity_secrets(identities: Iterable[object]) -> list[bytes]:
    """The 32 secret bytes of each age identity (pyrage identities or their strings)."""
    return [crypto.identity_secret(str(i)) for i in identities]
