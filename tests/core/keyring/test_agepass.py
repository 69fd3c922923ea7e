"""Opening a key file without the interpreter's lock (``keyring.agepass``): the C2SP CCTV
passphrase vectors, every X25519 vector's payload through ``open_payload``, the age
library's reading of the files ``age -p`` writes, and the lock released while scrypt runs.
A key file the age library wrote at its own work factor, opened through
``crypto.unlock_identity``: tests/core/test_crypto.py (the round trip)."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from pathlib import Path

import pyrage
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brankas.core.keyring import agehdr, agepass
from tests.agefile import passphrase_encrypt
from tests.core.keyring.test_agehdr import VECTORS, Vector, load, secrets_of

SCRYPT_KIT = Path(__file__).resolve().parents[2] / "fixtures" / "age-testkit-scrypt"
SCRYPT = sorted((load(p) for p in SCRYPT_KIT.iterdir()
                 if p.name not in ("README.md", ".gitattributes")), key=lambda v: v.name)
PASSPHRASES = {p.name: [line.partition(": ")[2] for line in
                        p.read_bytes().partition(b"\n\n")[0].decode().splitlines()
                        if line.startswith("passphrase: ")]
               for p in SCRYPT_KIT.iterdir() if p.name.startswith("scrypt")}
OUTCOMES = {"header failure": agehdr.HeaderInvalid, "no match": agehdr.NoMatch}


def test_the_vendored_passphrase_vectors_are_complete():
    assert len(SCRYPT) == 25
    counts = {e: sum(v.expect == e for v in SCRYPT) for e in ("success", "header failure",
                                                              "no match")}
    assert counts == {"success": 1, "header failure": 20, "no match": 4}


@pytest.mark.parametrize("vector", SCRYPT, ids=[v.name for v in SCRYPT])
def test_each_passphrase_vector_gives_its_outcome(vector: Vector):
    (passphrase, *_) = PASSPHRASES[vector.name]
    if vector.expect == "success":
        plain = agepass.decrypt(vector.age, passphrase, max_work_factor=22)
        assert hashlib.sha256(plain).hexdigest() == vector.payload_sha256
    else:
        with pytest.raises(OUTCOMES[vector.expect]):
            agepass.decrypt(vector.age, passphrase, max_work_factor=22)


PAYLOADS = [v for v in VECTORS if v.expect in ("success", "payload failure")]


@pytest.mark.parametrize("vector", PAYLOADS, ids=[v.name for v in PAYLOADS])
def test_every_x25519_vector_payload_opens_or_fails_as_the_testkit_says(vector: Vector):
    """The STREAM part is shared with every age file: each success vector's plaintext hashes
    to its recorded payload, each payload failure is refused."""
    src = io.BufferedReader(io.BytesIO(vector.age))
    header = agehdr.read_header(src)
    file_key = agehdr.unwrap_file_key(header, secrets_of(vector))
    payload = vector.age[header.size:]
    if vector.expect == "success":
        assert hashlib.sha256(agepass.open_payload(file_key, payload)).hexdigest() \
            == vector.payload_sha256
    else:
        with pytest.raises(agehdr.PayloadInvalid):
            agepass.open_payload(file_key, payload)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain=st.one_of(st.binary(max_size=300),
                       st.sampled_from([b"x" * (64 * 1024), b"y" * (64 * 1024 + 1)])),
       passphrase=st.text(min_size=1, max_size=40))
def test_files_of_every_size_open_and_a_wrong_passphrase_is_no_match(plain: bytes,
                                                                      passphrase: str):
    data = passphrase_encrypt(plain, passphrase)  # as ``age -p`` writes (tests/agefile.py)
    assert agepass.decrypt(data, passphrase, max_work_factor=20) == plain
    with pytest.raises(agehdr.NoMatch):
        agepass.decrypt(data, passphrase + "x", max_work_factor=20)


def test_a_work_factor_above_the_bound_is_not_tried():
    data = next(v.age for v in SCRYPT if v.name == "scrypt")  # work factor 10
    with pytest.raises(agehdr.HeaderInvalid, match="work factor of 10"):
        agepass.decrypt(data, "password", max_work_factor=9)


def test_a_file_larger_than_a_key_file_is_not_read():
    with pytest.raises(agehdr.HeaderInvalid, match="larger than a key file"):
        agepass.decrypt(b"age-encryption.org/v1\n" + bytes(agepass.MAX_FILE),
                        "password", max_work_factor=20)


def _counted_beside(unlock) -> int:
    """How far a thread counting beside ``unlock()`` got while it ran."""
    progress = [0]
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            progress[0] += 1

    worker = threading.Thread(target=count)
    worker.start()
    try:
        time.sleep(0.01)  # the counter is running
        before = progress[0]
        unlock()
        return progress[0] - before
    finally:
        stop.set()
        worker.join()


def test_another_thread_runs_while_the_key_is_unlocked():
    """The point of this module: scrypt runs without the interpreter's lock. A thread
    counting beside an unlock (work factor 16: 64 MiB, a few tenths of a second) keeps
    counting; beside the age library's own unlock of the same file, which holds the
    lock, it barely moves."""
    plain = f"{pyrage.x25519.Identity.generate()}\n".encode()
    data = passphrase_encrypt(plain, "kunci", work_factor=16)
    # On a loaded machine the counting thread may get little of a core in one round: up
    # to three rounds; a module holding the lock never passes one (the counter cannot run).
    rounds = []
    for _ in range(3):
        held = _counted_beside(lambda: pyrage.passphrase.decrypt(data, "kunci"))
        released = _counted_beside(lambda: agepass.decrypt(data, "kunci", max_work_factor=20))
        rounds.append((held, released))
        if released > max(10 * held, 50_000):
            break
    else:
        raise AssertionError(f"(held, released) counts in each round: {rounds}")
