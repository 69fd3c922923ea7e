"""Custody of backup disks: the states a disk can be in and the moves between them.

A disk (medium) is, at any time, in one state; every move is a record of the chain of
custody (who, when, from where, to where, why). The rules here are plain Python so the
services, the CLI and the web refuse exactly the same moves.

- ``in_safe``: locked in a safe (SOP step 7).
- ``out``: taken out of its safe (for a backup, a verification, a drill).
- ``offsite``: kept at another site, outside the office's safes.
- ``retired``: taken out of service; never written to again.
- ``lost``: missing; a security event. A lost disk that turns up is ``found`` (back to
  ``out``) and should be verified before it is trusted again.
"""

from __future__ import annotations

from enum import StrEnum

from brankas.core.errors import Conflict


class MediumState(StrEnum):
    IN_SAFE = "in_safe"
    OUT = "out"
    OFFSITE = "offsite"
    RETIRED = "retired"
    LOST = "lost"


class Move(StrEnum):
    FIRST_SEEN = "first_seen"  # the first backup to a new disk registers it (it is out)
    CHECKOUT = "checkout"
    CHECKIN = "checkin"
    OFFSITE = "offsite"
    RETIRE = "retire"
    LOST = "lost"
    FOUND = "found"


S = MediumState
ACTIVE = frozenset({S.IN_SAFE, S.OUT, S.OFFSITE})

# move: (the states it may start from, the state it leads to)
TRANSITIONS: dict[Move, tuple[frozenset[MediumState], MediumState]] = {
    Move.CHECKOUT: (frozenset({S.IN_SAFE, S.OFFSITE}), S.OUT),
    Move.CHECKIN: (frozenset({S.OUT, S.OFFSITE}), S.IN_SAFE),
    Move.OFFSITE: (frozenset({S.OUT}), S.OFFSITE),
    Move.RETIRE: (ACTIVE, S.RETIRED),
    Move.LOST: (ACTIVE, S.LOST),
    Move.FOUND: (frozenset({S.LOST}), S.OUT),
}

# Moves that must say why (the custody log is read by auditors).
NEEDS_REASON = frozenset({Move.CHECKOUT, Move.OFFSITE, Move.RETIRE, Move.LOST, Move.FOUND})

STATE_WORDS: dict[MediumState, tuple[str, str]] = {
    S.IN_SAFE: ("tersimpan di brankas", "in a safe"),
    S.OUT: ("di luar brankas", "out of its safe"),
    S.OFFSITE: ("disimpan di luar kantor", "kept offsite"),
    S.RETIRED: ("dipensiunkan", "retired"),
    S.LOST: ("hilang", "lost"),
}
MOVE_WORDS: dict[Move, tuple[str, str]] = {
    Move.FIRST_SEEN: ("tercatat pertama kali", "first registered"),
    Move.CHECKOUT: ("dikeluarkan dari brankas", "checked out of the safe"),
    Move.CHECKIN: ("disimpan ke brankas", "checked into a safe"),
    Move.OFFSITE: ("dibawa ke luar kantor", "taken offsite"),
    Move.RETIRE: ("dipensiunkan", "retired"),
    Move.LOST: ("dilaporkan hilang", "reported lost"),
    Move.FOUND: ("ditemukan kembali", "found again"),
}


def next_state(current: MediumState | str, move: Move | str, *, label: str,
               safe: str = "") -> MediumState:
    """The state ``move`` leads to from ``current``; a clear refusal when it may not."""
    current, move = MediumState(current), Move(move)
    if move is Move.FIRST_SEEN:
        raise ValueError("first_seen is recorded by the first backup, not requested")
    sources, target = TRANSITIONS[move]
    if current in sources:
        return target
    if current is S.IN_SAFE and move is Move.CHECKIN:
        raise Conflict("medium_already_in_safe", label=label, safe=safe)
    if current is S.RETIRED:
        raise Conflict("medium_retired", label=label)
    if current is S.LOST:
        raise Conflict("medium_lost", label=label)
    raise Conflict("custody_move_invalid", label=label, state=STATE_WORDS[current],
                   move=MOVE_WORDS[move])


def check_backup_allowed(state: MediumState | str, *, label: str, safe: str = "") -> None:
    """A backup is written only to a disk that is out of its safe and in service."""
    state = MediumState(state)
    if state is S.IN_SAFE:
        raise Conflict("backup_medium_in_safe", label=label, safe=safe)
    if state is S.OFFSITE:
        raise Conflict("backup_medium_offsite", label=label)
    if state is S.RETIRED:
        raise Conflict("backup_medium_retired", label=label)
    if state is S.LOST:
        raise Conflict("backup_medium_lost", label=label)
