"""Periods, the sign-off state machine and the standard-time statistics (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from brankas.core.access import MATRIX, Action
from brankas.core.chains.report import FROZEN, REPORT, State, Step
from brankas.core.errors import Conflict, InvalidInput
from brankas.core.reports.periods import SOP_STEPS, change, mutu_baku, parse_period
from brankas.core.terms import Role


@pytest.mark.parametrize("text, start, end, previous, label", [
    ("2026-05", date(2026, 5, 1), date(2026, 6, 1), "2026-04", "Mei 2026"),
    ("2026-01", date(2026, 1, 1), date(2026, 2, 1), "2025-12", "Januari 2026"),
    ("2026-12", date(2026, 12, 1), date(2027, 1, 1), "2026-11", "Desember 2026"),
    ("2026-q1", date(2026, 1, 1), date(2026, 4, 1), "2025-Q4", "Triwulan 1 Tahun 2026"),
    ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1), "2026-Q3", "Triwulan 4 Tahun 2026"),
    ("2026", date(2026, 1, 1), date(2027, 1, 1), "2025", "Tahun 2026"),
])
def test_periods(text, start, end, previous, label) -> None:  # type: ignore[no-untyped-def]
    p = parse_period(text)
    assert (p.start, p.end, p.previous().text, p.label) == (start, end, previous, label)


@pytest.mark.parametrize("bad", ["", "2026-13", "2026-00", "2026-Q5", "26-05", "2026/05",
                                 "Mei 2026", "2026-5"])
def test_bad_periods_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        parse_period(bad)


def test_the_chain_is_the_sops() -> None:
    walk = [(State.DRAFT, Step.SUBMIT, Role.SANDIMAN, State.SUBMITTED),
            (State.SUBMITTED, Step.FORWARD, Role.KASI, State.FORWARDED),
            (State.FORWARDED, Step.APPROVE, Role.KABID, State.APPROVED),
            (State.APPROVED, Step.ACKNOWLEDGE, Role.KADIS, State.ACKNOWLEDGED)]
    for state, step, role, target in walk:
        row = REPORT.transition(state, step, number=1)
        assert row.to_state is target and MATRIX[row.action] == frozenset({role})
    assert REPORT.transition(State.SUBMITTED, Step.RETURN, number=1).to_state is State.DRAFT
    assert REPORT.transition(State.FORWARDED, Step.RETURN, number=1).to_state is State.SUBMITTED


def test_no_step_leaves_a_frozen_report_but_the_acknowledgement() -> None:
    for state in FROZEN:
        for step in Step:
            if REPORT.find(state, step) is not None:
                assert (step, state) == (Step.ACKNOWLEDGE, State.APPROVED)
                continue
            with pytest.raises(Conflict):
                REPORT.transition(state, step, number=7)
    with pytest.raises(Conflict, match="cannot be approved"):
        REPORT.transition(State.DRAFT, Step.APPROVE, number=7)
    # the Kadis never edits: no transition needs the Kadis except acknowledging
    assert {r.action for r in REPORT.table if Role.KADIS in MATRIX[r.action]} == {
        Action.REPORT_ACKNOWLEDGE}


def test_mutu_baku_median_worst_and_over() -> None:
    rows = {r.step.number: r for r in mutu_baku({1: [60, 300, 900, 1200], 6: []})}
    assert [s.standard_minutes for s in SOP_STEPS] == [10, 10, 30, 30, 10, 10, 10, 20, 20, 15]
    assert (rows[1].count, rows[1].median_minutes, rows[1].worst_minutes, rows[1].over) == (
        4, 10.0, 20.0, 2)
    assert rows[6].count == 0 and rows[6].median_minutes is None
    assert rows[4].automatic and not rows[1].automatic


def test_change_against_the_previous_period() -> None:
    assert change(110, 100) == "+10 (+10,0%)"
    assert change(90, 100) == "-10 (-10,0%)"
    assert change(5, 0) == "+5 (baru)" and change(0, 0) == "0"
