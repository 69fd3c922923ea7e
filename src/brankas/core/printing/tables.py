"""Tables as files a spreadsheet opens safely: CSV in UTF-8 with a byte-order mark (Excel
and LibreOffice then show the right letters), every cell kept as text.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before
one) is a formula to a spreadsheet: a subject such as ``=HYPERLINK(...)`` typed into the
register would run when the control list is opened. Such cells get a leading apostrophe,
the spreadsheet convention for "this is text" (OWASP, CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

FORMULA_STARTS = {"=", "+", "-", "@", "\t", "\r"}


def safe_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def csv_table(columns: list[tuple[str, str]], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """``columns``: (key, header label) pairs; each row is read by key."""
    return b"".join(csv_chunks(columns, rows))


def csv_chunks(columns: list[tuple[str, str]], rows: Iterable[Mapping[str, Any]], *,
               rows_per_chunk: int = 500) -> Iterator[bytes]:
    """The bytes of ``csv_table``, a few hundred rows at a time (a streamed download: the
    memory does not grow with the table)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([label for _, label in columns])
    first = True
    pending = 0
    for row in rows:
        writer.writerow([safe_cell(row.get(key, "")) for key, _ in columns])
        pending += 1
        if pending >= rows_per_chunk:
            yield _take(out, first)
            first, pending = False, 0
    yield _take(out, first)


def _take(out: io.StringIO, first: bool) -> bytes:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text.encode("utf-8-sig" if first else "utf-8")
