"""Review of s21's ``crypto.encrypt_bytes`` (one pyrage call, recipients parsed once and
cached): its output opens with the real ``age`` tool, and a changed recipient set (a key
handed over, a list changed in place after a first call) is never encrypted to stale
recipients."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from pyrage import x25519

from brankas.core import crypto

AGE = shutil.which("age")


def _opens(identity: x25519.Identity, cipher: bytes, tmp_path: Path) -> bytes | None:
    assert AGE is not None
    key = tmp_path / f"id-{os.urandom(4).hex()}.txt"
    key.write_text(str(identity) + "\n")
    done = subprocess.run([AGE, "-d", "-i", str(key)], input=cipher, capture_output=True,
                          timeout=30, check=False)
    return done.stdout if done.returncode == 0 else None


@pytest.mark.skipif(AGE is None, reason="the age tool is not installed")
def test_r21_encrypt_bytes_opens_with_age_and_follows_a_changed_recipient_list(
        tmp_path: Path) -> None:
    a, b, c = (x25519.Identity.generate() for _ in range(3))
    plain = os.urandom(300_000)
    recipients = [str(a.to_public())]
    first = crypto.encrypt_bytes(plain, recipients)
    assert _opens(a, first, tmp_path) == plain
    assert _opens(b, first, tmp_path) is None
    # the same list changed in place (a handover): the new holder only
    recipients[0] = str(b.to_public())
    second = crypto.encrypt_bytes(plain, recipients)
    assert _opens(b, second, tmp_path) == plain
    assert _opens(a, second, tmp_path) is None
    # a holder added, then the list back to its first value: each as it is now
    recipients.append(str(c.to_public()))
    third = crypto.encrypt_bytes(bytearray(plain), recipients)
    assert _opens(b, third, tmp_path) == plain and _opens(c, third, tmp_path) == plain
    assert _opens(a, third, tmp_path) is None
    assert crypto.decrypt_bytes(third, [c]) == plain
    # empty plaintext too
    assert _opens(a, crypto.encrypt_bytes(b"", [str(a.to_public())]), tmp_path) == b""


def test_r21_encrypt_bytes_from_many_threads_each_to_its_own_recipients() -> None:
    ids = [x25519.Identity.generate() for _ in range(40)]  # more than the cache holds
    wrong: list[int] = []

    def run(i: int) -> None:
        for _ in range(5):
            plain = os.urandom(1000 + i)
            cipher = crypto.encrypt_bytes(plain, [str(ids[i].to_public())])
            if crypto.decrypt_bytes(cipher, [ids[i]]) != plain:
                wrong.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_r21_encrypt_bytes_refuses_a_bad_recipient_as_encrypt_stream_does() -> None:
    import io

    for bad in ([], ["age1nothing"], ["ssh-ed25519 AAAA"]):
        with pytest.raises(Exception) as streamed:
            crypto.encrypt_stream(io.BytesIO(b"x"), io.BytesIO(), bad)
        with pytest.raises(Exception) as whole:
            crypto.encrypt_bytes(b"x", bad)
        assert type(whole.value) is type(streamed.value), (bad, whole.value, streamed.value)
