"""store.py and fsutil.py: the working store and its durable, crash-safe writes."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import io
from pathlib import Path, PurePosixPath

import pyrage
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brankas.core import config, crypto, fsutil
from brankas.core.errors import SetupError
from brankas.core.names import is_safe_component
from brankas.core.register import store
from brankas.core.terms import Category, Direction

MARKER = b"PLAINTEXT-MARKER-rahasia-negara"
PLAINTEXT = b"%PDF-1.7\n" + (MARKER + b"\n" + bytes(range(256))) * 3000  # ~860 KiB


@pytest.fixture
def brankas_settings(tmp_path: Path) -> config.Settings:
    s = dataclasses.replace(config.load(), home=tmp_path / "home")
    config.ensure_home(s)
    return s


def files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_create_layout_makes_the_four_sop_folders(brankas_settings: config.Settings) -> None:
    store.create_layout(brankas_settings)
    found = sorted(str(p.relative_to(brankas_settings.archive))
                   for p in brankas_settings.archive.glob("*/*") if p.is_dir())
    assert found == ["biasa/penerimaan", "biasa/pengiriman",
                     "dikecualikan/penerimaan", "dikecualikan/pengiriman"]
    store.create_layout(brankas_settings)  # idempotent


def test_stage_encrypted_writes_only_ciphertext(brankas_settings: config.Settings) -> None:
    holders = [crypto.generate(), crypto.generate()]
    staged = store.stage(brankas_settings, io.BytesIO(PLAINTEXT),
                         recipients=[h.recipient for h in holders])
    on_disk = staged.path.read_bytes()
    assert staged.path.parent == brankas_settings.tmp
    assert MARKER not in on_disk
    assert b"%PDF" not in on_disk
    assert on_disk.startswith(b"age-encryption.org/v1\n")
    assert staged.content_sha256 == hashlib.sha256(PLAINTEXT).hexdigest()
    assert staged.content_size == len(PLAINTEXT)
    assert staged.stored_sha256 == hashlib.sha256(on_disk).hexdigest()
    assert staged.stored_size == len(on_disk)
    assert staged.stored_sha256 == store.file_sha256(staged.path)
    assert staged.suite == crypto.SUITE
    for holder in holders:
        identity = crypto.parse_identity(holder.identity)
        assert crypto.decrypt_bytes(on_disk, [identity]) == PLAINTEXT
    # Nothing else was written beside it: no plaintext temp file anywhere in the home.
    for path in files_in(brankas_settings.home):
        assert MARKER not in path.read_bytes(), path


def test_stage_plain_copies_the_bytes(brankas_settings: config.Settings) -> None:
    staged = store.stage(brankas_settings, io.BytesIO(PLAINTEXT), recipients=None)
    assert staged.path.read_bytes() == PLAINTEXT
    assert staged.content_sha256 == staged.stored_sha256 == hashlib.sha256(PLAINTEXT).hexdigest()
    assert staged.content_size == staged.stored_size == len(PLAINTEXT)
    assert staged.suite is None
    store.discard(staged)
    assert not staged.path.exists()


def test_place_moves_the_staged_file_into_the_archive(
    brankas_settings: config.Settings,
) -> None:
    staged = store.stage(brankas_settings, io.BytesIO(PLAINTEXT), recipients=None)
    relative = store.relative_path(category=Category.REGULAR, direction=Direction.OUTGOING,
                                   year=2026, agenda="K-2026-0001", subject="Nota dinas")
    final = store.place(brankas_settings, staged, relative)
    assert final == brankas_settings.home / "arsip/biasa/pengiriman/2026/K-2026-0001-nota-dinas.pdf"
    assert final.read_bytes() == PLAINTEXT
    assert not staged.path.exists()
    assert store.absolute(brankas_settings, str(relative)) == final
    assert files_in(brankas_settings.tmp) == []


class FailingReader(io.RawIOBase):
    """Hands out some bytes, then fails like a broken upload or a pulled USB stick."""

    def __init__(self, good: int, error: BaseException) -> None:
        self.left = good
        self.error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self.left <= 0:
            raise self.error
        n = min(len(buffer), self.left)
        buffer[:n] = MARKER[:1] * n
        self.left -= n
        return n


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_failed_stage_leaves_no_partial_file(brankas_settings: config.Settings,
                                               encrypted: bool) -> None:
    recipients = [crypto.generate().recipient] if encrypted else None
    # pyrage reports a failing source as its own EncryptError; the point here is the cleanup.
    with pytest.raises((RuntimeError, pyrage.EncryptError)):
        store.stage(brankas_settings, FailingReader(300_000, RuntimeError("upload broke")),  # type: ignore[arg-type]
                    recipients=recipients)
    assert files_in(brankas_settings.tmp) == []


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_full_disk_while_staging_is_a_clear_error(
    brankas_settings: config.Settings, monkeypatch: pytest.MonkeyPatch, encrypted: bool
) -> None:
    """The disk fills up half-way through: the user gets disk_full, nothing stays behind."""
    real_write = store.HashingWriter.write

    def write_until_full(self, data):  # type: ignore[no-untyped-def]
        if self.size + len(data) > 2 * 1024 * 1024:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(store.HashingWriter, "write", write_until_full)
    recipients = [crypto.generate().recipient] if encrypted else None
    big = PLAINTEXT * 5  # several MiB: the disk fills while the cipher is still running
    with pytest.raises(SetupError) as info:
        store.stage(brankas_settings, io.BytesIO(big), recipients=recipients)
    assert info.value.code == "disk_full"
    assert files_in(brankas_settings.tmp) == []


def test_staged_file_removes_the_partial_file_on_error(tmp_path: Path) -> None:
    seen: list[Path] = []
    with pytest.raises(RuntimeError), fsutil.staged_file(tmp_path / "staging") as (path, fh):
        seen.append(path)
        fh.write(b"half a document")
        assert path.exists()
        raise RuntimeError("boom")
    assert seen and not seen[0].exists()
    assert files_in(tmp_path / "staging") == []


def test_staged_file_turns_a_full_disk_into_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SetupError) as info, fsutil.staged_file(tmp_path) as (_path, fh):
        fh.write(b"x")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.code == "disk_full"
    assert str(tmp_path) in info.value.message("en")
    assert files_in(tmp_path) == []


def test_staged_file_keeps_a_complete_file(tmp_path: Path) -> None:
    with fsutil.staged_file(tmp_path) as (path, fh):
        fh.write(b"complete")
    assert path.read_bytes() == b"complete"
    assert path.suffix == ".part"


def test_publish_refuses_to_overwrite(tmp_path: Path) -> None:
    final = tmp_path / "arsip" / "a.pdf"
    final.parent.mkdir()
    final.write_bytes(b"the original")
    with fsutil.staged_file(tmp_path / "tmp") as (staged, fh):
        fh.write(b"an impostor")
    with pytest.raises(FileExistsError):
        fsutil.publish(staged, final)
    assert final.read_bytes() == b"the original"
    assert staged.read_bytes() == b"an impostor"  # left for the caller to discard


def test_publish_creates_the_year_folder(tmp_path: Path) -> None:
    with fsutil.staged_file(tmp_path / "tmp") as (staged, fh):
        fh.write(b"doc")
    final = tmp_path / "arsip" / "2031" / "doc.pdf"
    fsutil.publish(staged, final)
    assert final.read_bytes() == b"doc"
    assert not staged.exists()


def test_copy_stream_counts_and_reports_chunks() -> None:
    data = bytes(range(256)) * 9000  # more than one CHUNK
    out = io.BytesIO()
    seen = hashlib.sha256()
    total = fsutil.copy_stream(io.BytesIO(data), out, on_chunk=seen.update)
    assert total == len(data)
    assert out.getvalue() == data
    assert seen.hexdigest() == hashlib.sha256(data).hexdigest()


def test_relative_path_of_an_exempted_incoming_document() -> None:
    relative = store.relative_path(
        category=Category.EXEMPTED, direction=Direction.INCOMING, year=2026,
        agenda="M-2026-0001", subject="Undangan Rapat: Koordinasi/Anggaran 2027?",
    )
    # The agenda number alone: the subject of a secret letter is secret too.
    assert relative == PurePosixPath("arsip/dikecualikan/penerimaan/2026/M-2026-0001.pdf.age")
    assert all(is_safe_component(part) for part in relative.parts)


def test_relative_path_of_a_regular_document() -> None:
    relative = store.relative_path(category=Category.REGULAR, direction=Direction.OUTGOING,
                                   year=2026, agenda="K-2026-0042", subject="")
    assert str(relative) == "arsip/biasa/pengiriman/2026/K-2026-0042-dokumen.pdf"


@settings(max_examples=200, deadline=None)
@given(
    category=st.sampled_from(Category),
    direction=st.sampled_from(Direction),
    year=st.integers(min_value=1945, max_value=2200),
    agenda=st.one_of(st.sampled_from(["M-2026-0001", "CON", "nul.1", "K/2026/7", "a" * 200]),
                     st.text(min_size=1, max_size=120)),
    subject=st.text(max_size=600),
)
def test_relative_path_is_always_safe(category: Category, direction: Direction, year: int,
                                      agenda: str, subject: str) -> None:
    relative = store.relative_path(category=category, direction=direction, year=year,
                                   agenda=agenda, subject=subject)
    assert relative.parts[:3] == ("arsip", category.value, direction.value)
    assert relative.parts[3] == f"{year:04d}"
    assert len(relative.parts) == 5
    assert all(is_safe_component(part) for part in relative.parts), relative
    name = relative.parts[-1]
    assert name.endswith(".pdf.age" if category is Category.EXEMPTED else ".pdf")
    assert not name.endswith(".pdf.pdf")
    if category is Category.EXEMPTED:  # nothing of the subject in the name
        assert relative == store.relative_path(category=category, direction=direction,
                                               year=year, agenda=agenda, subject="x")


def test_letter_path_of_an_exempted_request_carries_its_number_alone() -> None:
    subject = "Pengamanan kunjungan Presiden"
    assert store.letter_path(number=7, year=2026, subject=subject, exempted=True) == \
        PurePosixPath("permintaan/2026/P-00007.pdf.age")
    assert store.letter_path(number=7, year=2026, subject=subject, exempted=False) == \
        PurePosixPath("permintaan/2026/P-00007-pengamanan-kunjungan-presiden.pdf")


@pytest.mark.parametrize("encrypted", [True, False])
def test_large_inputs_take_the_parallel_hashing_path(
    brankas_settings: config.Settings, tmp_path: Path, encrypted: bool
) -> None:
    """At PARALLEL_MIN and above the plaintext is hashed in helper threads while it is
    stored; the hashes and the stored bytes must be exactly those of the one-thread path."""
    import os

    size = store.PARALLEL_MIN + 12345
    source = tmp_path / "large.bin"
    source.write_bytes(os.urandom(size))
    pair = crypto.generate()
    with open(source, "rb") as src:
        staged = store.stage(brankas_settings, src,
                             recipients=[pair.recipient] if encrypted else None)
    data = source.read_bytes()
    stored = staged.path.read_bytes()
    assert staged.content_size == size
    assert staged.content_sha256 == hashlib.sha256(data).hexdigest()
    assert staged.stored_sha256 == hashlib.sha256(stored).hexdigest()
    assert staged.stored_size == len(stored)
    if encrypted:
        ident = crypto.parse_identity(pair.identity)
        assert crypto.decrypt_bytes(stored, [ident]) == data
    else:
        assert stored == data
    store.discard(staged)


def test_sweep_removes_only_stale_staging_files(brankas_settings: config.Settings) -> None:
    import os
    import time

    tmp = brankas_settings.tmp
    tmp.mkdir(parents=True, exist_ok=True)
    stale, fresh = tmp / "a-00000001.part", tmp / "b-00000002.part"
    orphan = tmp / "orphan-1234abcd-K-2026-0001-x.pdf"
    for p in (stale, fresh, orphan):
        p.write_bytes(b"x")
    old = time.time() - store.STALE_STAGING_SECONDS - 60
    os.utime(stale, (old, old))
    os.utime(orphan, (old, old))
    assert store.sweep_staging(brankas_settings) == [stale]
    assert not stale.exists() and fresh.exists() and orphan.exists()
