"""Compile the translations (``.po`` → ``.mo``) with polib: GNU gettext is not needed.

Usage: python scripts/compile_messages.py [--check]

Refuses (exit 1) when a catalogue has an untranslated or fuzzy entry, so a half-translated
interface is never shipped. ``--check`` only checks, and also fails when a ``.mo`` is missing
or out of date with its ``.po`` (useful in CI).
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "src" / "brankas" / "web" / "locale"


def problems(po: polib.POFile) -> list[str]:
    out = [f"untranslated: {e.msgid!r}" for e in po.untranslated_entries()]
    out += [f"fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
    return out


def catalogue(entries: polib._BaseFile) -> dict[tuple[str, str], object]:
    return {
        (e.msgctxt or "", e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in entries
        if not e.obsolete
    }


def main(argv: list[str]) -> int:
    check_only = "--check" in argv
    status = 0
    pos = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
    if not pos:
        print(f"compile_messages: no .po file under {LOCALE}", file=sys.stderr)
        return 1
    for po_path in pos:
        po = polib.pofile(str(po_path))
        found = problems(po)
        if found:
            status = 1
            for line in found:
                print(f"{po_path}: {line}", file=sys.stderr)
            continue
        mo_path = po_path.with_suffix(".mo")
        if check_only:
            translated = [e for e in po if e.translated()]
            if not mo_path.exists() or catalogue(polib.mofile(str(mo_path))) != catalogue(
                translated
            ):
                print(f"{mo_path}: missing or out of date; run scripts/compile_messages.py",
                      file=sys.stderr)
                status = 1
            continue
        po.save_as_mofile(str(mo_path))
        print(f"{mo_path}: {len(po.translated_entries())} messages")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
