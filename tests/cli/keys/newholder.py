"""A second Kabid joins and makes a key through the real command (the new holder of a
mutasi), for the hand-over tests of the command line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import PASSWORDS, quick_key_making

KABID2_PASSPHRASE = "elang putih terbang di atas danau toba"


@dataclass(frozen=True)
class NewHolder:
    passphrase_file: Path
    env: dict[str, str]  # signs in as kabid2
    recipient: str  # what ``key new`` printed


def add_kabid2(run: Callable[..., Any], tmp_path: Path) -> NewHolder:
    """``user add kabid2`` as the admin, then ``key new`` as kabid2 (a small scrypt work
    factor: tests/conftest.quick_key_making)."""
    pw = tmp_path / "kabid2.pw"
    pw.write_text(PASSWORDS["kabid"] + "\n")
    r = run("user", "add", "kabid2", "--role", "kabid", "--full-name", "Kabid Baru",
            "--password-file", str(pw), user="admin")
    assert r.returncode == 0, r.stderr
    pp2 = tmp_path / "kabid2.pp"
    pp2.write_text(KABID2_PASSPHRASE + "\n")
    env = {"BRANKAS_USER": "kabid2", "BRANKAS_PASSWORD": PASSWORDS["kabid"]}
    with quick_key_making():
        r = run("key", "new", "--holder", "kabid2", "--passphrase-file", str(pp2), env=env)
    assert r.returncode == 0, r.stderr
    return NewHolder(passphrase_file=pp2, env=env, recipient=r.stdout.strip())
