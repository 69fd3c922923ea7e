"""Hash chain of the audit log: each entry's hash covers its canonical content and the
previous entry's hash, so an edited, deleted, inserted or reordered entry breaks the chain.

Vocabulary:

- **chain**: the entries in sequence order, each ``(seq, content, prev_hash, hash)``.
- **counter** (``counted_to``): the highest sequence number ever given. It only grows, so
  entries deleted from the end leave a gap between the last entry and the counter.
- **anchor**: a chain head ``(seq, hash)`` recorded outside the database (on an approved
  report, in a backup disk's control list). The chain must still hold entry ``seq``, and
  the entries up to it must still hash to ``hash``: a log truncated or rewritten since the
  anchor was taken, even one whose every later hash was recomputed, disagrees with it.
- **finding**: one problem, with a code and parameters worded in both languages by
  ``brankas.core.errors.message``.

``check`` reads the chain once, however many anchors there are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from brankas.core import errors

GENESIS = "0" * 64

Row = tuple[int, dict[str, Any], str, str]  # seq, content, prev_hash, hash


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(entry)).hexdigest()


@dataclass(frozen=True)
class Finding:
    """One problem: ``seq`` is the first entry it concerns."""

    seq: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str | None = None) -> str:
        return errors.message(self.code, lang, **self.params)

    @property
    def reason(self) -> str:
        return self.message("en")


@dataclass(frozen=True)
class Anchor:
    """A chain head recorded outside the database. ``source`` names who recorded it
    (text, or an (Indonesian, English) pair); ``kind`` and ``ref`` say where it came from
    for a program (``report`` and its number, ``disk`` and its run, ``pdf`` and the file)."""

    source: str | tuple[str, str]
    seq: int
    hash: str
    kind: str = ""
    ref: str = ""

    def source_text(self, lang: str | None = None) -> str:
        if isinstance(self.source, tuple):
            return self.source[1] if (lang or errors.current_language()) == "en" \
                else self.source[0]
        return self.source


@dataclass(frozen=True)
class AnchorResult:
    anchor: Anchor
    problem: Finding | None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class ChainReport:
    entries: int
    last_seq: int  # 0: the log is empty
    last_hash: str
    counted_to: int | None  # None: not known
    chain: Finding | None  # the first break in the chain itself
    counter: Finding | None  # entries missing after the last one (the counter is ahead)
    anchors: tuple[AnchorResult, ...] = ()

    @property
    def problems(self) -> list[Finding]:
        found = [f for f in (self.chain, self.counter) if f is not None]
        return found + [r.problem for r in self.anchors if r.problem is not None]

    @property
    def ok(self) -> bool:
        return not self.problems


def _missing(first: int, last: int, *, tail: bool) -> Finding:
    if first == last:
        return Finding(first, "audit_tail_entry_missing" if tail else "audit_entry_missing",
                       {"last": last} if tail else {"seq": first})
    return Finding(first, "audit_tail_entries_missing" if tail else "audit_entries_missing",
                   {"first": first, "last": last})


def _judge(anchor: Anchor, row: tuple[str, str] | None, end: int) -> Finding | None:
    """The problem with ``anchor``, None when it holds. ``row``:
    (stored hash, recomputed hash) of entry ``anchor.seq``, None when the log lacks it;
    ``end``: the last entry's number."""
    params = {"seq": anchor.seq, "source": anchor.source}
    if row is None:
        if anchor.seq > end:
            return Finding(end + 1, "audit_anchor_truncated", {**params, "end": end})
        return Finding(anchor.seq, "audit_anchor_entry_missing", params)
    stored, recomputed = row
    want = anchor.hash.lower()
    if stored != want:
        return Finding(anchor.seq, "audit_anchor_rewritten", params)
    if recomputed != want:
        return Finding(anchor.seq, "audit_anchor_broken", params)
    return None


def check(rows: Iterable[Row], *, anchors: Sequence[Anchor] = (),
          counted_to: int | None = None) -> ChainReport:
    """Check the chain ``rows`` (in sequence order), the counter and every anchor in one
    pass. ``counted_to``: the highest number ever given (None: unknown). A counter behind
    the last entry hides nothing (an instance recovered from a snapshot made before the
    counter existed starts it at 0; the next entry takes the larger of the two)."""
    waiting: dict[int, list[Anchor]] = {}
    for a in anchors:
        waiting.setdefault(a.seq, []).append(a)
    pending = sorted(waiting)  # anchor numbers not reached yet, ascending
    judged: dict[int, Finding | None] = {}  # id(anchor) -> its problem
    first_problem: Finding | None = None
    expected = 1
    prev_stored = GENESIS
    running = GENESIS  # the hash the chain recomputes to, ignoring the stored hashes
    count = 0

    def settle(seq: int, row: tuple[str, str] | None, end: int) -> None:
        for a in waiting.pop(seq, []):
            judged[id(a)] = _judge(a, row, end)

    for seq, entry, prev_hash, stored in rows:
        count += 1
        while pending and pending[0] < seq:  # anchors on numbers the log skips
            settle(pending.pop(0), None, seq)
        if first_problem is None and seq == expected and prev_hash == prev_stored:
            # Intact so far: the recomputed chain is the stored one; one hash per entry.
            running = entry_hash(prev_hash, entry)
            if running != stored:
                first_problem = Finding(seq, "audit_entry_altered", {"seq": seq})
        else:
            if first_problem is None:
                if seq < expected:
                    first_problem = Finding(expected, "audit_entry_out_of_order",
                                            {"seq": seq, "expected": expected})
                elif seq > expected:
                    first_problem = _missing(expected, seq - 1, tail=False)
                else:
                    first_problem = Finding(seq, "audit_entry_unlinked", {"seq": seq})
            running = entry_hash(running, entry)
        if pending and pending[0] == seq:
            settle(pending.pop(0), (stored, running), seq)
        prev_stored = stored
        expected = max(expected, seq) + 1
    last = expected - 1
    for seq in pending:
        settle(seq, None, last)
    counter = None
    if counted_to is not None and counted_to > last:
        counter = _missing(last + 1, counted_to, tail=True)
    results = tuple(AnchorResult(a, judged[id(a)]) for a in anchors)
    return ChainReport(entries=count, last_seq=last, last_hash=prev_stored,
                       counted_to=counted_to, chain=first_problem, counter=counter,
                       anchors=results)


def verify(rows: Iterable[Row]) -> Finding | None:
    """``rows``: (seq, entry, prev_hash, hash) in order. Returns the first problem, if any."""
    return check(rows).chain
