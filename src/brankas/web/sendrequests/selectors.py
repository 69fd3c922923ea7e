"""Reading requests to send a message: one, a list, what waits for a user, the overdue,
and the step times of a period for the sent/received messages report.

``request_get``, ``request_list``, ``request_inbox`` and ``request_overdue`` are the reads
the access matrix governs (request-view): they take the acting user and refuse, audited, a
role the matrix does not allow; ``via`` and ``target`` only describe the refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from brankas.core.access import Action
from brankas.core.chains.request import CLOSED, REQUEST, State, Step
from brankas.core.errors import NotFound
from brankas.web.accounts.models import User
from brankas.web.audit.guard import Actor, require_audited
from brankas.web.sendrequests.models import SendRequest


def request_get(*, actor: Actor, number: int | str, via: str = "",
                target: str = "") -> SendRequest:
    """One request (request-view)."""
    require_audited(actor, Action.REQUEST_VIEW, target=target or str(number), via=via)
    return request_lookup(number)


def request_lookup(number: int | str) -> SendRequest:
    """A request without a role check: for the services that check the role of their own
    step (and audit its refusal)."""
    try:
        return SendRequest.objects.select_related(
            "created_by", "assignee", "document").get(pk=int(number))
    except (SendRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound("request_not_found", number=number) from None


def request_list(*, actor: Actor, via: str = "", target: str = "", state: str | None = None,
                 open_only: bool = False, query: str | None = None,
                 unlocked: Any = None) -> QuerySet[SendRequest]:
    """Requests, newest first (request-view). ``unlocked``: a holder's unlocked key
    (``documents.sealing``), whose sealed subjects and addressees are searched too."""
    require_audited(actor, Action.REQUEST_VIEW, target=target, via=via)
    return _requests(state=state, open_only=open_only, query=query, unlocked=unlocked)


def _requests(*, state: str | None = None, open_only: bool = False,
              query: str | None = None, unlocked: Any = None) -> QuerySet[SendRequest]:
    qs = SendRequest.objects.select_related("created_by", "assignee", "document")
    if state:
        qs = qs.filter(state=state)
    if open_only:
        qs = qs.exclude(state__in=[s.value for s in CLOSED])
    if query and query.strip():
        q = query.strip()
        match = (Q(subject__icontains=q) | Q(addressee__icontains=q)
                 | Q(requester_unit__icontains=q) | Q(requester_name__icontains=q)
                 | Q(reference__icontains=q))
        if unlocked is not None:  # sealed values, in memory (issue 16)
            from brankas.web.documents.sealing import sealed_matches

            match |= Q(pk__in=sealed_matches(qs.order_by("-created_at", "-pk"), q, unlocked,
                                             fields=("subject", "correspondent")).pks)
        qs = qs.filter(match)
    return qs.order_by("-created_at", "-pk")


def request_inbox(user: User, *, via: str = "", target: str = "") -> QuerySet[SendRequest]:
    """What waits for ``user``: requests assigned to them, and for a Kadis the new ones
    that wait for any Kadis (the chain's rule, ``REQUEST.waiting_states``), in one query
    (request-view)."""
    require_audited(user, Action.REQUEST_VIEW, target=target, via=via)
    mine_or_nobody = [s.value for s in REQUEST.waiting_states(user.role)]
    anyone = [s.value for s in REQUEST.waiting_states(user.role, assigned_elsewhere=True)]
    if not mine_or_nobody and not anyone:
        return SendRequest.objects.none()
    waits = (Q(state__in=mine_or_nobody) & (Q(assignee=user) | Q(assignee__isnull=True))
             | Q(state__in=anyone))
    return _requests().filter(waits).order_by("state_since", "pk")


def request_assignees(req: SendRequest) -> QuerySet[User]:
    """Whom the request's holder may assign it to now (none when no assignment is open)."""
    step = REQUEST.find(req.state, Step.ASSIGN)
    if step is None or step.assigns is None:
        return User.objects.none()
    return User.objects.filter(role=step.assigns.value, is_active=True).order_by("username")


def request_overdue(*, actor: Actor, hours: int, now: dt.datetime | None = None,
                    via: str = "", target: str = "") -> QuerySet[SendRequest]:
    """Open requests recorded more than ``hours`` ago (``BRANKAS_REQUEST_MAX_OPEN_HOURS``;
    request-view)."""
    require_audited(actor, Action.REQUEST_VIEW, target=target, via=via)
    cutoff = (now or timezone.now()) - dt.timedelta(hours=hours)
    return _requests(open_only=True).filter(created_at__lt=cutoff).order_by("created_at")


# ------------------------------------------------------------------ for the report

# The steps whose times the report shows, in chain order: (key, step kind, state entered).
MILESTONES: tuple[tuple[str, Step, State | None], ...] = (
    ("created", Step.CREATE, None),
    ("kabid_assigned", Step.ASSIGN, State.AT_KABID),
    ("kasi_assigned", Step.ASSIGN, State.AT_KASI),
    ("sandiman_assigned", Step.ASSIGN, State.AT_SANDIMAN),
    ("received", Step.RECEIVE, None),
    ("registered", Step.REGISTER, None),
    ("sent", Step.SEND, None),
)


@dataclass(frozen=True)
class Turnaround:
    """One request's step times and the time each step took (from the step before it).

    ``at[key]`` is the last time the request reached that step (after a return the step is
    done again, and the last time counts); ``took[key]`` is that time minus the previous
    step's (missing when either is missing). ``total`` runs from the record to sending."""

    number: int
    subject: str
    classification: str
    urgency: str
    state: str
    agenda: str | None
    at: dict[str, dt.datetime | None]
    took: dict[str, dt.timedelta | None]
    total: dt.timedelta | None
    returns: int
    channel: str = ""
    reference: str = ""


def request_turnaround(*, start: dt.datetime, end: dt.datetime) -> list[Turnaround]:
    """Per request recorded in [start, end): the time of each step of the chain and how
    long each took. The sent/received messages report calls this."""
    qs = (SendRequest.objects.filter(created_at__gte=start, created_at__lt=end)
          .select_related("document").prefetch_related("steps").order_by("created_at", "pk"))
    out = []
    for req in qs:
        at: dict[str, dt.datetime | None] = {key: None for key, _k, _s in MILESTONES}
        returns = 0
        for step in req.steps.all():  # in time order (Meta.ordering)
            if step.kind == Step.RETURN.value:
                returns += 1
            for key, kind, state in MILESTONES:
                if step.kind == kind.value and (state is None or step.to_state == state.value):
                    at[key] = step.at
        took: dict[str, dt.timedelta | None] = {}
        previous: dt.datetime | None = None
        for key, _kind, _state in MILESTONES:
            here = at[key]
            took[key] = here - previous if here is not None and previous is not None else None
            previous = here if here is not None else previous
        total = (at["sent"] - at["created"]) if at["sent"] and at["created"] else None
        out.append(Turnaround(
            number=req.pk, subject=req.shown("subject"), classification=req.classification,
            urgency=req.urgency, state=req.state,
            agenda=req.document.agenda if req.document else None,
            at=at, took=took, total=total, returns=returns,
            channel=req.channel, reference=req.reference,
        ))
    return out


def request_letters() -> Iterator[tuple[str, int, str]]:
    """Every stored request letter as (path under BRANKAS_HOME, size, SHA-256 of the
    stored file): the backup carries them, ``recover`` brings them back."""
    rows = (SendRequest.objects.exclude(letter_path="").order_by("id")
            .values_list("letter_path", "letter_stored_size", "letter_stored_sha256"))
    for path, size, sha in rows:
        yield str(path), int(size), str(sha)
