"""Revocation: a holder's keys out of every future encryption, at once and for good.

``key_revoke`` (the admin) marks every key of the holder revoked: no new file, backup or
combination is encrypted to them, and Brankas no longer opens anything with them
(``key_revoked``). With ``rekey`` the working archive is re-encrypted under fresh file keys
to the remaining readers (``grants.key_rekey``; the admin holds no key, so it needs the
recovery shares). What a revoked key can still open is what backup disks already carry
(append-only): ``still_opens`` lists it per disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from pyrage import x25519

from brankas.core.access import Action
from brankas.core.errors import BrankasError, InvalidInput, SetupError
from brankas.web.accounts.models import User
from brankas.web.accounts.selectors import user_get
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.backup.models import BackupCopy, Medium
from brankas.web.documents.models import Document
from brankas.web.keys.grants import RewrapSummary, key_rekey
from brankas.web.keys.models import HolderKey, SupersededCopy, SupersededFile
from brankas.web.keys.rewrap import OnProgress, letter_media
from brankas.web.keys.selectors import REFUSED_WITHOUT_HOLDER, Purpose, recovery_only_counts
from brankas.web.keys.services import keys_write_files
from brankas.web.sendrequests.models import SendRequest


@dataclass
class DiskExposure:
    """What the revoked keys can still open on one backup disk: the agenda numbers of the
    documents and the letter numbers (P-00012) whose copies there are encrypted to them."""

    medium_label: str
    medium_id: str
    documents: list[str] = field(default_factory=list)
    letters: list[str] = field(default_factory=list)


@dataclass
class RevokeResult:
    holder: str
    fingerprints: list[str]  # every key of the holder, now revoked
    newly_revoked: list[str]
    rekey: RewrapSummary | None
    still_opens: list[DiskExposure]
    # Exempted documents and letters no active holder opens any more (the recovery key
    # alone): a revocation before the hand-over, or of the last holder.
    recovery_only: int = 0


def key_revoke(*, actor: User, holder: str, rekey: bool = False,
               recovery: x25519.Identity | None = None,
               on_progress: OnProgress | None = None) -> RevokeResult:
    """Revoke every key of ``holder`` (audited ``key.revoke``); with ``rekey``, re-encrypt
    the working archive to the remaining readers with the recovery identity."""
    require_audited(actor, Action.REVOKE_KEY, target=holder)
    try:
        user, keys = _revocable(holder, rekey=rekey, recovery=recovery)
    except BrankasError as exc:  # a refusal is audited too, with its reason
        audit_record(actor=actor.username, action="key.revoke", target=holder,
                     outcome="failed", detail={"error": exc.code, "rekey": rekey})
        raise
    now = timezone.now()
    fresh = [k for k in keys if k.revoked_at is None]
    with transaction.atomic():
        HolderKey.objects.filter(pk__in=[k.pk for k in fresh]).update(
            revoked_at=now, revoked_by=actor)
        audit_record(actor=actor.username, action="key.revoke", target=user.username,
                     detail={"fingerprints": [k.fingerprint for k in fresh],
                             "already": [k.fingerprint for k in keys if k.revoked_at],
                             "rekey": rekey})
        keys_write_files()  # recipients.txt no longer names them
    summary = None
    if rekey:
        summary = key_rekey(actor=actor, recovery=recovery, on_progress=on_progress,
                            revoked_key=(fresh or keys)[-1])
    fingerprints = [k.fingerprint for k in keys]
    documents, letters = recovery_only_counts()
    return RevokeResult(holder=user.username, fingerprints=fingerprints,
                        newly_revoked=[k.fingerprint for k in fresh], rekey=summary,
                        still_opens=still_opens(fingerprints),
                        recovery_only=documents + letters)


def _revocable(holder: str, *, rekey: bool,
               recovery: x25519.Identity | None) -> tuple[User, list[HolderKey]]:
    """The holder and their keys, or the reason this revocation is refused before anything
    changes."""
    user = user_get(holder)
    if rekey and recovery is None:
        raise InvalidInput("field_invalid", field="shares",
                           detail=("--rekey memerlukan bagian kunci pemulihan (admin tidak "
                                   "memegang kunci)",
                                   "--rekey needs the recovery shares (the admin holds no key)"))
    keys = list(HolderKey.objects.filter(holder=user).order_by("created_at"))
    if not keys:
        raise InvalidInput("grant_no_key", username=user.username)
    if rekey and not HolderKey.objects.active().exclude(holder=user).exists():
        # No reader would be left to rekey to: refused before the revocation, not after.
        raise SetupError(REFUSED_WITHOUT_HOLDER[Purpose.DOCUMENT])
    return user, keys


def still_opens(fingerprints: list[str]) -> list[DiskExposure]:
    """Per backup disk, the documents and letters whose copies there are encrypted to one
    of ``fingerprints``: current versions (``BackupCopy``; for letters, the disks backed up
    since the version was made) and superseded ones (``SupersededCopy``)."""
    wanted = set(fingerprints)
    found: dict[int, DiskExposure] = {}

    def disk(medium: Medium) -> DiskExposure:
        if medium.pk not in found:
            found[medium.pk] = DiskExposure(medium.label, medium.medium_id)
        return found[medium.pk]

    media = {m.pk: m for m in Medium.objects.all()}
    copies = (BackupCopy.objects.exclude(document__suite="")
              .values_list("medium_id", "document__agenda", "document__recipients"))
    for medium_id, agenda, recipients in copies.iterator():
        if wanted & set(recipients or ()):
            disk(media[medium_id]).documents.append(agenda)
    agendas = dict(Document.objects.filter(
        pk__in=SupersededFile.objects.filter(kind=SupersededFile.DOCUMENT)
        .values("object_id")).values_list("pk", "agenda"))
    old = (SupersededCopy.objects.select_related("superseded")
           .values_list("medium_id", "superseded__kind", "superseded__object_id",
                        "superseded__recipients"))
    for medium_id, kind, object_id, recipients in old.iterator():
        if not wanted & set(recipients or ()):
            continue
        if kind == SupersededFile.DOCUMENT:
            disk(media[medium_id]).documents.append(agendas.get(object_id, f"#{object_id}"))
        else:
            disk(media[medium_id]).letters.append(f"P-{object_id:05d}")
    now = timezone.now()
    letters = (SendRequest.objects.exclude(letter_suite="").exclude(letter_path="")
               .values_list("pk", "letter_recipients"))
    for pk, recipients in letters.iterator():
        if wanted & set(recipients or ()):
            for medium_id in letter_media(pk, before=now):
                disk(media[medium_id]).letters.append(f"P-{pk:05d}")
    out = []
    for exposure in sorted(found.values(), key=lambda e: (e.medium_label, e.medium_id)):
        exposure.documents = sorted(set(exposure.documents))
        exposure.letters = sorted(set(exposure.letters))
        out.append(exposure)
    return out
