"""Safes, their combinations, and moving disks: the rules behind the CLI and the web.

A combination is encrypted in memory the moment it arrives (``crypto.encrypt_bytes``)
and decrypted in memory for an allowed key holder who gives their passphrase; neither
the database, the audit log nor any file holds it in plaintext.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from brankas.core import crypto
from brankas.core.access import Action, require_combination
from brankas.core.chains.custody import CUSTODY, MediumState, Move, check_backup_allowed
from brankas.core.errors import AccessDenied, BrankasError, Conflict, InvalidInput, SetupError
from brankas.web.accounts.models import User
from brankas.web.accounts.office import person as _person
from brankas.web.audit.guard import DENIED, require_audited
from brankas.web.audit.services import audit_record
from brankas.web.backup.models import Medium
from brankas.web.custody.models import CustodyMove, MediumCustody, Safe, SafeCombination
from brankas.web.custody.selectors import medium_resolve, safe_get
from brankas.web.keys.models import HolderKey
from brankas.web.keys.selectors import Purpose, Recipients, recipients_for
from brankas.web.runtime import brankas_settings

MAX_COMBINATION = 100


@dataclass(frozen=True)
class CombinationPlain:
    """A combination decrypted in memory for an allowed reader; never stored."""

    safe: str
    location: str
    combination: str
    set_at: datetime
    set_by: str
    current: bool
    set_by_name: str = ""  # the full name and NIP, as a paper prints a person


# -- checking input ----------------------------------------------------------------------

def _text(value: str, field: tuple[str, str], limit: int, *, required: bool = True) -> str:
    """``field``: its name (Bahasa Indonesia, English), for the message."""
    value = unicodedata.normalize("NFC", (value or "").strip())
    if required and not value:
        raise InvalidInput("field_required", field=field)
    if len(value) > limit:
        raise InvalidInput("field_too_long", field=field, limit=limit)
    if any(unicodedata.category(c) in {"Cc", "Cf"} and c not in "\t" for c in value):
        raise InvalidInput("field_invalid", field=field,
                           detail=("berisi karakter kendali", "contains control characters"))
    return value


def combination_check(combination: str) -> str:
    """A combination as typed (digits, letters, dashes): one line, 1 to 100 characters."""
    value = (combination or "").strip()
    if not value:
        raise InvalidInput("combination_invalid", detail=("kosong", "it is empty"))
    if len(value) > MAX_COMBINATION:
        raise InvalidInput("combination_invalid",
                           detail=(f"lebih dari {MAX_COMBINATION} karakter",
                                   f"longer than {MAX_COMBINATION} characters"))
    if any(not c.isprintable() for c in value):
        raise InvalidInput("combination_invalid",
                           detail=("berisi karakter kendali atau baris baru",
                                   "it contains control characters or a line break"))
    return value


# -- who may read combinations -------------------------------------------------------------

def _readers() -> Recipients:
    """Today's readers of a combination, refused when there are none (it would be readable
    by the paper recovery key alone)."""
    return recipients_for(purpose=Purpose.COMBINATION)


def _readers_if_any() -> Recipients | None:
    try:
        return _readers()
    except SetupError:
        return None


def _wrap(readers: Recipients, plain: bytes) -> bytes:
    return crypto.encrypt_bytes(plain, readers.age())


def _encrypt(combination: str) -> tuple[bytes, list[str]]:
    readers = _readers()
    return _wrap(readers, combination.encode("utf-8")), readers.holder_fingerprints()


# -- safes ---------------------------------------------------------------------------------

def safe_add(*, actor: User, name: str, location: str, combination: str,
             description: str = "") -> Safe:
    require_audited(actor, Action.MANAGE_SAFES)
    name = _text(name, ("nama brankas", "safe name"), 100)
    location = _text(location, ("lokasi", "location"), 200)
    description = _text(description, ("keterangan", "description"), 2000, required=False)
    combination = combination_check(combination)
    if Safe.objects.filter(name__iexact=name).exists():
        raise Conflict("safe_exists", name=name)
    ciphertext, fingerprints = _encrypt(combination)
    del combination
    now = timezone.now()
    with transaction.atomic():
        safe = Safe.objects.create(name=name, location=location, description=description,
                                   created_by=actor, created_at=now)
        SafeCombination.objects.create(safe=safe, ciphertext=ciphertext,
                                       fingerprints=fingerprints, suite=crypto.SUITE,
                                       set_by=actor, set_at=now)
        audit_record(actor=actor.username, action="safe.add", target=safe.name,
                     detail={"location": location, "readers": fingerprints})
    return safe


def safe_set_combination(*, actor: User, name: str, combination: str) -> SafeCombination:
    """A new combination; the old one stays, marked superseded (readable to the same people)."""
    require_audited(actor, Action.MANAGE_SAFES)
    safe = safe_get(name)
    combination = combination_check(combination)
    ciphertext, fingerprints = _encrypt(combination)
    del combination
    now = timezone.now()
    with transaction.atomic():
        superseded = SafeCombination.objects.filter(safe=safe, superseded_at__isnull=True)
        count = superseded.update(superseded_at=now)
        new = SafeCombination.objects.create(safe=safe, ciphertext=ciphertext,
                                             fingerprints=fingerprints, suite=crypto.SUITE,
                                             set_by=actor, set_at=now)
        audit_record(actor=actor.username, action="safe.combination.set", target=safe.name,
                     detail={"superseded": count, "readers": fingerprints})
    return new


def safe_combinations_read(*, actor: User, passphrase: str, name: str | None = None,
                           history: bool = False, purpose: str = "view",
                           paper: Callable[[], str] | None = None) -> list[CombinationPlain]:
    """The combinations of one safe (or of all, for the printed list), decrypted in memory
    with the actor's own key. Every reading is audited (``purpose``: view or print), and
    so is a wrong passphrase. ``paper``: for a printed list, gives the paper's number in
    the same transaction as the audit entry that records it. A combination not yet
    encrypted to every allowed holder's current key is re-encrypted to them while it is
    open."""
    try:
        require_combination(actor.role, brankas_settings().combination_roles)
    except AccessDenied as exc:
        audit_record(actor=actor.username, action=DENIED, target=name or "*", outcome="denied",
                     detail={"action": Action.VIEW_COMBINATION.value, "role": actor.role,
                             "error": exc.code})
        raise
    safes = [safe_get(name)] if name is not None else list(Safe.objects.order_by("name"))
    target = name or "*"
    action = f"safe.combination.{purpose}"
    combos = list(SafeCombination.objects.filter(safe__in=safes)
                  .select_related("safe", "set_by").order_by("safe__name", "-set_at", "-id"))
    if not history:
        combos = [c for c in combos if c.current]
    wanted = {fp for c in combos for fp in c.fingerprints}
    keys = list(HolderKey.objects.filter(holder=actor, fingerprint__in=wanted,
                                         revoked_at__isnull=True))
    if combos and not keys:
        audit_record(actor=actor.username, action=action, target=target, outcome="refused",
                     detail={"reason": "no key"})
        raise AccessDenied("combination_not_for_you", name=combos[0].safe.name)
    try:
        identities = {k.fingerprint: crypto.unlock_identity(
            bytes(k.protected_identity), passphrase, username=actor.username) for k in keys}
    except BrankasError as exc:
        audit_record(actor=actor.username, action=action, target=target, outcome="failed",
                     detail={"error": exc.code})
        raise
    readers = _readers_if_any()
    out: list[CombinationPlain] = []
    rewrapped: list[int] = []
    with transaction.atomic():
        for combo in combos:
            mine = [identities[fp] for fp in combo.fingerprints if fp in identities]
            if not mine:
                raise AccessDenied("combination_not_for_you", name=combo.safe.name)
            plain = crypto.decrypt_bytes(bytes(combo.ciphertext), mine).decode("utf-8")
            if readers is not None and combo.fingerprints != readers.holder_fingerprints():
                combo.ciphertext = _wrap(readers, plain.encode("utf-8"))
                combo.fingerprints = readers.holder_fingerprints()
                combo.save(update_fields=["ciphertext", "fingerprints"])
                rewrapped.append(combo.pk)
            out.append(CombinationPlain(safe=combo.safe.name, location=combo.safe.location,
                                        combination=plain, set_at=combo.set_at,
                                        set_by=combo.set_by.username, current=combo.current,
                                        set_by_name=_person(combo.set_by)))
        detail: dict[str, object] = {"safes": sorted({c.safe for c in out}),
                                     "entries": len(out), "history": history,
                                     "rewrapped": len(rewrapped)}
        if paper is not None:
            detail["number"] = paper()
        audit_record(actor=actor.username, action=action, target=target, detail=detail)
    return out


def safe_combinations_rewrap(*, actor: User, recovery_identity: str | None = None,
                             shares: Sequence[tuple[str, str]] | None = None) -> int:
    """Re-encrypt every combination to today's readers with the office recovery identity
    (from the safe, on paper, or rebuilt in memory from recovery ``shares``: (name, typed
    words) pairs): for when no current reader can open them any more (a new Kabid after
    the old one left). Nothing is shown; the number of combinations is."""
    require_audited(actor, Action.MANAGE_SAFES)
    if (recovery_identity is None) == (shares is None):
        raise InvalidInput("field_required", field=("identitas pemulihan / bagian kunci",
                                                    "recovery identity / shares"))
    if shares is not None:
        from brankas.web.keys.recovery import shares_identity

        identity = shares_identity(shares, actor=actor, purpose="safe.combination.rewrap")
    else:
        identity = crypto.parse_identity(str(recovery_identity))
    readers = _readers()
    combos = list(SafeCombination.objects.all())
    try:
        plains = [crypto.decrypt_bytes(bytes(c.ciphertext), [identity]) for c in combos]
    except Exception:  # pyrage.DecryptError: not the recovery identity of these files
        audit_record(actor=actor.username, action="safe.combination.rewrap", target="*",
                     outcome="failed", detail={"error": "not_the_recovery_identity"})
        raise AccessDenied("recover_cannot_unlock",
                           what=("identitas ini", "this identity")) from None
    with transaction.atomic():
        for combo, plain in zip(combos, plains, strict=True):
            combo.ciphertext = _wrap(readers, plain)
            combo.fingerprints = readers.holder_fingerprints()
            combo.save(update_fields=["ciphertext", "fingerprints"])
        audit_record(actor=actor.username, action="safe.combination.rewrap", target="*",
                     detail={"combinations": len(combos),
                             "readers": readers.holder_fingerprints()})
    del plains
    return len(combos)


# -- disks ---------------------------------------------------------------------------------

def custody_first_seen(*, medium: Medium, actor: User) -> None:
    """A disk seen for the first time (its first backup) is out of any safe."""
    if MediumCustody.objects.filter(medium=medium).exists():
        return
    now = timezone.now()
    with transaction.atomic():
        MediumCustody.objects.create(medium=medium, state=MediumState.OUT, since=now)
        CustodyMove.objects.create(medium=medium, move=Move.FIRST_SEEN, from_state="",
                                   to_state=MediumState.OUT, actor=actor, at=now)


def custody_check_backup(medium_id: str) -> None:
    """Refuse a backup to a disk recorded as in a safe, offsite, retired or lost."""
    custody = (MediumCustody.objects.select_related("medium", "safe")
               .filter(medium__medium_id=medium_id).first())
    if custody is None:
        return
    check_backup_allowed(custody.state, label=custody.medium.label,
                         safe=custody.safe.name if custody.safe else "")


def medium_move(*, actor: User, medium: str, move: Move | str, safe: str | None = None,
                reason: str = "", location: str = "") -> CustodyMove:
    """Record a move of a disk: check out, check in (to ``safe``), offsite (to
    ``location``), retire, lost or found. The sequence rules are ``CUSTODY``'s."""
    move = Move(move)
    if move is Move.FIRST_SEEN:  # recorded by a backup, never moved by hand
        require_audited(actor, Action.MOVE_MEDIA)  # a role that moves no disk: audited
        raise InvalidInput("field_invalid", field="move", detail=move.value)
    require_audited(actor, CUSTODY.action(move))
    reason = _text(reason, ("alasan", "reason"), 500, required=False)
    if CUSTODY.needs_reason(move) and not reason:
        raise InvalidInput("custody_reason_required")
    if move is Move.CHECKIN and not safe:  # before looking up a safe of no name
        raise InvalidInput("field_required", field="--safe")
    target_safe = safe_get(safe) if move is Move.CHECKIN else None
    location = _text(location, ("lokasi", "location"), 200, required=move is Move.OFFSITE)
    record = medium_resolve(medium)
    now = timezone.now()
    with transaction.atomic():
        custody, _ = MediumCustody.objects.select_for_update().get_or_create(
            medium=record, defaults={"state": MediumState.OUT, "since": record.first_used_at})
        before_state, before_safe = MediumState(custody.state), custody.safe
        after = CUSTODY.check(role=actor.role, state=before_state, step=move,
                              label=record.label,
                              safe=before_safe.name if before_safe else "").to_state
        custody.state, custody.since = after, now
        custody.safe = target_safe
        custody.location = location if after is MediumState.OFFSITE else ""
        custody.save()
        entry = CustodyMove.objects.create(
            medium=record, move=move, from_state=before_state, to_state=after,
            from_safe=before_safe, to_safe=target_safe, location=location, reason=reason,
            actor=actor, at=now)
        audit_record(actor=actor.username, action=f"custody.{move.value}", target=record.label,
                     detail={"medium": record.medium_id, "from": before_state.value,
                             "to": after.value,
                             "from_safe": before_safe.name if before_safe else None,
                             "to_safe": target_safe.name if target_safe else None,
                             "location": location, "reason": reason})
    return entry
