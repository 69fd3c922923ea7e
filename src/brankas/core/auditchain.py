"""Hash chain of the audit log: each entry's hash covers its canonical content and the
previous entry's hash, so an edited, deleted, inserted or reordered entry breaks the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(entry)).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def verify(rows: Iterable[tuple[int, dict[str, Any], str, str]]) -> ChainProblem | None:
    """``rows``: (seq, entry, prev_hash, hash) in order. Returns the first problem, if any."""
    prev = GENESIS
    expected_seq = 1
    for seq, entry, prev_hash, stored in rows:
        if seq != expected_seq:
            return ChainProblem(expected_seq, f"entry {expected_seq} is missing or out of order")
        if prev_hash != prev:
            return ChainProblem(seq, "does not follow the previous entry")
        if entry_hash(prev_hash, entry) != stored:
            return ChainProblem(seq, "content was altered")
        prev = stored
        expected_seq += 1
    return None
