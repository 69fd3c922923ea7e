"""The re-encryption engine without Django: ``crypto.reencrypt_stream`` and
``keyring.rewrap`` (one file into a staging file). Real files, real age."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from pyrage import x25519

from brankas.core import crypto
from brankas.core.keyring import agehdr
from brankas.core.keyring.pool import RewrapFailed, RewrapPool
from brankas.core.keyring.rewrap import (
    SourceChanged,
    finish_precopied,
    header_size_for,
    precopy_payload,
    rewrap,
)
from brankas.core.register import store


def keys() -> tuple[x25519.Identity, x25519.Identity]:
    return x25519.Identity.generate(), x25519.Identity.generate()


def encrypted_file(path: Path, data: bytes, identity: x25519.Identity) -> Path:
    path.write_bytes(crypto.encrypt_bytes(data, [str(identity.to_public())]))
    return path


@pytest.mark.parametrize("size", [0, 1, 64 * 1024 - 1, 64 * 1024, 3 * (1 << 20) + 17])
def test_a_rewrapped_file_opens_for_the_new_readers_only_with_the_same_bytes(tmp_path, size):
    old, new = keys()
    data = os.urandom(size)
    src = encrypted_file(tmp_path / "a.pdf.age", data, old)
    before = src.read_bytes()
    staged = rewrap(src, tmp_path / "tmp", [old], [str(new.to_public())])
    out = staged.path.read_bytes()
    assert staged.path.parent == tmp_path / "tmp" and staged.path.name.endswith(".part")
    assert staged.sha256 == hashlib.sha256(out).hexdigest() and staged.size == len(out)
    assert staged.plain_sha256 == hashlib.sha256(data).hexdigest()
    assert crypto.decrypt_bytes(out, [new]) == data
    with pytest.raises(Exception):  # noqa: B017,PT011 - pyrage: not a recipient
        crypto.decrypt_bytes(out, [old])
    assert src.read_bytes() == before  # the file read is never changed


def test_the_standard_age_tool_opens_a_rewrapped_file(tmp_path):
    old, new = keys()
    data = os.urandom(200_000)
    src = encrypted_file(tmp_path / "a.age", data, old)
    staged = rewrap(src, tmp_path / "tmp", [old], [str(new.to_public())])
    ident = tmp_path / "new.key"
    ident.write_text(str(new) + "\n")
    out = subprocess.run(["age", "-d", "-i", str(ident), str(staged.path)],
                         capture_output=True, check=True).stdout
    assert out == data


def test_a_file_made_by_age_is_rewrapped(tmp_path):
    old, new = keys()
    plain = tmp_path / "plain.bin"
    plain.write_bytes(os.urandom(100_000))
    src = tmp_path / "by-age.age"
    subprocess.run(["age", "-r", str(old.to_public()), "-o", str(src), str(plain)], check=True)
    staged = rewrap(src, tmp_path / "tmp", [old], [str(new.to_public())])
    assert crypto.decrypt_bytes(staged.path.read_bytes(), [new]) == plain.read_bytes()


def test_a_wrong_identity_or_a_damaged_file_leaves_no_staging_file(tmp_path):
    old, new = keys()
    src = encrypted_file(tmp_path / "a.age", os.urandom(3 << 20), old)
    with pytest.raises(Exception):  # noqa: B017,PT011 - pyrage.DecryptError
        rewrap(src, tmp_path / "tmp", [new], [str(new.to_public())])
    damaged = bytearray(src.read_bytes())
    damaged[len(damaged) // 2] ^= 1
    bad = tmp_path / "bad.age"
    bad.write_bytes(bytes(damaged))
    with pytest.raises(Exception):  # noqa: B017,PT011 - the chunk fails authentication
        rewrap(bad, tmp_path / "tmp", [old], [str(new.to_public())])
    truncated = tmp_path / "short.age"
    truncated.write_bytes(src.read_bytes()[:-1000])
    with pytest.raises(Exception):  # noqa: B017,PT011 - the last chunk is missing
        rewrap(truncated, tmp_path / "tmp", [old], [str(new.to_public())])
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_failing_destination_raises_its_own_error_and_stops_the_decryption(tmp_path):
    old, new = keys()
    src = encrypted_file(tmp_path / "a.age", os.urandom(8 << 20), old)

    class Full(io.RawIOBase):
        written = 0

        def writable(self) -> bool:
            return True

        def write(self, data):  # type: ignore[no-untyped-def]
            self.written += len(data)
            if self.written > 1 << 20:
                raise OSError(28, "No space left on device")
            return len(data)

    with open(src, "rb") as fh, pytest.raises(OSError) as exc:
        crypto.reencrypt_stream(fh, Full(), [old], [str(new.to_public())])
    assert exc.value.errno == 28


def test_memory_stays_bounded_whatever_the_file_size(tmp_path):
    """The plaintext passes through a small pipe: Python holds a few MiB of it at most,
    not the file (64 MiB here)."""
    old, new = keys()
    data = os.urandom(64 << 20)
    src = encrypted_file(tmp_path / "big.age", data, old)
    del data
    dst = tmp_path / "out.age"
    tracemalloc.start()
    try:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            crypto.reencrypt_stream(fin, fout, [old], [str(new.to_public())])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak
    assert store.file_sha256(dst) != store.file_sha256(src)



def test_helper_processes_rewrap_many_files_in_order_and_fail_each_alone(tmp_path):
    """Files re-encrypted side by side by helper processes come back in the order given;
    a file a helper cannot open fails alone, and a refusal of the caller stays its own."""
    old, new = keys()
    other = x25519.Identity.generate()
    datas = [os.urandom(n) for n in (0, 5, 3 * (1 << 20) + 1, 70_000, 200, 9_000)]
    srcs = [encrypted_file(tmp_path / f"{i}.age", d, old) for i, d in enumerate(datas)]
    foreign = encrypted_file(tmp_path / "foreign.age", b"x" * 1000, other)
    damaged = tmp_path / "damaged.age"
    blob = bytearray(srcs[2].read_bytes())
    blob[len(blob) // 2] ^= 1
    damaged.write_bytes(bytes(blob))
    items = [srcs[0], foreign, srcs[1], damaged, srcs[2], "refused", *srcs[3:]]

    def recipients_of(item):  # type: ignore[no-untyped-def]
        if item == "refused":
            raise ValueError("refused by the caller")
        return [str(new.to_public())]

    with RewrapPool([old], workers=2) as pool:
        results = list(pool.run(items, src_of=lambda p: p, tmp=tmp_path / "tmp",
                                recipients_of=recipients_of))
        processes = [w.proc for w in pool.workers]
    assert [item for item, _ in results] == items
    outcome = dict(results)
    assert isinstance(outcome[foreign], RewrapFailed)
    assert isinstance(outcome[damaged], RewrapFailed)
    assert isinstance(outcome["refused"], ValueError)
    for src, data in zip(srcs, datas, strict=True):
        staged = outcome[src]
        assert crypto.decrypt_bytes(staged.path.read_bytes(), [new]) == data
        assert staged.plain_sha256 == hashlib.sha256(data).hexdigest()
        assert staged.sha256 == hashlib.sha256(staged.path.read_bytes()).hexdigest()
    assert [p.returncode for p in processes] == [0, 0]  # they ended with the block
    assert len(list((tmp_path / "tmp").iterdir())) == len(srcs)  # failures left nothing


# -- a payload copied ahead of its key (s16 D: a grant while the key is being unlocked) ---

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 3 * (1 << 20) + 17])
def test_a_payload_copied_before_its_key_gets_its_header_after(tmp_path, size):
    old, new = keys()
    data = os.urandom(size)
    src = encrypted_file(tmp_path / "a.pdf.age", data, old)
    before = src.read_bytes()
    readers = [str(old.to_public()), str(new.to_public())]
    room = header_size_for(readers)
    pre = precopy_payload(src, tmp_path / "tmp", header_size=room,
                          expected_sha256=_sha(before))
    old_header = agehdr.read_header(io.BytesIO(before))
    assert pre.source_sha256 == _sha(before)
    assert pre.payload_size == len(before) - old_header.size
    assert pre.path.read_bytes()[room:] == before[old_header.size:]  # the payload, as it was
    staged = finish_precopied(pre, [old], readers)
    out = staged.path.read_bytes()
    assert staged.path == pre.path and staged.size == len(out) == room + pre.payload_size
    assert staged.sha256 == _sha(out) and staged.source_sha256 == _sha(before)
    assert out[room:] == before[old_header.size:]  # the payload byte for byte
    assert agehdr.read_header(io.BytesIO(out)).size == room
    for reader in (old, new):
        assert crypto.decrypt_bytes(out, [reader]) == data
    assert src.read_bytes() == before


def test_a_copy_of_a_file_not_on_record_is_refused_and_removed(tmp_path):
    old, new = keys()
    src = encrypted_file(tmp_path / "a.pdf.age", os.urandom(1000), old)
    with pytest.raises(SourceChanged):
        precopy_payload(src, tmp_path / "tmp", header_size=header_size_for([str(new.to_public())]),
                        expected_sha256=_sha(b"another file"))
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("wrong", ["identity", "room"])
def test_a_copy_whose_header_cannot_be_written_is_removed(tmp_path, wrong):
    old, new = keys()
    src = encrypted_file(tmp_path / "a.pdf.age", os.urandom(70_000), old)
    readers = [str(new.to_public())]
    room = header_size_for(readers) + (1 if wrong == "room" else 0)
    pre = precopy_payload(src, tmp_path / "tmp", header_size=room,
                          expected_sha256=_sha(src.read_bytes()))
    identities = [x25519.Identity.generate()] if wrong == "identity" else [old]
    expected = agehdr.NoMatch if wrong == "identity" else agehdr.HeaderInvalid
    with pytest.raises(expected):
        finish_precopied(pre, identities, readers)
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("where", ["tmp", "shm", "no-ctypes"])
def test_a_payload_copied_ahead_is_right_with_or_without_the_writeback_hint(
        tmp_path, monkeypatch, where):
    """``start_writeback`` (Linux's sync_file_range) is a hint: on tmpfs, and on an
    interpreter without ctypes (as on a platform without the call), the copy made ahead
    is the same and opens."""
    from brankas.core.keyring import rewrap as rewrap_module

    staging = tmp_path / "tmp"
    if where == "shm":
        if not Path("/dev/shm").is_dir():
            pytest.skip("no tmpfs at /dev/shm")
        staging = Path("/dev/shm") / f"brankas-writeback-{os.getpid()}-{tmp_path.name}"
    monkeypatch.setattr(rewrap_module, "_writeback", [])  # looked up again in this test
    if where == "no-ctypes":
        monkeypatch.setitem(sys.modules, "ctypes", None)  # import ctypes fails
    old, new = keys()
    data = os.urandom(3 * (1 << 20) + 5)
    src = encrypted_file(tmp_path / "a.pdf.age", data, old)
    before = src.read_bytes()
    readers = [str(old.to_public()), str(new.to_public())]
    try:
        pre = precopy_payload(src, staging, header_size=header_size_for(readers),
                              expected_sha256=_sha(before))
        staged = finish_precopied(pre, [old], readers)
        assert crypto.decrypt_bytes(staged.path.read_bytes(), [new]) == data
    finally:
        if where == "shm":
            shutil.rmtree(staging, ignore_errors=True)


def _fsynced_inodes(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """The inodes ``os.fsync`` is called on from here on (the real fsync still runs)."""
    seen: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        seen.append(os.fstat(fd).st_ino)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


@pytest.mark.parametrize("sync", [True, False])
@pytest.mark.parametrize("ahead", [True, False])
def test_a_header_rewrite_is_fsynced_unless_its_caller_does_it(tmp_path, monkeypatch, sync,
                                                              ahead):
    """A grant's workers stage with ``sync=False``: the same bytes, ``synced`` False and
    no fsync (``keep_rewrapped_many`` fsyncs the group before publishing it); by default
    the staging file is fsynced before it is returned."""
    from brankas.core.keyring.rewrap import rewrap_header

    old, new = keys()
    data = os.urandom(200_000)
    src = encrypted_file(tmp_path / "a.pdf.age", data, old)
    before = src.read_bytes()
    readers = [str(old.to_public()), str(new.to_public())]
    if ahead:
        pre = precopy_payload(src, tmp_path / "tmp", header_size=header_size_for(readers),
                              expected_sha256=_sha(before))
    seen = _fsynced_inodes(monkeypatch)
    if ahead:
        staged = finish_precopied(pre, [old], readers, sync=sync)
    else:
        staged = rewrap_header(src, tmp_path / "tmp", [old], readers,
                               expected_sha256=_sha(before), sync=sync)
    assert staged.synced is sync
    assert (staged.path.stat().st_ino in seen) is sync
    out = staged.path.read_bytes()
    assert staged.sha256 == _sha(out) and crypto.decrypt_bytes(out, [new]) == data
