"""The three chains through the real services, inboxes and pages (real SQLite, real files,
real encryption): for every role x state x step, the service refuses exactly what the
chain's ``may`` refuses, the inbox lists the record exactly when the chain says it waits
for the user, and the page offers exactly the chain's open steps.

Each record is put into each state directly (the states themselves are reached through
the services in tests/web/sendrequests, tests/web/reports and tests/web/custody); a step the chain
allows either succeeds or stops later for a reason of its own (a signing step without its
passphrase), never with one of the chain's refusals.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from brankas.core.access import Action, allowed
from brankas.core.chains.custody import CUSTODY, MediumState, Move
from brankas.core.chains.report import REPORT
from brankas.core.chains.report import Step as ReportStep
from brankas.core.chains.request import REQUEST, State
from brankas.core.chains.request import Step as RequestStep
from brankas.core.errors import AccessDenied, BrankasError
from brankas.core.register.intake import InputFile
from tests.conftest import make_pdf

ROLE_OF = {"operator": "sandiman", "kasi": "kasi", "kabid": "kabid", "kadis": "kadis"}
SECOND = {"sandiman": "operator2", "kasi": "kasi2", "kabid": "kabid2", "kadis": "kadis2"}
FIRST = {role: name for name, role in ROLE_OF.items()}
PASSWORD = "Second-Pass-2026!"

REQUEST_REFUSALS = {"permission_denied", "request_not_yours", "request_wrong_state",
                    "request_not_registered"}
REPORT_REFUSALS = {"permission_denied", "report_step_invalid", "report_frozen"}
CUSTODY_REFUSALS = {"permission_denied", "custody_move_invalid", "medium_already_in_safe",
                    "medium_retired", "medium_lost"}


def signed_in(users: dict[str, Any]) -> dict[str, Client]:
    """A test client signed in as each user, once (the pages are then read as each user in
    every state, without signing in again for each)."""
    clients = {}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    return clients


def outcome(call: Callable[[], Any], refusals: set[str]) -> str | None:
    """The chain's refusal the service raised, or None when it passed the chain (done, or
    stopped later for a reason that is not the chain's)."""
    try:
        call()
    except BrankasError as exc:
        return exc.code if exc.code in refusals else None
    return None


@pytest.fixture
def people(office) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The office's users and a second user of each role of the chains."""
    from brankas.web.accounts.services import user_create

    users = dict(office.users)
    for role, name in SECOND.items():
        users[name] = user_create(actor=office.users["admin"], username=name, role=role,
                                  password=PASSWORD, full_name=f"{name.title()} Kedua")
    return users


# ---------------------------------------------------------------- requests

def _request_call(users: dict[str, Any], number: int, step: RequestStep, actor: Any,
                  state: State) -> Callable[[], Any]:
    from brankas.web.sendrequests import services as svc

    if step is RequestStep.ASSIGN:
        row = REQUEST.find(state, step)
        to = FIRST[row.assigns.value] if row and row.assigns else "kabid"
        return lambda: svc.request_assign(actor=actor, number=number, assignee_username=to)
    if step is RequestStep.RETURN:
        return lambda: svc.request_return(actor=actor, number=number, note="uji rantai")
    if step is RequestStep.RECEIVE:
        return lambda: svc.request_receive(actor=actor, number=number)
    if step is RequestStep.REGISTER:
        return lambda: svc.request_register(actor=actor, number=number, doc_number="1/UJI",
                                            doc_date=dt.date.today(), allow_duplicate=True)
    return lambda: svc.request_send(actor=actor, number=number, channel="JKS", reference="1")


def _listed(inbox: Callable[[Any], Any], user: Any, action: Action, key: str) -> set[Any]:
    """An inbox's keys; a role the access matrix gives no read of it is refused (and then
    nothing waits for it)."""
    if allowed(user.role, action):
        return {getattr(r, key) for r in inbox(user)}
    with pytest.raises(AccessDenied):
        inbox(user)
    return set()


def _request_configurations(users: dict[str, Any]) -> list[tuple[State, Any]]:
    """Each state with no assignee, and each held state assigned to the first user of its
    holder's role (so the second user of that role is someone it is not assigned to)."""
    out: list[tuple[State, Any]] = []
    for state in State:
        out.append((state, None))
        holder = REQUEST.holder(state)
        if holder is not None:
            out.append((state, users[FIRST[holder.value]]))
    return out


def _set_request(number: int, state: State, assignee: Any) -> None:
    from brankas.web.sendrequests.models import SendRequest

    SendRequest.objects.filter(pk=number).update(
        state=state.value, assignee=assignee, document=None, received_at=None,
        closed_at=None, sent_at=None, state_since=timezone.now())


@pytest.fixture
def letter_request(office, people) -> int:  # type: ignore[no-untyped-def]
    from brankas.web.sendrequests.services import request_create

    req = request_create(actor=people["kadis"], subject="Uji rantai", classification="biasa",
                         addressee="Gubernur", requester_unit="Setda", requester_name="Sekda",
                         files=[InputFile.from_bytes("surat.pdf", make_pdf(text="rantai"))])
    return int(req.pk)


def test_the_request_services_and_inbox_refuse_exactly_what_the_chain_refuses(
        people, letter_request) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.sendrequests.selectors import request_inbox

    number, mismatches, cells = letter_request, [], 0
    for state, assignee in _request_configurations(people):
        for name, user in people.items():
            _set_request(number, state, assignee)
            waits = REQUEST.waits_for(role=user.role, state=state,
                                      assignee=assignee.pk if assignee else None, user=user.pk)
            listed = number in _listed(request_inbox, user, Action.REQUEST_VIEW, "pk")
            if listed is not waits:
                mismatches.append(("inbox", state.value, assignee, name, listed))
            for step in REQUEST.step_order:
                _set_request(number, state, assignee)
                may = REQUEST.may(role=user.role, state=state, step=step,
                                  assignee=assignee.pk if assignee else None, user=user.pk)
                code = outcome(_request_call(people, number, step, user, state),
                               REQUEST_REFUSALS)
                cells += 1
                if (code is None) is not may:
                    mismatches.append((state.value, getattr(assignee, "username", None),
                                       name, step.value, may, code))
    assert mismatches == []
    assert cells == 5 * len(people) * len(_request_configurations(people))


def _request_markers(page: str, number: int) -> set[str]:
    found = set(re.findall(rf'(?:action|href)="/requests/{number}/(assign|return|receive|'
                           rf'register/|sent)"', page))
    return {{"register/": "register", "sent": "send"}.get(m, m) for m in found}


def test_the_request_page_offers_exactly_the_open_steps(people, letter_request) -> None:  # type: ignore[no-untyped-def]
    number, checked, clients = letter_request, 0, signed_in(people)
    for state, assignee in _request_configurations(people):
        _set_request(number, state, assignee)
        for name, user in people.items():
            response = clients[name].get(f"/requests/{number}/")
            steps = {s.value for s in REQUEST.open_steps(
                role=user.role, state=state, assignee=assignee.pk if assignee else None,
                user=user.pk)}
            if response.status_code == 403:  # may not see requests at all (the admin)
                assert steps == set()
                continue
            assert response.status_code == 200
            page = response.content.decode()
            assert _request_markers(page, number) == steps, (state, assignee, name)
            checked += 1
    assert checked > 0


# ---------------------------------------------------------------- reports

@pytest.fixture
def draft_report(office) -> int:  # type: ignore[no-untyped-def]
    from brankas.web.reports.services import report_create

    return int(report_create(actor=office.users["operator"], kind="messages",
                             period=timezone.localdate().strftime("%Y-%m")).number)


def _set_report(number: int, state: str) -> None:
    from brankas.web.reports.models import Report

    Report.objects.filter(number=number).update(state=state, return_note="")


def _report_call(number: int, step: ReportStep, actor: Any) -> Callable[[], Any]:
    from brankas.web.reports import services as rep

    if step is ReportStep.RETURN:
        return lambda: rep.report_return(actor=actor, number=number, note="uji rantai")
    if step is ReportStep.FORWARD:  # no passphrase: stops at signing, after the chain
        return lambda: rep.report_forward(actor=actor, number=number, summary="Ringkasan",
                                          passphrase="")
    signing = {ReportStep.SUBMIT: rep.report_submit, ReportStep.APPROVE: rep.report_approve,
               ReportStep.ACKNOWLEDGE: rep.report_acknowledge}[step]
    return lambda: signing(actor=actor, number=number, passphrase="")


def test_the_report_services_and_inbox_refuse_exactly_what_the_chain_refuses(
        office, draft_report) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.reports.selectors import report_inbox

    number, mismatches, cells = draft_report, [], 0
    for state in REPORT.states:
        for name, user in office.users.items():
            _set_report(number, state)
            listed = number in _listed(lambda u: report_inbox(actor=u), user,
                                       Action.VIEW_REPORTS, "number")
            if listed is not REPORT.waits_for(role=user.role, state=state):
                mismatches.append(("inbox", state.value, name, listed))
            for step in REPORT.step_order:
                _set_report(number, state)
                may = REPORT.may(role=user.role, state=state, step=step)
                code = outcome(_report_call(number, step, user), REPORT_REFUSALS)
                cells += 1
                if (code is None) is not may:
                    mismatches.append((state.value, name, step.value, may, code))
    assert mismatches == []
    assert cells == len(REPORT.states) * len(REPORT.step_order) * len(office.users)


def test_the_report_page_offers_exactly_the_open_steps(office, draft_report) -> None:  # type: ignore[no-untyped-def]
    number, clients = draft_report, signed_in(office.users)
    for state in REPORT.states:
        _set_report(number, state)
        for name, user in office.users.items():
            response = clients[name].get(f"/reports/{number}/")
            steps = {s.value for s in REPORT.open_steps(role=user.role, state=state)}
            if response.status_code == 403:  # may not read reports (the admin)
                assert steps == set()
                continue
            page = response.content.decode()
            offered = set(re.findall(rf'action="/reports/{number}/([a-z]+)"', page))
            assert offered - {"correct", "refresh"} == steps, (state, name)
            # gathering a draft's figures again goes with submitting it
            assert ("refresh" in offered) == ("submit" in steps), (state, name)


# ---------------------------------------------------------------- custody

@pytest.fixture
def disk(office) -> Any:  # type: ignore[no-untyped-def]
    from brankas.web.backup.models import Medium
    from brankas.web.custody.models import MediumCustody
    from brankas.web.custody.services import safe_add

    safe = safe_add(actor=office.users["operator"], name="Brankas-A", location="Ruang Sandi",
                    combination="12-34-56")
    now = timezone.now()
    medium = Medium.objects.create(medium_id=str(uuid.uuid4()), label="DISK-A",
                                   first_used_at=now, last_used_at=now)
    MediumCustody.objects.create(medium=medium, state=MediumState.OUT, since=now)
    return medium, safe


def _set_disk(disk: Any, state: MediumState) -> None:
    from brankas.web.custody.models import MediumCustody

    medium, safe = disk
    MediumCustody.objects.filter(medium=medium).update(
        state=state.value, safe=safe if state is MediumState.IN_SAFE else None, location="")


def test_the_custody_service_refuses_exactly_what_the_chain_refuses(office, disk) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.custody.services import medium_move

    mismatches, cells = [], 0
    for state in MediumState:
        for name, user in office.users.items():
            for move in CUSTODY.step_order:
                _set_disk(disk, state)
                may = CUSTODY.may(role=user.role, state=state, step=move)
                code = outcome(lambda user=user, move=move: medium_move(
                    actor=user, medium="DISK-A", move=move,
                    safe="Brankas-A" if move is Move.CHECKIN else None, reason="uji rantai",
                    location="Gudang arsip" if move is Move.OFFSITE else ""),
                    CUSTODY_REFUSALS)
                cells += 1
                if (code is None) is not may:
                    mismatches.append((state.value, name, move.value, may, code))
    assert mismatches == []
    assert cells == len(MediumState) * len(CUSTODY.step_order) * len(office.users)


def test_the_disk_page_offers_exactly_the_open_moves(office, disk) -> None:  # type: ignore[no-untyped-def]
    (medium, _safe), clients = disk, signed_in(office.users)
    for state in MediumState:
        _set_disk(disk, state)
        for name, user in office.users.items():
            response = clients[name].get(f"/backup/media/{medium.medium_id}/")
            assert response.status_code == 200
            page = response.content.decode()
            select = re.search(r'<select name="move".*?</select>', page, re.S)
            offered = re.findall(r'<option value="([a-z_]+)"',
                                 select.group(0)) if select else []
            want = [m.value for m in CUSTODY.open_steps(role=user.role, state=state)]
            assert sorted(offered) == sorted(want), (state, name)
