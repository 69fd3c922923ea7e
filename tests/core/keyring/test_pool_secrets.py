"""Review of issue 13: the re-encrypting helper processes get the identities on their
standard input only: not on their command line, and no secret in their environment (a
passphrase or password the parent was given through BRANKAS_PASSPHRASE/BRANKAS_PASSWORD
is not handed on to them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from brankas.core import crypto
from brankas.core.keyring.pool import RewrapPool

pytestmark = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="/proc")


def test_helpers_hold_no_secret_in_argv_or_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    passphrase = "kuda merah berlari di sawah hijau"
    password = "sandi-masuk-rahasia-12345"
    monkeypatch.setenv("BRANKAS_PASSPHRASE", passphrase)
    monkeypatch.setenv("BRANKAS_PASSWORD", password)
    pair = crypto.generate()
    identity = crypto.parse_identity(pair.identity)
    with RewrapPool([identity], 2) as pool:
        for worker in pool.workers:
            pid = worker.proc.pid
            argv = Path(f"/proc/{pid}/cmdline").read_bytes()
            env = Path(f"/proc/{pid}/environ").read_bytes()
            for secret in (pair.identity.encode(), passphrase.encode(), password.encode()):
                assert secret not in argv
                assert secret not in env, pid
    assert os.environ["BRANKAS_PASSPHRASE"] == passphrase  # the parent's own is left


def test_helpers_import_nothing_from_the_folder_the_run_was_started_in(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m`` puts the working folder first on a helper's import path: a ``json.py``
    there (a hostile disk's root, a download folder) ran in the helper that is handed the
    identities (s25 review). With PYTHONSAFEPATH it is never imported."""
    evil = tmp_path / "evil"
    evil.mkdir()
    marker = tmp_path / "ran"
    (evil / "json.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(7)\n")
    monkeypatch.chdir(evil)
    identity = crypto.parse_identity(crypto.generate().identity)
    with RewrapPool([identity], 1) as pool:
        worker = pool.workers[0]
        assert worker.proc.poll() is None  # alive: it read the identities with the real json
    assert not marker.exists()
