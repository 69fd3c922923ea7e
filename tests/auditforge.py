"""What an insider with write access to the database does to the audit log, for the tests
of its anchors: cut the tail, reset the counter, rewrite an entry and every later hash so
the chain verifies again, and make the approved reports' recorded heads agree.

In-process (the Django test database) or, for a CLI office, as a separate process:
``python -m tests.auditforge HOME rewrite 5 cover-reports`` (run from the repository).
"""

from __future__ import annotations

import os
import sys


def cut_tail(keep: int) -> None:
    """Delete every entry after ``keep`` (the counter is left alone)."""
    from brankas.web.audit.models import AuditEvent

    AuditEvent.objects.filter(seq__gt=keep).delete()


def reset_counter() -> None:
    """Set the counter back to the last entry left, as if nothing had been cut."""
    from django.db.models import Max

    from brankas.web.audit.models import AuditEvent, AuditSequence

    last = AuditEvent.objects.aggregate(n=Max("seq"))["n"] or 0
    AuditSequence.objects.update_or_create(id=1, defaults={"last": last})


def rewrite(seq: int) -> None:
    """Change entry ``seq``'s actor and recompute its hash and every later one."""
    from brankas.core.audit import hashchain as auditchain
    from brankas.web.audit.models import AuditEvent
    from brankas.web.audit.services import audit_content

    prev = None
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        if event.seq == seq:
            event.actor = "bukan-siapa-siapa"
        if prev is not None:
            event.prev_hash = prev
        event.hash = auditchain.entry_hash(event.prev_hash, audit_content(event))
        event.save(update_fields=["actor", "prev_hash", "hash"])
        prev = event.hash


def cover_reports() -> None:
    """Make every approved report's recorded head agree with the log as it is now: the
    entry at its number, or the last entry when the log no longer reaches it."""
    from brankas.web.audit.models import AuditEvent
    from brankas.web.reports.models import Report

    for report in Report.objects.filter(audit_seq__isnull=False):
        event = (AuditEvent.objects.filter(seq=report.audit_seq).first()
                 or AuditEvent.objects.filter(seq__lte=report.audit_seq).order_by("-seq").first())
        report.audit_seq, report.audit_hash = event.seq, event.hash
        report.save(update_fields=["audit_seq", "audit_hash"])


def main(argv: list[str]) -> None:
    os.environ["BRANKAS_HOME"] = argv[0]
    from brankas.cli.runtime import setup_django

    setup_django()
    args = list(argv[1:])
    while args:
        command = args.pop(0)
        if command == "cut-tail":
            cut_tail(int(args.pop(0)))
        elif command == "reset-counter":
            reset_counter()
        elif command == "rewrite":
            rewrite(int(args.pop(0)))
        elif command == "cover-reports":
            cover_reports()
        else:
            raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
