"""The printable sheet of one recovery share (PDF, Bahasa Indonesia first, then English),
and its text file.

A sheet names the office, "Bagian i dari N" / "Share i of N", the threshold, the date,
the split's identifier and the recovery key's fingerprint, the 33 words in numbered
boxes, "RAHASIA", where to keep it and how to use it. The text file holds the words of
one share and nothing else (``shares.share_text``): what a person would type back.
Rendered in memory (``core.printing.pdf``); the caller decides where the bytes go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from brankas.core.printing.pdf import PrintBoxes, PrintDocument, PrintText, render_pdfs

MARKING = "RAHASIA - SECRET"


@dataclass(frozen=True)
class ShareSheet:
    office: str
    number: int  # i, 1-based
    shares: int  # N
    threshold: int  # K
    date: str  # e.g. "2026-12-05"
    identifier: int  # the split's SLIP-39 identifier
    fingerprint: str  # the recovery key's (``crypto.recipient_fingerprint``)
    mnemonic: str  # the 33 words
    footer: str = ""


def share_label(number: int, shares: int) -> str:
    return f"Bagian {number} dari {shares} / Share {number} of {shares}"


KEEP = (
    "Simpan bagian ini dalam amplop tertutup dan bersegel, pada seorang pejabat yang "
    "berbeda untuk setiap bagian. Jangan simpan bersama bagian lain, jangan di brankas "
    "yang sama dengan disk back up, jangan difoto, disalin, diketik ke komputer yang "
    "terhubung internet, atau dikirim lewat pesan. Bila amplop terbuka atau bagian hilang, "
    "laporkan kepada Kepala Bidang: bagi ulang kunci pemulihan dan musnahkan bagian lama.",
    "Keep this share in a closed, sealed envelope, with a different official for every "
    "share. Do not keep it with another share, nor in the same safe as the backup disks; "
    "do not photograph, copy, type it into a computer connected to the internet, or send "
    "it by message. If an envelope is found open or a share is lost, tell the head of "
    "division: split the recovery key again and destroy the old shares.",
)


def _use(threshold: int) -> tuple[str, str]:
    return (
        f"Kunci pemulihan kantor tersusun kembali dari {threshold} bagian mana pun dari "
        f"pembagian ini; kurang dari {threshold} bagian tidak mengungkapkan apa pun. "
        "Dipakai bila tidak ada lagi pemegang kunci yang dapat membuka arsip (frasa sandi "
        "terlupa, pejabat pindah, laptop hilang). Ketik setiap bagian sebagai berkas teks, "
        "satu bagian per berkas, kata demi kata sesuai nomor kotak, lalu: brankas recovery "
        "check BERKAS... (menguji), brankas recover DISK --home BARU --shares BERKAS... "
        "(memulihkan). Hanya di laptop kantor, tanpa internet; hapus berkas teksnya "
        "sesudahnya.",
        f"The office recovery key is rebuilt from any {threshold} shares of this split; "
        f"fewer than {threshold} shares reveal nothing. It is used when no key holder can "
        "open the archive any more (a forgotten passphrase, an official who moved, a lost "
        "laptop). Type each share as a text file, one share per file, word by word in the "
        "order of the boxes, then: brankas recovery check FILE... (to test), brankas "
        "recover DISK --home NEW --shares FILE... (to recover). Only on the office laptop, "
        "offline; delete the text files afterwards.",
    )


def sheet_document(sheet: ShareSheet) -> PrintDocument:
    """One share's page."""
    words = sheet.mnemonic.split()
    return PrintDocument(
        office=sheet.office,
        title="BAGIAN KUNCI PEMULIHAN KANTOR",
        subtitle="Office recovery key share",
        marking=MARKING,
        facts=[
            ("Bagian / Share", share_label(sheet.number, sheet.shares)),
            ("Ambang / Threshold",
             f"{sheet.threshold} bagian diperlukan / {sheet.threshold} shares needed"),
            ("Tanggal / Date", sheet.date),
            ("Tanda pembagian / Split identifier", str(sheet.identifier)),
            ("Sidik jari kunci pemulihan / Recovery key fingerprint", sheet.fingerprint),
        ],
        tables=[
            PrintBoxes(items=words, columns=3,
                       title=f"{len(words)} kata, urut sesuai nomor / {len(words)} words, "
                             "in the order of the numbers"),
            PrintText(title="RAHASIA: tempat menyimpan / SECRET: where to keep it",
                      paragraphs=KEEP, boxed=True),
            PrintText(title="Cara memakai / How to use it",
                      paragraphs=_use(sheet.threshold), boxed=True),
        ],
        notes=["Nama pejabat penyimpan / Official keeping it: ____________________   "
               "Paraf / Initials: ______   Tanggal terima / Received: ____________"],
        footer=sheet.footer,
    )


def sheets_pdf(sheets: Sequence[ShareSheet]) -> bytes:
    """The sheets as one PDF, one share per page (one sheet: that share's PDF)."""
    return render_pdfs([sheet_document(s) for s in sheets])
