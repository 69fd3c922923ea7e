"""Keys, and the one answer to "who receives an exempted file" (``recipients_for``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Q, QuerySet

from brankas.core import crypto
from brankas.core.access import require_combination
from brankas.core.errors import InvalidInput, SetupError
from brankas.core.terms import KEY_HOLDER_ROLES, ROLE_LABELS, Role
from brankas.web.accounts.models import Office, User
from brankas.web.keys.models import HolderKey
from brankas.web.runtime import brankas_settings

RECOVERY = "recovery"


def key_list() -> QuerySet[HolderKey]:
    return HolderKey.objects.select_related("holder").order_by("holder__username", "created_at")


def user_has_key(user_id: int) -> bool:
    """The user holds an active key (``HolderKey.objects.active``)."""
    return HolderKey.objects.active().filter(holder_id=user_id).exists()


def users_with_key() -> set[int]:
    """The ids of the users who hold an active key."""
    return set(HolderKey.objects.active().values_list("holder_id", flat=True))


def any_key_holder() -> bool:
    """Some user holds an active key (else no exempted document can be registered)."""
    return HolderKey.objects.active().exists()


def key_holder_candidates() -> QuerySet[User]:
    """The active users whose role holds a key: whom an admin may make a key for."""
    return User.objects.filter(role__in=[r.value for r in KEY_HOLDER_ROLES],
                               is_active=True).order_by("role", "username")


# -- who receives an exempted file -----------------------------------------------------

class Purpose(StrEnum):
    """What is being encrypted. Each purpose has one set of readers (``recipients_for``)."""

    DOCUMENT = "document"  # an exempted document: registration and import
    LETTER = "letter"  # an exempted request letter (``permintaan/``)
    REGISTER = "register"  # the full register on a backup disk
    SNAPSHOT = "snapshot"  # the database snapshot on a backup disk
    AUDIT_TAIL = "audit-tail"  # the audit entries a run carries after its snapshot
    COMBINATION = "combination"  # a safe's combination


# A document or letter encrypted to the recovery key alone could be read by nobody in the
# office: refused. A backup disk is always written (the recovery key opens it). A
# combination has its own refusal, naming the roles that may read it.
REFUSED_WITHOUT_HOLDER = {Purpose.DOCUMENT: "no_key_holder", Purpose.LETTER: "no_key_holder",
                          Purpose.COMBINATION: "combination_no_holder"}


@dataclass(frozen=True)
class Recipient:
    fingerprint: str
    recipient: str
    holder: str  # username, or "recovery"


@dataclass(frozen=True)
class Recipients:
    """The readers of one encrypted file: the holders' active keys that may read it, and
    always the office recovery key (paper, in the safe)."""

    purpose: Purpose
    keys: tuple[HolderKey, ...]
    recovery: str  # the office recovery recipient (age1...)

    def all(self) -> list[Recipient]:
        """Every reader, the holders first, then the recovery key."""
        holders = [Recipient(k.fingerprint, k.recipient, k.holder.username) for k in self.keys]
        return [*holders, Recipient(crypto.recipient_fingerprint(self.recovery), self.recovery,
                                    RECOVERY)]

    def age(self) -> list[str]:
        """The age recipients to encrypt to."""
        return [r.recipient for r in self.all()]

    def holder_fingerprints(self) -> list[str]:
        """The holders' key fingerprints, sorted (the recovery key's left out)."""
        return sorted(k.fingerprint for k in self.keys)


def recipients_for(*, purpose: Purpose) -> Recipients:
    """Who receives a file encrypted for ``purpose``: every active key (of a role that may
    read a combination, for a combination) and the office recovery key. Refused, before
    anything is read or written, when the purpose needs a holder and there is none."""
    keys = HolderKey.objects.active().select_related("holder").order_by("created_at", "id")
    if purpose is Purpose.COMBINATION:
        roles = brankas_settings().combination_roles
        keys = keys.filter(holder__role__in=sorted(roles))
    found = tuple(keys)
    if not found and purpose in REFUSED_WITHOUT_HOLDER:
        code = REFUSED_WITHOUT_HOLDER[purpose]
        if purpose is Purpose.COMBINATION:
            names = ", ".join(ROLE_LABELS[Role(r)] for r in sorted(roles))
            raise SetupError(code, roles=names)
        raise SetupError(code)
    return Recipients(purpose=purpose, keys=found, recovery=Office.objects.get().recovery_recipient)


def recipients_adding(fingerprints: Sequence[str], key: HolderKey, *,
                      purpose: Purpose) -> Recipients:
    """Who receives an existing file re-encrypted so that ``key`` opens it too (a grant):
    its current readers that are still active keys, ``key`` itself, and the office
    recovery key. ``fingerprints`` are the file's recipients as recorded (the recovery
    key's among them or not: the current recovery key is always added).

    A reader whose key was replaced by a newer key of the same holder (retired, not
    revoked) reads on through that holder's active key, so a grant never takes a file
    away from a holder who renewed their key. A revoked key, and the key of a user no
    longer active, receive nothing. For a combination, only the roles that may read one
    (``combination_roles``); ``key`` must be of one of them.

    Refused when ``key`` is revoked (``key_revoked``) or otherwise not active
    (``grant_no_key``)."""
    fresh = HolderKey.objects.select_related("holder").get(pk=key.pk)
    if fresh.revoked_at is not None:
        raise InvalidInput("key_revoked", username=fresh.holder.username,
                           fingerprint=fresh.fingerprint)
    if not fresh.active:
        raise InvalidInput("grant_no_key", username=fresh.holder.username)
    keys = HolderKey.objects.active().select_related("holder")
    if purpose is Purpose.COMBINATION:
        roles = brankas_settings().combination_roles
        require_combination(fresh.holder.role, roles)
        keys = keys.filter(holder__role__in=sorted(roles))
    listed = list(fingerprints)
    renewed = HolderKey.objects.filter(fingerprint__in=listed, retired_at__isnull=False,
                                       revoked_at__isnull=True).values("holder_id")
    found = keys.filter(Q(fingerprint__in=listed) | Q(holder_id__in=renewed) | Q(pk=fresh.pk))
    return Recipients(purpose=purpose, keys=tuple(found.order_by("created_at", "id")),
                      recovery=Office.objects.get().recovery_recipient)
