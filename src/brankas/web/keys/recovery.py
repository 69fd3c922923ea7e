"""The office recovery key on paper: splitting it into SLIP-39 shares, checking a set of
shares, and rebuilding the key from shares wherever the recovery identity is accepted.

The words are never stored or audited: a split is recorded as ``RecoverySplit``
(identifier, N, K, the recovery key's fingerprint). A rebuilt identity lives only in the
caller's memory. The cipher work is ``core.keyring.shares``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from pyrage import x25519

from brankas import __version__
from brankas.core import crypto
from brankas.core.access import Action
from brankas.core.errors import BrankasError, CryptoFailure, InvalidInput
from brankas.core.keyring import shares as core_shares
from brankas.core.keyring.sheets import ShareSheet
from brankas.web.accounts.models import Office, User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.keys.models import RecoverySplit

ShareTexts = Sequence[tuple[str, str]]  # (name shown in errors, the typed words)


@dataclass(frozen=True)
class SplitResult:
    split: RecoverySplit
    mnemonics: list[str]  # share i is mnemonics[i - 1]


def _office_recipient() -> str:
    return Office.objects.get().recovery_recipient


def _rebuild(shares: ShareTexts) -> tuple[x25519.Identity, int]:
    """The identity the shares rebuild, checked to be this office's recovery key, and the
    split's identifier."""
    parsed = [core_shares.parse(name, text) for name, text in shares]
    identity = crypto.identity_from_secret(core_shares.combine(parsed))
    expected = _office_recipient()
    got = str(identity.to_public())
    if got != expected:
        raise CryptoFailure("shares_wrong_office", fingerprint=crypto.recipient_fingerprint(got),
                            expected=crypto.recipient_fingerprint(expected))
    return identity, parsed[0].identifier


def _mark_checked(identifier: int) -> bool:
    """The split's shares rebuilt the key now; False when no split of it is recorded."""
    fingerprint = crypto.recipient_fingerprint(_office_recipient())
    return bool(RecoverySplit.objects.filter(
        identifier=identifier, recovery_fingerprint=fingerprint,
    ).update(last_checked_at=timezone.now()))


def _names(shares: ShareTexts) -> list[str]:
    return [name for name, _ in shares]


def shares_identity(shares: ShareTexts, *, actor: User | None = None,
                    purpose: str = "") -> x25519.Identity:
    """The office recovery identity rebuilt from shares, for a use that needs it (recover,
    grant, rekey, safe rewrap): each share parsed alone (a refusal names it), one split,
    enough shares, combined, compared with ``Office.recovery_recipient``. Every use is
    audited (``recovery.shares_used``; a refusal too), and counts as a check of the split."""
    who = actor.username if actor is not None else "-"
    try:
        identity, identifier = _rebuild(shares)
    except BrankasError as exc:
        audit_record(actor=who, action="recovery.shares_used", target=purpose, outcome="failed",
                     detail={"files": _names(shares), "error": exc.code})
        raise
    with transaction.atomic():
        recorded = _mark_checked(identifier)
        audit_record(actor=who, action="recovery.shares_used", target=purpose,
                     detail={"identifier": identifier, "shares": len(shares),
                             "recorded_split": recorded})
    return identity


def recovery_split_allowed(*, actor: User) -> None:
    """Refuse (audited) a role that may not split, before anyone types the identity."""
    require_audited(actor, Action.RECOVERY_SPLIT)


def recovery_split(*, actor: User, identity_text: str, shares: int,
                   threshold: int) -> SplitResult:
    """Split the office recovery identity (typed from its paper) into ``shares`` SLIP-39
    shares, any ``threshold`` of which rebuild it; the split is recorded and audited
    (identifier, N, K; never the words). The identity must be this office's. Splitting
    again makes a new split: the old shares keep working (only a new recovery key ends
    them)."""
    require_audited(actor, Action.RECOVERY_SPLIT)
    expected = _office_recipient()
    try:
        core_shares.check_numbers(shares, threshold)
        identity = crypto.parse_identity(identity_text)
        got = str(identity.to_public())
        if got != expected:
            raise InvalidInput("field_invalid", field="identity", detail=(
                f"bukan kunci pemulihan kantor ini (sidik jari "
                f"{crypto.recipient_fingerprint(got)}, seharusnya "
                f"{crypto.recipient_fingerprint(expected)})",
                f"not this office's recovery key (fingerprint "
                f"{crypto.recipient_fingerprint(got)}, expected "
                f"{crypto.recipient_fingerprint(expected)})"))
        mnemonics = core_shares.split(identity, shares=shares, threshold=threshold)
    except BrankasError as exc:
        audit_record(actor=actor.username, action="recovery.split", outcome="failed",
                     detail={"shares": shares, "threshold": threshold, "error": exc.code})
        raise
    identifier = core_shares.parse("1", mnemonics[0]).identifier
    with transaction.atomic():
        split = RecoverySplit.objects.create(
            identifier=identifier, threshold=threshold, shares=shares,
            recovery_fingerprint=crypto.recipient_fingerprint(expected), created_by=actor)
        audit_record(actor=actor.username, action="recovery.split", target=str(identifier),
                     detail={"identifier": identifier, "shares": shares,
                             "threshold": threshold,
                             "recovery_fingerprint": split.recovery_fingerprint})
    return SplitResult(split=split, mnemonics=mnemonics)


def recovery_check(*, actor: User, shares: ShareTexts) -> str:
    """Prove that these shares rebuild the office recovery key, without opening anything;
    returns the key's fingerprint and records the check on the split (audited
    ``recovery.check``, a refusal too)."""
    require_audited(actor, Action.RECOVERY_CHECK)
    try:
        identity, identifier = _rebuild(shares)
    except BrankasError as exc:
        audit_record(actor=actor.username, action="recovery.check", outcome="failed",
                     detail={"files": _names(shares), "error": exc.code})
        raise
    fingerprint = crypto.recipient_fingerprint(str(identity.to_public()))
    del identity
    with transaction.atomic():
        recorded = _mark_checked(identifier)
        audit_record(actor=actor.username, action="recovery.check", target=str(identifier),
                     detail={"identifier": identifier, "shares": len(shares),
                             "fingerprint": fingerprint, "recorded_split": recorded})
    return fingerprint


def split_sheets(result: SplitResult, *, actor: User) -> list[ShareSheet]:
    """The printable sheets of a split, share 1 to N."""
    split = result.split
    office = Office.objects.get()
    date = timezone.localtime(split.created_at).strftime("%Y-%m-%d")
    footer = (f"Dicetak oleh {actor.username} pada "
              f"{timezone.localtime(split.created_at):%Y-%m-%d %H:%M} - Brankas {__version__}")
    return [ShareSheet(office=office.name, number=i, shares=split.shares,
                       threshold=split.threshold, date=date, identifier=split.identifier,
                       fingerprint=split.recovery_fingerprint, mnemonic=m, footer=footer)
            for i, m in enumerate(result.mnemonics, start=1)]
