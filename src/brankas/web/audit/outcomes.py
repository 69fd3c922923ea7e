"""The outcomes an audit entry may have: one vocabulary for the services that write them,
the audit page (its filter and its badges), ``brankas audit list --outcome`` and the CSV.

- ``ok``: done;
- ``denied``: the role may not do this (the access matrix), audited as ``access.denied``
  or as the action itself;
- ``refused``: allowed, but refused in this state (a disk still recorded in the safe, the
  archive being re-encrypted, a safe combination not encrypted to this user's key);
- ``failed``: tried and failed (a wrong passphrase, a damaged file, a check that found
  problems)."""

from __future__ import annotations

OK, DENIED, REFUSED, FAILED = "ok", "denied", "refused", "failed"

OUTCOMES: dict[str, tuple[str, str]] = {
    OK: ("berhasil", "ok"),
    DENIED: ("ditolak: tidak berhak", "denied: not allowed"),
    REFUSED: ("ditolak: keadaan tidak memungkinkan", "refused: not possible now"),
    FAILED: ("gagal", "failed"),
}


def outcome_words(value: str) -> tuple[str, str]:
    """(Bahasa Indonesia, English) of an outcome; an unknown one (an old log) as it is."""
    return OUTCOMES.get(value, (value, value))
