"""The shared shape of the chains: a table is checked when the chain is built, and the
questions that need a state say so instead of guessing."""

from __future__ import annotations

from enum import StrEnum

import pytest

from brankas.core.access import Action
from brankas.core.chains.base import Chain, Transition
from brankas.core.chains.report import REPORT, Step
from brankas.core.chains.request import REQUEST
from brankas.core.chains.request import Step as RequestStep


class Light(StrEnum):
    RED = "red"
    GREEN = "green"


class Turn(StrEnum):
    GO = "go"
    STOP = "stop"


def test_two_rows_for_one_step_from_one_state_are_refused() -> None:
    rows = [Transition(Turn.GO, frozenset({Light.RED}), Light.GREEN, Action.BACKUP),
            Transition(Turn.GO, frozenset({Light.RED, Light.GREEN}), Light.GREEN,
                       Action.RESTORE)]
    with pytest.raises(ValueError, match="two rows"):
        Chain(name="lights", states=Light, steps=Turn, table=rows)


def test_a_step_whose_action_depends_on_the_state_needs_the_state() -> None:
    # A report's return is the Kasi's from submitted and the Kabid's from forwarded.
    with pytest.raises(ValueError, match="give the state"):
        REPORT.action(Step.RETURN)
    assert REPORT.transition("submitted", Step.RETURN).action is Action.REPORT_REVIEW
    assert REPORT.transition("forwarded", Step.RETURN).action is Action.REPORT_VALIDATE
    assert REPORT.action(Step.SUBMIT) is Action.REPORT_DRAFT
    with pytest.raises(ValueError, match="give the state"):
        REQUEST.action(RequestStep.ASSIGN)
    assert REQUEST.action(RequestStep.RETURN) is Action.REQUEST_RETURN


def test_a_reason_that_depends_on_the_state_is_refused() -> None:
    rows = [Transition(Turn.STOP, frozenset({Light.GREEN}), Light.RED, Action.BACKUP,
                       needs_reason=True),
            Transition(Turn.STOP, frozenset({Light.RED}), Light.RED, Action.BACKUP)]
    chain = Chain(name="lights", states=Light, steps=Turn, table=rows)
    with pytest.raises(ValueError, match="depends on the state"):
        chain.needs_reason(Turn.STOP)
    assert REQUEST.needs_reason(RequestStep.RETURN) and not REQUEST.needs_reason("send")


def test_unknown_states_and_steps_are_errors_not_refusals() -> None:
    with pytest.raises(ValueError):
        REPORT.may(role="kasi", state="lost", step="forward")
    with pytest.raises(ValueError):
        REPORT.may(role="kasi", state="submitted", step="checkout")
