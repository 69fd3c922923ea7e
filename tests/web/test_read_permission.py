"""Every read the access matrix governs checks the actor itself, in one place (the selector
or read service), so no view or command can forget it.

For each governed read: every role the matrix refuses is refused (``permission_denied``)
with an ``access.denied`` entry naming the action and the interface (``via``); every role
it allows gets past the check. A read whose action every role may take (list, view,
view-backups, view-custody) is checked against the matrix with that role taken out of it:
the selector must follow the matrix, not a list of its own.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from brankas.core import access
from brankas.core.access import MATRIX, Action
from brankas.core.errors import AccessDenied, NotFound
from brankas.core.terms import Role
from brankas.web.audit.models import AuditEvent

USER_OF = {Role.SANDIMAN: "operator", Role.KASI: "kasi", Role.KABID: "kabid",
           Role.KADIS: "kadis", Role.ADMIN: "admin"}

Read = Callable[[SimpleNamespace, Any, str], object]


def _documents(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.documents.selectors import document_list

    return list(document_list(actor=user, via=via))


def _document(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.documents.selectors import document_get

    return document_get(actor=user, agenda=ctx.agenda, via=via)


def _document_view(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.documents.services import document_view

    return document_view(actor=user, agenda=ctx.agenda, via=via)


def _request(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.sendrequests.selectors import request_get

    return request_get(actor=user, number=ctx.request, via=via)


def _requests(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.sendrequests.selectors import request_list

    return list(request_list(actor=user, via=via))


def _request_inbox(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.sendrequests.selectors import request_inbox

    return list(request_inbox(user, via=via))


def _requests_overdue(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.sendrequests.selectors import request_overdue

    return list(request_overdue(actor=user, hours=1, via=via))


def _runs(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.backup.selectors import run_list

    return list(run_list(actor=user, via=via))


def _run(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.backup.selectors import run_get

    return run_get(actor=user, number=1, via=via)


def _run_export(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.backup.exports import control_list_export

    return control_list_export(actor=user, number=1, fmt="csv", via=via)


def _media(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.backup.selectors import medium_list

    return list(medium_list(actor=user, via=via))


def _medium_checks(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.backup.selectors import medium_checks

    return list(medium_checks(actor=user, medium=ctx.medium, via=via))


def _safes(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.custody.selectors import safe_list

    return list(safe_list(actor=user, via=via))


def _medium(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.custody.selectors import medium_get

    return medium_get(actor=user, ref=ctx.medium.label, via=via)


def _media_custody(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.custody.selectors import media_with_custody

    return list(media_with_custody(actor=user, via=via))


def _custody_history(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.custody.selectors import custody_history

    return list(custody_history(actor=user, medium=ctx.medium, via=via))


def _reports(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.reports.selectors import report_list

    return list(report_list(actor=user, via=via))


def _report(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.reports.selectors import report_get

    return report_get(actor=user, number=ctx.report, via=via)


def _report_inbox(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.reports.selectors import report_inbox

    return list(report_inbox(actor=user, via=via))


def _report_export(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.reports.services import report_export

    return report_export(actor=user, number=ctx.report, fmt="xlsx", via=via)


def _audit(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.audit.selectors import audit_list

    return list(audit_list(actor=user, via=via)[:5])


def _audit_export(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.audit.selectors import audit_export

    return audit_export(actor=user, via=via)


def _audit_chain(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.audit.anchors import audit_chain_report

    return audit_chain_report(actor=user, via=via)


def _users(ctx: SimpleNamespace, user: Any, via: str) -> object:
    from brankas.web.accounts.selectors import user_list

    return list(user_list(actor=user, via=via))


READS: dict[str, tuple[Action, Read]] = {
    "document_list": (Action.LIST, _documents),
    "document_get": (Action.VIEW, _document),
    "document_view": (Action.VIEW, _document_view),
    "request_get": (Action.REQUEST_VIEW, _request),
    "request_list": (Action.REQUEST_VIEW, _requests),
    "request_inbox": (Action.REQUEST_VIEW, _request_inbox),
    "request_overdue": (Action.REQUEST_VIEW, _requests_overdue),
    "run_list": (Action.VIEW_BACKUPS, _runs),
    "run_get": (Action.VIEW_BACKUPS, _run),
    "control_list_export": (Action.VIEW_BACKUPS, _run_export),
    "medium_list": (Action.VIEW_BACKUPS, _media),
    "medium_checks": (Action.VIEW_BACKUPS, _medium_checks),
    "safe_list": (Action.VIEW_CUSTODY, _safes),
    "medium_get": (Action.VIEW_CUSTODY, _medium),
    "media_with_custody": (Action.VIEW_CUSTODY, _media_custody),
    "custody_history": (Action.VIEW_CUSTODY, _custody_history),
    "report_list": (Action.VIEW_REPORTS, _reports),
    "report_get": (Action.VIEW_REPORTS, _report),
    "report_inbox": (Action.VIEW_REPORTS, _report_inbox),
    "report_export": (Action.VIEW_REPORTS, _report_export),
    "audit_list": (Action.VIEW_AUDIT, _audit),
    "audit_export": (Action.VIEW_AUDIT, _audit_export),
    "audit_chain_report": (Action.VIEW_AUDIT, _audit_chain),
    "user_list": (Action.MANAGE_USERS, _users),
}


def _readable(office: Any, base: Any) -> dict[str, Any]:
    """What the reads read: a disk, a request, a report and a document of the office."""
    from brankas.web.backup.models import Medium
    from brankas.web.reports.services import report_create
    from brankas.web.sendrequests.services import request_create
    from tests.web.ui.conftest import register_directly

    now = timezone.now()
    medium = Medium.objects.create(medium_id="0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
                                   label="DISK-A", first_used_at=now, last_used_at=now)
    req = request_create(actor=office.users["kadis"], subject="Baca", classification="biasa",
                         addressee="Sekda")
    report = report_create(actor=office.users["operator"], kind="messages",
                           period=timezone.localdate().strftime("%Y-%m"))
    return {"agenda": register_directly(office).agenda, "request": req.pk,
            "report": report.number, "medium": medium.pk}


@pytest.fixture(scope="module")
def read_office(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The office with what the reads read (``_readable``), built once for this module;
    each test works on its own copy (a savepoint, a copy of its folder)."""
    from tests.conftest import office_once

    with office_once(django_db_blocker, tmp_path_factory, _readable) as template:
        yield template


@pytest.fixture
def ctx(read_office, db, settings, tmp_path) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    from brankas.web.backup.models import Medium

    made = read_office.extra
    return SimpleNamespace(office=read_office.copy_for(settings, tmp_path),
                           agenda=made["agenda"], request=made["request"],
                           report=made["report"], medium=Medium.objects.get(pk=made["medium"]))


def refusals_of(username: str, start: int) -> list[dict[str, Any]]:
    return list(AuditEvent.objects.filter(seq__gt=start, actor=username, action="access.denied")
                .values("target", "outcome", "detail"))


def last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def assert_refused(ctx: SimpleNamespace, read: Read, action: Action, role: Role) -> None:
    user = ctx.office.users[USER_OF[role]]
    start = last_seq()
    with pytest.raises(AccessDenied) as exc:
        read(ctx, user, "cli")
    assert exc.value.code == "permission_denied"
    [entry] = refusals_of(user.username, start)
    assert entry["outcome"] == "denied"
    assert entry["detail"] == {"action": action.value, "role": role.value,
                               "error": "permission_denied", "via": "cli"}


def assert_allowed(ctx: SimpleNamespace, read: Read, role: Role) -> None:
    user = ctx.office.users[USER_OF[role]]
    start = last_seq()
    with contextlib.suppress(NotFound):  # past the check: the run asked for does not exist
        read(ctx, user, "web")
    assert refusals_of(user.username, start) == []


def test_every_read_action_of_the_matrix_has_a_governed_read() -> None:
    reads = {Action.LIST, Action.VIEW, Action.VIEW_BACKUPS, Action.VIEW_CUSTODY,
             Action.REQUEST_VIEW, Action.VIEW_AUDIT, Action.VIEW_REPORTS, Action.MANAGE_USERS}
    assert {action for action, _read in READS.values()} == reads


@pytest.mark.parametrize("name", sorted(READS))
def test_a_read_refuses_exactly_the_roles_the_matrix_refuses(ctx, name) -> None:
    action, read = READS[name]
    for role in Role:
        if role in MATRIX[action]:
            assert_allowed(ctx, read, role)
        else:
            assert_refused(ctx, read, action, role)


@pytest.mark.parametrize("name", sorted(READS))
def test_a_read_follows_the_matrix_when_a_role_is_taken_out(ctx, monkeypatch, name) -> None:
    action, read = READS[name]
    role = sorted(MATRIX[action])[0]
    monkeypatch.setitem(access.MATRIX, action, MATRIX[action] - {role})
    assert_refused(ctx, read, action, role)


def test_the_web_names_the_page_in_a_refusal(ctx) -> None:
    from brankas.web.sendrequests.selectors import request_list

    start = last_seq()
    with pytest.raises(AccessDenied):
        request_list(actor=ctx.office.users["admin"], via="web", target="/requests/")
    [entry] = refusals_of("admin", start)
    assert entry["target"] == "/requests/" and entry["detail"]["via"] == "web"


def test_opening_a_request_letter_records_its_interface_in_the_refusal(ctx) -> None:
    from brankas.web.sendrequests.services import request_letter_open

    start = last_seq()
    with pytest.raises(AccessDenied):
        request_letter_open(actor=ctx.office.users["admin"], number=ctx.request,
                            dst=io.BytesIO(), via="cli")
    [entry] = refusals_of("admin", start)
    assert entry["detail"]["via"] == "cli"
