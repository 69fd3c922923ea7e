"""The printable combination list and a disk's custody log (PDF, rendered in memory)."""

from __future__ import annotations

from django.utils import timezone

from brankas import __version__
from brankas.core.chains.custody import MOVE_WORDS, STATE_WORDS, MediumState, Move
from brankas.core.printing.pdf import PrintDocument, PrintTable, render_pdf
from brankas.web.accounts.models import Office, User
from brankas.web.backup.models import Medium
from brankas.web.custody.selectors import custody_history, medium_as_dict
from brankas.web.custody.services import safe_combinations_read


def _when(value) -> str:  # type: ignore[no-untyped-def]
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


def _footer(actor: User) -> str:
    return (f"Dicetak oleh {actor.username} pada {_when(timezone.now())} "
            f"- Brankas {__version__}")


def combination_list_pdf(*, actor: User, passphrase: str, history: bool = False) -> bytes:
    """The list of combination lock numbers (daftar nomor kunci kombinasi), for an allowed
    key holder; the printing is audited as ``safe.combination.print``."""
    entries = safe_combinations_read(actor=actor, passphrase=passphrase, history=history,
                                     purpose="print")
    office = Office.objects.get()
    rows = [[e.safe, e.location, e.combination, _when(e.set_at), e.set_by,
             "berlaku / current" if e.current else "diganti / superseded"] for e in entries]
    doc = PrintDocument(
        office=office.name,
        title="DAFTAR NOMOR KUNCI KOMBINASI BRANKAS",
        subtitle="List of safe combination lock numbers",
        marking="RAHASIA - SECRET",
        facts=[("Dicetak untuk / printed for", f"{actor.full_name or actor.username}"
                f" ({actor.role})"), ("Tanggal / date", _when(timezone.now()))],
        tables=[PrintTable(
            columns=["Brankas / safe", "Lokasi / location", "Kombinasi / combination",
                     "Ditetapkan / set", "Oleh / by", "Status"],
            rows=rows, widths=[2, 3, 2, 2, 1.5, 1.8])],
        notes=["Dokumen ini rahasia: simpan di tempat terkunci, jangan digandakan, "
               "musnahkan bila kombinasi diganti. / This document is secret: keep it locked "
               "away, do not copy it, destroy it when a combination changes."],
        footer=_footer(actor),
    )
    return render_pdf(doc)


def custody_log_pdf(*, actor: User, medium: Medium) -> bytes:
    """A disk's chain of custody: every move with who, when, from where, to where, why."""
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

    rows = [[_when(m.at), MOVE_WORDS[Move(m.move)][0],
             where(m.from_state, m.from_safe, ""),
             where(m.to_state, m.to_safe, m.location), m.actor.username, m.reason]
            for m in moves]
    state = MediumState(info["state"])
    doc = PrintDocument(
        office=office.name,
        title="RIWAYAT PENYIMPANAN DISK BACK UP",
        subtitle=f"Chain of custody of backup disk {medium.label}",
        facts=[("Label", medium.label), ("ID disk / disk id", medium.medium_id),
               ("Status", STATE_WORDS[state][0] + (f": {info['safe']}" if info["safe"] else "")),
               ("Pertama dipakai / first used", _when(medium.first_used_at)),
               ("Back up terakhir / last backup", _when(medium.last_backup_at)),
               ("Pemeriksaan terakhir / last verified",
                _when(medium.last_verified_at) + (
                    "" if medium.last_verify_ok is None
                    else (" (utuh / intact)" if medium.last_verify_ok
                          else " (BERMASALAH / problems)")))],
        tables=[PrintTable(columns=["Waktu / when", "Perpindahan / move", "Dari / from",
                                    "Ke / to", "Oleh / by", "Alasan / reason"],
                           rows=rows, widths=[1.6, 1.8, 2.4, 2.4, 1.2, 2.6])],
        footer=_footer(actor),
        wide=True,
    )
    return render_pdf(doc)
