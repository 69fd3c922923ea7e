"""Which language a page's visible text is in, from the project's own catalogues.

The vocabulary of each language is read from what the project translates: the web catalogue
(msgid English, msgstr Bahasa Indonesia) and the service messages (``brankas.core.errors.
MESSAGES``, Indonesian and English), plus the calendar's names. A word found only on the
English side is English; a word found only on the Indonesian side is Indonesian. Words both
sides use (``PDF``, ``Back up``, ``agenda``) say nothing and are ignored.

``foreign_words(text, lang)``: the words of ``text`` that belong to the other language. The
official terms (brankas.core.terms: Sandiman, Biasa, Rahasia, Pengiriman…) stay Indonesian
in English, and ``ALLOWED`` lists the few other words that do; data the walk typed itself
(names, subjects) is removed by the caller first.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import polib

from brankas.core import terms
from brankas.core.errors import MESSAGES

PO = (Path(__file__).resolve().parents[2] / "src" / "brankas" / "web" / "locale" / "id"
      / "LC_MESSAGES" / "django.po")

# Official terms and names shown as they are in both languages, beyond brankas.core.terms.
ALLOWED = frozenset({
    "nip", "sop", "brankas", "diklat", "kualifikasi", "pelaksana", "persandian", "bidang",
    "dinas", "kepala", "jks", "perihal", "agenda",
})

MONTHS_EN = ("January February March April May June July August September October November "
             "December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Monday Tuesday "
             "Wednesday Thursday Friday Saturday Sunday")
MONTHS_ID = ("Januari Februari Maret April Mei Juni Juli Agustus September Oktober November "
             "Desember Jan Feb Mar Apr Mei Jun Jul Agu Agt Sep Okt Nov Des Senin Selasa Rabu "
             "Kamis Jumat Sabtu Minggu")  # the short names too: "1 Jan 2025" is both

WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# Hashes, fingerprints and keys: their letters make no word ("dec" in "9dec0a…").
HEXLIKE = re.compile(r"\b(?=[0-9a-f-]*\d)[0-9a-f][0-9a-f-]{6,}[0-9a-f]\b")
PLACEHOLDER = re.compile(r"%\([^)]*\)[sd]|\{[^}]*\}|<[^>]*>|%[sd]")


def words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(PLACEHOLDER.sub(" ", text))}


def official_terms() -> set[str]:
    out: set[str] = set()
    for table in (terms.DIRECTION_LABELS, terms.CLASSIFICATION_LABELS, terms.CATEGORY_LABELS,
                  terms.ROLE_LABELS, terms.URGENCY_LABELS):
        for label in table.values():
            out |= words(label)
    return out | {r.value for r in terms.Role}


@cache
def known_words() -> frozenset[str]:
    """Every word of either language the project writes (shared ones too)."""
    english, indonesian = catalogue_words()
    return frozenset(english | indonesian | official_terms() | ALLOWED)


@cache
def catalogue_words() -> tuple[frozenset[str], frozenset[str]]:
    """(words of the English texts, words of the Indonesian texts)."""
    english, indonesian = words(MONTHS_EN), words(MONTHS_ID)
    for entry in polib.pofile(str(PO)):
        if entry.obsolete:
            continue
        english |= words(entry.msgid) | words(entry.msgid_plural or "")
        indonesian |= words(entry.msgstr) | set().union(
            *(words(v) for v in entry.msgstr_plural.values()))
    for id_text, en_text in MESSAGES.values():
        english |= words(en_text)
        indonesian |= words(id_text)
    return frozenset(english), frozenset(indonesian)


@cache
def vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """(English-only words, Indonesian-only words)."""
    english, indonesian = catalogue_words()
    keep = official_terms() | ALLOWED
    return frozenset(english - indonesian - keep), frozenset(indonesian - english - keep)


def split_words(text: str, typed: list[str]) -> set[str]:
    """Words a paper's table broke across lines (``Permi`` / ``ntaan``): two pieces on
    consecutive lines that make a word written whole elsewhere (on the paper, in the
    catalogues, in ``typed``), at least one piece not a word by itself."""
    known = known_words() | set().union(*(words(t) for t in typed))
    text = HEXLIKE.sub(" ", text)
    whole = known | {w.lower() for w in re.findall(r"[^\W\d_]+", text)}
    lines = [line.strip() for line in text.splitlines()]
    found = set()
    for upper, lower in zip(lines, lines[1:], strict=False):
        tail = re.findall(r"[^\W\d_]+", upper)
        head = re.findall(r"[^\W\d_]+", lower)
        if not tail or not head:
            continue
        a, b = tail[-1], head[0]
        joined = (a + b).lower()
        if len(joined) >= 2 and joined in whole and (a.lower() not in known
                                                     or b.lower() not in known):
            found.add(f"{a}|{b}")
    return found


def foreign_words(text: str, lang: str) -> set[str]:
    """The words of ``text`` in the language other than ``lang`` ("id" or "en")."""
    english_only, indonesian_only = vocabulary()
    other = english_only if lang == "id" else indonesian_only
    return words(HEXLIKE.sub(" ", text)) & other
