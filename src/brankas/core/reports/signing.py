"""Signatures of the report chain: one Ed25519 key per signer, kept passphrase-protected.

A signature cannot cover a PDF that contains it, so at each signed step the signer signs a
short statement that names the SHA-256 of the PDF as rendered at that step (and the
report, its version, the step, the signer and the time). The approved PDF's hash is the
one the Kabid signs; ``brankas report verify FILE`` hashes the file, finds the report
whose approved PDF has that hash, and checks every recorded statement against the
signer's public key.

The private key is kept as PKCS#8 PEM inside an age passphrase file (scrypt), exactly as
the holders' decryption keys are: ``cryptography``'s ``BestAvailableEncryption`` for PKCS#8
derives its key with only 2,048 PBKDF2 rounds, too few against guessing, while age's scrypt
costs about a second per try and the file opens with the standard tools (``age -d``, then
``openssl pkey``). Signatures are the ``cryptography`` package's Ed25519; nothing here
invents cryptography.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pyrage
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from brankas.core.errors import CryptoFailure

STATEMENT_FORMAT = "brankas-report-signature/1"


@dataclass(frozen=True)
class SignerKeyPair:
    public: str  # base64 of the 32-byte raw public key
    protected_private: bytes  # PKCS#8 PEM in an age scrypt file (the signer's passphrase)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public)


def fingerprint(public: str) -> str:
    return hashlib.sha256(base64.b64decode(public)).hexdigest()[:16]


def generate(passphrase: str) -> SignerKeyPair:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return SignerKeyPair(base64.b64encode(public).decode("ascii"),
                         pyrage.passphrase.encrypt(pem, passphrase))


def statement(**fields: Any) -> bytes:
    """The exact bytes signed: canonical JSON of the step's facts."""
    return json.dumps({"format": STATEMENT_FORMAT, **fields}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def unlock(protected_private: bytes, passphrase: str) -> Ed25519PrivateKey:
    """The private key, in memory only; a wrong passphrase is a clear refusal."""
    try:
        pem = pyrage.passphrase.decrypt(protected_private, passphrase)
        key = serialization.load_pem_private_key(pem, None)
    except (pyrage.DecryptError, ValueError, TypeError):
        raise CryptoFailure("signing_passphrase_wrong") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CryptoFailure("signing_passphrase_wrong")
    return key


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """Base64 Ed25519 signature of ``message``."""
    return base64.b64encode(key.sign(message)).decode("ascii")


def check(public: str, message: bytes, signature: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public))
        key.verify(base64.b64decode(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
