"""names.py: one path component that is safe on NTFS, exFAT, macOS and Linux."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from brankas.core.names import display_name, is_safe_component, safe_component, slug

FORBIDDEN = set('<>:"/\\|?*')
BIDI_OVERRIDES = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))} | {
    "\u200e",
    "\u200f",
}
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{dev}{n}" for dev in ("COM", "LPT") for n in range(1, 10)
}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def windows_problems(name: str, max_len: int) -> list[str]:
    """Every rule a component must keep, written out independently of the module under test."""
    problems = []
    if not name:
        problems.append("empty")
    if unicodedata.normalize("NFC", name) != name:
        problems.append("not NFC")
    if set(name) & FORBIDDEN:
        problems.append("forbidden character")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs"} for ch in name):
        problems.append("control, format or surrogate character")
    if set(name) & BIDI_OVERRIDES:
        problems.append("bidi control")
    if name.endswith((".", " ")):
        problems.append("trailing dot or space")
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    if stem in WINDOWS_RESERVED:
        problems.append(f"reserved device name {stem}")
    if utf16_len(name) > max_len:
        problems.append(f"{utf16_len(name)} UTF-16 units > {max_len}")
    return problems


# Text that is likely to hit the interesting rules: reserved names, dots, spaces,
# forbidden characters, bidi controls, combining marks, astral characters.
tricky_alphabet = st.sampled_from(
    [*"aZ09._- ", *FORBIDDEN, "\x00", "\x1f", "\x7f", "\u202e", "\u2066", "\u200b", "\ufeff",
     "\u0301", "é", "\u00a0", "\u3000", "\n", "\t", "😀", "𝔘", "\ud800"]
)
tricky_text = st.one_of(
    st.text(),
    st.text(alphabet=tricky_alphabet, max_size=300),
    st.builds(
        lambda dev, sep, rest: dev + sep + rest,
        st.sampled_from(sorted(WINDOWS_RESERVED)).map(lambda s: s.lower() if len(s) % 2 else s),
        st.sampled_from(["", ".", " .", "  ", ".txt", "..", ". "]),
        st.text(alphabet=tricky_alphabet, max_size=300),
    ),
)
# Budgets below the fallback's own length ("dokumen") are not meaningful.
lengths = st.integers(min_value=10, max_value=255)


@settings(max_examples=400, deadline=None)
@given(text=tricky_text, max_len=lengths)
@example(text="con." + "a" * 100, max_len=80)
@example(text="CON", max_len=10)
@example(text="nul.txt", max_len=10)
@example(text="\u202eFDP.exe", max_len=80)
def test_safe_component_keeps_every_rule(text: str, max_len: int) -> None:
    name = safe_component(text, max_len=max_len)
    assert windows_problems(name, max_len) == [], (text, name)


@settings(max_examples=400, deadline=None)
@given(text=tricky_text, max_len=lengths)
@example(text="con." + "a" * 100, max_len=80)
@example(text="lpt1.abcdefgh", max_len=10)
def test_safe_component_is_idempotent(text: str, max_len: int) -> None:
    once = safe_component(text, max_len=max_len)
    assert safe_component(once, max_len=max_len) == once


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_nfd_and_nfc_twins_map_to_the_same_name(text: str) -> None:
    nfd = unicodedata.normalize("NFD", text)
    nfc = unicodedata.normalize("NFC", text)
    assert safe_component(nfd) == safe_component(nfc)


@settings(max_examples=200, deadline=None)
@given(text=tricky_text)
def test_is_safe_component_agrees_with_the_rules(text: str) -> None:
    name = safe_component(text, max_len=255)
    assert is_safe_component(name) == (windows_problems(name, 255) == [])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../etc/passwd", ".._etc_passwd"),
        ("C:\\x", "C__x"),
        ("surat\x00undangan", "surat_undangan"),
        ("\u202eFDP.exe", "_FDP.exe"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("Lpt9.tar.gz", "_Lpt9.tar.gz"),
        ("COM1 .pdf", "_COM1 .pdf"),
        ("CONSOLE", "CONSOLE"),
        ("laporan. . .", "laporan"),
        ("   ", "dokumen"),
        ("", "dokumen"),
        ("...", "dokumen"),
        ("a\tb\n c", "a_b_ c"),
        ("Surat  Undangan", "Surat Undangan"),
    ],
)
def test_safe_component_examples(raw: str, expected: str) -> None:
    assert safe_component(raw) == expected


def test_very_long_names_are_cut_to_the_utf16_budget() -> None:
    # Each "😀" is two UTF-16 units: a naive len() budget would allow twice too many.
    name = safe_component("😀" * 200, max_len=80)
    assert utf16_len(name) <= 80
    assert name == "😀" * 40
    assert utf16_len(safe_component("x" * 10_000)) == 80
    assert utf16_len(safe_component("x" * 10_000, max_len=1000)) == 255


def test_nfd_twins_example() -> None:
    nfd = "Caf\u0065\u0301.pdf"
    nfc = "Caf\u00e9.pdf"
    assert nfd != nfc
    assert safe_component(nfd) == safe_component(nfc) == nfc


def test_fallback_is_used_for_names_with_nothing_left() -> None:
    assert safe_component("???", fallback="berkas") == "berkas"
    assert safe_component("\u202e\u202e") == "dokumen"


# ---------------------------------------------------------------- slug

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Undangan Rapat Koordinasi", "undangan-rapat-koordinasi"),
        ("Surat  No. 005/12/2026", "surat-no-005-12-2026"),
        ("Café déjà vu", "cafe-deja-vu"),
        ("", "dokumen"),
        ("!!! ???", "dokumen"),
        ("日本語", "dokumen"),
    ],
)
def test_slug_examples(text: str, expected: str) -> None:
    assert slug(text) == expected


@settings(max_examples=300, deadline=None)
@given(text=st.text(), max_len=st.integers(min_value=1, max_value=100))
def test_slug_is_lowercase_ascii_and_hyphenated(text: str, max_len: int) -> None:
    s = slug(text, max_len=max_len)
    assert s == "dokumen" or len(s) <= max_len
    # Only [a-z0-9-]: a slug is used after the agenda number, never alone as a file name.
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s), s


# ---------------------------------------------------------------- display_name

@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\op\\Desktop\\surat.pdf", "surat.pdf"),
        ("/tmp/scan 01.jpg", "scan 01.jpg"),
        ("folder/", "berkas"),
        ("..\\..\\CON.pdf", "_CON.pdf"),
        ("scan\u202egpj.exe", "scan_gpj.exe"),
    ],
)
def test_display_name_strips_paths(given_name: str, expected: str) -> None:
    assert display_name(given_name) == expected


@settings(max_examples=200, deadline=None)
@given(text=tricky_text)
def test_display_name_never_has_a_path_separator(text: str) -> None:
    shown = display_name(text)
    assert "/" not in shown and "\\" not in shown
    assert windows_problems(shown, 120) == []


def test_reserved_name_prefix_stays_within_the_budget() -> None:
    # "con.<long extension>" is cut to max_len, then "_" is prepended: one unit too many,
    # and a second pass cuts again (not idempotent).
    name = safe_component("con." + "a" * 100, max_len=80)
    assert name.startswith("_con.")
    assert utf16_len(name) <= 80
    assert safe_component(name, max_len=80) == name


def _slow_is_safe(name: str) -> bool:
    return safe_component(name, max_len=255) == name and utf16_len(name) <= 255


_PIECES = [*" !#$&'()+,-.0123456789;=@AZaz[]^_`{}~\t%:*\u00e9", "CON", "nul", "COM1", "Lpt9",
           "conin$", "AUX"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=12).map("".join))
@example("CON.txt")
@example("con ")
@example("a..")
@example("_._")
@example("x" * 256)
@example("x" * 255)
@example("a  b")
@example(" a")
@example("COM1 .pdf")
def test_is_safe_component_fast_path_agrees_with_safe_component(name: str) -> None:
    """The plain-ASCII fast path of ``is_safe_component`` decides exactly as comparing the
    name with ``safe_component`` of it does."""
    assert is_safe_component(name) == _slow_is_safe(name)
