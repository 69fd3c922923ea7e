"""age passphrase files (the C2SP age v1 format, scrypt recipient) with a chosen scrypt work
factor, for test fixtures.

The product protects identities and signing keys with ``pyrage.passphrase.encrypt``: rage
picks the work factor that takes about a second on the machine (16-18 on office laptops),
and every later opening costs the same second. Brankas reads any work factor up to
``crypto.MAX_WORK_FACTOR``. Keys that a fixture hands to a test (``add_key``, the report
signers) are made here with a small work factor, so that the many openings in the tests
cost milliseconds; they are real age files, read by the same ``pyrage.passphrase.decrypt``
(and by the ``age`` tool, tests/test_agefile.py). The product's own key making (the key
service, ``brankas key new``, signing keys made at the first signature) is unchanged and
tested as it is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

QUICK_WORK_FACTOR = 10  # scrypt N = 2**10: about a millisecond
CHUNK = 64 * 1024
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _hkdf(key: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def passphrase_encrypt(plaintext: bytes, passphrase: str,
                       work_factor: int = QUICK_WORK_FACTOR) -> bytes:
    """``plaintext`` as an age file for ``passphrase`` (one scrypt stanza, log2 N =
    ``work_factor``), as ``age -p`` writes it."""
    file_key = os.urandom(16)
    salt = os.urandom(16)
    wrap_key = hashlib.scrypt(passphrase.encode("utf-8"), salt=SCRYPT_LABEL + salt,
                              n=2 ** work_factor, r=8, p=1,
                              maxmem=(1024 << work_factor) + (8 << 20), dklen=32)
    wrapped = ChaCha20Poly1305(wrap_key).encrypt(b"\x00" * 12, file_key, None)
    header = (b"age-encryption.org/v1\n"
              + b"-> scrypt " + _b64(salt) + b" " + str(work_factor).encode() + b"\n"
              + _b64(wrapped) + b"\n"  # 43 characters: one line, shorter than 64
              + b"---")
    mac = hmac.new(_hkdf(file_key, b"", b"header"), header, hashlib.sha256).digest()
    nonce = os.urandom(16)
    stream = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    chunks = [plaintext[i:i + CHUNK] for i in range(0, len(plaintext), CHUNK)] or [b""]
    body = b"".join(
        stream.encrypt(i.to_bytes(11, "big") + (b"\x01" if i == len(chunks) - 1 else b"\x00"),
                       chunk, None)
        for i, chunk in enumerate(chunks))
    return header + b" " + _b64(mac) + b"\n" + nonce + body
