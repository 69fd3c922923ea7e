"""Viewing who can open each exempted file: the read is ``keys.selectors.key_coverage``;
this service is the audited viewing of it (``key.coverage``), as ``brankas key coverage``
and the coverage page show it."""

from __future__ import annotations

from brankas.web.accounts.models import User
from brankas.web.audit.services import audit_record
from brankas.web.keys.selectors import Coverage, key_coverage


def key_coverage_view(*, actor: User, via: str, target: str = "",
                      recovery_only: bool = False) -> Coverage:
    """The coverage (view-key-coverage), and the ``key.coverage`` entry in the audit log."""
    coverage = key_coverage(actor=actor, via=via, target=target, recovery_only=recovery_only)
    audit_record(actor=actor.username, action="key.coverage", target=target[:200],
                 detail={"via": via, "recovery_only": recovery_only})
    return coverage
