"""Writing the audit log. Every entry is appended inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from brankas.core import auditchain
from brankas.web.audit.models import AuditEvent


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    target: str = ""
    outcome: str = "ok"
    detail: dict[str, Any] = field(default_factory=dict)


def _content(event: AuditEvent) -> dict[str, Any]:
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
    """Append entries to the chain in order, with one insert, inside one transaction."""
    if not entries:
        return []
    with transaction.atomic():
        last = AuditEvent.objects.select_for_update().order_by("-seq").first()
        seq = last.seq + 1 if last else 1
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
            event.hash = auditchain.entry_hash(prev, _content(event))
            events.append(event)
            prev = event.hash
            seq += 1
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


def audit_rows():  # type: ignore[no-untyped-def]
    for ev in AuditEvent.objects.order_by("seq").iterator():
        yield ev.seq, _content(ev), ev.prev_hash, ev.hash


def audit_verify() -> auditchain.ChainProblem | None:
    return auditchain.verify(audit_rows())
