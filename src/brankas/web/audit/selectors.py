"""Reading the audit log: filtered lists for the audit page and ``brankas audit list``, and
the CSV export (every cell formula-safe). Kasi, Kabid and admin only (``view-audit``)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import Q, QuerySet
from django.utils import timezone

from brankas.core.access import Action
from brankas.core.printing.tables import csv_table
from brankas.web.audit.guard import require_audited
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_record


class Actor(Protocol):
    username: str
    role: str


@dataclass(frozen=True)
class AuditFilter:
    """``action``: an exact action or a prefix ending in ``.`` ("document." = every
    document action); ``since``/``until``: local dates, both included; ``text``: found in
    the actor, action, target or outcome."""

    actor: str = ""
    action: str = ""
    outcome: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    text: str = ""

    def is_empty(self) -> bool:
        return self == AuditFilter()


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def audit_list(*, actor: Actor, filters: AuditFilter | None = None, via: str = "",
               target: str = "") -> QuerySet[AuditEvent]:
    """The entries that match, newest first (view-audit; ``via`` and ``target`` describe a
    refusal in the log)."""
    require_audited(actor, Action.VIEW_AUDIT, target=target, via=via)
    f = filters or AuditFilter()
    qs = AuditEvent.objects.order_by("-seq")
    if f.actor:
        qs = qs.filter(actor=f.actor)
    if f.action:
        qs = qs.filter(action__startswith=f.action) if f.action.endswith(".") else qs.filter(
            action=f.action)
    if f.outcome:
        qs = qs.filter(outcome=f.outcome)
    if f.since:
        qs = qs.filter(at__gte=_day_start(f.since))
    if f.until:
        qs = qs.filter(at__lt=_day_start(f.until + dt.timedelta(days=1)))
    if f.text:
        qs = qs.filter(Q(actor__icontains=f.text) | Q(action__icontains=f.text)
                       | Q(target__icontains=f.text) | Q(outcome__icontains=f.text))
    return qs


def audit_actions() -> list[str]:
    """Every action that occurs in the log (for the filter's choices)."""
    return sorted(set(AuditEvent.objects.values_list("action", flat=True).distinct()))


def event_dict(e: AuditEvent) -> dict[str, Any]:
    return {"seq": e.seq, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
            "target": e.target, "outcome": e.outcome, "detail": e.detail,
            "prev_hash": e.prev_hash, "hash": e.hash}


EXPORT_COLUMNS = [
    ("seq", "No."), ("at", "Waktu"), ("actor", "Pengguna"), ("action", "Tindakan"),
    ("target", "Sasaran"), ("outcome", "Hasil"), ("detail", "Rincian"),
    ("prev_hash", "Hash sebelumnya"), ("hash", "Hash"),
]


def audit_export(*, actor: Actor, filters: AuditFilter | None = None, via: str = "",
                 target: str = "") -> bytes:
    """The matching entries, oldest first, as CSV; the export itself is audited (with the
    filters used and the number of entries)."""
    qs = audit_list(actor=actor, filters=filters, via=via, target=target).order_by("seq")
    # The time in the office's time zone, with its offset (2026-12-05T14:03:00+07:00):
    # as the pages show it, and still one exact moment.
    rows = [{**event_dict(e), "at": timezone.localtime(e.at).isoformat(),
             "detail": json.dumps(e.detail, ensure_ascii=False, sort_keys=True)}
            for e in qs.iterator()]
    data = csv_table(EXPORT_COLUMNS, rows)
    f = filters or AuditFilter()
    audit_record(actor=actor.username, action="audit.export", detail={
        "entries": len(rows), "via": via,
        "filters": {k: str(v) for k, v in vars(f).items() if v not in ("", None)},
    })
    return data
