"""audit/hashchain.py: any edit, deletion, insertion or reordering breaks the chain at its place;
the counter names entries missing at the end; anchors name truncation and rewriting."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brankas.core.audit.hashchain import GENESIS, Anchor, check, entry_hash, verify

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


def found(rows: list[Row]) -> tuple[int, str] | None:
    problem = verify(rows)
    return None if problem is None else (problem.seq, problem.code)


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
    assert found(rows) == (k, "audit_entry_altered")
    assert verify(rows).message("en") == (
        f"entry #{k} was altered: its hash does not match its content")


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
    assert found(rows) == (k, "audit_entry_missing")
    assert verify(rows).message("en") == f"entry #{k} is missing"
    # Renumbered to hide the gap: the entry now at k does not follow its predecessor.
    assert found(renumber(rows)) == (k, "audit_entry_unlinked")


@pytest.mark.parametrize("k", [1, 3, 6])
def test_an_inserted_entry_is_named(k: int) -> None:
    rows = sample()
    prev = rows[k - 2][3] if k > 1 else GENESIS
    extra = {"actor": "intruder", "action": "document.open", "target": "K-2026-0001"}
    rows.insert(k - 1, (k, extra, prev, entry_hash(prev, extra)))
    # The forged entry chains onto its predecessor; the original one it pushed down does not.
    problem = verify(rows)
    assert problem is not None and problem.seq == k + 1
    assert found(renumber(rows)) == (k + 1, "audit_entry_unlinked")


def test_an_inserted_entry_with_a_made_up_hash_is_named() -> None:
    rows = sample()
    rows.insert(2, (3, {"actor": "intruder"}, rows[1][3], "f" * 64))
    assert found(renumber(rows)) == (3, "audit_entry_altered")


@pytest.mark.parametrize("k", [1, 2, 5])
def test_two_swapped_entries_are_named(k: int) -> None:
    rows = sample()
    rows[k - 1], rows[k] = rows[k], rows[k - 1]
    problem = verify(rows)
    assert problem is not None and problem.seq == k
    assert found(renumber(rows)) == (k, "audit_entry_unlinked")


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
    assert found(rows) == (k, "audit_entry_altered")


# -- the counter and the anchors -------------------------------------------------------

def head(rows: list[Row], seq: int, source: str = "disk DISK-A, backup 1") -> Anchor:
    return Anchor(source=source, seq=seq, hash=rows[seq - 1][3])


def anchor_codes(rows: list[Row], *anchors: Anchor, counted_to: int | None = None):  # type: ignore[no-untyped-def]
    report = check(rows, anchors=anchors, counted_to=counted_to)
    return [None if r.ok else (r.problem.seq, r.problem.code) for r in report.anchors]


def forge_from(rows: list[Row], k: int) -> list[Row]:
    """What a forger with database access does: change entry k and recompute every later
    hash, so the chain itself verifies."""
    out = rows[:k - 1]
    prev = out[-1][3] if out else GENESIS
    for seq, entry, _, _ in rows[k - 1:]:
        if seq == k:
            entry = {**entry, "actor": "someone-else"}
        digest = entry_hash(prev, entry)
        out.append((seq, entry, prev, digest))
        prev = digest
    return out


def test_a_consistent_log_holds_every_anchor_and_its_counter() -> None:
    rows = sample(8)
    report = check(rows, anchors=[head(rows, n) for n in (1, 4, 8)], counted_to=8)
    assert report.ok and report.problems == []
    assert (report.entries, report.last_seq, report.last_hash) == (8, 8, rows[-1][3])
    assert [r.ok for r in report.anchors] == [True, True, True]
    assert check([], counted_to=0).ok and check([]).last_hash == GENESIS


@pytest.mark.parametrize("deleted", [1, 3])
def test_the_counter_names_entries_deleted_from_the_end(deleted: int) -> None:
    rows = sample(8)[:-deleted]
    assert verify(rows) is None  # the chain alone cannot tell
    report = check(rows, counted_to=8)
    assert not report.ok and report.chain is None
    first = 9 - deleted
    assert report.counter is not None and report.counter.seq == first
    if deleted == 1:
        assert report.counter.message("en") == "entry #8 is missing: the log counted to #8"
    else:
        assert report.counter.message("en") == "entries #6–#8 are missing: the log counted to #8"
        assert report.counter.message("id") == (
            "entri #6–#8 hilang: log sudah menghitung sampai #8")


def test_a_counter_behind_the_log_hides_nothing() -> None:
    # A recovered snapshot made before the counter existed starts it at 0.
    assert check(sample(5), counted_to=0).ok
    assert check(sample(5), counted_to=None).ok


def test_new_entries_after_a_deleted_tail_leave_a_gap_that_is_named() -> None:
    rows = sample(8)[:5]
    # The next entry takes #9 (the counter said 8) and follows #5, the last one left.
    extra = {"actor": "operator", "action": "auth.login"}
    rows.append((9, extra, rows[-1][3], entry_hash(rows[-1][3], extra)))
    report = check(rows, counted_to=9)
    assert report.counter is None
    assert report.chain is not None and (report.chain.seq, report.chain.code) == (
        6, "audit_entries_missing")
    assert report.chain.message("en") == "entries #6–#8 are missing"


def test_an_anchor_past_the_end_names_the_truncation() -> None:
    rows = sample(8)
    anchor = head(rows, 7)
    short = rows[:4]
    report = check(short, anchors=[anchor], counted_to=4)  # the insider reset the counter too
    assert report.chain is None and report.counter is None
    (result,) = report.anchors
    assert not result.ok and result.problem.code == "audit_anchor_truncated"
    assert result.problem.message("en") == (
        "entries after #4 are missing; disk DISK-A, backup 1 recorded #7")
    assert anchor_codes([], anchor) == [(1, "audit_anchor_truncated")]


def test_an_anchor_source_in_two_languages() -> None:
    rows = sample(4)
    anchor = Anchor(source=("laporan 3", "report 3"), seq=6, hash="a" * 64)
    (result,) = check(rows, anchors=[anchor]).anchors
    assert result.problem.message("id") == "entri setelah #4 hilang; laporan 3 mencatat #6"
    assert result.problem.message("en") == "entries after #4 are missing; report 3 recorded #6"
    assert anchor.source_text("en") == "report 3" and anchor.source_text("id") == "laporan 3"


@pytest.mark.parametrize("k", [1, 3, 6])
def test_a_consistently_forged_chain_is_caught_by_a_later_anchor(k: int) -> None:
    rows = sample(8)
    anchors = [head(rows, n) for n in (2, 6, 8)]
    forged = forge_from(rows, k)
    assert verify(forged) is None  # the chain alone verifies
    codes = anchor_codes(forged, *anchors, counted_to=8)
    assert codes == [None if n < k else (n, "audit_anchor_rewritten") for n in (2, 6, 8)]
    (result,) = check(forged, anchors=[anchors[-1]]).anchors
    assert result.problem.message("en") == (
        "entry #8 is not the one disk DISK-A, backup 1 recorded: the log was rewritten up to #8")


def test_an_edit_without_recomputed_hashes_breaks_every_later_anchor() -> None:
    rows = sample(8)
    anchors = [head(rows, n) for n in (2, 6)]
    seq, entry, prev, digest = rows[3]
    rows[3] = (seq, {**entry, "target": "X"}, prev, digest)  # #4 edited, hashes untouched
    report = check(rows, anchors=anchors)
    assert report.chain is not None and report.chain.seq == 4
    assert anchor_codes(rows, *anchors) == [None, (6, "audit_anchor_broken")]


def test_an_anchor_on_a_deleted_entry_and_a_wrong_hash() -> None:
    rows = sample(8)
    anchor = head(rows, 5)
    del rows[4]
    assert anchor_codes(rows, anchor) == [(5, "audit_anchor_entry_missing")]
    assert anchor_codes(sample(8), Anchor("x", 5, "0" * 64)) == [(5, "audit_anchor_rewritten")]
    upper = Anchor("x", 5, sample(8)[4][3].upper())  # hex case does not matter
    assert anchor_codes(sample(8), upper) == [None]


def test_a_truncated_then_continued_log_fails_an_old_anchor() -> None:
    """After an insider cut the log and reset the counter, new entries take the cut
    numbers again; the anchor on one of them no longer matches."""
    rows = sample(8)
    anchor = head(rows, 7)
    cut = rows[:4]
    prev = cut[-1][3]
    for seq in range(5, 9):
        entry = {"actor": "operator", "action": "auth.login", "n": seq}
        digest = entry_hash(prev, entry)
        cut.append((seq, entry, prev, digest))
        prev = digest
    report = check(cut, anchors=[anchor], counted_to=8)
    assert report.chain is None and report.counter is None
    assert anchor_codes(cut, anchor) == [(7, "audit_anchor_rewritten")]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=1, max_value=15), data=st.data())
def test_any_anchor_holds_until_the_log_is_cut_below_it(n: int, data) -> None:  # type: ignore[no-untyped-def]
    rows = sample(n)
    at = data.draw(st.integers(min_value=1, max_value=n))
    keep = data.draw(st.integers(min_value=0, max_value=n))
    anchor = head(rows, at)
    expected = None if keep >= at else (keep + 1, "audit_anchor_truncated")
    assert anchor_codes(rows[:keep], anchor) == [expected]
