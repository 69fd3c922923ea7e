"""Reading the audit log: filtered lists for the audit page and ``brankas audit list``, and
the CSV export (every cell formula-safe). Kasi, Kabid and admin only (``view-audit``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import Q, QuerySet
from django.utils import timezone

from brankas.core.access import Action
from brankas.core.printing.tables import csv_chunks
from brankas.web.audit.guard import require_audited
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_record
from brankas.web.runtime import distinct_values


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


def action_prefix(prefix: str) -> dict[str, list[str]]:
    """Every action that starts with ``prefix`` (ending in ``.``), as the list of those
    actions (the log holds a few dozen: ``distinct_values``, one index seek each), which
    the action index serves on both databases (``LIKE 'document.%'`` is not, on SQLite).
    Chosen in Python, so exactly ``str.startswith`` whatever the database's collation: a
    range ``>= 'document.' AND < 'document/'`` holds only in a byte-wise one (an office's
    PostgreSQL made in en_US.UTF-8 sorts ``document.open`` after ``document/``)."""
    return {"action__in": [a for a in audit_actions() if a.startswith(prefix)]}


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
        qs = qs.filter(**action_prefix(f.action)) if f.action.endswith(".") else qs.filter(
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
    # One seek in the action index per action (the model's ordering by seq made the
    # DISTINCT one of (action, seq): every entry of the log read into Python).
    # Sorted here, by code point as before: the database's collation may be a language's.
    return sorted(str(a) for a in distinct_values(AuditEvent, "action"))


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
    return b"".join(audit_export_stream(actor=actor, filters=filters, via=via, target=target))


def audit_export_stream(*, actor: Actor, filters: AuditFilter | None = None, via: str = "",
                        target: str = "") -> Iterator[bytes]:
    """``audit_export`` a few hundred entries at a time (the web's download is streamed:
    a million entries never sit in memory). The role is checked and the export audited
    before the first byte, with the number of entries it holds: the entries up to the
    last one at that moment (the export's own entry and later ones are not in it)."""
    qs = audit_list(actor=actor, filters=filters, via=via, target=target).order_by("seq")
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    qs = qs.filter(seq__lte=last)
    f = filters or AuditFilter()
    audit_record(actor=actor.username, action="audit.export", detail={
        "entries": qs.count(), "via": via,
        "filters": {k: str(v) for k, v in vars(f).items() if v not in ("", None)},
    })
    # The time in the office's time zone, with its offset (2026-12-05T14:03:00+07:00):
    # as the pages show it, and still one exact moment.
    rows = ({**event_dict(e), "at": timezone.localtime(e.at).isoformat(),
             "detail": json.dumps(e.detail, ensure_ascii=False, sort_keys=True)}
            for e in qs.iterator(chunk_size=2000))
    return csv_chunks(EXPORT_COLUMNS, rows)
