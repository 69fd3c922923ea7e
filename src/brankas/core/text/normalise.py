"""Text as it is stored and searched: normalised, and the rule for "readable".

- Every text: Unicode NFC; each line's edges stripped (a PDF's layout indents and OCR's
  trailing spaces are not text); runs of blank lines cut to one.
- OCR'd text also: typographic ligatures spelled out (Tesseract reads "ﬁ"); a word broken
  at a line's end by a hyphen joined again ("koordi-" + "nasi" -> "koordinasi"), except an
  Indonesian reduplication ("masing-" + "masing" -> "masing-masing") or a name that goes on
  with a capital ("Jawa-" + "Bali"). A born-digital PDF's text is its author's: kept as
  its text layer has it (only NFC and the line edges).

- Every text is safe to store, show and index: no NUL (PostgreSQL refuses it in text), no
  other control character (a tab becomes a space; a form feed, the page separator, a line
  break), no lone surrogate (UTF-8 cannot encode it: the database would refuse the row; it
  becomes U+FFFD), no bidirectional embedding, override or isolate (U+202A-U+202E,
  U+2066-U+2069: they would make a snippet display other than what it says).
- Bounded: a page's text is cut at ``MAX_PAGE_CHARS`` characters (a dense A4 page holds
  about 10,000), a document's at ``MAX_TEXT_CHARS`` (``extract``).

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
MAX_PAGE_CHARS = 200_000
MAX_TEXT_CHARS = 2_000_000
# control characters but tab and line feed; DEL and the C1 block; bidi embeddings,
# overrides and isolates; lone surrogates
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SAFE = {"\x0b": "\n", "\x0c": "\n", "\r": "\r", "\x85": "\n"}


def _safe(match: re.Match[str]) -> str:
    char = match.group(0)
    if "\ud800" <= char <= "\udfff":
        return "\ufffd"
    return _SAFE.get(char, "")


def _lines(text: str) -> str:
    text = text[:4 * MAX_PAGE_CHARS]  # cut before the work (the rest cannot be kept anyway)
    text = text.replace("\t", " ")
    text = unicodedata.normalize("NFC", _UNSAFE.sub(_safe, text))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip("\n")[:MAX_PAGE_CHARS]


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
    return _BROKEN.sub(_join, text)[:MAX_PAGE_CHARS]


def words(text: str) -> int:
    """How many words (three or more letters, a vowel among them) ``text`` has."""
    return sum(1 for w in _WORD.findall(text)
               if any(c in _VOWELS for c in unicodedata.normalize("NFD", w)))


def readable(text: str) -> bool:
    return words(text) >= MIN_WORDS
