"""The custody state machine (plain Python): every move from every state."""

from __future__ import annotations

import pytest

from brankas.core.chains.custody import (
    CUSTODY,
    MediumState,
    Move,
    check_backup_allowed,
)
from brankas.core.errors import Conflict

S = MediumState
EXPECTED = {  # (state, move) -> the new state, or the refusal's code
    (S.IN_SAFE, Move.CHECKOUT): S.OUT,
    (S.OFFSITE, Move.CHECKOUT): S.OUT,
    (S.OUT, Move.CHECKOUT): "custody_move_invalid",
    (S.OUT, Move.CHECKIN): S.IN_SAFE,
    (S.OFFSITE, Move.CHECKIN): S.IN_SAFE,
    (S.IN_SAFE, Move.CHECKIN): "medium_already_in_safe",
    (S.OUT, Move.OFFSITE): S.OFFSITE,
    (S.IN_SAFE, Move.OFFSITE): "custody_move_invalid",
    (S.OFFSITE, Move.OFFSITE): "custody_move_invalid",
    (S.IN_SAFE, Move.RETIRE): S.RETIRED,
    (S.OUT, Move.RETIRE): S.RETIRED,
    (S.OFFSITE, Move.RETIRE): S.RETIRED,
    (S.IN_SAFE, Move.LOST): S.LOST,
    (S.OUT, Move.LOST): S.LOST,
    (S.OFFSITE, Move.LOST): S.LOST,
    (S.LOST, Move.FOUND): S.OUT,
    (S.OUT, Move.FOUND): "custody_move_invalid",
    (S.IN_SAFE, Move.FOUND): "custody_move_invalid",
    (S.OFFSITE, Move.FOUND): "custody_move_invalid",
}
for move in Move:
    if move is not Move.FIRST_SEEN:
        EXPECTED.setdefault((S.RETIRED, move), "medium_retired")
        if move is not Move.FOUND:
            EXPECTED.setdefault((S.LOST, move), "medium_lost")


def test_the_table_covers_every_state_and_move() -> None:
    moves = [m for m in Move if m is not Move.FIRST_SEEN]
    assert set(EXPECTED) == {(s, m) for s in MediumState for m in moves}
    assert set(CUSTODY.step_order) == set(moves)


@pytest.mark.parametrize(("state", "move"), sorted(EXPECTED))
def test_each_move_from_each_state(state: MediumState, move: Move) -> None:
    expected = EXPECTED[(state, move)]
    if isinstance(expected, MediumState):
        assert CUSTODY.transition(state, move, label="D1").to_state is expected
    else:
        with pytest.raises(Conflict) as info:
            CUSTODY.transition(state, move, label="D1", safe="Brankas-A")
        assert info.value.code == expected
        assert "D1" in info.value.message("en")


@pytest.mark.parametrize(("state", "code"), [
    (S.IN_SAFE, "backup_medium_in_safe"), (S.OFFSITE, "backup_medium_offsite"),
    (S.RETIRED, "backup_medium_retired"), (S.LOST, "backup_medium_lost"),
])
def test_backup_is_refused_unless_the_disk_is_out(state: MediumState, code: str) -> None:
    with pytest.raises(Conflict) as info:
        check_backup_allowed(state, label="D1", safe="Brankas-A")
    assert info.value.code == code
    check_backup_allowed(S.OUT, label="D1")  # the one state a backup may write to
    if state is S.IN_SAFE:
        text = info.value.message("en")
        assert "Brankas-A" in text and "brankas media checkout D1" in text
