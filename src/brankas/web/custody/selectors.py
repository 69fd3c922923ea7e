"""Reading safes and the custody of disks, and the dashboard's custody reminders.

The safes and the disks' custody are reads the access matrix governs (view-custody):
``safe_list``, ``medium_get``, ``media_with_custody`` and ``custody_history`` take the
acting user and refuse, audited, a role the matrix does not allow; ``via`` and ``target``
only describe the refusal in the audit log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from brankas.core.access import Action
from brankas.core.chains.custody import ACTIVE, MediumState
from brankas.core.errors import InvalidInput, NotFound
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.backup.models import Medium
from brankas.web.custody.models import CustodyMove, MediumCustody, Safe
from brankas.web.runtime import brankas_settings


def safe_get(name: str | None) -> Safe:
    safe = Safe.objects.filter(name__iexact=(name or "").strip()).first()
    if safe is None:
        raise NotFound("safe_not_found", name=name or "")
    return safe


def safe_by_pk(pk: int) -> Safe:
    """A safe by its id (the web's URLs); the same refusal as an unknown name."""
    safe = Safe.objects.filter(pk=pk).first()
    if safe is None:
        raise NotFound("safe_not_found", name=f"#{pk}")
    return safe


def safe_list(*, actor: User, via: str = "", target: str = "") -> QuerySet[Safe]:
    require_audited(actor, Action.VIEW_CUSTODY, target=target, via=via)
    return Safe.objects.prefetch_related("combinations", "media__medium").order_by("name")


def medium_resolve(ref: str) -> Medium:
    """A disk by its label (case-insensitive), its id, or the start of its id."""
    ref = (ref or "").strip()
    if not ref:
        raise InvalidInput("field_required", field="LABEL")
    by_label = list(Medium.objects.filter(label__iexact=ref))
    if len(by_label) == 1:
        return by_label[0]
    if len(by_label) > 1:
        raise InvalidInput("medium_ambiguous", label=ref,
                           ids=", ".join(m.medium_id[:8] for m in by_label))
    by_id = list(Medium.objects.filter(medium_id__istartswith=ref)[:2]) if len(ref) >= 4 else []
    if len(by_id) == 1:
        return by_id[0]
    raise NotFound("medium_not_found", label=ref)


def medium_state(medium: Medium) -> MediumCustody | None:
    return MediumCustody.objects.select_related("safe").filter(medium=medium).first()


def medium_get(*, actor: User, ref: str, via: str = "", target: str = "") -> Medium:
    require_audited(actor, Action.VIEW_CUSTODY, target=target, via=via)
    return medium_resolve(ref)


def media_with_custody(*, actor: User, via: str = "", target: str = "") -> QuerySet[Medium]:
    require_audited(actor, Action.VIEW_CUSTODY, target=target, via=via)
    return Medium.objects.select_related("custody", "custody__safe").order_by(
        "label", "first_used_at")


def custody_history(*, actor: User, medium: Medium, via: str = "",
                    target: str = "") -> QuerySet[CustodyMove]:
    require_audited(actor, Action.VIEW_CUSTODY, target=target, via=via)
    return (CustodyMove.objects.filter(medium=medium)
            .select_related("actor", "from_safe", "to_safe").order_by("at", "id"))


def state_of(medium: Medium) -> str:
    """The disk's state; a disk from before custody was recorded counts as out."""
    custody = getattr(medium, "custody", None)
    return custody.state if custody is not None else MediumState.OUT.value


def medium_as_dict(medium: Medium) -> dict[str, Any]:
    custody = getattr(medium, "custody", None)
    return {
        "medium_id": medium.medium_id, "label": medium.label, "state": state_of(medium),
        "safe": custody.safe.name if custody and custody.safe else None,
        "location": (custody.safe.location if custody and custody.safe
                     else (custody.location if custody else "")),
        "since": custody.since.isoformat() if custody else None,
        "first_used_at": medium.first_used_at.isoformat(),
        "last_backup_at": medium.last_backup_at.isoformat() if medium.last_backup_at else None,
        "last_verified_at": (medium.last_verified_at.isoformat()
                             if medium.last_verified_at else None),
        "last_verify_ok": medium.last_verify_ok,
        "files": medium.files, "bytes": medium.bytes,
        "capacity_bytes": medium.capacity_bytes, "free_bytes": medium.free_bytes,
    }


def move_as_dict(move: CustodyMove) -> dict[str, Any]:
    return {
        "at": move.at.isoformat(), "move": move.move, "actor": move.actor.username,
        "from_state": move.from_state or None, "to_state": move.to_state,
        "from_safe": move.from_safe.name if move.from_safe else None,
        "to_safe": move.to_safe.name if move.to_safe else None,
        "location": move.location, "reason": move.reason_shown,
    }


# -- reminders -----------------------------------------------------------------------------

@dataclass(frozen=True)
class CustodyWarning:
    code: str  # out_too_long, not_verified, one_safe, lost
    params: dict[str, Any] = field(default_factory=dict)


def custody_warnings(now: datetime | None = None) -> list[CustodyWarning]:
    """For the dashboard: disks out of their safe too long, disks not verified for too
    long, every disk in one safe, and disks reported lost."""
    now = now or timezone.now()
    settings = brankas_settings()
    out_limit = timedelta(hours=settings.custody_out_hours)
    verify_limit = timedelta(days=30 * settings.verify_max_age_months)
    warnings: list[CustodyWarning] = []
    media = list(Medium.objects.select_related("custody", "custody__safe")
                 .filter(Q(custody__isnull=True) | ~Q(custody__state=MediumState.RETIRED)))
    active = []
    for medium in media:
        state = MediumState(state_of(medium))
        custody = getattr(medium, "custody", None)
        if state is MediumState.LOST:
            warnings.append(CustodyWarning("lost", {"label": medium.label}))
            continue
        if state not in ACTIVE:
            continue
        active.append(medium)
        since = custody.since if custody else medium.last_used_at
        if state is MediumState.OUT and now - since > out_limit:
            hours = int((now - since).total_seconds() // 3600)
            warnings.append(CustodyWarning("out_too_long", {"label": medium.label,
                                                            "hours": hours}))
        checked = medium.last_verified_at or medium.first_used_at
        if now - checked > verify_limit:
            warnings.append(CustodyWarning("not_verified", {
                "label": medium.label, "days": (now - checked).days,
                "never": medium.last_verified_at is None}))
    safes = {m.custody.safe_id for m in active
             if getattr(m, "custody", None) is not None and m.custody.state == MediumState.IN_SAFE}
    all_in_safes = all(state_of(m) == MediumState.IN_SAFE for m in active)
    if len(active) >= 2 and all_in_safes and len(safes) == 1:
        safe = active[0].custody.safe
        warnings.append(CustodyWarning("one_safe", {"safe": safe.name if safe else ""}))
    return warnings


def last_safe(medium: Medium) -> Safe | None:
    """The safe the disk was last checked into: where it should go back."""
    move = (CustodyMove.objects.filter(medium=medium, to_safe__isnull=False)
            .select_related("to_safe").order_by("-at", "-id").first())
    return move.to_safe if move else None


def return_reminder(medium: Medium) -> dict[str, Any] | None:
    """After a backup: the disk is out; where to put it back, and the command for it."""
    custody = medium_state(medium)  # read afresh: the disk has just been written to
    if custody is not None and custody.state != MediumState.OUT:
        return None
    safe = last_safe(medium) or Safe.objects.order_by("name").first()
    name = safe.name if safe else "NAMA-BRANKAS"
    return {"label": medium.label, "safe": safe.name if safe else None,
            "command": f'brankas media checkin "{medium.label}" --safe "{name}"'}
