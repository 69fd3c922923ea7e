"""The streamed CSV (issue 15: the audit export as a download that does not hold the log in
memory) is the same file as the whole one, a few rows at a time."""

from __future__ import annotations

from brankas.core.printing.tables import csv_chunks, csv_table

COLUMNS = [("n", "No."), ("text", "Teks")]


def test_the_chunks_make_the_whole_file_with_one_byte_order_mark() -> None:
    rows = [{"n": i, "text": f"=SUM({i})" if i % 3 == 0 else f"baris {i} é"} for i in range(7)]
    chunks = list(csv_chunks(COLUMNS, rows, rows_per_chunk=2))
    assert len(chunks) == 4  # 2 + 2 + 2 rows, then the last one
    assert b"".join(chunks) == csv_table(COLUMNS, rows)
    assert chunks[0].startswith(b"\xef\xbb\xbf")
    assert not any(c.startswith(b"\xef\xbb\xbf") for c in chunks[1:])
    assert b"'=SUM(3)" in b"".join(chunks)  # still formula-safe


def test_no_rows_is_the_header_alone() -> None:
    assert list(csv_chunks(COLUMNS, [])) == [csv_table(COLUMNS, [])]
