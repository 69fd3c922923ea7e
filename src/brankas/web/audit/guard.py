"""The one place where a role refusal becomes an audit entry.

``brankas.core.access.require`` knows the matrix but not the database (the core imports
no Django), so services, the CLI and views call ``require_audited`` instead: it refuses
exactly as ``require`` does and first appends an ``access.denied`` entry naming the actor,
the action and the target. Call it before opening a transaction, so a rolled-back
transaction cannot take the entry with it.
"""

from __future__ import annotations

from typing import Protocol

from brankas.core.access import Action, require
from brankas.core.errors import AccessDenied
from brankas.web.audit.services import audit_record

DENIED = "access.denied"


class Actor(Protocol):
    username: str
    role: str


def require_audited(actor: Actor, action: Action, *, target: str = "", via: str = "") -> None:
    """``require(actor.role, action)``; a refusal is audited, then raised."""
    try:
        require(actor.role, action)
    except AccessDenied as exc:
        detail = {"action": action.value, "role": str(actor.role), "error": exc.code}
        if via:
            detail["via"] = via
        audit_record(actor=actor.username, action=DENIED, target=target[:200],
                     outcome="denied", detail=detail)
        raise
