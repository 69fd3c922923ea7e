"""Opening a small age passphrase file (a holder's key file) without holding the GIL.

A holder's identity is kept as an age file encrypted to a passphrase (the ``scrypt``
recipient, C2SP age). The age library (pyrage) opens it, but holds the interpreter's lock
for the whole scrypt computation (about 1.4 s at the work factor rage picks), so nothing
else in the process advances meanwhile. ``hashlib.scrypt`` (OpenSSL) releases the lock:
opening the file here lets a grant read and check the archive's files on the other core
while the passphrase is tried.

This follows the spec step by step and nothing more, with the primitives of
``cryptography`` and ``hashlib`` (never a hand-written cipher):

- the header is read by ``agehdr.read_header`` (the strict v1 grammar, bounded);
- the scrypt stanza must be the header's only stanza, with exactly a 16-byte salt in
  canonical base64 and a decimal work factor without sign or leading zero, at most
  ``max_work_factor``; its body is exactly 32 bytes (a wrapped 16-byte file key);
- the wrapping key is scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt,
  N = 2^work factor, r = 8, p = 1, 32 bytes); the file key is unwrapped with
  ChaCha20-Poly1305 under a zero nonce, and the header's MAC is checked with it;
- the payload is the 16-byte nonce and the STREAM chunks (64 KiB of plaintext each)
  under HKDF-SHA256(file key, nonce, "payload"), each chunk's nonce the 11-byte
  big-endian counter and the last-chunk flag; a last chunk may be empty only when it is
  the only one.

Tested against the C2SP CCTV age test vectors (the passphrase ones in
``tests/fixtures/age-testkit-scrypt``, and every X25519 one's payload through
``open_payload``) and both ways against the age library.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from brankas.core.keyring import agehdr
from brankas.core.keyring.agehdr import HeaderInvalid, MacMismatch, NoMatch, PayloadInvalid

SCRYPT_TYPE = "scrypt"
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
SALT_SIZE = 16
MAX_FILE = 1 << 20  # a key file is a few hundred bytes; anything this large is not one
_WORK_FACTOR = re.compile(r"[1-9][0-9]?")


def scrypt_stanza(header: agehdr.Header, *, max_work_factor: int) -> tuple[bytes, int, bytes]:
    """(salt, work factor, body) of the header's one scrypt stanza; ``NoMatch`` when it
    holds none, ``HeaderInvalid`` when it is not alone or not well formed."""
    found = [s for s in header.stanzas if s.type == SCRYPT_TYPE]
    if not found:
        raise NoMatch("not a passphrase-encrypted file")
    if len(header.stanzas) != 1:
        raise HeaderInvalid("a scrypt stanza must be alone in the header")
    (stanza,) = found
    if len(stanza.args) != 3:
        raise HeaderInvalid("a scrypt stanza must have exactly two arguments")
    salt = agehdr.b64decode(stanza.args[1].encode("ascii"))
    if len(salt) != SALT_SIZE:
        raise HeaderInvalid("a scrypt salt must be 16 bytes")
    if not _WORK_FACTOR.fullmatch(stanza.args[2]):
        raise HeaderInvalid("a scrypt work factor must be a decimal number from 1")
    work_factor = int(stanza.args[2])
    if work_factor > max_work_factor:
        raise HeaderInvalid(f"a scrypt work factor of {work_factor} (at most "
                            f"{max_work_factor} is tried)")
    if len(stanza.body) != agehdr.FILE_KEY_SIZE + agehdr.TAG_SIZE:
        raise HeaderInvalid("a scrypt stanza body must be 32 bytes")
    return salt, work_factor, stanza.body


def _scrypt(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    n, r = 1 << work_factor, 8
    # OpenSSL needs 128·r·N bytes for the table and a little more for its buffers
    return hashlib.scrypt(passphrase, salt=SCRYPT_LABEL + salt, n=n, r=r, p=1, dklen=32,
                          maxmem=128 * r * n + (8 << 20))


def open_payload(file_key: bytes, payload: bytes) -> bytes:
    """The plaintext of an age payload (nonce and STREAM chunks) under ``file_key``;
    ``PayloadInvalid`` when any chunk fails or the chunks are cut wrongly."""
    agehdr.check_payload_size(len(payload))
    nonce, sealed = payload[:agehdr.NONCE_SIZE], memoryview(payload)[agehdr.NONCE_SIZE:]
    aead = ChaCha20Poly1305(agehdr._hkdf(file_key, nonce, b"payload"))
    out = bytearray()
    count = -(-len(sealed) // agehdr.SEALED_CHUNK)
    for i in range(count):
        chunk = sealed[i * agehdr.SEALED_CHUNK:(i + 1) * agehdr.SEALED_CHUNK]
        last = i == count - 1
        try:
            plain = aead.decrypt(i.to_bytes(11, "big") + (b"\x01" if last else b"\x00"),
                                 bytes(chunk), None)
        except InvalidTag:
            raise PayloadInvalid(f"chunk {i} does not authenticate") from None
        if last and not plain and i > 0:
            raise PayloadInvalid("the last chunk is empty")
        out += plain
    return bytes(out)


def decrypt(data: bytes, passphrase: str, *, max_work_factor: int) -> bytes:
    """The plaintext of the age passphrase file ``data``. Raises ``agehdr.NoMatch`` for a
    wrong passphrase, ``HeaderInvalid``/``MacMismatch``/``PayloadInvalid`` for a file that
    is not a well-formed one. The scrypt work runs without the interpreter's lock."""
    if len(data) > MAX_FILE:
        raise HeaderInvalid("a passphrase file larger than a key file")
    src = io.BytesIO(data)
    header = agehdr.read_header(src)
    salt, work_factor, body = scrypt_stanza(header, max_work_factor=max_work_factor)
    wrap = _scrypt(passphrase.encode("utf-8"), salt, work_factor)
    try:
        file_key = ChaCha20Poly1305(wrap).decrypt(bytes(12), body, None)
    except InvalidTag:
        raise NoMatch("the passphrase does not open this file") from None
    if not hmac.compare_digest(agehdr.header_mac(file_key, header.mac_input),
                                      header.mac):
        raise MacMismatch("the header MAC does not match")
    return open_payload(file_key, data[header.size:])
