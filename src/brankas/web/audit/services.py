"""Writing the audit log. Every entry is appended inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from brankas.core.audit import hashchain as auditchain
from brankas.web.audit.models import AuditEvent, AuditSequence


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    target: str = ""
    outcome: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)


def audit_content(event: AuditEvent) -> dict[str, Any]:
    """What an entry's hash covers (the same when it is written and when it is checked)."""
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "detail": event.detail,
    }


def audit_record_many(entries: list[AuditEntry]) -> list[AuditEvent]:
    """Append entries to the chain in order, with one insert, inside one transaction.

    The counter row is locked first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
    ``BEGIN IMMEDIATE`` already serialises writers), so two transactions never take the
    same number. The numbers continue after the larger of the counter and the last entry:
    after entries were deleted from the end they are not given again, and the first new
    entry follows the last one still there (``audit verify`` names the gap)."""
    if not entries:
        return []
    with transaction.atomic():
        counter, _ = AuditSequence.objects.select_for_update().get_or_create(id=1)
        last = AuditEvent.objects.order_by("-seq").first()
        seq = max(counter.last, last.seq if last else 0) + 1
        prev = last.hash if last else auditchain.GENESIS
        events = []
        for e in entries:
            event = AuditEvent(
                seq=seq,
                at=timezone.now(),
                actor=e.actor,
                action=e.action,
                target=e.target,
                outcome=e.outcome,
                detail=e.detail,
                prev_hash=prev,
            )
            event.hash = auditchain.entry_hash(prev, audit_content(event))
            events.append(event)
            prev = event.hash
            seq += 1
        AuditSequence.objects.filter(id=1).update(last=seq - 1)
        return AuditEvent.objects.bulk_create(events)


def audit_record(
    *,
    actor: str,
    action: str,
    target: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    entry = AuditEntry(actor=actor, action=action, target=target, outcome=outcome,
                       detail=detail or {})
    return audit_record_many([entry])[0]


_CHAIN_FIELDS = ("seq", "at", "actor", "action", "target", "outcome", "detail", "prev_hash",
                 "hash")


def audit_rows() -> Iterator[auditchain.Row]:
    """The whole log in sequence order, streamed: rows are read 2,000 at a time (a
    server-side cursor on PostgreSQL) as plain values, never as model objects or a list,
    so checking a log of a million entries takes the memory of a few thousand. Each
    entry's content is ``audit_content``'s, built from the row."""
    rows = (AuditEvent.objects.order_by("seq").values_list(*_CHAIN_FIELDS)
            .iterator(chunk_size=2000))
    for seq, at, actor, action, target, outcome, detail, prev_hash, digest in rows:
        yield seq, {"seq": seq, "at": at.isoformat(), "actor": actor, "action": action,
                    "target": target, "outcome": outcome, "detail": detail}, prev_hash, digest


def audit_counted_to() -> int | None:
    """The highest number ever given (None: the counter row is gone)."""
    return AuditSequence.objects.filter(id=1).values_list("last", flat=True).first()


def audit_check(anchors: Sequence[auditchain.Anchor] = ()) -> auditchain.ChainReport:
    """The chain, the counter and ``anchors``, in one pass over the log. The counter is
    read first and no lock is held (a writer is not kept waiting while a long log is
    checked): entries appended meanwhile come after it and cannot look missing."""
    counted_to = audit_counted_to()
    return auditchain.check(audit_rows(), anchors=anchors, counted_to=counted_to)


def audit_verify() -> auditchain.Finding | None:
    """The first problem of the chain itself or of its counter (entries missing at the
    end), None when both are sound. Anchors: ``brankas.web.audit.anchors``."""
    report = audit_check()
    return report.chain or report.counter
