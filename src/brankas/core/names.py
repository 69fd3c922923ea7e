"""File names that are valid on Windows (NTFS), exFAT, macOS and Linux alike.

Rules: Unicode NFC; no control characters, no ``<>:"/\\|?*``, no bidirectional
override characters; no trailing dot or space; not a reserved DOS device name
(``CON``, ``NUL``, ``COM1``… also with an extension); at most ``max_len`` UTF-16
code units (exFAT and NTFS count UTF-16 units, limit 255). Case-only twins are
avoided by construction: every stored name starts with its unique agenda number.
"""

from __future__ import annotations

import functools
import re
import unicodedata

FORBIDDEN = set('<>:"/\\|?*')
# Bidirectional controls can disguise an extension ("evil\u202efdp.exe").
BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}
RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{dev}{n}" for dev in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")
}
MAX_COMPONENT = 255


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _truncate_utf16(text: str, limit: int) -> str:
    while _utf16_len(text) > limit:
        text = text[:-1]
    return text


def safe_component(text: str, *, max_len: int = 80, fallback: str = "dokumen") -> str:
    """One path component, safe everywhere; never empty, never a reserved name."""
    text = unicodedata.normalize("NFC", text)
    out = []
    for ch in text:
        if ch in FORBIDDEN or ch in BIDI or unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"}:
            out.append("_")
        else:
            out.append(ch)
    cleaned = "".join(out)
    limit = min(max_len, MAX_COMPONENT)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    cleaned = _truncate_utf16(cleaned, limit)
    cleaned = cleaned.rstrip(". ").lstrip(" ")
    if not cleaned or set(cleaned) <= {"_", "."}:
        cleaned = fallback
    stem = cleaned.split(".", 1)[0].rstrip(" ").upper()
    if stem in RESERVED:
        cleaned = _truncate_utf16("_" + cleaned, limit).rstrip(". ")
    return unicodedata.normalize("NFC", cleaned)


def slug(text: str, *, max_len: int = 60) -> str:
    """A readable, lower-case, hyphenated slug (ASCII where the text allows it)."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = re.findall(r"[A-Za-z0-9]+", ascii_text)
    joined = "-".join(w.lower() for w in words)[:max_len].strip("-")
    return joined or "dokumen"


# Names of printable ASCII without a forbidden character, a tab or a '%': for them
# ``safe_component`` only trims (spaces, trailing dots), folds runs of spaces and guards
# the reserved names, so ``_plain_is_safe`` decides without it (a manifest of 100,000
# files is read at every backup; tests/core/test_names.py compares the two).
_PLAIN = re.compile(r"[ !#$&'()+,\-.0-9;=@A-Z\[\]^_`a-z{}~]+")


def _plain_is_safe(name: str) -> bool:
    return (len(name) <= MAX_COMPONENT and name[0] != " " and name[-1] not in ". "
            and "  " not in name and not set(name) <= {"_", "."}
            and name.split(".", 1)[0].rstrip(" ").upper() not in RESERVED)


def is_safe_component(name: str) -> bool:
    """Whether ``name`` is already a safe component (``safe_component`` leaves it as is)."""
    if _PLAIN.fullmatch(name) is not None:
        return _plain_is_safe(name)
    return _is_safe_other(name)


@functools.lru_cache(maxsize=1 << 16)
def _is_safe_other(name: str) -> bool:
    # Cached: a disk's manifest names the same folders thousands of times.
    return safe_component(name, max_len=MAX_COMPONENT) == name and _utf16_len(name) <= 255


def display_name(name: str) -> str:
    """The base name a user gave, made safe to store and to show (no path, no controls)."""
    base = re.split(r"[\\/]", name)[-1]
    return safe_component(base, max_len=120, fallback="berkas")
