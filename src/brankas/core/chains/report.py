"""The report sign-off chain (SOP steps 8-10): Sandiman -> Kasi -> Kabid -> Kadis.

- *state*: where a report is in the chain; ``approved`` and ``acknowledged`` are frozen
  (a correction is a new version that names the old one).
- *step*: submit (the Sandiman), forward with the executive summary or return (the Kasi),
  approve or return (the Kabid), acknowledge (the Kadis). A return needs a note; the
  signed steps are signed with the signer's Ed25519 key.

``REPORT`` is the chain: the services, the CLI and the web ask it, so they refuse exactly
the same transitions. A report has no assignee: any user of the role whose step is open
acts on it, and it waits in that role's inbox.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from brankas.core.access import Action
from brankas.core.chains.base import Chain, Transition
from brankas.core.errors import BrankasError, Conflict


class State(StrEnum):
    DRAFT = "draft"  # the Sandiman's (new, or returned by the Kasi)
    SUBMITTED = "submitted"  # with the Kasi (submitted, or returned by the Kabid)
    FORWARDED = "forwarded"  # with the Kabid, with the Kasi's executive summary
    APPROVED = "approved"  # validated by the Kabid, with the Kadis; frozen
    ACKNOWLEDGED = "acknowledged"  # received by the Kadis; frozen


class Step(StrEnum):
    SUBMIT = "submit"
    RETURN = "return"
    FORWARD = "forward"
    APPROVE = "approve"
    ACKNOWLEDGE = "acknowledge"


FROZEN = frozenset({State.APPROVED, State.ACKNOWLEDGED})


def _step(step: Step, source: State, target: State, action: Action, *,
          signed: bool = False, reason: bool = False) -> Transition[State, Step]:
    return Transition(step, frozenset({source}), target, action, signed=signed,
                      needs_reason=reason)


# Signed steps: the SHA-256 of the PDF as rendered at that step, signed with Ed25519.
TABLE = (
    _step(Step.SUBMIT, State.DRAFT, State.SUBMITTED, Action.REPORT_DRAFT, signed=True),
    _step(Step.RETURN, State.SUBMITTED, State.DRAFT, Action.REPORT_REVIEW, reason=True),
    _step(Step.FORWARD, State.SUBMITTED, State.FORWARDED, Action.REPORT_REVIEW, signed=True),
    _step(Step.RETURN, State.FORWARDED, State.SUBMITTED, Action.REPORT_VALIDATE, reason=True),
    _step(Step.APPROVE, State.FORWARDED, State.APPROVED, Action.REPORT_VALIDATE, signed=True),
    _step(Step.ACKNOWLEDGE, State.APPROVED, State.ACKNOWLEDGED, Action.REPORT_ACKNOWLEDGE,
          signed=True),
)

STATE_WORDS: dict[State, tuple[str, str]] = {
    State.DRAFT: ("konsep", "draft"),
    State.SUBMITTED: ("diajukan ke Kasi", "submitted to the Kasi"),
    State.FORWARDED: ("diteruskan ke Kabid", "forwarded to the Kabid"),
    State.APPROVED: ("disahkan, diteruskan ke Kadis", "approved, forwarded to the Kadis"),
    State.ACKNOWLEDGED: ("diterima Kadis", "acknowledged by the Kadis"),
}
STEP_WORDS: dict[Step, tuple[str, str]] = {
    Step.SUBMIT: ("diajukan", "submitted"),
    Step.RETURN: ("dikembalikan", "returned"),
    Step.FORWARD: ("diperiksa dan diteruskan", "checked and forwarded"),
    Step.APPROVE: ("disahkan", "approved"),
    Step.ACKNOWLEDGE: ("diterima", "acknowledged"),
}


def is_frozen(state: State | str) -> bool:
    return State(state) in FROZEN


class ReportChain(Chain[State, Step]):
    def refusal(self, state: State, step: Step, **context: Any) -> BrankasError:
        """``number``: the report's. A frozen report points to a corrected version."""
        number = context.get("number")
        if state in FROZEN and step is not Step.ACKNOWLEDGE:
            return Conflict("report_frozen", number=number)
        return Conflict("report_step_invalid", number=number, state=STATE_WORDS[state],
                        step=STEP_WORDS[step])

    def holder_refusal(self, state: State, **context: Any) -> BrankasError:
        raise ValueError("a report has no holder but its role")


REPORT = ReportChain(name="report", states=State, steps=Step, table=TABLE)
