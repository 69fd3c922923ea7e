"""Interoperability with the standard ``age`` tool: what Brankas writes, age reads back,
and the other way round. This is what makes the archive readable without Brankas."""

from __future__ import annotations

import io
import os
import select
import subprocess
import termios
import time
from pathlib import Path

import pytest

from brankas.core import crypto
from tests.conftest import PASSPHRASES, protected_identity, quick_protected_identity

AGE = "/usr/bin/age"
pytestmark = pytest.mark.skipif(
    not os.path.exists(AGE), reason="the age command-line tool is not installed at /usr/bin/age"
)

PLAINTEXT = b"%PDF-1.7\nNOTA DINAS SANGAT RAHASIA\n" + os.urandom(200_000)


def test_age_decrypts_what_brankas_encrypted(tmp_path: Path) -> None:
    pair = crypto.generate()
    other = crypto.generate()
    (tmp_path / "key.txt").write_text(f"# holder\n{pair.identity}\n")
    with open(tmp_path / "doc.pdf.age", "wb") as out:
        crypto.encrypt_stream(io.BytesIO(PLAINTEXT), out, [other.recipient, pair.recipient])
    result = subprocess.run(
        [AGE, "-d", "-i", str(tmp_path / "key.txt"), "-o", str(tmp_path / "out.pdf"),
         str(tmp_path / "doc.pdf.age")],
        capture_output=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.pdf").read_bytes() == PLAINTEXT


def test_brankas_decrypts_what_age_encrypted(tmp_path: Path) -> None:
    pair = crypto.generate()
    (tmp_path / "doc.pdf").write_bytes(PLAINTEXT)
    result = subprocess.run(
        [AGE, "-r", pair.recipient, "-o", str(tmp_path / "doc.pdf.age"),
         str(tmp_path / "doc.pdf")],
        capture_output=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    ciphertext = (tmp_path / "doc.pdf.age").read_bytes()
    assert crypto.decrypt_bytes(ciphertext, [crypto.parse_identity(pair.identity)]) == PLAINTEXT


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    """Read what the program writes to its terminal until ``needle`` shows up."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen.lower():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {needle!r} prompt on the terminal; saw {seen!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side closed
                chunk = b""
            if not chunk:
                raise AssertionError(f"terminal closed before {needle!r}; saw {seen!r}")
            seen += chunk
    return seen


def wait_for_no_echo(fd: int, timeout: float = 10.0) -> None:
    """Wait until the terminal no longer echoes what is typed (a password prompt)."""
    deadline = time.monotonic() + timeout
    while termios.tcgetattr(fd)[3] & termios.ECHO:
        if time.monotonic() > deadline:
            raise AssertionError("the terminal still echoes at the passphrase prompt")
        time.sleep(0.01)


def age_with_terminal(args: list[str], passphrase: str, cwd: Path) -> tuple[int, bytes]:
    """Run ``age`` with a pseudo-terminal as its terminal, and type ``passphrase`` at the
    prompt as a person would. Returns the exit status and everything it showed."""
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [AGE, *args], stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
            start_new_session=True, close_fds=True,
        )
    finally:
        os.close(slave)
    shown = b""
    try:
        shown = read_until(master, b"passphrase", timeout=30)
        wait_for_no_echo(master)  # age prints the prompt a moment before it turns echo off
        os.write(master, passphrase.encode() + b"\n")
        status = proc.wait(timeout=60)
        while True:  # drain what it printed after the prompt
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return status, shown


@pytest.mark.slow
def test_age_opens_a_protected_identity_with_the_passphrase_typed_on_the_terminal(
    tmp_path: Path,
) -> None:
    """The key holder's identity file as Brankas writes it, used by the standard tool: the
    recovery path when Brankas itself is gone."""
    passphrase = PASSPHRASES["kabid"]
    identity, recipient, protected = protected_identity(passphrase)
    (tmp_path / "kabid.age").write_bytes(protected)
    with open(tmp_path / "doc.pdf.age", "wb") as out:
        crypto.encrypt_stream(io.BytesIO(PLAINTEXT), out, [recipient])
    status, shown = age_with_terminal(
        ["-d", "-i", "kabid.age", "-o", "out.pdf", "doc.pdf.age"], passphrase, tmp_path
    )
    assert status == 0, shown
    assert passphrase.encode() not in shown  # typed without echo
    assert (tmp_path / "out.pdf").read_bytes() == PLAINTEXT


@pytest.mark.slow
def test_age_refuses_the_protected_identity_with_a_wrong_passphrase(tmp_path: Path) -> None:
    """The same identity in an age passphrase file of a small work factor (tests/agefile.py;
    the test above opens the file as Brankas writes it): age derives the key from the typed
    passphrase before it can refuse it, seconds at the product's work factor, which this
    refusal does not depend on."""
    passphrase = PASSPHRASES["kabid"]
    _, recipient, protected = quick_protected_identity(passphrase)
    (tmp_path / "kabid.age").write_bytes(protected)
    with open(tmp_path / "doc.pdf.age", "wb") as out:
        crypto.encrypt_stream(io.BytesIO(PLAINTEXT), out, [recipient])
    status, shown = age_with_terminal(
        ["-d", "-i", "kabid.age", "-o", "out.pdf", "doc.pdf.age"], "salah sekali", tmp_path
    )
    assert status != 0, shown
    assert b"incorrect passphrase" in shown
    assert not (tmp_path / "out.pdf").exists() or (tmp_path / "out.pdf").read_bytes() == b""

