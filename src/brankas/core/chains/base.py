"""The shape every chain shares: a table of transitions and the questions asked of it.

A chain is built from its table once (``Chain(...)``); services, selectors, views and the
CLI ask it, and never read the table themselves:

- ``open_steps(role=, state=, ...)``: the steps this user may take on this object now
  (the buttons a page offers);
- ``may(role=, state=, step=, ...)``: whether this user may take this step now;
- ``check(role=, state=, step=, ...)``: the same question as a refusal, raising the
  chain's own error codes, and returning the transition (where the step leads);
- ``transition(state, step)``: the transition a step takes from a state, refused with the
  chain's error when the step is not open from there (whoever asks);
- ``action(step)``: the access action a step needs, for a step that needs the same one
  from every state (the role check a service makes, and audits, before it reads anything);
- ``waits_for(...)`` and ``waiting_states(role)``: whether the object waits for this user,
  and in which states objects wait for a role (the inboxes).

Who may take a step is the access matrix's answer for the step's action
(``brankas.core.access.MATRIX``), so a role rule has one home; a chain with *holders* adds
that only the user an object waits for acts on it (its holder's role, and once it is
assigned to someone, only them).

Plain Python, no Django: the caller passes the facts the rule needs (the user's role, the
object's state, to whom it is assigned and who asks), never a model instance.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from brankas.core.access import MATRIX, Action, require
from brankas.core.errors import BrankasError
from brankas.core.terms import Role

S = TypeVar("S", bound=StrEnum)  # a chain's states
K = TypeVar("K", bound=StrEnum)  # a chain's step names


@dataclass(frozen=True)
class Transition(Generic[S, K]):
    """One row of a chain's table: ``step`` leads from any of ``from_states`` to
    ``to_state`` and needs ``action``. A step may have several rows (from different
    states, e.g. a return goes back to a different state from each)."""

    step: K
    from_states: frozenset[S]
    to_state: S
    action: Action  # who may: the roles the access matrix allows this action
    needs_reason: bool = False  # must say why (a note, a reason), shown to the next reader
    holder_only: bool = False  # only the user the object waits for (see Chain.holds)
    signed: bool = False  # the step is signed (reports)
    assigns: Role | None = None  # the step hands the object to a user of this role

    @property
    def roles(self) -> frozenset[Role]:
        return MATRIX[self.action]


class Chain(Generic[S, K]):
    """A state machine over one kind of object. Subclasses say how a refusal reads
    (``refusal``, ``holder_refusal``); the rules are the table's."""

    def __init__(self, *, name: str, states: type[S], steps: type[K],
                 table: Iterable[Transition[S, K]],
                 holders: Mapping[S, Role] | None = None) -> None:
        self.name = name
        self.states = states
        self.steps = steps
        self.table: tuple[Transition[S, K], ...] = tuple(table)
        self.holders: dict[S, Role] = dict(holders or {})
        seen: set[tuple[K, S]] = set()
        for row in self.table:
            for state in row.from_states:
                if (row.step, state) in seen:
                    raise ValueError(f"{name}: two rows for {row.step} from {state}")
                seen.add((row.step, state))
        # The steps in table order, each once: the order in which pages offer them.
        self.step_order: tuple[K, ...] = tuple(dict.fromkeys(r.step for r in self.table))

    # -- the table -----------------------------------------------------------------

    def find(self, state: S | str, step: K | str) -> Transition[S, K] | None:
        """The row ``step`` takes from ``state``, or None when it is not open from there."""
        state, step = self.states(state), self.steps(step)
        for row in self.table:
            if row.step == step and state in row.from_states:
                return row
        return None

    def transition(self, state: S | str, step: K | str, **context: Any) -> Transition[S, K]:
        """The row ``step`` takes from ``state``; the chain's refusal when there is none.
        ``context`` names the object in the message (a number, a label)."""
        row = self.find(state, step)
        if row is None:
            raise self.refusal(self.states(state), self.steps(step), **context)
        return row

    def action(self, step: K | str) -> Action:
        """The access action ``step`` needs from every state it is open from. A step whose
        action depends on the state (assigning, a report's return) has no single one:
        ask ``transition(state, step).action``."""
        step = self.steps(step)
        actions = {r.action for r in self.table if r.step == step}
        if len(actions) != 1:
            raise ValueError(f"{self.name}: {step} needs {sorted(actions)}; give the state")
        return actions.pop()

    def needs_reason(self, step: K | str) -> bool:
        """Whether ``step`` must say why (a reason, a note), from every state it is open
        from: a service refuses a missing reason before it looks at the record."""
        step = self.steps(step)
        flags = {r.needs_reason for r in self.table if r.step == step}
        if len(flags) != 1:
            raise ValueError(f"{self.name}: whether {step} needs a reason depends on the state")
        return flags.pop()

    def holder(self, state: S | str) -> Role | None:
        """The role an object waits for in ``state`` (chains with holders)."""
        return self.holders.get(self.states(state))

    # -- the questions -------------------------------------------------------------

    def holds(self, *, role: Role | str, state: S | str, assignee: Hashable | None = None,
              user: Hashable | None = None) -> bool:
        """Whether the object waits for this user: their role holds ``state``, and the
        object is assigned to nobody (any user of that role) or to them (``assignee`` and
        ``user`` are the same identifier, e.g. a user id)."""
        holder = self.holder(state)
        return (holder is not None and Role(role) is holder
                and (assignee is None or assignee == user))

    def may(self, *, role: Role | str, state: S | str, step: K | str,
            assignee: Hashable | None = None, user: Hashable | None = None) -> bool:
        """Whether a user of ``role`` may take ``step`` on an object in ``state`` now."""
        row = self.find(state, step)
        if row is None or Role(role) not in row.roles:
            return False
        return not row.holder_only or self.holds(role=role, state=state, assignee=assignee,
                                                 user=user)

    def open_steps(self, *, role: Role | str, state: S | str,
                   assignee: Hashable | None = None, user: Hashable | None = None
                   ) -> list[K]:
        """The steps this user may take on this object now, in the table's order."""
        return [step for step in self.step_order
                if self.may(role=role, state=state, step=step, assignee=assignee, user=user)]

    def check(self, *, role: Role | str, state: S | str, step: K | str,
              assignee: Hashable | None = None, user: Hashable | None = None,
              **context: Any) -> Transition[S, K]:
        """``may`` as a refusal, in this order: the step is not open from ``state`` (the
        chain's own code), the role may not take it (``permission_denied``), the object
        does not wait for this user (the chain's holder refusal). Returns the row."""
        row = self.transition(state, step, **context)
        require(role, row.action)
        if row.holder_only and not self.holds(role=role, state=state, assignee=assignee,
                                              user=user):
            raise self.holder_refusal(self.states(state), **context)
        return row

    def waits_for(self, *, role: Role | str, state: S | str,
                  assignee: Hashable | None = None, user: Hashable | None = None) -> bool:
        """Whether the object is in this user's inbox: some step is open to them now."""
        return bool(self.open_steps(role=role, state=state, assignee=assignee, user=user))

    def waiting_states(self, role: Role | str, *, assigned_elsewhere: bool = False
                       ) -> frozenset[S]:
        """The states in which an object waits for a user of ``role`` when it is assigned
        to nobody, or to them (or, with ``assigned_elsewhere``, to someone else: only a
        step open to any holder's role counts then): what an inbox selects."""
        if assigned_elsewhere:
            other, me = object(), object()
            return frozenset(s for s in self.states
                             if self.waits_for(role=role, state=s, assignee=other, user=me))
        return frozenset(s for s in self.states if self.waits_for(role=role, state=s))

    # -- how refusals read (each chain's own codes) --------------------------------

    def refusal(self, state: S, step: K, **context: Any) -> BrankasError:
        """The error for ``step``, which is not open from ``state``."""
        raise NotImplementedError

    def holder_refusal(self, state: S, **context: Any) -> BrankasError:
        """The error for a user the object does not wait for."""
        raise NotImplementedError
