"""A holder's own key over time: changing its passphrase, and proving the passphrase still
opens it (the key check). Both act on one's own key only, and both are audited.

A passphrase change re-protects the identity (the same key: nothing is re-encrypted) and
gives its file a new name (``keys.services.key_file_name``, ``-p<N>-``), so the next
backup carries the new file beside the old one. Backup disks are append-only: the file
under the old passphrase stays on the disks written before, and the old passphrase still
opens it there."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from brankas.core import crypto
from brankas.core.access import Action
from brankas.core.errors import (
    AccessDenied,
    BrankasError,
    CryptoFailure,
    IntegrityFailure,
    InvalidInput,
)
from brankas.core.passphrase import check_passphrase
from brankas.web.accounts.models import User
from brankas.web.accounts.selectors import user_get
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.keys.models import HolderKey
from brankas.web.keys.services import key_file_name, keys_write_files


def _own_key(actor: User, holder: User | str, action: Action, audit: str) -> HolderKey:
    """The acting holder's current key; refused (and audited) for another's key, for a
    holder with no key, or a revoked one."""
    user = holder if isinstance(holder, User) else user_get(holder)
    require_audited(actor, action, target=user.username)
    refused: BrankasError | None = None
    key = None
    if user.pk != actor.pk:
        refused = AccessDenied("key_not_own", username=user.username)
    else:
        key = HolderKey.objects.unretired().filter(holder=user).order_by("-created_at").first()
        if key is None:
            revoked = HolderKey.objects.filter(holder=user, revoked_at__isnull=False).last()
            refused = (AccessDenied("key_revoked", username=user.username,
                                    fingerprint=revoked.fingerprint) if revoked
                       else InvalidInput("key_not_holder", username=user.username))
    if refused is not None or key is None:
        assert refused is not None
        audit_record(actor=actor.username, action=audit, target=user.username,
                     outcome="denied", detail={"error": refused.code})
        raise refused
    return key


def _unlock(actor: User, key: HolderKey, passphrase: str, audit: str) -> object:
    try:
        return crypto.unlock_identity(bytes(key.protected_identity), passphrase,
                                      username=key.holder.username)
    except CryptoFailure as exc:
        audit_record(actor=actor.username, action=audit, target=key.holder.username,
                     outcome="failed", detail={"error": exc.code,
                                               "fingerprint": key.fingerprint})
        raise


def key_passphrase_change(*, actor: User, holder: User | str, old: str, new: str) -> HolderKey:
    """Protect the holder's identity with a new passphrase (the old one required). Every
    other unrevoked key of the holder that the old passphrase opens (retired keys, which
    still open earlier documents) is re-protected too. Returns the current key."""
    key = _own_key(actor, holder, Action.CHANGE_PASSPHRASE, "key.passphrase")
    user = key.holder
    identity = _unlock(actor, key, old, "key.passphrase")
    try:
        if new == old:
            raise InvalidInput("passphrase_same")
        check_passphrase(new, user_inputs=[user.username, user.full_name, user.nip])
    except BrankasError as exc:  # the new passphrase refused: audited, with its reason
        audit_record(actor=actor.username, action="key.passphrase", target=user.username,
                     outcome="failed", detail={"error": exc.code,
                                               "fingerprint": key.fingerprint})
        raise
    changed: list[tuple[HolderKey, bytes]] = [
        (key, crypto.protect_identity(str(identity), new))]
    left: list[str] = []
    for other in HolderKey.objects.filter(holder=user, revoked_at__isnull=True).exclude(
            pk=key.pk):
        try:
            other_identity = crypto.unlock_identity(bytes(other.protected_identity), old,
                                                    username=user.username)
        except CryptoFailure:
            left.append(other.fingerprint)  # protected by another passphrase: left as is
            continue
        changed.append((other, crypto.protect_identity(str(other_identity), new)))
    old_names = {k.fingerprint: key_file_name(k) for k, _ in changed}
    with transaction.atomic():
        for k, protected in changed:
            k.protected_identity = protected
            k.protection += 1
            k.save(update_fields=["protected_identity", "protection"])
        audit_record(actor=actor.username, action="key.passphrase", target=user.username,
                     detail={"fingerprint": key.fingerprint, "protection": key.protection,
                             "keys": [{"fingerprint": k.fingerprint,
                                       "old_file": old_names[k.fingerprint],
                                       "file": key_file_name(k)} for k, _ in changed],
                             "left": left})
        keys_write_files()  # the new files in; the old ones out of keys/
    return key


def key_check(*, actor: User, holder: User | str, passphrase: str) -> HolderKey:
    """Prove that the passphrase opens the holder's current key, and that the identity
    inside is the recorded recipient; no document is opened. Sets ``last_checked_at``.
    Audited ``key.check`` ok, or failed (then refused: ``passphrase_wrong``)."""
    key = _own_key(actor, holder, Action.CHECK_KEY, "key.check")
    identity = _unlock(actor, key, passphrase, "key.check")
    public = str(identity.to_public())  # type: ignore[attr-defined]
    if public != key.recipient:
        refused = IntegrityFailure("key_check_mismatch", username=key.holder.username,
                                   fingerprint=key.fingerprint, recipient=key.recipient)
        audit_record(actor=actor.username, action="key.check", target=key.holder.username,
                     outcome="failed", detail={"error": refused.code,
                                               "fingerprint": key.fingerprint})
        raise refused
    with transaction.atomic():
        key.last_checked_at = timezone.now()
        key.save(update_fields=["last_checked_at"])
        audit_record(actor=actor.username, action="key.check", target=key.holder.username,
                     detail={"fingerprint": key.fingerprint})
    return key
