"""Review of issue 13: hostile share files given to ``recovery check`` and ``key grant
--shares`` are refused with a message, never a traceback: binary junk, non-UTF-8 text, a
share repeated under many names, a share of another office's split."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from brankas.core import crypto
from brankas.core.keyring import shares as core_shares
from tests.conftest import cli


@pytest.fixture
def split(cli_office, cli_home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    identity = tmp_path / "pemulihan.txt"
    identity.write_text(cli_office.recovery_identity + "\n")
    out = tmp_path / "bagian"
    r = cli(cli_home, tmp_path, "recovery", "split", "--shares", "5", "--threshold", "3",
            "--out-dir", str(out), "--identity-file", str(identity), user="admin")
    assert r.returncode == 0, r.stderr
    return out


def _check(cli_home: Path, tmp_path: Path, *files: Path):  # type: ignore[no-untyped-def]
    r = cli(cli_home, tmp_path, "recovery", "check", *map(str, files), user="admin")
    assert r.returncode in (1, 2), r.stdout
    assert "Traceback" not in r.stderr, r.stderr
    return r


def test_junk_and_non_utf8(cli_home: Path, tmp_path: Path, split: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(os.urandom(4000))
    latin = tmp_path / "latin.txt"
    latin.write_bytes(("caf\xe9 " * 33).encode("latin-1"))
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"\x00" * 100)
    for bad in (junk, latin, nul):
        _check(cli_home, tmp_path, split / "share-1-of-5.txt", split / "share-2-of-5.txt", bad)


def test_one_share_under_a_thousand_names(cli_home: Path, tmp_path: Path, split: Path) -> None:
    copies = tmp_path / "salinan"
    copies.mkdir()
    text = (split / "share-1-of-5.txt").read_text()
    names = []
    for i in range(1000):
        p = copies / f"s{i:04d}.txt"
        p.write_text(text)
        names.append(p)
    r = _check(cli_home, tmp_path, *names)
    assert "s0000.txt" in r.stderr


def test_a_share_set_of_another_office(cli_home: Path, tmp_path: Path, split: Path) -> None:
    other = crypto.parse_identity(crypto.generate().identity)
    words = core_shares.split(other, shares=3, threshold=2)
    files = []
    for i, w in enumerate(words[:2]):
        p = tmp_path / f"lain-{i}.txt"
        p.write_text(w)
        files.append(p)
    r = _check(cli_home, tmp_path, *files)
    assert r.returncode == 1
    # Mixed with this office's shares: refused as two splits.
    _check(cli_home, tmp_path, split / "share-1-of-5.txt", split / "share-2-of-5.txt", files[0])
