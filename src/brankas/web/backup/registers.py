"""The files a backup run writes beside the documents: the register as CSV (biasa in the
clear, the full register encrypted) and the run's backup control list (CSV and JSON).

CSV files are UTF-8 with a byte-order mark, so a spreadsheet (Excel, LibreOffice) opens
them with the right letters; the column headers are the register's Indonesian labels.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from typing import IO, Any

from django.utils import timezone

from brankas.core.printing.tables import FORMULA_STARTS, csv_table, safe_cell
from brankas.core.sealing import SEALED_LABEL
from brankas.core.terms import (
    CATEGORY_LABELS,
    CLASSIFICATION_LABELS,
    DIRECTION_LABELS,
    Category,
    Classification,
    Direction,
    store_folders,
)

REGISTER_COLUMNS = [
    ("agenda", "No. Agenda"),
    ("direction", "Arah"),
    ("classification", "Klasifikasi"),
    ("number", "Nomor Naskah"),
    ("doc_date", "Tanggal Naskah"),
    ("subject", "Perihal"),
    ("correspondent", "Pengirim/Tujuan"),
    ("pages", "Halaman"),
    ("attachments", "Lampiran"),
    ("notes", "Catatan"),
    ("registered_by", "Didaftarkan Oleh"),
    ("registered_at", "Waktu Pendaftaran"),
    ("file", "Berkas (di bawah data/)"),
    ("stored_sha256", "SHA-256 Berkas"),
    ("content_sha256", "SHA-256 PDF"),
    # s19: what a biasa document says (its text layer, or OCR of a scan): the last column,
    # so a reader's eye and an older script find the others where they were
    ("text", "Teks Dokumen"),
]
# A spreadsheet cell holds at most 32,767 characters (Excel; LibreOffice cuts there too):
# a longer text is cut, marked, and whole in the database snapshot.
TEXT_CELL_MAX = 32000
TEXT_CUT = " [...]"

CONTROL_COLUMNS = [
    ("no", "No."),
    ("agenda", "No. Agenda"),
    ("folder", "Folder"),
    ("classification", "Klasifikasi"),
    ("file", "Berkas (di bawah data/)"),
    ("bytes", "Ukuran (bita)"),
    ("sha256", "SHA-256"),
    ("verified", "Terverifikasi"),
]


def folder_key(category: str, direction: str) -> str:
    return f"{category}/{direction}"


def folder_label(key: str) -> str:
    category, _, direction = key.partition("/")
    return f"{CATEGORY_LABELS[Category(category)]} {DIRECTION_LABELS[Direction(direction)]}"


FOLDER_KEYS = [folder_key(c.value, d.value) for c, d in store_folders()]


def register_text(body: str | None) -> str:
    """A document's text as its register cell: pages apart by a blank line (not the form
    feed a PDF's pages are joined with), cut to what a spreadsheet cell holds."""
    if not body:
        return ""
    text = body.replace("\r\n", "\n").replace("\f", "\n\n")
    if len(text) * 2 <= TEXT_CELL_MAX:  # (most texts: no counting)
        return text
    return _text_cut(text)


_JOINERS = frozenset("\u200c\u200d\u034f")  # ZWNJ, ZWJ, CGJ: they join what is beside them


def _text_cut(text: str) -> str:
    """``text`` cut to ``TEXT_CELL_MAX`` UTF-16 units, as a spreadsheet counts a cell's
    characters (s19 review: a letter beyond U+FFFF counts two; the cut counted code
    points, and a cell of such letters overflowed), at the start of a letter: not
    between a letter and its combining accents or a joined sequence (s19 review)."""
    units = 0
    end = len(text)
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > TEXT_CELL_MAX:
            end = i
            break
    if end == len(text):
        return text
    # back to the start of the letter the cut falls in (a few code points at most; a
    # pathological run of accents is cut where it falls)
    for cut in range(end, max(0, end - 32), -1):
        ch, before = text[cut], text[cut - 1]
        if not (unicodedata.combining(ch) or ch in _JOINERS or before in _JOINERS
                or 0xFE00 <= ord(ch) <= 0xFE0F or 0x1F3FB <= ord(ch) <= 0x1F3FF):
            break
    else:
        cut = end
    return text[:cut] + TEXT_CUT


def register_row(doc: Mapping[str, Any], username: str) -> dict[str, Any]:
    return {
        **doc,
        "direction": DIRECTION_LABELS[Direction(doc["direction"])],
        "classification": CLASSIFICATION_LABELS[Classification(doc["classification"])],
        "doc_date": str(doc["doc_date"]),
        "registered_by": username,
        # the office's time zone with its offset, as the audit CSV (not UTC)
        "registered_at": timezone.localtime(doc["registered_at"]).isoformat(timespec="seconds"),
        "file": doc["stored_path"],
        "text": register_text(doc.get("text_body")),  # s19: biasa only (never exempted)
        # A sealed field (issue 16) is "tersegel" here too: the backup runs without a key,
        # and the value itself travels sealed in the database snapshot.
        **{name: SEALED_LABEL for name in (doc.get("sealed") or {})},
    }


def register_csv(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return csv_table(REGISTER_COLUMNS, rows)


def control_rows(control: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(_control_rows(control["documents"], verified=control["verified"]))


def _control_rows(documents: Iterable[Mapping[str, Any]], *,
                  verified: bool) -> Iterator[dict[str, Any]]:
    for i, item in enumerate(documents, 1):
        yield {"no": i, **item, "folder": folder_label(item["folder"]),
               "classification": CLASSIFICATION_LABELS[Classification(item["classification"])],
               "verified": verified}


def control_csv(control: Mapping[str, Any]) -> bytes:
    return csv_table(CONTROL_COLUMNS, control_rows(control))


def control_json(control: Mapping[str, Any]) -> bytes:
    return (json.dumps(control, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# -- streamed: written piece by piece, never held whole (a run of 100,000 documents) ----

def csv_write(out: IO[bytes], columns: list[tuple[str, str]],
              rows: Iterable[Mapping[str, Any]]) -> None:
    """``csv_table(columns, rows)``, written to the binary stream ``out`` row by row (the
    same bytes: UTF-8 with a byte-order mark, CRLF, cells made safe)."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)  # type: ignore[arg-type]
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([label for _, label in columns])
        for row in rows:
            writer.writerow([safe_cell(row.get(key, "")) for key, _ in columns])
        text.flush()
    finally:
        text.detach()


def control_csv_write(out: IO[bytes], control: Mapping[str, Any],
                      documents: Iterable[Mapping[str, Any]]) -> None:
    """``control_csv`` of ``control`` whose documents are ``documents`` (read once)."""
    csv_write(out, CONTROL_COLUMNS, _control_rows(documents, verified=control["verified"]))


_DOCUMENTS_MARK = "\x00documents\x00"


def control_json_write(out: IO[bytes], control: Mapping[str, Any],
                       documents: Iterable[Mapping[str, Any]]) -> None:
    """``control_json`` of ``control`` with ``"documents"`` set to ``documents`` (read
    once), written piece by piece: the same bytes ``json.dumps(indent=2)`` gives."""
    whole = json.dumps({**control, "documents": _DOCUMENTS_MARK}, ensure_ascii=False,
                       indent=2) + "\n"
    head, tail = whole.split(json.dumps(_DOCUMENTS_MARK), 1)
    out.write(head.encode("utf-8"))
    first = True
    for item in documents:
        body = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n    ")
        out.write((("[\n    " if first else ",\n    ") + body).encode("utf-8"))
        first = False
    out.write(("[]" if first else "\n  ]").encode("utf-8"))
    out.write(tail.encode("utf-8"))


# -- the two registers from the documents' rows, in one pass ---------------------------

# The columns of a document row ``registers_write`` takes, in this order (as the cursor
# gives them: the date a ``date``, the time a ``datetime``, ``sealed`` the JSON text).
REGISTER_ROW = ("category", "agenda", "direction", "classification", "number", "doc_date",
                "subject", "correspondent", "pages", "attachments", "notes",
                "registered_by_id", "registered_at", "stored_path", "stored_sha256",
                "content_sha256", "sealed", "text_body")


def registers_write(biasa: IO[bytes], full: IO[bytes], rows: Iterable[tuple[Any, ...]], *,
                    users: Mapping[int, str], zone: Any, db_zone: Any) -> None:
    """``csv_write`` of the biasa register to ``biasa`` and of the full register to
    ``full`` (the same bytes as ``register_row`` and ``csv_write`` give, a test holds
    them equal), from the documents' rows (``REGISTER_ROW``, in register order) read
    once: each row made into its cells once, the biasa ones written to both.
    ``zone``: the office's time zone (the CSV's times); ``db_zone``: the zone a naive
    time from the database is in (Django's ``connection.timezone``)."""
    from django.utils.dateparse import parse_datetime

    texts = [io.TextIOWrapper(out, encoding="utf-8-sig", newline="",  # type: ignore[arg-type]
                              write_through=False) for out in (biasa, full)]
    try:
        header = [label for _, label in REGISTER_COLUMNS]
        writers = [csv.writer(text, lineterminator="\r\n") for text in texts]
        for writer in writers:
            writer.writerow(header)
        write_biasa, write_full = (w.writerow for w in writers)
        directions = _labels(DIRECTION_LABELS, Direction)
        classifications = _labels(CLASSIFICATION_LABELS, Classification)
        names = {pk: safe_cell(name) for pk, name in users.items()}
        sealed_names: dict[str, tuple[int, ...]] = {}
        position = {key: i for i, (key, _) in enumerate(REGISTER_COLUMNS)}
        biasa_value = Category.REGULAR.value
        starts = tuple(FORMULA_STARTS)

        def cell(value: Any) -> str:  # ``safe_cell``, called 1.5 million times
            if value is True or value is False:
                return safe_cell(value)
            text = "" if value is None else str(value)
            return "'" + text if text.startswith(starts) else text

        for (category, agenda, direction, classification, number, doc_date, subject,
             correspondent, pages, attachments, notes, by, at, path, stored_sha,
             content_sha, sealed, text_body) in rows:
            if isinstance(at, str):
                at = parse_datetime(at)
            if at is not None and at.tzinfo is None:
                at = at.replace(tzinfo=db_zone)
            cells = [cell(agenda),
                     directions.get(direction) or safe_cell(DIRECTION_LABELS[Direction(direction)]),
                     classifications.get(classification) or safe_cell(
                         CLASSIFICATION_LABELS[Classification(classification)]),
                     cell(number), cell(str(doc_date)), cell(subject), cell(correspondent),
                     cell(pages), cell(attachments), cell(notes),
                     names.get(by) or cell(users.get(by, "")),
                     cell(at.astimezone(zone).isoformat(timespec="seconds")), cell(path),
                     cell(stored_sha), cell(content_sha),
                     cell(register_text(text_body)) if text_body else ""]
            if sealed is not None and sealed not in ("{}", "null"):
                hidden = sealed_names.get(sealed) if isinstance(sealed, str) else None
                if hidden is None:
                    value = json.loads(sealed) if isinstance(sealed, str) else sealed
                    hidden = tuple(position[name] for name in (value or {}) if name in position)
                    # only short texts repeat (a sealed value's ciphertext is unique to its
                    # row: caching those would hold ~10 MB at 100,000 rows for no hit)
                    if isinstance(sealed, str) and len(sealed) <= 256 \
                            and len(sealed_names) < 4096:
                        sealed_names[sealed] = hidden
                for i in hidden:  # a sealed field is "tersegel" (``register_row``)
                    cells[i] = SEALED_LABEL
            write_full(cells)
            if category == biasa_value:
                write_biasa(cells)
        for text in texts:
            text.flush()
    finally:
        for text in texts:
            text.detach()


def _labels(labels: Mapping[Any, str], kind: Any) -> dict[str, str]:
    """{stored value: the label as a CSV cell}."""
    return {member.value: safe_cell(labels[member]) for member in kind}


def control_write(csv_out: IO[bytes], json_out: IO[bytes], control: Mapping[str, Any],
                  documents: Iterable[Mapping[str, Any]]) -> None:
    """``control_csv_write`` to ``csv_out`` and ``control_json_write`` to ``json_out``
    (the same bytes, a test holds them equal) with the documents read once: a document
    of plain values (text, numbers: as a run carries them) becomes its CSV cells and its
    JSON text by string operations, anything else goes through ``json.dumps``."""
    from json.encoder import encode_basestring  # type: ignore[attr-defined]

    text = io.TextIOWrapper(csv_out, encoding="utf-8-sig", newline="",  # type: ignore[arg-type]
                            write_through=False)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow([label for _, label in CONTROL_COLUMNS])
        whole = json.dumps({**control, "documents": _DOCUMENTS_MARK}, ensure_ascii=False,
                           indent=2) + "\n"
        head, tail = whole.split(json.dumps(_DOCUMENTS_MARK), 1)
        json_out.write(head.encode("utf-8"))
        verified = safe_cell(control["verified"])
        folders: dict[str, str] = {}
        classifications: dict[str, str] = {}
        keys: dict[str, str] = {}
        starts = tuple(FORMULA_STARTS)

        def cell(value: Any) -> str:  # ``safe_cell``
            if value is True or value is False:
                return safe_cell(value)
            value = "" if value is None else str(value)
            return "'" + value if value.startswith(starts) else value

        pieces: list[str] = []
        separator = "[\n    "
        for no, item in enumerate(documents, 1):
            folder = folders.get(item["folder"])
            if folder is None:
                folder = folders[item["folder"]] = safe_cell(folder_label(item["folder"]))
            kind = classifications.get(item["classification"])
            if kind is None:
                kind = classifications[item["classification"]] = safe_cell(
                    CLASSIFICATION_LABELS[Classification(item["classification"])])
            writer.writerow([str(no), cell(item.get("agenda", "")), folder, kind,
                             cell(item.get("file", "")), cell(item.get("bytes", "")),
                             cell(item.get("sha256", "")), verified])
            pieces.append(separator + _item_json(item, keys, encode_basestring))
            separator = ",\n    "
            if len(pieces) >= 500:
                json_out.write("".join(pieces).encode("utf-8"))
                pieces.clear()
        json_out.write("".join(pieces).encode("utf-8"))
        json_out.write(("[]" if separator.startswith("[") else "\n  ]").encode("utf-8"))
        json_out.write(tail.encode("utf-8"))
        text.flush()
    finally:
        text.detach()


def _item_json(item: Mapping[str, Any], keys: dict[str, str], quote: Any) -> str:
    """``json.dumps(item, ensure_ascii=False, indent=2)`` nested one level deeper (as
    ``control_json_write`` writes a document), by string operations when every value is
    a string, an integer or None."""
    parts = []
    for key, value in item.items():
        kind = type(value)
        if kind is str:
            text = quote(value)
        elif kind is int:
            text = str(value)
        elif value is None:
            text = "null"
        else:
            return json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n    ")
        name = keys.get(key) if type(key) is str else None
        if name is None:
            if type(key) is not str:
                return json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n    ")
            name = keys[key] = quote(key)
        parts.append(f"{name}: {text}")
    if not parts:
        return "{}"
    return "{\n      " + ",\n      ".join(parts) + "\n    }"
