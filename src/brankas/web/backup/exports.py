"""The backup control list as a file for the report: CSV, or XLSX (two sheets: the
summary and the documents carried). XLSX is written by XlsxWriter (pure Python, made
for writing spreadsheets, no spreadsheet program needed)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from django.utils import timezone

from brankas.core.printing.dates import datetime_id
from brankas.web.accounts.models import User
from brankas.web.audit.services import audit_record
from brankas.web.backup import registers
from brankas.web.backup.models import BackupRun
from brankas.web.backup.selectors import run_get

SUMMARY_LABELS = [
    ("run", "Nomor back up"),
    ("office", "Instansi"),
    ("operator", "Operator (Sandiman)"),
    ("medium", "Disk"),
    ("medium_id", "ID disk"),
    ("started_at", "Mulai"),
    ("finished_at", "Selesai"),
    ("status", "Status"),
    ("files_added", "Berkas disalin"),
    ("bytes_added", "Bita disalin"),
    ("files_skipped", "Sudah ada di disk"),
    ("disk_files", "Berkas di disk"),
    ("disk_bytes", "Bita di disk"),
    ("verified", "Verifikasi baca-ulang"),
]


def control_of(run: BackupRun) -> dict[str, Any]:
    """The control list of a run, from the database (the same content as on the disk)."""
    from brankas.web.accounts.models import Office
    from brankas.web.documents.models import Document

    office = Office.objects.first()
    docs = {d.agenda: d for d in Document.objects.filter(agenda__in=run.agendas)}
    documents = [
        {"agenda": a, "folder": registers.folder_key(d.category, d.direction),
         "classification": d.classification, "file": d.stored_path, "bytes": d.stored_size,
         "sha256": d.stored_sha256}
        for a in run.agendas if (d := docs.get(a)) is not None
    ]
    return {
        "run": run.number, "office": office.name if office else "",
        "operator": run.operator.full_name or run.operator.username,
        "medium": run.medium.label, "medium_id": run.medium.medium_id,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "finished_at": run.finished_at.isoformat(timespec="seconds") if run.finished_at else "",
        "status": run.status, "files_added": run.files_added, "bytes_added": run.bytes_added,
        "files_skipped": run.files_skipped, "disk_files": run.disk_files,
        "disk_bytes": run.disk_bytes, "verified": bool(run.verified),
        "categories": run.categories, "documents": documents,
    }


def control_export(run: BackupRun, fmt: str) -> bytes:
    control = control_of(run)
    if fmt == "csv":
        return registers.control_csv(control)
    if fmt == "xlsx":
        return _xlsx(control)
    raise ValueError(fmt)


RUN_STATUS_WORDS = {"completed": "selesai", "failed": "gagal", "running": "berjalan"}


def _local(value: Any) -> str:
    """A stored ISO time (UTC) as the office reads it: ``7 Mei 2026 16.00 WIB``."""
    if not value:
        return "-"
    try:
        return datetime_id(timezone.localtime(datetime.fromisoformat(str(value))))
    except ValueError:
        return str(value)


def _xlsx(control: dict[str, Any]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    summary = book.add_worksheet("Ringkasan")
    summary.write(0, 0, "Daftar Kontrol Back Up", bold)
    row = 2
    for key, label in SUMMARY_LABELS:
        value = control[key]
        if key in ("started_at", "finished_at"):
            value = _local(value)  # the office's time zone, not UTC
        elif key == "status":
            value = RUN_STATUS_WORDS.get(value, value)
        summary.write(row, 0, label, bold)
        summary.write(row, 1, ("ya" if value else "tidak") if isinstance(value, bool) else value)
        row += 1
    row += 1
    summary.write_row(row, 0, ["Folder", "Dokumen", "Bita"], bold)
    for cat in control["categories"].values():
        row += 1
        summary.write_row(row, 0, [cat["label"], cat["files"], cat["bytes"]])
    summary.set_column(0, 0, 26)
    summary.set_column(1, 1, 40)
    sheet = book.add_worksheet("Dokumen")
    sheet.write_row(0, 0, [label for _, label in registers.CONTROL_COLUMNS], bold)
    for i, item in enumerate(registers.control_rows(control), 1):
        sheet.write_row(i, 0, [("ya" if item[k] else "tidak") if isinstance(item[k], bool)
                               else item[k] for k, _ in registers.CONTROL_COLUMNS])
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 3, 18)
    sheet.set_column(4, 4, 60)
    sheet.set_column(6, 6, 66)
    book.close()
    return out.getvalue()


def control_list_export(*, actor: User, number: int, fmt: str, via: str, out: str = "",
                        target: str = "") -> bytes:
    """One run's control list as CSV or XLSX (view-backups), for the web's download and
    ``brankas backup export``; each export is a ``backup.export`` entry in the audit log
    (with the file named by ``--out``, from the command line)."""
    run = run_get(actor=actor, number=number, via=via, target=target)
    data = control_export(run, fmt)
    detail = {"format": fmt, "via": via, **({"out": out} if out else {})}
    audit_record(actor=actor.username, action="backup.export", target=str(run.number),
                 detail=detail)
    return data
