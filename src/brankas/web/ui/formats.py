"""How the interface writes values, in one place: sizes, moments in the office's time zone,
dates on forms (dd/mm/yyyy, as Indonesians write them) and an audit entry's details.

The papers have their own wording (``brankas.core.printing``); the templates reach these
through the filters of ``templatetags/brankas_ui``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime

from brankas.core.printing import numbers

FORM_DATE = "%d/%m/%Y"  # dd/mm/yyyy on every form, as typed and as shown
FORM_DATE_HINT = "dd/mm/yyyy"
# What a form's date field reads (Django's ``input_formats``): dd/mm/yyyy with "/", "-" or
# "." between (as ``parse_form_date``), or YYYY-MM-DD as a browser's date field sends it.
FORM_DATE_INPUTS = [FORM_DATE, "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
WHEN = "j M Y H:i"  # a moment on a page: 5 Des 2026 14:03, in the office's time zone


def _lang() -> str:
    from brankas.web.ui.common import language

    return language()


def _pick(pair: tuple[str, str]) -> str:
    return pair[1] if _lang() == "en" else pair[0]


def size_text(value: int | float | None) -> str:
    """``0 B``, ``512 B``, ``1,5 KB`` (id) / ``1.5 KB`` (en), in the page's language
    (``core.printing.numbers.size``, as the papers print sizes)."""
    if value is None or value == "":
        return "—"
    return numbers.size(float(value), _lang())


def when_text(value: dt.datetime | str | None) -> str:
    """A moment in the office's time zone (``TIME_ZONE``); an ISO text is read first."""
    if value in (None, ""):
        return "—"
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return str(value)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return date_format(timezone.localtime(moment), WHEN)


# -- dates on forms -----------------------------------------------------------------------

def form_date_text(value: dt.date | str | None) -> str:
    """A date as a form shows it: dd/mm/yyyy."""
    if not value:
        return ""
    if isinstance(value, str):
        parsed = parse_form_date(value)
        return value if parsed is None else parsed.strftime(FORM_DATE)
    return value.strftime(FORM_DATE)


def parse_form_date(text: str) -> dt.date | None:
    """dd/mm/yyyy (also d/m/yyyy, with - or . between), or YYYY-MM-DD as a browser's date
    field sends it; None when it is neither."""
    text = (text or "").strip()
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    try:
        if found:
            day, month, year = (int(x) for x in found.groups())
            return dt.date(year, month, day)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        return None
    return None


def iso_form_date(text: str) -> str:
    """A typed form date as YYYY-MM-DD for the services (which speak ISO, as the command
    line does); what cannot be read is passed on as typed, for the service to refuse."""
    parsed = parse_form_date(text)
    return parsed.isoformat() if parsed else (text or "").strip()


# -- an audit entry's details ---------------------------------------------------------------

DETAIL_LABELS: dict[str, tuple[str, str]] = {
    "action": ("tindakan", "action"), "agenda": ("agenda", "agenda"),
    "assignee": ("ditugaskan kepada", "assigned to"), "channel": ("saluran", "channel"),
    "classification": ("klasifikasi", "classification"),
    "corrects": ("mengoreksi laporan", "corrects report"),
    "decrypt": ("dekripsi", "decryption"), "detail": ("rincian", "detail"),
    "direction": ("arah", "direction"), "duplicate_of": ("duplikat dari", "duplicate of"),
    "entries": ("entri", "entries"), "error": ("kesalahan", "error"),
    "files": ("berkas", "files"), "files_added": ("berkas ditambahkan", "files added"),
    "files_total": ("jumlah berkas", "files in all"), "filters": ("saringan", "filters"),
    "fingerprint": ("sidik jari", "fingerprint"),
    "fingerprints": ("sidik jari", "fingerprints"), "format": ("format", "format"),
    "from": ("dari", "from"), "kind": ("jenis", "kind"), "label": ("label", "label"),
    "letter": ("surat", "letter"), "letter_sha256": ("SHA-256 surat", "letter SHA-256"),
    "location": ("lokasi", "location"), "medium": ("disk", "disk"),
    "mode": ("mode", "mode"), "note": ("catatan", "note"), "out": ("keluaran", "output"),
    "pdf_sha256": ("SHA-256 PDF", "PDF SHA-256"), "period": ("periode", "period"),
    "readers": ("pembaca", "readers"), "reason": ("alasan", "reason"),
    "reference": ("referensi", "reference"), "role": ("peran", "role"),
    "sha256": ("SHA-256", "SHA-256"), "signer_key": ("kunci penanda tangan", "signing key"),
    "source": ("sumber", "source"), "stage": ("tahap", "stage"),
    "stored_path": ("disimpan di", "stored at"), "stored_sha256": ("SHA-256 tersimpan",
                                                                    "stored SHA-256"),
    "superseded": ("digantikan", "superseded"), "to": ("ke", "to"),
    "urgency": ("sifat", "urgency"), "via": ("melalui", "via"), "preview": ("pratinjau",
                                                                        "preview"),
    # written by the key life cycle, user administration, custody, backups and papers
    "addresses": ("alamat", "addresses"), "after_reset": ("setelah diatur ulang", "after reset"),
    "agendas": ("nomor agenda", "agenda numbers"), "already": ("sudah", "already"),
    "attempts_removed": ("percobaan dihapus", "attempts removed"),
    "authenticated": ("terautentikasi", "authenticated"), "bytes": ("bita", "bytes"),
    "bytes_added": ("bita ditambahkan", "bytes added"),
    "certificate": ("nomor sertifikat", "certificate number"),
    "changed": ("diubah", "changed"), "combinations": ("kombinasi", "combinations"),
    "damaged": ("rusak", "damaged"), "decrypted": ("didekripsi", "decrypted"),
    "dest": ("tujuan", "destination"), "documents": ("dokumen", "documents"),
    "failed": ("gagal", "failed"), "files_hashed": ("berkas di-hash", "files hashed"),
    "from_safe": ("dari brankas", "from safe"), "grantee": ("penerima akses", "grantee"),
    "grantee_key": ("kunci penerima akses", "grantee's key"),
    "granter": ("pemberi akses", "granter"), "identifier": ("pengenal", "identifier"),
    "idle_minutes": ("menit tanpa kegiatan", "idle minutes"), "job": ("pekerjaan", "job"),
    "keys": ("kunci", "keys"), "left": ("sisa", "left"),
    "mismatched": ("tidak cocok", "mismatched"), "missing": ("hilang", "missing"),
    "moved_to": ("dipindahkan ke", "moved to"), "moves": ("perpindahan", "moves"),
    "new_path": ("jalur baru", "new path"), "new_sha256": ("SHA-256 baru", "new SHA-256"),
    "number": ("nomor", "number"), "office_key": ("kunci kantor", "office key"),
    "old_path": ("jalur lama", "old path"), "old_sha256": ("SHA-256 lama", "old SHA-256"),
    "passed_on": ("tanggal lulus", "date passed"),
    "passed_over": ("dilewati", "passed over"), "protection": ("perlindungan", "protection"),
    "qualification": ("kualifikasi", "qualification"),
    "recorded_split": ("pembagian tercatat", "recorded split"),
    "recovered": ("dipulihkan", "recovered"),
    "recovery_fingerprint": ("sidik jari kunci pemulihan", "recovery key fingerprint"),
    "recovery_only": ("hanya kunci pemulihan", "recovery key only"),
    "recovery_recipient": ("penerima kunci pemulihan", "recovery recipient"),
    "register": ("daftar agenda", "register"), "rekey": ("enkripsi ulang", "rekey"),
    "restored": ("dipulihkan", "restored"), "resumed": ("dilanjutkan", "resumed"),
    "retired": ("dipensiunkan", "retired"), "reused_letter": ("surat dipakai ulang",
                                                              "letter reused"),
    "safes": ("brankas", "safes"), "seals": ("segel", "seals"),
    "sent_at": ("dikirim pada", "sent at"), "shares": ("bagian", "shares"),
    "skipped": ("dilewati", "skipped"), "snapshot": ("salinan basis data", "snapshot"),
    "tables": ("tabel", "tables"),  # issue 15 A: migrate-db
    "threshold": ("ambang", "threshold"), "to_safe": ("ke brankas", "to safe"),
    "training": ("diklat", "training"), "trusted_by": ("dipercaya melalui", "trusted by"),
    "unexpected": ("tak terduga", "unexpected"), "unlocked_with": ("dibuka dengan",
                                                                   "unlocked with"),
    "unregistered": ("tidak terdaftar", "unregistered"), "version": ("versi", "version"),
    "requests_released": ("permintaan dilepas ke peran", "requests released to the role"),
    "sessions_ended": ("sesi diakhiri", "sessions ended"),
    "signed": ("sudah menandatangani", "signed already"),
    "combinations_to_change": ("kombinasi yang harus diganti", "combinations to change"),
    # issue 14's walk: keys written without a label, and the office profile's fields
    "history": ("riwayat", "history"), "imported_from": ("diimpor dari", "imported from"),
    "logo": ("logo", "logo"),
    # s16 F: sealed register fields (issue 16)
    "values": ("nilai tersegel", "sealed values"), "phase": ("tahap", "phase"),
    "fields": ("isian", "fields"), "vacuum": ("penulisan ulang basis data", "database rewrite"),
    "checkpoint": ("checkpoint WAL", "WAL checkpoint"), "requests": ("permintaan", "requests"),
    # s17 E: the equipment register and the disks' health (issue 17)
    "name": ("nama", "name"), "condition": ("kondisi", "condition"),
    "before": ("kondisi sebelumnya", "condition before"),
    "next_check_due": ("pemeriksaan berikutnya", "next check due"),
    "on": ("tanggal", "date"), "work": ("yang dikerjakan", "work done"),
    "linked_from": ("terhubung dari", "linked from"), "disk": ("disk", "disk"),
    "safe": ("brankas", "safe"), "status": ("status", "status"),
    "free_bytes": ("ruang kosong (byte)", "free space (bytes)"),
    # a grant or rekey: files done before it was cut short; the sealed rows of a batch
    "files_done": ("berkas selesai", "files done"),
    "rows": ("baris", "rows"),
    "runs_left": ("sisa back up", "backups left"),
    "rose": ("penghitung kerusakan naik", "failure counters rose"),
    # s18 OC: the daily offsite push (issue 18)
    "daily_at": ("unggahan harian pukul", "daily push at"),
    "time_zone": ("zona waktu", "time zone"), "day": ("hari", "day"),
    "on_behalf_of": ("atas nama", "on behalf of"),
    # s18: offsite remotes, pushes and checks (web/offsite/services.py)
    "bucket": ("bucket", "bucket"), "endpoint": ("alamat server", "endpoint"),
    "region": ("region", "region"), "prefix": ("awalan", "prefix"),
    "retention_days": ("masa kunci (hari)", "lock period (days)"),
    "credentials_file": ("berkas kredensial", "credentials file"),
    "canary": ("uji kunci (canary)", "lock test (canary)"),
    "immutable": ("tidak dapat dihapus", "immutable"), "push": ("unggahan", "push"),
    "objects_sent": ("objek terkirim", "objects sent"),
    "bytes_sent": ("bita terkirim", "bytes sent"),
    "extended": ("kunci diperpanjang", "locks extended"), "checked": ("diperiksa", "checked"),
    "sampled": ("diunduh sebagai sampel", "downloaded as a sample"),
    "offsite": ("salinan offsite", "offsite copy"), "remote": ("penyimpanan offsite", "remote"),
    "problems": ("masalah", "problems"), "unlocked": ("tidak terkunci", "not locked"),
    # s19: reading the text of biasa documents (text.request, text.read, text.refused)
    "scope": ("cakupan", "scope"), "read": ("ada teks", "with text"),
    "unreadable": ("tidak terbaca", "unreadable"),
    "unavailable": ("menunggu OCR terpasang", "waiting for OCR to be installed"),
}


def _office_field_labels() -> dict[str, tuple[str, str]]:
    """The office profile's fields (``office.update``'s ``changed``), as its page names them."""
    from brankas.web.accounts.office import DATE_FIELDS, TEXT_FIELDS

    return {**TEXT_FIELDS, **DATE_FIELDS}


# Stored codes shown as words: where a document came in, why a sign-in was refused.
SOURCE_WORDS = {"web": ("web", "web"), "cli": ("baris perintah", "command line"),
                "import": ("impor arsip lama", "import of an old archive"),
                # the disk health read after a backup, a verification, a drill (issue 17)
                "backup": ("back up", "backup"), "verify": ("verifikasi", "verification"),
                "drill": ("uji pemulihan", "restore drill")}
REASON_WORDS = {"locked": ("akun terkunci", "locked out"),
                # why an OCR job was queued (issue 19, web/text/services.py)
                "register": ("pendaftaran", "registration"), "import": ("impor", "import"),
                "redo": ("baca ulang", "read again")}
# which documents an OCR job reads (issue 19, web/text/services.py)
SCOPE_WORDS = {"pending": ("yang belum dibaca", "those not yet read"),
               "all": ("semua dokumen biasa", "every biasa document"),
               "documents": ("dokumen yang disebut", "the documents named")}
ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")
YES_NO = (("ya", "yes"), ("tidak", "no"))


def _state_words(value: str) -> str | None:
    """A state of the report chain or of the request chain, in the page's language."""
    from brankas.core.chains import request
    from brankas.core.chains.report import STATE_WORDS, State

    try:
        return _pick(STATE_WORDS[State(value)])
    except ValueError:
        pass
    try:
        state = request.State(value)
    except ValueError:
        return None
    return _pick((request.STATE_LABELS[state], request.STATE_LABELS_EN[state]))


def _value_text(key: str, value: Any) -> str:
    from brankas.web.ui.templatetags.brankas_ui import CHECK_MODES

    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return _pick(YES_NO[0] if value else YES_NO[1])
    if isinstance(value, (list, tuple)):
        return ", ".join(_value_text(key, v) for v in value)
    if isinstance(value, dict):
        if key == "changed":  # each field as before → after
            return "; ".join(f"{_label(k)}: " + (
                " → ".join(_value_text(k, x) for x in v) if isinstance(v, list) and len(v) == 2
                else _value_text(k, v)) for k, v in value.items())
        return "; ".join(f"{_label(k)}: {_value_text(k, v)}" for k, v in value.items())
    text = str(value)
    if key in ("from", "to"):
        return _state_words(text) or _code_words(key, text)
    if key == "mode" and text in CHECK_MODES:
        return _pick(CHECK_MODES[text])
    return _code_words(key, text)


def _code_words(key: str, text: str) -> str:
    """A stored code in the page's language: a refused action, a disk's place, where a
    document came in, why a sign-in was refused, a time (in the office's time zone). A
    service's error stays its code, as the action beside it stays ``report.approve``: its
    message is the command line's, which names commands to type."""
    from brankas.core.access import ACTION_WORDS, Action
    from brankas.core.chains.custody import STATE_WORDS as DISK_STATE_WORDS
    from brankas.core.chains.custody import MediumState
    from brankas.core.equipment.advice import STATUS_WORDS as HEALTH_STATUS_WORDS
    from brankas.core.equipment.advice import reason_words as health_reason_words

    if key == "action" and text in {a.value for a in Action}:
        return _pick(ACTION_WORDS[Action(text)])
    if key in ("from", "to") and text in {s.value for s in MediumState}:
        return _pick(DISK_STATE_WORDS[MediumState(text)])
    if key == "source" and text in SOURCE_WORDS:
        return _pick(SOURCE_WORDS[text])
    if key == "reason" and text in REASON_WORDS:
        return _pick(REASON_WORDS[text])
    if key == "scope" and text in SCOPE_WORDS:
        return _pick(SCOPE_WORDS[text])
    if key == "reason" and (health := health_reason_words(text)) is not None:
        return _pick(health)
    if key == "status" and text in HEALTH_STATUS_WORDS:
        return _pick(HEALTH_STATUS_WORDS[text])
    if ISO_TIMESTAMP.fullmatch(text):
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        if moment.tzinfo is not None:
            moment = timezone.localtime(moment)
        return date_format(moment, "j M Y H:i:s")
    return text


def _label(key: str) -> str:
    if key in DETAIL_LABELS:
        return _pick(DETAIL_LABELS[key])
    office = _office_field_labels()
    if key in office:
        return _pick(office[key])
    return key.replace("_", " ")


def source_words(source: str) -> str:
    """Where a document came in (``Document.source``), in the page's language."""
    return _pick(SOURCE_WORDS[source]) if source in SOURCE_WORDS else source


def detail_pairs(detail: Any) -> list[tuple[str, str]]:
    """(label, value) of each detail, in the language of the page: no Python text (no
    ``None``, no braces), empty values as a dash."""
    if not isinstance(detail, dict):
        return [] if detail in (None, "") else [("", str(detail))]
    return [(_label(k), _value_text(k, v)) for k, v in detail.items()]
