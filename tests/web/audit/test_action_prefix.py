"""The audit log's action prefix ("document." = every document action) picks exactly the
actions that start with it, whatever the database and its collation (issue 15 review: the
prefix became a range ``>= 'document.' AND < 'document/'``, which only holds in a
byte-wise collation; tests/web/audit/test_action_prefix_pg.py runs these on PostgreSQL and
under a linguistic collation)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

KASI = SimpleNamespace(username="kasi", role="kasi")

ACTIONS = ["document.open", "document.view", "document", "documents.list", "document-x",
           "document/x", "documenta", "document.é", "dokumen.arsip", "dokumen.ünik",
           "a.first", ".hidden", "z.last", "document.open"]
PREFIXES = ["document.", "dokumen.", "a.", ".", "z.", "documents.", "nothing.", "document.é."]


def _record(actions: list[str]) -> None:
    from brankas.web.audit.services import AuditEntry, audit_record_many

    audit_record_many([AuditEntry(actor="a", action=action) for action in actions])


def _listed(prefix: str) -> list[str]:
    from brankas.web.audit.selectors import AuditFilter, audit_list

    entries = audit_list(actor=KASI, filters=AuditFilter(action=prefix))
    return [e.action for e in entries if e.actor == "a"]  # not the log's own entries


def check_prefixes() -> None:
    _record(ACTIONS)
    for prefix in PREFIXES:
        expected = [a for a in reversed(ACTIONS) if a.startswith(prefix)]  # newest first
        assert _listed(prefix) == expected, prefix


@pytest.mark.django_db
def test_a_prefix_lists_exactly_the_actions_that_start_with_it() -> None:
    check_prefixes()


@pytest.mark.django_db
def test_a_prefix_with_filters_combined() -> None:
    from brankas.web.audit.selectors import AuditFilter, audit_list

    _record(["document.open", "document.view", "auth.login"])
    _record(["document.open"])
    got = audit_list(actor=KASI, filters=AuditFilter(action="document.", actor="a",
                                                     text="view"))
    assert [e.action for e in got] == ["document.view"]
