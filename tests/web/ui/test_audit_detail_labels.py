"""Every key an audit entry's details are written with has a label in both languages (the
audit page shows details as label-value pairs: a key without one would show as English)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from brankas.web.ui.formats import DETAIL_LABELS
from tests import sources

SRC = Path(__file__).resolve().parents[3] / "src" / "brankas"


def _detail_keys() -> dict[str, str]:
    """Each string key of a dict literal given as ``detail=`` or assigned to a name with
    ``detail`` in it, anywhere in the source, with the file it is in."""
    found: dict[str, str] = {}
    for path, nodes in sources.nodes(SRC, containing=("detail",)):  # as the key or the name
        for node in nodes:
            given = isinstance(node, ast.keyword) and node.arg == "detail"
            named = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and "detail" in t.id for t in node.targets)
            value = node.value if given or named else None  # type: ignore[attr-defined]
            if isinstance(value, ast.Dict):
                for key in value.keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        found.setdefault(key.value, str(path.relative_to(SRC)))
    return found


def test_every_detail_key_written_has_a_label_in_both_languages():
    keys = _detail_keys()
    assert len(keys) > 100  # the scan finds the audit calls
    missing = {k: where for k, where in keys.items() if k not in DETAIL_LABELS}
    assert missing == {}
    assert all(len(pair) == 2 and all(pair) for pair in DETAIL_LABELS.values())


def test_stored_codes_in_details_read_in_the_pages_language():
    """The SOP walk in Chromium found codes shown raw on the Indonesian audit page: a refused
    action (``restore``), a disk's place (``out``), where a document came in (``import``),
    why a sign-in was refused (``locked``), the office profile's
    field names and a time as ISO text (``2026-12-05T13:30:29+00:00``)."""
    from django.utils import translation

    from brankas.web.ui.formats import detail_pairs, source_words

    detail = {"action": "restore", "from": "out", "to": "in_safe", "source": "import",
              "reason": "locked", "error": "signing_passphrase_wrong",
              "sent_at": "2026-12-05T13:30:29.553392+00:00", "history": False,
              "imported_from": "biasa/penerimaan/2025/a.pdf",
              "changed": {"place": [None, "Lolak"], "sop_number": ["1", "2"]}}
    with translation.override("id"):
        shown = dict(detail_pairs(detail))
        assert shown["tindakan"] == "memulihkan dokumen dari disk back up"
        assert (shown["dari"], shown["ke"]) == ("di luar brankas", "tersimpan di brankas")
        assert shown["sumber"] == "impor arsip lama" == source_words("import")
        assert shown["alasan"] == "akun terkunci"
        assert shown["kesalahan"] == "signing_passphrase_wrong"  # a code, as the action is
        assert re.fullmatch(r"5 Des 2026 \d\d:30:29", shown["dikirim pada"])  # office's zone
        assert shown["riwayat"] == "tidak" and shown["diimpor dari"].endswith("a.pdf")
        assert shown["diubah"] == "tempat penandatanganan: — → Lolak; nomor SOP: 1 → 2"
    with translation.override("en"):
        shown = dict(detail_pairs(detail))
        assert shown["action"] == "restore documents from a disk"
        assert shown["from"] == "out of its safe" and shown["reason"] == "locked out"
        assert shown["changed"] == "place of signing: — → Lolak; SOP number: 1 → 2"


def test_an_ocr_jobs_scope_and_reason_read_in_the_pages_language():
    """The Indonesian SOP walk found an OCR job's scope (``documents``, ``pending``) shown
    raw on the audit page (issue 19, web/text/services.py)."""
    from django.utils import translation

    from brankas.web.text import services
    from brankas.web.ui.formats import detail_pairs

    for scope in (services.PENDING, services.ALL, services.DOCUMENTS):
        for reason in (services.REGISTER, services.IMPORT, services.REDO):
            detail = {"scope": scope, "reason": reason}
            with translation.override("id"):
                shown = dict(detail_pairs(detail))
            assert shown["cakupan"] not in {scope, "—"}, shown
            assert shown["alasan"] not in {reason, "—"}, shown
            with translation.override("en"):
                shown_en = dict(detail_pairs(detail))
            assert shown_en["scope"] != shown["cakupan"], (shown, shown_en)
