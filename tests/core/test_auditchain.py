"""auditchain.py: any edit, deletion, insertion or reordering breaks the chain at its place."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brankas.core.auditchain import GENESIS, ChainProblem, entry_hash, verify

Row = tuple[int, dict[str, Any], str, str]


def chain(entries: list[dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    prev = GENESIS
    for seq, entry in enumerate(entries, start=1):
        digest = entry_hash(prev, entry)
        rows.append((seq, entry, prev, digest))
        prev = digest
    return rows


def sample(n: int = 6) -> list[Row]:
    return chain([
        {"actor": "operator", "action": "document.register", "target": f"M-2026-{i:04d}",
         "at": f"2026-11-20T08:{i:02d}:00+08:00", "detail": {"pages": i, "note": "ñ"}}
        for i in range(1, n + 1)
    ])


def renumber(rows: list[Row]) -> list[Row]:
    """What a careful forger does after deleting or inserting: close the gap in ``seq``."""
    return [(i, entry, prev, digest) for i, (_, entry, prev, digest) in enumerate(rows, start=1)]


def test_an_intact_chain_verifies() -> None:
    assert verify(sample()) is None
    assert verify([]) is None
    assert sample()[0][2] == GENESIS


def test_hash_depends_on_content_and_predecessor() -> None:
    entry = {"a": 1, "b": "x"}
    assert entry_hash(GENESIS, entry) == entry_hash(GENESIS, {"b": "x", "a": 1})  # key order
    assert entry_hash(GENESIS, entry) != entry_hash("1" * 64, entry)
    assert entry_hash(GENESIS, entry) != entry_hash(GENESIS, {"a": 1, "b": "y"})
    assert entry_hash(GENESIS, {"a": 1}) != entry_hash(GENESIS, {"a": "1"})


@pytest.mark.parametrize("k", [1, 3, 6])
def test_an_edited_entry_is_named(k: int) -> None:
    rows = sample()
    seq, entry, prev, digest = rows[k - 1]
    forged = copy.deepcopy(entry)
    forged["actor"] = "kadis"
    rows[k - 1] = (seq, forged, prev, digest)
    assert verify(rows) == ChainProblem(k, "content was altered")


@pytest.mark.parametrize("k", [1, 3, 5])
def test_an_edit_with_a_recomputed_hash_is_caught_at_the_next_entry(k: int) -> None:
    rows = sample()
    seq, entry, prev, _ = rows[k - 1]
    forged = {**entry, "detail": {"pages": 99}}
    rows[k - 1] = (seq, forged, prev, entry_hash(prev, forged))
    problem = verify(rows)
    assert problem is not None and problem.seq == k + 1


@pytest.mark.parametrize("k", [1, 3, 5])
def test_a_deleted_entry_is_named(k: int) -> None:
    rows = sample()
    del rows[k - 1]
    problem = verify(rows)
    assert problem is not None and problem.seq == k and "missing" in problem.reason
    # Renumbered to hide the gap: the entry now at k does not follow its predecessor.
    assert verify(renumber(rows)) == ChainProblem(k, "does not follow the previous entry")


@pytest.mark.parametrize("k", [1, 3, 6])
def test_an_inserted_entry_is_named(k: int) -> None:
    rows = sample()
    prev = rows[k - 2][3] if k > 1 else GENESIS
    extra = {"actor": "intruder", "action": "document.open", "target": "K-2026-0001"}
    rows.insert(k - 1, (k, extra, prev, entry_hash(prev, extra)))
    # The forged entry chains onto its predecessor; the original one it pushed down does not.
    problem = verify(rows)
    assert problem is not None and problem.seq == k + 1
    problem = verify(renumber(rows))
    assert problem == ChainProblem(k + 1, "does not follow the previous entry")


def test_an_inserted_entry_with_a_made_up_hash_is_named() -> None:
    rows = sample()
    rows.insert(2, (3, {"actor": "intruder"}, rows[1][3], "f" * 64))
    assert verify(renumber(rows)) == ChainProblem(3, "content was altered")


@pytest.mark.parametrize("k", [1, 2, 5])
def test_two_swapped_entries_are_named(k: int) -> None:
    rows = sample()
    rows[k - 1], rows[k] = rows[k], rows[k - 1]
    problem = verify(rows)
    assert problem is not None and problem.seq == k
    assert verify(renumber(rows)) == ChainProblem(k, "does not follow the previous entry")


@settings(max_examples=100, deadline=None)
@given(
    entries=st.lists(
        st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=10)),
                        min_size=1, max_size=4),
        min_size=2, max_size=12,
    ),
    data=st.data(),
)
def test_any_single_change_is_found_at_or_before_its_place(entries, data) -> None:  # type: ignore[no-untyped-def]
    rows = chain(entries)
    assert verify(rows) is None
    k = data.draw(st.integers(min_value=1, max_value=len(rows)))
    seq, entry, prev, digest = rows[k - 1]
    changed = {**entry, "__forged__": True}
    rows[k - 1] = (seq, changed, prev, digest)
    assert verify(rows) == ChainProblem(k, "content was altered")
