"""Requests to send a secret message (permintaan pengiriman berita) and their chain.

The SOP's records around each message: (1) a request to the Kadis; (2) the Kadis assigns
the Kabid; (3) the Kabid assigns the Kasi; (4) the Kasi assigns a Sandiman; (5) the Sandiman
receives the letter. Brankas adds the two steps that follow: the letter is registered as an
outgoing document, and the Sandiman records that the message was sent, which closes it.

This module is the chain only (no Django), ``REQUEST``: which role holds a request in each
state, whom each holder may assign, and to which state a return goes back. Every step is
the holder's: only the user a request waits for acts on it (a new request waits for any
Kadis; once assigned, only the assignee).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from brankas.core.access import Action
from brankas.core.chains.base import Chain, Transition
from brankas.core.errors import AccessDenied, BrankasError, InvalidInput
from brankas.core.terms import Role


class State(StrEnum):
    SUBMITTED = "diajukan"  # recorded, waits for the Kadis
    AT_KABID = "ditugaskan-kabid"  # the Kadis assigned a Kabid
    AT_KASI = "ditugaskan-kasi"  # the Kabid assigned a Kasi
    AT_SANDIMAN = "ditugaskan-sandiman"  # the Kasi assigned a Sandiman
    RECEIVED = "diterima"  # the Sandiman received the letter (record 5)
    REGISTERED = "didaftarkan"  # the letter is in the register as an outgoing document
    SENT = "terkirim"  # the message went; closed
    DECLINED = "dikembalikan"  # the Kadis gave it back to the requester; closed


STATE_LABELS = {
    State.SUBMITTED: "Diajukan ke Kadis",
    State.AT_KABID: "Ditugaskan ke Kabid",
    State.AT_KASI: "Ditugaskan ke Kasi",
    State.AT_SANDIMAN: "Ditugaskan ke Sandiman",
    State.RECEIVED: "Surat diterima Sandiman",
    State.REGISTERED: "Didaftarkan sebagai naskah keluar",
    State.SENT: "Terkirim",
    State.DECLINED: "Dikembalikan ke pemohon",
}

# The states in English, for the English interface (the Indonesian labels above are the
# official ones, printed on the papers).
STATE_LABELS_EN = {
    State.SUBMITTED: "Submitted to the Kadis",
    State.AT_KABID: "Assigned to the Kabid",
    State.AT_KASI: "Assigned to the Kasi",
    State.AT_SANDIMAN: "Assigned to the Sandiman",
    State.RECEIVED: "Letter received by the Sandiman",
    State.REGISTERED: "Registered as an outgoing document",
    State.SENT: "Sent",
    State.DECLINED: "Returned to the requester",
}
NUMBER_PREFIX = "P-"


def number_text(number: int) -> str:
    """A request's number as the papers and the pages show it: ``P-12``."""
    return f"{NUMBER_PREFIX}{number}"


CLOSED = frozenset({State.SENT, State.DECLINED})


class Step(StrEnum):
    """What a row of a request's history records."""

    CREATE = "create"
    ASSIGN = "assign"
    RETURN = "return"
    RECEIVE = "receive"
    REGISTER = "register"
    SEND = "send"


# Who holds a request in each open state (it waits for them).
HOLDER = {
    State.SUBMITTED: Role.KADIS,
    State.AT_KABID: Role.KABID,
    State.AT_KASI: Role.KASI,
    State.AT_SANDIMAN: Role.SANDIMAN,
    State.RECEIVED: Role.SANDIMAN,
    State.REGISTERED: Role.SANDIMAN,
}


def _step(step: Step, sources: set[State], target: State, action: Action, *,
          reason: bool = False, assigns: Role | None = None) -> Transition[State, Step]:
    return Transition(step, frozenset(sources), target, action, needs_reason=reason,
                      holder_only=True, assigns=assigns)


# A return goes back to the state the previous holder was in. The Kadis, first in the
# chain, gives the request back to whoever asked: that closes it.
TABLE = (
    _step(Step.ASSIGN, {State.SUBMITTED}, State.AT_KABID, Action.REQUEST_ASSIGN_KABID,
          assigns=Role.KABID),
    _step(Step.ASSIGN, {State.AT_KABID}, State.AT_KASI, Action.REQUEST_ASSIGN_KASI,
          assigns=Role.KASI),
    _step(Step.ASSIGN, {State.AT_KASI}, State.AT_SANDIMAN, Action.REQUEST_ASSIGN_SANDIMAN,
          assigns=Role.SANDIMAN),
    _step(Step.RECEIVE, {State.AT_SANDIMAN}, State.RECEIVED, Action.REQUEST_RECEIVE),
    _step(Step.REGISTER, {State.RECEIVED}, State.REGISTERED, Action.REGISTER),
    _step(Step.SEND, {State.REGISTERED}, State.SENT, Action.REQUEST_SEND),
    _step(Step.RETURN, {State.SUBMITTED}, State.DECLINED, Action.REQUEST_RETURN, reason=True),
    _step(Step.RETURN, {State.AT_KABID}, State.SUBMITTED, Action.REQUEST_RETURN, reason=True),
    _step(Step.RETURN, {State.AT_KASI}, State.AT_KABID, Action.REQUEST_RETURN, reason=True),
    _step(Step.RETURN, {State.AT_SANDIMAN}, State.AT_KASI, Action.REQUEST_RETURN,
          reason=True),
    _step(Step.RETURN, {State.RECEIVED}, State.AT_KASI, Action.REQUEST_RETURN, reason=True),
)

# How a refusal names each step ("cannot <step>"): (Indonesian, English).
STEP_WORDS = {
    Step.ASSIGN: ("ditugaskan", "be assigned"),
    Step.RETURN: ("dikembalikan", "be returned"),
    Step.RECEIVE: ("diterima suratnya", "have its letter received"),
    Step.REGISTER: ("didaftarkan", "be registered"),
    Step.SEND: ("dicatat terkirim", "be recorded as sent"),
}


class RequestChain(Chain[State, Step]):
    def refusal(self, state: State, step: Step, **context: Any) -> BrankasError:
        """``number``: the request's. Sending before the letter is registered says so."""
        number = context.get("number")
        if step is Step.SEND and state is State.RECEIVED:
            return InvalidInput("request_not_registered", number=number)
        return InvalidInput("request_wrong_state", number=number, state=state.value,
                            step=STEP_WORDS.get(step, (step.value, step.value)))

    def holder_refusal(self, state: State, **context: Any) -> BrankasError:
        """``holder``: the assignee's user name, if the request is assigned to someone."""
        role = self.holder(state)
        holder = context.get("holder") or (role.value if role else "-")
        return AccessDenied("request_not_yours", number=context.get("number"), holder=holder)


REQUEST = RequestChain(name="request", states=State, steps=Step, table=TABLE, holders=HOLDER)


def is_closed(state: State | str) -> bool:
    return State(state) in CLOSED
