"""A holder's key unlocked ahead of need (``keyring.early``, s16 D): begun at a grant's
start, handed over only for exactly the same key file bytes and passphrase, once. Real
age passphrase files (tests/agefile.py), the real unlock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyrage import x25519

from brankas.core import crypto
from brankas.core.keyring import early
from tests.agefile import passphrase_encrypt

PASSPHRASE = "kuda merah berlari di sawah hijau"


@pytest.fixture(autouse=True)
def _clean() -> None:
    early.forget()


def _key_file(path: Path, passphrase: str = PASSPHRASE, work_factor: int = 10) -> x25519.Identity:
    identity = x25519.Identity.generate()
    path.write_bytes(passphrase_encrypt((str(identity) + "\n").encode("ascii"), passphrase,
                                        work_factor=work_factor))
    return identity


def test_an_unlock_begun_early_is_handed_over_for_the_same_bytes_and_passphrase_once(tmp_path):
    identity = _key_file(tmp_path / "kabid-a.age")
    assert early.begin(tmp_path / "kabid-a.age", PASSPHRASE)
    data = (tmp_path / "kabid-a.age").read_bytes()
    assert early.take(data, "another passphrase") is None  # not what was begun
    assert early.take(data + b"\n", PASSPHRASE) is None  # other bytes
    begun = early.take(data, PASSPHRASE)
    assert begun is not None and str(begun.result()) == str(identity)
    assert early.take(data, PASSPHRASE) is None  # taken once


def test_a_wrong_passphrase_begun_early_fails_as_the_unlock_does(tmp_path):
    _key_file(tmp_path / "kabid-a.age")
    assert early.begin(tmp_path / "kabid-a.age", "bukan ini")
    begun = early.take((tmp_path / "kabid-a.age").read_bytes(), "bukan ini")
    assert begun is not None
    with pytest.raises(crypto.CryptoFailure):
        begun.result()


def test_files_not_begun(tmp_path):
    assert not early.begin(tmp_path / "missing.age", PASSPHRASE)
    (tmp_path / "plain.age").write_bytes(os.urandom(200))  # not a passphrase file
    assert not early.begin(tmp_path / "plain.age", PASSPHRASE)
    # a work factor the age library would take (it holds the interpreter's lock)
    header = b"age-encryption.org/v1\n-> scrypt AAAAAAAAAAAAAAAAAAAAAA 21\n"
    (tmp_path / "hard.age").write_bytes(header + os.urandom(100))
    assert not early.begin(tmp_path / "hard.age", PASSPHRASE)
    assert early._begun == {}


def test_the_newest_key_file_of_the_holder(tmp_path):
    old, new = "kabid-00000000000000aa.age", "kabid-00000000000000bb.age"
    _key_file(tmp_path / old)
    os.utime(tmp_path / old, (1_000_000, 1_000_000))
    _key_file(tmp_path / new)
    _key_file(tmp_path / "kabid2-00000000000000cc.age")  # another holder
    # another holder whose name starts with "kabid-", written last: never kabid's
    _key_file(tmp_path / "kabid-2-00000000000000dd.age")
    assert early.newest_key_file(tmp_path, "kabid") == tmp_path / new
    assert early.newest_key_file(tmp_path, "kabid-2") == tmp_path / "kabid-2-00000000000000dd.age"
    assert early.newest_key_file(tmp_path, "kasi") is None
    assert early.newest_key_file(tmp_path / "none", "kabid") is None
