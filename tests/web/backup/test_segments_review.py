"""Recover's reading of audit segments in bounded memory (found in an outside review of
s16 A): a segment's entries are parsed and loaded (in the recover's transaction) as they
are decrypted, before the file's SHA-256 is known to be the sealed one, so a hostile disk
decides how large they are. Memory must be bounded by bytes, not by a count of entries."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from brankas.core import crypto
from brankas.core.audit import hashchain
from brankas.core.disk import segments as segs
from brankas.core.disk.reader import BagReader
from brankas.core.errors import SetupError
from brankas.web.audit.models import AuditEvent
from brankas.web.backup import segments
from brankas.web.backup.services import backup_run


@pytest.mark.slow  # 1-2 CPU-s (tracemalloc over a large input): make test, not test-fast
def test_a_segment_of_huge_entries_is_read_in_bounded_memory(office, tmp_path: Path):
    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk)
    (sealed,) = (p for p in (disk / "data" / "audit").iterdir())
    path = f"audit/{sealed.name}"
    # The attacker's segment in place of the sealed one (the manifest still names the
    # sealed bytes): 48 entries of nearly 1 MiB each (under the line limit), chaining,
    # encrypted to a key the recover holds. (The reading's peak is about 13 MiB whatever
    # the count: 48 MiB through is enough to tell it from holding them all, or half.)
    pair = crypto.generate()
    prev, lines = hashchain.GENESIS, []
    count = 48
    for seq in range(1, count + 1):
        entry = {"seq": seq, "at": "2026-12-01T00:00:00+00:00", "actor": "mallory",
                 "action": "document.open", "target": "K", "outcome": "ok",
                 "detail": {"x": "A" * (segs.LINE_LIMIT - 4096)}}
        digest = hashchain.entry_hash(prev, entry)
        lines.append(json.dumps({**entry, "prev_hash": prev, "hash": digest}))
        prev = digest
    data = crypto.encrypt_bytes(("\n".join(lines) + "\n").encode(), [pair.recipient])
    del lines
    sealed.write_bytes(data)
    del data
    AuditEvent.objects.all().delete()  # recover loads into an empty log
    reader = BagReader(disk)
    listed = [segs.Segment(path, 1, count, reader.entries[path])]
    tracemalloc.start()
    try:
        with pytest.raises(SetupError) as refused:
            segments.segments_load(reader, listed, [crypto.parse_identity(pair.identity)],
                                   {"seq": count, "hash": prev})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.code == "recover_audit_unusable"
    assert not AuditEvent.objects.exists()  # nothing of it kept
    # 48 MiB of entries went through; less than half of them at once (about 13 MiB).
    assert peak < (count << 20) // 2, peak >> 20


def _listed(disk: Path) -> list[list]:
    folder = sorted((disk / "data" / "backup").iterdir())[-1]
    statement = json.loads(json.loads((folder / "segel.json").read_text())["statement"])
    return statement["audit_segments"]["segments"]


def test_the_sealed_list_of_segments_stays_bounded(office, tmp_path: Path, monkeypatch):
    """Each seal lists every segment, one more per run: ~130 bytes each, so a disk of
    8,000 runs would have seals past ``SEAL_LIMIT`` (1 MiB, then unreadable: the disk
    unproven) and every run reads all seals (their sum grows with the square of the
    runs). A run whose list would pass ``MAX_SEGMENTS`` writes the log whole again."""
    from brankas.core.disk.seal import SEAL_LIMIT

    assert segs.MAX_SEGMENTS * 200 < SEAL_LIMIT // 4
    monkeypatch.setattr(segs, "MAX_SEGMENTS", 3)
    disk = tmp_path / "disk"
    lengths = []
    for _ in range(5):
        backup_run(actor=office.users["operator"], dest=disk)
        listed = _listed(disk)
        assert listed[0][1] == 1
        lengths.append(len(listed))
    assert lengths == [1, 2, 3, 1, 2], lengths
