"""Custody of backup disks: the states a disk can be in and the moves between them.

A disk (medium) is, at any time, in one state; every move (a step of this chain) is a
record of the chain of custody (who, when, from where, to where, why). ``CUSTODY`` is the
chain: the services, the CLI and the web ask it, so they refuse exactly the same moves.
Every move needs ``move-media`` (the Sandiman); a disk has no holder.

- ``in_safe``: locked in a safe (SOP step 7).
- ``out``: taken out of its safe (for a backup, a verification, a drill).
- ``offsite``: kept at another site, outside the office's safes.
- ``retired``: taken out of service; never written to again.
- ``lost``: missing; a security event. A lost disk that turns up is ``found`` (back to
  ``out``) and should be verified before it is trusted again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from brankas.core.access import Action
from brankas.core.chains.base import Chain, Transition
from brankas.core.errors import BrankasError, Conflict


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


def _move(move: Move, sources: frozenset[MediumState], target: MediumState, *,
          reason: bool) -> Transition[MediumState, Move]:
    return Transition(move, sources, target, Action.MOVE_MEDIA, needs_reason=reason)


# Moves that must say why (the custody log is read by auditors) have ``reason=True``.
TABLE = (
    _move(Move.CHECKOUT, frozenset({S.IN_SAFE, S.OFFSITE}), S.OUT, reason=True),
    _move(Move.CHECKIN, frozenset({S.OUT, S.OFFSITE}), S.IN_SAFE, reason=False),
    _move(Move.OFFSITE, frozenset({S.OUT}), S.OFFSITE, reason=True),
    _move(Move.RETIRE, ACTIVE, S.RETIRED, reason=True),
    _move(Move.LOST, ACTIVE, S.LOST, reason=True),
    _move(Move.FOUND, frozenset({S.LOST}), S.OUT, reason=True),
)

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


class CustodyChain(Chain[MediumState, Move]):
    def refusal(self, state: MediumState, step: Move, **context: Any) -> BrankasError:
        """A clear refusal that says what to do instead (``label``, ``safe``: the disk's)."""
        label, safe = context.get("label", ""), context.get("safe", "")
        if step is Move.FIRST_SEEN:
            raise ValueError("first_seen is recorded by the first backup, not requested")
        if state is S.IN_SAFE and step is Move.CHECKIN:
            return Conflict("medium_already_in_safe", label=label, safe=safe)
        if state is S.RETIRED:
            return Conflict("medium_retired", label=label)
        if state is S.LOST:
            return Conflict("medium_lost", label=label)
        return Conflict("custody_move_invalid", label=label, state=STATE_WORDS[state],
                        move=MOVE_WORDS[step])

    def holder_refusal(self, state: MediumState, **context: Any) -> BrankasError:
        raise ValueError("a disk has no holder")


CUSTODY = CustodyChain(name="custody", states=MediumState, steps=Move, table=TABLE)


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
