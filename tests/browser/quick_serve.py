"""``python -m tests.browser.quick_serve serve …``: the ``brankas`` command, with every key it
makes protected at a small scrypt work factor, for the long browser walks, where each holder's
and signer's key is opened many times. The same patch as tests/conftest.quick_key_making (one
call, ``pyrage.passphrase.encrypt``, writes every age passphrase file of the product), made
here without importing tests/conftest.py (pytest and the fixtures' imports: a third of a
second of each server's start). The product's own work factor is tested in tests/web/keys and
tests/core/test_crypto.py."""

from unittest import mock

import pyrage

from brankas.cli import main
from tests.agefile import passphrase_encrypt


def quick(data: bytes, passphrase: str) -> bytes:
    return passphrase_encrypt(bytes(data), passphrase)


with mock.patch.object(pyrage.passphrase, "encrypt", quick):
    main()
