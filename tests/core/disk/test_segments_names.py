"""Segment names in a seal (found in an outside review of s16 A): only the names Brankas
writes are a segment's, ASCII digits only (``\\d`` also takes Arabic-Indic and other
digits, which ``int`` reads as numbers)."""

from __future__ import annotations

from brankas.core.disk import segments as segs


def test_only_the_names_brankas_writes_are_segments() -> None:
    assert segs.name_range(segs.segment_path(1, 21)) == (1, 21)
    arabic = "audit/" + "\u0660" * 9 + "\u0661-" + "\u0660" * 8 + "\u0662\u0661.jsonl.age"
    for name in (arabic, "audit/0000000001-0000000021.jsonl.age/../x",
                 "../audit/0000000001-0000000021.jsonl.age",
                 "/audit/0000000001-0000000021.jsonl.age",
                 "audit\\0000000001-0000000021.jsonl.age",
                 "audit/0000000001-0000000021.jsonl.age\n",
                 "audit/\uff10000000001-0000000021.jsonl.age",  # a fullwidth zero
                 "audit/0000000001-0000000021.JSONL.age",
                 "audit/00000000001-0000000021.jsonl.age"):
        assert segs.name_range(name) is None, name
    one = segs.Segment(arabic, 1, 21, "a" * 64)
    problems = segs.list_problems([one], {"seq": 21, "hash": "h"}, {arabic: "a" * 64})
    assert problems and "its name is not its range" in problems[0], problems
