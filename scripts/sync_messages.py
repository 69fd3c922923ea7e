"""Bring the Indonesian catalogue in step with the code: extract the messages again
(``makemessages``, into a copy of the web package, as ``tests/web/ui/test_i18n.py`` does),
add the new msgids to ``django.po`` (untranslated), drop the ones no longer used, and
list what still needs a translation. Needs GNU gettext (``xgettext``).

Usage: python scripts/sync_messages.py [--translations FILE.json]

``--translations`` takes {msgid: msgstr} (plural entries: {msgid: [singular, plural]})
and fills them in. Then run ``python scripts/compile_messages.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

WEB = Path(__file__).resolve().parent.parent / "src" / "brankas" / "web"
PO = WEB / "locale" / "id" / "LC_MESSAGES" / "django.po"


def extract() -> polib.POFile:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        tree = base / "web"
        shutil.copytree(WEB, tree, ignore=shutil.ignore_patterns("static", "__pycache__"))
        (base / "extract_settings.py").write_text(
            "from brankas.web.settings import *  # noqa\n"
            f"LOCALE_PATHS = [{str(tree / 'locale')!r}]\n")
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(base),
               "DJANGO_SETTINGS_MODULE": "extract_settings", "BRANKAS_HOME": str(base / "home")}
        subprocess.run([sys.executable, "-m", "django", "makemessages", "-l", "id",
                        "--no-location", "--no-obsolete"], cwd=tree, env=env, check=True,
                       capture_output=True)
        return polib.pofile(str(tree / "locale" / "id" / "LC_MESSAGES" / "django.po"))


def main(argv: list[str]) -> int:
    translations: dict[str, object] = {}
    if len(argv) == 2 and argv[0] == "--translations":
        translations = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    fresh = extract()
    committed = polib.pofile(str(PO))
    wanted = {e.msgid for e in fresh}
    for entry in list(committed):
        if entry.msgid not in wanted:
            committed.remove(entry)
    known = {e.msgid for e in committed}
    for entry in fresh:
        if entry.msgid not in known:
            entry.msgstr = ""
            entry.msgstr_plural = dict.fromkeys(entry.msgstr_plural, "")
            committed.append(entry)
    for entry in committed:
        value = translations.get(entry.msgid)
        if isinstance(value, list):
            entry.msgstr_plural = {0: value[0], 1: value[1] if len(value) > 1 else value[0]}
        elif isinstance(value, str):
            entry.msgstr = value
        if value is not None and "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    committed.save(str(PO))
    missing = [e.msgid for e in committed.untranslated_entries()]
    for msgid in missing:
        print(f"untranslated: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
