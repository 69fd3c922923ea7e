"""Each equipment warning's text in Bahasa Indonesia and English, naming what to do.

The dashboard shows the text of the page's language; the backup report prints the
Indonesian one. ``{ref}`` is an item's reference for ``brankas equipment``; a disk's
``{disk}`` its label for ``brankas media``. Inside a command they are shell-quoted
(``{ref_arg}``, ``{disk_arg}``): a label comes from the disk, which is hostile input, and
a command shown is a command pasted.
"""

from __future__ import annotations

import shlex
from typing import Any

from brankas.core.equipment import smart
from brankas.core.printing import numbers

# What replacing a disk takes, the same in every disk warning.
_REPLACE = (
    "ganti disk: back up ke disk baru (brankas backup DEST-BARU, atau halaman Back up), "
    "lalu pensiunkan disk lama (brankas media retire {disk_arg} --reason \"...\", atau halaman "
    "Disk back up)",
    "replace the disk: back up to a new disk (brankas backup NEW-DEST, or the Backup "
    "page), then retire the old one (brankas media retire {disk_arg} --reason \"...\", or the "
    "Backup disks page)",
)

WARNINGS: dict[str, tuple[str, str]] = {
    "check_overdue": (
        "Pemeriksaan {item} sudah lewat jatuh tempo ({due}, {days} hari): periksa lalu catat "
        "hasilnya (brankas equipment log {ref_arg} --work \"...\" --condition KONDISI, atau "
        "halaman Peralatan)",
        "The check of {item} is overdue ({due}, {days} days): check it and record the result "
        "(brankas equipment log {ref_arg} --work \"...\" --condition CONDITION, or the Equipment "
        "page)",
    ),
    "damaged": (
        "{item} dalam kondisi {condition}: perbaiki atau ganti, lalu catat (brankas equipment "
        "log {ref_arg} --work \"...\" --condition baik); bila tidak dipakai lagi: brankas "
        "equipment retire {ref_arg}",
        "{item} is in condition {condition}: repair or replace it, then record it (brankas "
        "equipment log {ref_arg} --work \"...\" --condition baik); if it is no longer used: "
        "brankas equipment retire {ref_arg}",
    ),
    "smart_failed": (
        "Disk {disk} melaporkan status SMART GAGAL ({when}): " + _REPLACE[0],
        "Disk {disk} reports its SMART status as FAILED ({when}): " + _REPLACE[1],
    ),
    "counters_rose": (
        "Penghitung kerusakan disk {disk} naik sejak pembacaan sebelumnya ({which}; {when}): "
        "disk mulai rusak, " + _REPLACE[0],
        "The failure-predicting counters of disk {disk} rose since the previous reading "
        "({which}; {when}): the disk is starting to fail, " + _REPLACE[1],
    ),
    "full_soon": (
        "Disk {disk} akan penuh dalam sekitar {runs} kali back up lagi (sisa {free}): siapkan "
        "disk baru dan back up ke sana sebelum penuh; pensiunkan disk lama bila sudah tidak "
        "dipakai (brankas media retire {disk_arg})",
        "Disk {disk} will be full in about {runs} more backups ({free} free): prepare a new "
        "disk and back up to it before this one fills; retire the old one when it is no "
        "longer used (brankas media retire {disk_arg})",
    ),
    "disk_old": (
        "Disk {disk} sudah dipakai {months} bulan (sejak {since}; batas {limit} bulan): "
        + _REPLACE[0],
        "Disk {disk} has been in use for {months} months (since {since}; limit {limit} "
        "months): " + _REPLACE[1],
    ),
}

# The counters as the warnings name them.
COUNTER_WORDS = {
    "reallocated": ("sektor dialokasikan ulang", "reallocated sectors"),
    "pending": ("sektor tertunda", "pending sectors"),
    "uncorrectable": ("sektor tak terkoreksi", "uncorrectable sectors"),
    "crc_errors": ("galat CRC", "CRC errors"),
    "media_errors": ("galat media", "media errors"),
}

STATUS_WORDS = {
    "good": ("baik", "good"),
    "failed": ("GAGAL", "FAILED"),
    "unknown": ("tidak diketahui", "unknown"),
}


def which_text(rose: list[list[Any]] | list[tuple[str, int, int]], lang: str = "id") -> str:
    """The counters that rose, named: ``sektor tertunda 0 → 8``."""
    index = 0 if lang == "id" else 1
    return ", ".join(f"{COUNTER_WORDS.get(str(n), (n, n))[index]} {a} → {b}"
                     for n, a, b in rose)


def text(code: str, params: dict[str, Any], lang: str = "id") -> str:
    """A warning's text in ``lang`` (id, en)."""
    index = 0 if lang == "id" else 1
    values = dict(params)
    for name in ("ref", "disk"):
        if name in values:
            values[name + "_arg"] = shlex.quote(str(values[name]))
    if "rose" in values:
        values["which"] = which_text(values["rose"], lang)
    if "free_bytes" in values and "free" not in values:  # as the papers and pages show sizes
        free = values["free_bytes"]
        values["free"] = "-" if free is None else numbers.size(free, lang)
    return WARNINGS[code][index].format(**values)


# Why a disk's health is unknown or failed (``smart.Health.reason``, recorded in English),
# in both languages for the pages and the audit log; smartctl's own message is shown as
# the program printed it.
REASON_WORDS = {
    smart.R_NOT_OBJECT: ("keluaran smartctl bukan objek JSON", smart.R_NOT_OBJECT),
    smart.R_TOO_LARGE: ("keluaran smartctl terlalu besar", smart.R_TOO_LARGE),
    smart.R_NOT_JSON: ("keluaran smartctl bukan JSON", smart.R_NOT_JSON),
    smart.R_NOT_INSTALLED: ("smartctl tidak terpasang (Debian: smartmontools)",
                            smart.R_NOT_INSTALLED),
    smart.R_NO_DEVICE: ("tidak ada perangkat blok untuk folder ini di sistem ini",
                        smart.R_NO_DEVICE),
    smart.R_FAILED: ("penilaian kesehatan SMART oleh disk sendiri: GAGAL", smart.R_FAILED),
    smart.R_NO_STATUS: ("keluaran smartctl tidak memuat status SMART", smart.R_NO_STATUS),
}
REASON_PREFIXES = {
    smart.P_TIMEOUT: ("smartctl tidak menjawab dalam ", smart.P_TIMEOUT),
    smart.P_NOT_RUN: ("smartctl tidak dapat dijalankan: ", smart.P_NOT_RUN),
    smart.P_RECORDED: ("keluaran smartctl yang direkam tidak terbaca: ", smart.P_RECORDED),
    smart.P_PREFAIL: ("atribut prakegagalan pada atau di bawah ambang: ", smart.P_PREFAIL),
}


def reason_words(reason: str) -> tuple[str, str] | None:
    """(Bahasa Indonesia, English) of a reason Brankas itself recorded; None for any other
    text (smartctl's own message, a reason an official typed)."""
    if reason in REASON_WORDS:
        return REASON_WORDS[reason]
    for prefix, (id_, en) in REASON_PREFIXES.items():
        if reason.startswith(prefix):
            rest = reason[len(prefix):]
            return id_ + rest, en + rest
    return None


def reason_text(reason: str, lang: str = "id") -> str:
    """A health reading's reason in ``lang``; smartctl's own message labelled as its."""
    if not reason:
        return ""
    words = reason_words(reason)
    if words is not None:
        return words[0 if lang == "id" else 1]
    return ("pesan smartctl: " if lang == "id" else "smartctl says: ") + reason

