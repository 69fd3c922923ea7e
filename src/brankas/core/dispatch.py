"""Requests to send a secret message (permintaan pengiriman berita) and their chain.

The SOP's records around each message: (1) a request to the Kadis; (2) the Kadis assigns
the Kabid; (3) the Kabid assigns the Kasi; (4) the Kasi assigns a Sandiman; (5) the Sandiman
receives the letter. Brankas adds the two steps that follow: the letter is registered as an
outgoing document, and the Sandiman records that the message was sent, which closes it.

This module is the state machine only (no Django): which role holds a request in each
state, whom each holder may assign, and to which state a return goes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from brankas.core.access import Action
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


@dataclass(frozen=True)
class Assignment:
    action: Action  # what the holder needs to be allowed
    to_role: Role  # whom they may assign
    to_state: State


ASSIGN = {
    State.SUBMITTED: Assignment(Action.REQUEST_ASSIGN_KABID, Role.KABID, State.AT_KABID),
    State.AT_KABID: Assignment(Action.REQUEST_ASSIGN_KASI, Role.KASI, State.AT_KASI),
    State.AT_KASI: Assignment(Action.REQUEST_ASSIGN_SANDIMAN, Role.SANDIMAN, State.AT_SANDIMAN),
}

# A return goes back to the state the previous holder was in. The Kadis, first in the
# chain, gives the request back to whoever asked: that closes it.
RETURN_TO = {
    State.SUBMITTED: State.DECLINED,
    State.AT_KABID: State.SUBMITTED,
    State.AT_KASI: State.AT_KABID,
    State.AT_SANDIMAN: State.AT_KASI,
    State.RECEIVED: State.AT_KASI,
}

# How a refusal names each step ("cannot <step>"): (Indonesian, English).
STEP_WORDS = {
    Step.ASSIGN: ("ditugaskan", "be assigned"),
    Step.RETURN: ("dikembalikan", "be returned"),
    Step.RECEIVE: ("diterima suratnya", "have its letter received"),
    Step.REGISTER: ("didaftarkan", "be registered"),
    Step.SEND: ("dicatat terkirim", "be recorded as sent"),
}


def holder_of(state: State | str) -> Role | None:
    return HOLDER.get(State(state))


def is_closed(state: State | str) -> bool:
    return State(state) in CLOSED
