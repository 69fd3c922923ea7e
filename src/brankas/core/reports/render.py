"""Laying out a report (PDF with ReportLab, XLSX with XlsxWriter) from its plain figures.

The figures are JSON data gathered by the web layer (``brankas.web.reports.selectors``);
this module only lays them out, in Bahasa Indonesia and the official layout: letterhead,
title, number, period, tables, executive summary, signature blocks with name, position
and NIP, and, on the approved report, the verification block.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from brankas.core.printing import numbers
from brankas.core.printing.dates import restyle
from brankas.core.printing.pdf import PrintDocument, PrintTable, PrintText, Signature, render_pdf
from brankas.core.reports.periods import KIND_TITLES, Kind, change, parse_period
from brankas.core.terms import (
    CLASSIFICATION_LABELS,
    DIRECTION_LABELS,
    Classification,
    Direction,
)

# The stored figures keep the records' own values (data); the paper shows them in words.
RUN_STATUS_WORDS = {"completed": "selesai", "failed": "gagal", "running": "berjalan"}
CHECK_KIND_WORDS = {"verify": "pemeriksaan", "drill": "uji pemulihan"}
CHECK_MODE_WORDS = {"full": "penuh", "fast": "cepat", "sample": "sampel"}
VERIFY_COMMAND = "brankas report verify BERKAS.pdf"


@dataclass
class ReportMeta:
    kind: Kind
    office: str
    letterhead: Sequence[str]
    number: str
    period_label: str
    version: int = 1
    corrects: str = ""  # the number of the report this version corrects
    draft_marking: str = ""  # e.g. "KONSEP - belum disahkan"; empty once approved
    place_date: str = ""
    signatures: Sequence[Signature] = ()
    summary: str = ""  # the Kasi's text; empty until forwarded
    verification: Sequence[tuple[str, str]] = ()  # printed on the approved report
    footer: str = ""
    extra_facts: Sequence[tuple[str, str]] = field(default_factory=list)
    keywords: str = ""  # the PDF's /Keywords: the audit-chain head once approved
    contact: Sequence[str] = ()  # the letterhead's address line(s)
    logo: bytes | None = None  # the office's logo (PNG)
    sop: str = ""  # the SOP as cited: "SOP Nomor 800/12/2026 tanggal 2 Januari 2026"
    time_zone: str = ""  # "WIB": the zone of every time printed
    people: dict[str, str] = field(default_factory=dict)  # user name: name as printed
    verify_page: str = ""  # where the web's verify page is: "Laporan > Periksa keaslian"


def _words(value: str, words: dict[str, str]) -> str:
    return words.get(value, value)


def _class_label(value: str) -> str:
    try:
        return CLASSIFICATION_LABELS[Classification(value)]
    except ValueError:
        return value


def _direction_label(value: str) -> str:
    try:
        return DIRECTION_LABELS[Direction(value)]
    except ValueError:
        return value


def _verify_words(text: str) -> str:
    """A disk's last check as stored ("utuh (full, 2026-05-29 09:00)"; a restore drill's as
    "(drill, …)") in words."""
    for mode, word in {**CHECK_MODE_WORDS, "drill": CHECK_KIND_WORDS["drill"]}.items():
        text = text.replace(f"({mode},", f"({word},")
    return restyle(text)


_decimal = numbers.decimal  # one decimal, with the Indonesian decimal comma: ``8,5``
_size = numbers.size  # ``512 B``, ``22,5 KB``: as the Indonesian pages show sizes


def _minutes(value: float | None) -> str:
    return "-" if value is None else _decimal(value)


def mutu_baku_table(key: dict[str, Any], sop: str = "") -> PrintTable:
    rows = []
    for number, name, standard, count, median, worst, over, automatic in key["mutu_baku"]:
        if automatic:
            rows.append([str(number), name, str(standard), "otomatis*", "-", "-", "-"])
        else:
            rows.append([str(number), name, str(standard), str(count), _minutes(median),
                         _minutes(worst), str(over)])
    return PrintTable(
        title=f"Mutu Baku (waktu standar {sop or 'SOP'}) dibanding waktu nyata",
        columns=["No", "Kegiatan", "Baku (menit)", "Jumlah", "Median (menit)",
                 "Terlama (menit)", "Melebihi"],
        rows=rows, widths=[0.6, 4, 1, 1.1, 1.1, 1.1, 1.1])


def summary_blocks(meta: ReportMeta, key: dict[str, Any]) -> list[PrintTable | PrintText]:
    """The Ringkasan Eksekutif: generated key figures, then the Kasi's own text."""
    by_dir = key["by_direction"]
    prev_dir = key["previous_by_direction"]

    def moved(direction: str) -> str:
        now, before = by_dir.get(direction, 0), prev_dir.get(direction, 0)
        return f"{now} ({change(now, before)})"
    facts = [
        ("Jumlah berita", f"{key['total']} (periode sebelumnya {key['previous_total']}; "
                          f"perubahan {change(key['total'], key['previous_total'])})"),
        ("Berita diterima", moved("penerimaan")),
        ("Berita dikirim", moved("pengiriman")),
        ("Naskah dikecualikan", str(key["exempted"])),
        ("Back up selesai", f"{key['backups_done']} (gagal {key['backups_failed']}; periode "
                            f"sebelumnya {key['backups_previous']})"),
        ("Back up terakhir", restyle(key["last_backup"])
         + (" - TERLAMBAT" if key["backup_overdue"] else " - tepat waktu")),
        ("Dokumen belum di disk mana pun", str(key["on_no_disk"])),
        ("Disk back up", f"{key['disks']} ("
         + ", ".join(f"{k}: {v}" for k, v in key["disk_states"].items()) + ")"),
        ("Pemeriksaan disk", f"utuh {key['disks_verify_ok']}, bermasalah "
                             f"{key['disks_verify_problem']}, perlu diperiksa "
                             f"{key['disks_verify_stale']}"),
    ]
    if "equipment_items" in key:  # s17 E (reports gathered before issue 17 have none)
        facts.append(("Peralatan", f"{key['equipment_items']} dalam pemakaian; pemeriksaan/"
                                   f"perbaikan {key['equipment_checks']}; masalah ditemukan "
                                   f"{key['equipment_problems']}; peringatan "
                                   f"{key['equipment_warnings']}"))
    over = sum(row[6] for row in key["mutu_baku"] if not row[7])
    measured = sum(row[3] for row in key["mutu_baku"] if not row[7])
    facts.append(("Kepatuhan mutu baku", f"{measured - over} dari {measured} kegiatan "
                                         "terukur dalam waktu standar"))
    paragraphs = [p for p in meta.summary.split("\n\n") if p.strip()]
    return [PrintText("RINGKASAN EKSEKUTIF", paragraphs=paragraphs, facts=facts, boxed=True)]


def _messages_tables(data: dict[str, Any]) -> list[PrintTable | PrintText]:
    counts = data["counts"]
    prev = data["previous"]["counts"]
    rows = []
    try:
        previous_period = parse_period(str(data["previous"]["period"])).label
    except Exception:  # an unreadable period stays as stored
        previous_period = str(data["previous"]["period"])
    for c in Classification:
        cells = [CLASSIFICATION_LABELS[c]]
        for d in (Direction.INCOMING, Direction.OUTGOING):
            cells.append(str(counts[d.value][c.value]))
        cells.append(str(counts["penerimaan"][c.value] + counts["pengiriman"][c.value]))
        cells.append(str(prev["penerimaan"][c.value] + prev["pengiriman"][c.value]))
        rows.append(cells)
    total_in = sum(counts["penerimaan"].values())
    total_out = sum(counts["pengiriman"].values())
    rows.append(["Jumlah", str(total_in), str(total_out), str(data["total"]),
                 str(data["previous"]["total"])])
    blocks: list[PrintTable | PrintText] = [PrintTable(
        title="Rekapitulasi per klasifikasi dan arah",
        columns=["Klasifikasi", "Penerimaan", "Pengiriman", "Jumlah",
                 f"Periode sebelumnya ({previous_period})"],
        rows=rows, widths=[2, 1, 1, 1, 1.6])]
    if data.get("requests"):
        blocks.append(PrintTable(
            title="Permintaan pengiriman berita dan waktu penyelesaiannya (menit)",
            columns=["No", "Permintaan", "Klasifikasi", "Derajat", "Agenda",
                     "Kadis ke Kabid", "Kabid ke Kasi", "Kasi ke Sandiman", "Diterima",
                     "Didaftarkan", "Dikirim", "Jumlah", "Dikembalikan (kali)"],
            rows=[[str(i), r["request"], _class_label(r["classification"]), r["urgency"],
                   r["agenda"], *r["steps"], r["total"], str(r["returns"])]
                  for i, r in enumerate(data["requests"], start=1)],
            widths=[0.5, 1, 1.1, 1, 1.5, 1, 1, 1.1, 1, 1.1, 1, 0.9, 1.1]))
    blocks.append(PrintTable(
        title="Daftar berita",
        columns=["No", "Agenda", "Tanggal", "Arah", "Klasifikasi", "Nomor surat", "Perihal",
                 "Pengirim / Tujuan"],
        rows=[[str(i), row[0], restyle(row[1]), _direction_label(row[2]),
               _class_label(row[3]), *row[4:7]]
              for i, row in enumerate(data["entries"], start=1)] or [["-"] * 8],
        widths=[0.6, 1.6, 1.2, 1.2, 1.2, 1.6, 3.2, 2.4]))
    return blocks


def _backup_tables(data: dict[str, Any], people: dict[str, str]) -> list[PrintTable | PrintText]:
    categories = data["per_category"]
    runs = [[number, restyle(start), restyle(end), people.get(who, who), disk,
             _words(status, RUN_STATUS_WORDS), verified, files, size]
            for number, start, end, who, disk, status, verified, files, size in data["runs"]]
    checks = [[restyle(at), disk, _words(kind, CHECK_KIND_WORDS),
               _words(mode, CHECK_MODE_WORDS), result, files]
              for at, disk, kind, mode, result, files in data["checks"]]
    media = [[*row[:3], _verify_words(row[3])] for row in data["media"]]
    control = [[row[0], row[1], restyle(row[2]), *row[3:]] for row in data["control_list"]]
    return [
        PrintTable(title="Hasil back up per kategori",
                   columns=["Folder", "Berkas", "Ukuran"],
                   rows=[[k, str(v["files"]), _size(v["bytes"])]
                         for k, v in sorted(categories.items())]
                   + [["Jumlah", str(sum(v["files"] for v in categories.values())),
                       _size(sum(v["bytes"] for v in categories.values()))]],
                   widths=[3, 1, 1]),
        PrintTable(title="Pelaksanaan back up",
                   columns=["No", "Mulai", "Selesai", "Petugas", "Disk", "Status",
                            "Verifikasi", "Berkas", "Byte"],
                   rows=runs or [["-"] * 9], widths=[0.6, 1.6, 1.6, 1.2, 1.2, 1.1, 1.1, 0.9, 1.1]),
        PrintTable(title="Disk back up dan tempat penyimpanannya",
                   columns=["Disk", "ID", "Tempat penyimpanan", "Hasil pemeriksaan terakhir"],
                   rows=media or [["-"] * 4], widths=[1.2, 1, 3, 2.6]),
        PrintTable(title="Pemeriksaan disk dalam periode",
                   columns=["Waktu", "Disk", "Jenis", "Mode", "Hasil", "Berkas"],
                   rows=checks or [["-", "-", "-", "-", "-", "-"]]),
        *_equipment_tables(data.get("equipment")),
        *_offsite_tables(data.get("offsite")),  # s18 OC
        PrintTable(title="Lampiran: Daftar Kontrol Back Up",
                   columns=["No", "Back up ke-", "Tanggal", "Agenda", "Folder", "Disk"],
                   rows=control or [["-", "-", "-", "-", "-", "-"]],
                   widths=[0.6, 1, 1.2, 2, 2.4, 1.2]),
    ]


def _equipment_tables(data: dict[str, Any] | None) -> list[PrintTable | PrintText]:
    """Issue 17: the condition of the equipment in the period (SOP: PERINGATAN)."""
    if data is None:  # a report gathered before issue 17
        return []

    def rows(key: str) -> list[list[str]]:  # dates as on the rest of the paper
        return [[restyle(str(cell)) for cell in row] for row in data[key]]

    return [
        PrintTable(title="Kondisi peralatan",
                   columns=["Ref", "Jenis", "Nama", "Kondisi", "Pemeriksaan berikut",
                            "Penanggung jawab"],
                   rows=rows("items") or [["-"] * 6], widths=[0.9, 1.8, 2, 1.2, 1.3, 1.8]),
        PrintTable(title="Pemeriksaan dan perbaikan peralatan dalam periode",
                   columns=["Tanggal", "Peralatan", "Petugas", "Yang dikerjakan",
                            "Kondisi sesudahnya"],
                   rows=rows("checks") or [["-"] * 5], widths=[1, 1.6, 1.4, 3.2, 1.3]),
        PrintTable(title="Kesehatan disk back up (SMART) dalam periode",
                   columns=["Disk", "Dibaca", "Status", "Jam nyala", "Suhu (C)",
                            "Realokasi", "Tertunda", "Tak terkoreksi", "CRC", "Ruang kosong",
                            "Sisa back\u00a0up"],
                   rows=rows("health") or [["-"] * 11],
                   widths=[1, 1.4, 0.9, 0.8, 0.7, 0.8, 0.8, 0.9, 0.6, 1, 0.8]),
        PrintTable(title="Masalah peralatan yang ditemukan dalam periode",
                   columns=["Waktu", "Peralatan", "Masalah"],
                   rows=rows("problems") or [["-", "-", "tidak ada"]], widths=[1.2, 1.5, 5]),
        PrintText("Peringatan peralatan saat laporan disusun",
                  paragraphs=[restyle(w) for w in data["warnings"]] or ["Tidak ada."]),
    ]


def _offsite_tables(rows: list[list[str]] | None) -> list[PrintTable | PrintText]:
    """s18 OC (issue 18): the offsite copies when the report was gathered."""
    if rows is None:  # a report gathered before issue 18
        return []
    return [PrintTable(
        title="Salinan di luar kantor (penyimpanan objek S3 yang dikunci)",
        columns=["Penyimpanan", "Server dan bucket", "Penguncian", "Unggahan terakhir",
                 "Objek", "Ukuran"],
        rows=[[*row[:5], _size(int(row[5]))] for row in rows]
        or [["-", "-", "tidak ada salinan di luar kantor", "-", "-", "-"]],
        widths=[1, 2.6, 1.6, 1.4, 0.8, 0.9])]


def report_document(meta: ReportMeta, data: dict[str, Any]) -> PrintDocument:
    blocks: list[PrintTable | PrintText] = []
    if meta.summary:
        blocks += summary_blocks(meta, data["key"])
    blocks += (_backup_tables(data, meta.people) if meta.kind is Kind.BACKUP
               else _messages_tables(data))
    blocks.append(mutu_baku_table(data["key"], meta.sop))
    zone = f" Semua waktu dalam {meta.time_zone}." if meta.time_zone else ""
    blocks.append(PrintText("", paragraphs=[
        f"* Langkah 2-5 {meta.sop or 'SOP'} (folder, pemeriksaan jenis, enkripsi, "
        "penyimpanan) dikerjakan Brankas sendiri saat naskah didaftarkan (langkah 1). Waktu "
        "diukur dari catatan Brankas dalam periode laporan." + zone]))
    if meta.verification:
        where = (f"di halaman {meta.verify_page} pada Brankas kantor, atau "
                 if meta.verify_page else "")
        blocks.append(PrintText("BLOK VERIFIKASI", facts=meta.verification, boxed=True,
                                paragraphs=[f"Periksa keaslian berkas ini {where}dengan "
                                            f"perintah: {VERIFY_COMMAND}"]))
    facts = [("Periode", meta.period_label)]
    if meta.sop:
        facts.append(("Dasar", meta.sop))
    facts += [(label, restyle(str(value))) for label, value in meta.extra_facts]
    if meta.version > 1:
        facts.append(("Versi", f"{meta.version} (koreksi atas laporan {meta.corrects})"))
    return PrintDocument(
        office=meta.office, letterhead=meta.letterhead, title=KIND_TITLES[meta.kind],
        number=meta.number, facts=facts, tables=blocks, marking=meta.draft_marking,
        signatures=meta.signatures, place_date=meta.place_date, footer=meta.footer,
        keywords=meta.keywords, contact=meta.contact, logo=meta.logo)


def report_pdf(meta: ReportMeta, data: dict[str, Any]) -> bytes:
    return render_pdf(report_document(meta, data))


def report_xlsx(meta: ReportMeta, data: dict[str, Any]) -> bytes:
    """The report's tables, one sheet each, written in memory with XlsxWriter."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False})
    bold = book.add_format({"bold": True, "bg_color": "#E8E8E8", "border": 1})
    doc = report_document(meta, data)
    info = book.add_worksheet("Laporan")
    lines: list[tuple[str, str]] = [(meta.office, ""), *[(x, "") for x in meta.letterhead],
                                     *[(x, "") for x in meta.contact],
                                     ("", ""), (KIND_TITLES[meta.kind], ""),
                                     ("Nomor", meta.number), *doc.facts]
    for block in doc.tables:  # the executive summary and the verification block
        if isinstance(block, PrintText):
            lines += [("", ""), (block.title, "")]
            lines += [("", p) for p in block.paragraphs]
            lines += list(block.facts)
    for r, (label, value) in enumerate(lines):
        info.write_string(r, 0, str(label))
        info.write_string(r, 1, str(value))
    info.set_column(0, 0, 30)
    info.set_column(1, 1, 60)
    used: set[str] = {"Laporan"}
    for block in doc.tables:
        if not isinstance(block, PrintTable):
            continue
        name = "".join(ch for ch in block.title if ch not in "[]:*?/\\")[:31] or "Tabel"
        while name in used:
            name = name[:28] + f"{len(used)}"
        used.add(name)
        sheet = book.add_worksheet(name)
        for c, title in enumerate(block.columns):
            sheet.write_string(0, c, title, bold)
            sheet.set_column(c, c, 18)
        for r, row in enumerate(block.rows, start=1):
            for c, value in enumerate(row):
                text = str(value)
                if text.isdigit() and len(text) < 15:
                    sheet.write_number(r, c, int(text))
                else:
                    sheet.write_string(r, c, text)
        sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
