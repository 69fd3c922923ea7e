"""Every chain against its SOP table in docs/chains.md, for every role x state x step:
``may``, ``open_steps``, ``check`` and the inbox (``waiting_states``) say exactly what the
table says (no database)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest

from brankas.core.chains.base import Chain
from brankas.core.chains.custody import CUSTODY
from brankas.core.chains.report import REPORT
from brankas.core.chains.request import REQUEST
from brankas.core.errors import BrankasError
from brankas.core.terms import Role

DOC = Path(__file__).resolve().parents[3] / "docs" / "chains.md"
CHAINS: dict[str, Chain] = {"custody": CUSTODY, "report": REPORT, "request": REQUEST}  # type: ignore[type-arg]
ME, SOMEONE_ELSE = 7, 8  # user ids: the acting user, and another user of the same role


@dataclass(frozen=True)
class Row:
    step: str
    sources: frozenset[str]
    target: str
    roles: frozenset[str]
    reason: bool


def _table(marker: str) -> list[list[str]]:
    """The cells of the markdown table that follows ``<!-- chain: marker -->``."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- chain: {marker} -->") + 1
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == len(header), line
        rows.append(cells)
    return [header, *rows]


def documented(name: str) -> list[Row]:
    header, *rows = _table(name)
    assert header[:3] == ["step", "from", "to"] and header[-1] == "reason"
    roles = header[3:-1]
    assert roles == [r.value for r in Role]
    out = []
    for cells in rows:
        yes = {role for role, cell in zip(roles, cells[3:-1], strict=True) if cell == "yes"}
        assert {c for c in cells[3:] if c not in ("yes", "no")} == set(), cells
        out.append(Row(cells[0], frozenset(s.strip() for s in cells[1].split(",")), cells[2],
                       frozenset(yes), cells[-1] == "yes"))
    return out


def request_holders() -> dict[str, str | None]:
    _header, *rows = _table("request-holders")
    return {state: (who if who in {r.value for r in Role} else None) for state, who in rows}


def expected_may(rows: list[Row], role: str, state: str, step: str) -> bool:
    return any(r.step == step and state in r.sources and role in r.roles for r in rows)


def cells(name: str) -> list[tuple[str, str, str]]:
    chain = CHAINS[name]
    return list(itertools.product([r.value for r in Role], [s.value for s in chain.states],
                                  [s.value for s in chain.step_order]))


def test_the_documented_rows_are_the_chains_rows() -> None:
    for name, chain in CHAINS.items():
        rows = documented(name)
        pairs = {(r.step, s) for r in rows for s in r.sources}
        assert len(pairs) == sum(len(r.sources) for r in rows), f"{name}: a pair twice"
        assert pairs == {(t.step.value, s.value) for t in chain.table for s in t.from_states}
        for row in rows:
            for state in row.sources:
                found = chain.find(state, row.step)
                assert found is not None
                assert found.to_state.value == row.target, (name, row)
                assert found.needs_reason is row.reason, (name, row)


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_may_and_open_steps_agree_with_the_table_for_every_cell(name: str) -> None:
    chain, rows = CHAINS[name], documented(name)
    for role, state, step in cells(name):
        want = expected_may(rows, role, state, step)
        # The user holds it (assigned to them, or to nobody): exactly the table.
        assert chain.may(role=role, state=state, step=step) is want, (role, state, step)
        assert chain.may(role=role, state=state, step=step, assignee=ME, user=ME) is want
        # Assigned to someone else: only the chains without holders still allow it.
        other = chain.may(role=role, state=state, step=step, assignee=SOMEONE_ELSE, user=ME)
        assert other is (want and not chain.holders), (role, state, step)
    for role, state in itertools.product(Role, chain.states):
        open_steps = [s.value for s in chain.open_steps(role=role, state=state)]
        assert open_steps == [s.value for s in chain.step_order
                              if expected_may(rows, role.value, state.value, s.value)]
        assert chain.waits_for(role=role, state=state) is bool(open_steps)


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_check_refuses_exactly_what_may_refuses(name: str) -> None:
    chain = CHAINS[name]
    context = {"number": 12, "label": "DISK-A", "safe": "Brankas-1", "holder": None}
    for role, state, step in cells(name):
        for assignee in (None, ME, SOMEONE_ELSE):
            may = chain.may(role=role, state=state, step=step, assignee=assignee, user=ME)
            try:
                row = chain.check(role=role, state=state, step=step, assignee=assignee,
                                  user=ME, **context)
            except BrankasError as exc:
                assert not may, (role, state, step, assignee, exc.code)
                row_here = chain.find(state, step)
                if row_here is None:  # the state is wrong whoever asks: the chain's own code
                    assert exc.code not in {"permission_denied", "request_not_yours"}
                elif Role(role) not in row_here.roles:
                    assert exc.code == "permission_denied"
                else:
                    assert exc.code == "request_not_yours"
                assert exc.message("en") and exc.message("id")
            else:
                assert may, (role, state, step, assignee)
                assert row is chain.find(state, step)


def test_the_inboxes_are_the_table() -> None:
    for name, chain in CHAINS.items():
        rows = documented(name)
        for role in Role:
            want = {s for r in rows if role.value in r.roles for s in r.sources}
            assert {s.value for s in chain.waiting_states(role)} == want, (name, role)
    # The request chain's holders are documented too, and are exactly whom it waits for.
    holders = request_holders()
    assert set(holders) == {s.value for s in REQUEST.states}
    for state in REQUEST.states:
        holder = REQUEST.holder(state)
        assert (holder.value if holder else None) == holders[state.value]
        waiting = {r.value for r in Role if state in REQUEST.waiting_states(r)}
        assert waiting == ({holders[state.value]} if holders[state.value] else set())


def test_a_report_and_a_disk_wait_for_a_role_and_a_request_for_a_user() -> None:
    # A report in the Kasi's inbox is any Kasi's; a request assigned to one Kasi is theirs.
    assert REPORT.may(role="kasi", state="submitted", step="forward", assignee=SOMEONE_ELSE,
                      user=ME)
    assert not REQUEST.may(role="kasi", state="ditugaskan-kasi", step="assign",
                           assignee=SOMEONE_ELSE, user=ME)
    assert REQUEST.may(role="kasi", state="ditugaskan-kasi", step="assign", assignee=ME,
                       user=ME)
    with pytest.raises(BrankasError) as info:
        REQUEST.check(role="kasi", state="ditugaskan-kasi", step="assign",
                      assignee=SOMEONE_ELSE, user=ME, number=3, holder="kasi2")
    assert info.value.code == "request_not_yours" and "kasi2" in info.value.message("en")
