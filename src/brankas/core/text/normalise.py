"""Text as it is stored and searched: normalised, and the rule for "readable".

- Every text: Unicode NFC; each line's edges stripped (a PDF's layout indents and OCR's
  trailing spaces are not text); runs of blank lines cut to one.
- OCR'd text also: typographic ligatures spelled out (Tesseract reads "ﬁ"); a word broken
  at a line's end by a hyphen joined again ("koordi-" + "nasi" -> "koordinasi"), except an
  Indonesian reduplication ("masing-" + "masing" -> "masing-masing") or a name that goes on
  with a capital ("Jawa-" + "Bali"). A born-digital PDF's text is its author's: kept as
  its text layer has it (only NFC and the line edges).

*Readable* (``readable``): a page's text has at least ``MIN_WORDS`` words, a word being
three or more letters with a vowel among them. Tesseract reads specks on a blank sheet or a
scribble as nothing or as a few marks ("~ ,. ll |"); any page of real text, even a short
annex, has more. A scan none of whose pages is readable is *unreadable* (docs/ocr.md).
"""

from __future__ import annotations

import re
import unicodedata

MIN_WORDS = 3
_WORD = re.compile(r"[^\W\d_]{3,}")
_VOWELS = set("aeiouyAEIOUY")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl",
                            "ﬅ": "st", "ﬆ": "st"})
_BROKEN = re.compile(r"([^\W\d_]+)-\n([^\W\d_]+)")
_BLANKS = re.compile(r"\n{3,}")


def _lines(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip("\n")


def pdf_text(text: str) -> str:
    """A page's text layer as stored."""
    return _lines(text)


def _join(match: re.Match[str]) -> str:
    left, right = match.group(1), match.group(2)
    if left.lower() == right.lower() or right[0].isupper():
        return f"{left}-{right}"
    return left + right


def ocr_text(text: str) -> str:
    """A page's OCR'd text as stored."""
    text = _lines(text.translate(_LIGATURES))
    return _BROKEN.sub(_join, text)


def words(text: str) -> int:
    """How many words (three or more letters, a vowel among them) ``text`` has."""
    return sum(1 for w in _WORD.findall(text)
               if any(c in _VOWELS for c in unicodedata.normalize("NFD", w)))


def readable(text: str) -> bool:
    return words(text) >= MIN_WORDS
