"""Writing the audit log. Every entry is appended inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from brankas.core import auditchain
from brankas.web.audit.models import AuditEvent


def audit_record(
    *,
    actor: str,
    action: str,
    target: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    with transaction.atomic():
        last = AuditEvent.objects.select_for_update().order_by("-seq").first()
        seq = last.seq + 1 if last else 1
        prev = last.hash if last else auditchain.GENESIS
        at = timezone.now()
        entry = {
            "seq": seq,
            "at": at.isoformat(),
            "actor": actor,
            "action": action,
            "target": target,
            "outcome": outcome,
            "detail": detail or {},
        }
        return AuditEvent.objects.create(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target,
            outcome=outcome,
            detail=detail or {},
            prev_hash=prev,
            hash=auditchain.entry_hash(prev, entry),
        )


def audit_rows():  # type: ignore[no-untyped-def]
    for ev in AuditEvent.objects.order_by("seq").iterator():
        entry = {
            "seq": ev.seq,
            "at": ev.at.isoformat(),
            "actor": ev.actor,
            "action": ev.action,
            "target": ev.target,
            "outcome": ev.outcome,
            "detail": ev.detail,
        }
        yield ev.seq, entry, ev.prev_hash, ev.hash


def audit_verify() -> auditchain.ChainProblem | None:
    return auditchain.verify(audit_rows())
