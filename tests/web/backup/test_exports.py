"""The control list as XLSX (issue 14): times in the office's time zone as Indonesians
write them (they were UTC), the run's status in Indonesian."""

from __future__ import annotations

import io
import zipfile

from brankas.web.backup.exports import control_export
from brankas.web.backup.models import BackupRun
from tests.web.reports.conftest import generate_month


def test_the_xlsx_control_list_shows_local_times_in_indonesian(office) -> None:  # type: ignore[no-untyped-def]
    generate_month(office, incoming=8, outgoing=6, previous=2)
    run = BackupRun.objects.get(number=1)  # started 7 May 2026 16:00 in Asia/Jakarta
    run.categories = {"biasa/penerimaan": {"label": "Biasa / Penerimaan", "files": 1,
                                           "bytes": 1000}}  # as a real run records them
    data = control_export(run, "xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
    assert "7 Mei 2026 16.00 WIB" in strings and "7 Mei 2026 16.06 WIB" in strings
    assert "09:00:00+00:00" not in strings and "T09:00" not in strings  # no UTC left
    assert "selesai" in strings and "completed" not in strings
