"""The fixtures' age passphrase files (tests/agefile.py) are age files: the product's own
reader and the standard ``age`` tool open them, and refuse a wrong passphrase."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pyrage
import pytest

from brankas.core import crypto
from brankas.core.errors import CryptoFailure
from tests.agefile import QUICK_WORK_FACTOR, passphrase_encrypt

PASSPHRASE = "lembah sunyi menara biru pagi"


@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 2 * 64 * 1024 + 5])
def test_pyrage_reads_it_back_and_refuses_a_wrong_passphrase(size: int) -> None:
    data = os.urandom(size)
    protected = passphrase_encrypt(data, PASSPHRASE)
    assert crypto.scrypt_work_factor(protected) == QUICK_WORK_FACTOR
    assert pyrage.passphrase.decrypt(protected, PASSPHRASE) == data
    with pytest.raises(pyrage.DecryptError):
        pyrage.passphrase.decrypt(protected, "salah sekali")


def test_an_identity_made_so_unlocks_as_the_products_own() -> None:
    pair = crypto.generate()
    protected = passphrase_encrypt((pair.identity + "\n").encode("ascii"), PASSPHRASE)
    identity = crypto.unlock_identity(protected, PASSPHRASE, username="kabid")
    assert str(identity.to_public()) == pair.recipient
    with pytest.raises(CryptoFailure):
        crypto.unlock_identity(protected, "salah sekali", username="kabid")


@pytest.mark.skipif(not os.path.exists("/usr/bin/age"), reason="the age tool is not installed")
def test_the_age_tool_opens_it_with_the_passphrase_typed_on_the_terminal(tmp_path: Path) -> None:
    from tests.core.test_age_interop import age_with_terminal

    pair = crypto.generate()
    (tmp_path / "key.age").write_bytes(
        passphrase_encrypt((pair.identity + "\n").encode("ascii"), PASSPHRASE))
    with open(tmp_path / "doc.age", "wb") as out:
        crypto.encrypt_stream(io.BytesIO(b"isi surat"), out, [pair.recipient])
    status, shown = age_with_terminal(["-d", "-i", "key.age", "-o", "out", "doc.age"],
                                      PASSPHRASE, tmp_path)
    assert status == 0, shown
    assert (tmp_path / "out").read_bytes() == b"isi surat"
