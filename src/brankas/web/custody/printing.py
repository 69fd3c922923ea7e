"""The printable combination list and a disk's custody record (PDF, rendered in memory).

Both are official papers: the office letterhead, a number (a running number per kind of
paper and year, ``PaperNumber``), people as their full name and NIP, and signature
blocks; in Bahasa Indonesia only.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from brankas import __version__
from brankas.core.chains.custody import MOVE_WORDS, STATE_WORDS, MediumState, Move
from brankas.core.printing.dates import datetime_id, zone_word
from brankas.core.printing.pdf import PrintDocument, PrintTable, Signature, render_pdf
from brankas.core.terms import Role
from brankas.web.accounts.models import Office, User
from brankas.web.accounts.office import letterhead, office_holder, person, place_date
from brankas.web.audit.services import audit_record
from brankas.web.backup.models import Medium
from brankas.web.custody.models import PaperNumber
from brankas.web.custody.selectors import custody_history, medium_as_dict
from brankas.web.custody.services import safe_combinations_read

# The kinds of numbered paper and the code in their number ("007/RPD/2026").
CUSTODY_RECORD = "RPD"  # Riwayat Penyimpanan Disk
COMBINATION_LIST = "DNKK"  # Daftar Nomor Kunci Kombinasi
DOTS = "...................................."


def paper_number(kind: str) -> str:
    """The next number of ``kind`` this year, e.g. ``007/RPD/2026`` (in the caller's
    transaction: a print that fails gives its number back)."""
    year = timezone.localtime().year
    with transaction.atomic():
        row, _ = PaperNumber.objects.select_for_update().get_or_create(kind=kind, year=year)
        row.last += 1
        row.save(update_fields=["last"])
    return f"{row.last:03d}/{kind}/{year}"


def _when(value) -> str:  # type: ignore[no-untyped-def]
    return datetime_id(timezone.localtime(value), with_zone=False) if value else "-"


def _footer(actor: User, number: str) -> str:
    return (f"{number} - dicetak oleh {actor.display()} pada "
            f"{datetime_id(timezone.localtime())} - Brankas {__version__}")


def _signer(heading: str, user: User | None) -> Signature:
    if user is None:
        return Signature(heading=heading, name=DOTS)
    return Signature(heading=heading, name=user.display(), position=user.position,
                     nip=user.nip)


def _kop(office: Office) -> dict[str, object]:
    kop = letterhead(office)
    return {"office": kop.first, "letterhead": kop.lines, "contact": kop.contact,
            "logo": kop.logo}


def _zone_note() -> str:
    return f"Waktu dalam {zone_word(timezone.localtime())}."


def combination_list_pdf(*, actor: User, passphrase: str, history: bool = False) -> bytes:
    """The list of combination lock numbers (daftar nomor kunci kombinasi), for an allowed
    key holder; the printing is audited as ``safe.combination.print`` with its number."""
    numbers: list[str] = []

    def number() -> str:
        numbers.append(paper_number(COMBINATION_LIST))
        return numbers[0]

    entries = safe_combinations_read(actor=actor, passphrase=passphrase, history=history,
                                     purpose="print", paper=number)
    office = Office.objects.get()
    paper = numbers[0] if numbers else paper_number(COMBINATION_LIST)
    rows = [[e.safe, e.location, e.combination, _when(e.set_at), e.set_by_name or e.set_by,
             "berlaku" if e.current else "sudah diganti"] for e in entries]
    doc = PrintDocument(
        **_kop(office),  # type: ignore[arg-type]
        title="DAFTAR NOMOR KUNCI KOMBINASI BRANKAS",
        number=paper,
        marking="RAHASIA",
        facts=[("Dicetak untuk", person(actor).replace("\n", ", ")),
               ("Tanggal cetak", datetime_id(timezone.localtime()))],
        tables=[PrintTable(
            columns=["Brankas", "Lokasi", "Kombinasi", "Ditetapkan", "Oleh", "Status"],
            rows=rows or [["-", "-", "-", "-", "-", "-"]])],
        notes=["Dokumen ini RAHASIA: simpan di tempat terkunci, jangan digandakan, "
               "musnahkan bila kombinasi diganti.", _zone_note()],
        place_date=place_date(office),
        signatures=[_signer("Yang mencetak,", actor),
                    _signer("Mengetahui,\nKepala Seksi", office_holder(Role.KASI.value))],
        footer=_footer(actor, paper),
    )
    return render_pdf(doc)


def custody_log_pdf(*, actor: User, medium: Medium) -> bytes:
    """A disk's custody record: every move with who, when, from where, to where, why;
    audited as ``custody.print`` with the paper's number."""
    moves = list(custody_history(actor=actor, medium=medium))
    info = medium_as_dict(medium)
    office = Office.objects.get()

    def where(state: str, safe, location: str) -> str:  # type: ignore[no-untyped-def]
        if not state:
            return "-"
        text = STATE_WORDS[MediumState(state)][0]
        if safe is not None:
            text += f": {safe.name} ({safe.location})"
        elif location:
            text += f": {location}"
        return text

    rows = [[str(i), _when(m.at), MOVE_WORDS[Move(m.move)][0],
             where(m.from_state, m.from_safe, ""),
             where(m.to_state, m.to_safe, m.location), person(m.actor), m.reason_shown or "-"]
            for i, m in enumerate(moves, start=1)]
    state = MediumState(info["state"])
    checked = _when(medium.last_verified_at) + (
        "" if medium.last_verify_ok is None
        else (" (utuh)" if medium.last_verify_ok else " (BERMASALAH)"))
    with transaction.atomic():
        paper = paper_number(CUSTODY_RECORD)
        audit_record(actor=actor.username, action="custody.print", target=medium.label,
                     detail={"number": paper, "medium": medium.medium_id,
                             "moves": len(moves)})
    doc = PrintDocument(
        **_kop(office),  # type: ignore[arg-type]
        title="RIWAYAT PENYIMPANAN DISK BACK UP",
        number=paper,
        facts=[("Label disk", medium.label), ("Nomor identitas disk", medium.medium_id),
               ("Keadaan sekarang",
                STATE_WORDS[state][0] + (f": {info['safe']}" if info["safe"] else "")),
               ("Pertama dipakai", _when(medium.first_used_at)),
               ("Back up terakhir", _when(medium.last_backup_at)),
               ("Pemeriksaan terakhir", checked)],
        tables=[PrintTable(title="Riwayat perpindahan",
                           columns=["No", "Waktu", "Perpindahan", "Dari", "Ke", "Oleh",
                                    "Alasan"],
                           rows=rows or [["-"] * 7])],
        notes=[_zone_note()],
        place_date=place_date(office),
        signatures=[_signer("Yang menyerahkan,", None),
                    _signer("Yang menerima,", None),
                    _signer("Yang mencetak,", actor),
                    _signer("Mengetahui,\nKepala Seksi", office_holder(Role.KASI.value))],
        footer=_footer(actor, paper),
    )
    return render_pdf(doc)
