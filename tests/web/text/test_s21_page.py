"""Session 21, the register page's search (issue 19): a snippet's marks read mark by mark
give the parts the character-by-character reading gave (matches, stray marks dropped)."""

from __future__ import annotations

import random

from brankas.web.text.fts import START, STOP, marked_parts, snippet_html, snippet_text


def _by_character(snippet: str) -> list[tuple[str, bool]]:
    """The reading before session 21's page work: one character at a time."""
    parts: list[tuple[str, bool]] = []
    inside, text = False, ""
    for ch in snippet:
        if ch == START and not inside:
            if text:
                parts.append((text, False))
            text, inside = "", True
        elif ch == STOP and inside:
            if text:
                parts.append((text, True))
            text, inside = "", False
        elif ch not in (START, STOP):
            text += ch
    if text:
        parts.append((text, inside))
    return parts


def test_s21_marked_parts_read_by_marks_as_by_characters() -> None:
    rnd = random.Random(21)
    alphabet = ["a", "b", " ", "é", "<", "&", START, STOP]
    for _ in range(20_000):
        snippet = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 16)))
        assert marked_parts(snippet) == _by_character(snippet), repr(snippet)
    snippet = f"{STOP}a {START}rapat{STOP} {START}{START}b<{STOP}{STOP} c{START}d"
    assert marked_parts(snippet) == [("a ", False), ("rapat", True), (" ", False),
                                     ("b<", True), (" c", False), ("d", True)]
    assert snippet_html(snippet) == "a <mark>rapat</mark> <mark>b&lt;</mark> c<mark>d</mark>"
    assert snippet_text(snippet) == "a «rapat» «b<» c«d»"
