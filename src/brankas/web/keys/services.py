"""Key holders' identities: making them, unlocking them, and their files under ``keys/``.

Who receives an exempted file is ``keys.selectors.recipients_for``."""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from brankas.core import crypto, fsutil
from brankas.core.access import Action
from brankas.core.disk import seal as diskseal
from brankas.core.errors import AccessDenied, InvalidInput
from brankas.core.names import safe_component
from brankas.core.passphrase import check_passphrase
from brankas.core.terms import KEY_HOLDER_ROLES, Role
from brankas.web.accounts.models import Office, User
from brankas.web.accounts.selectors import user_get
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.keys.models import HolderKey, OfficeKey
from brankas.web.keys.selectors import RECOVERY
from brankas.web.runtime import brankas_settings


def key_create(*, actor: User, holder_username: str, passphrase: str) -> HolderKey:
    holder = user_get(holder_username)
    # One's own key is own-key (key holders); a key for someone else is manage-keys (admin).
    own = holder.pk == actor.pk
    require_audited(actor, Action.OWN_KEY if own else Action.MANAGE_KEYS,
                    target=holder_username)
    if Role(holder.role) not in KEY_HOLDER_ROLES:
        raise InvalidInput("not_key_holder_role", username=holder.username, role=holder.role)
    check_passphrase(passphrase, user_inputs=[holder.username, holder.full_name, holder.nip])
    pair = crypto.generate()
    protected = crypto.protect_identity(pair.identity, passphrase)
    now = timezone.now()
    with transaction.atomic():
        retired = list(HolderKey.objects.unretired().filter(holder=holder))
        HolderKey.objects.filter(pk__in=[k.pk for k in retired]).update(retired_at=now)
        signing = office_key()
        fingerprint = crypto.recipient_fingerprint(pair.recipient)
        key = HolderKey.objects.create(
            holder=holder,
            recipient=pair.recipient,
            fingerprint=fingerprint,
            protected_identity=protected,
            suite=crypto.SUITE,
            anchor=_anchor(signing, fingerprint, pair.identity),
            anchor_office_key=signing.fingerprint,
        )
        audit_record(
            actor=actor.username,
            action="key.create",
            target=holder.username,
            detail={"fingerprint": key.fingerprint, "retired": [k.fingerprint for k in retired]},
        )
        keys_write_files()  # inside: a failure here leaves no key that has no file
    return key


def identities_unlock(*, user: User, fingerprints: list[str], passphrase: str, agenda: str):  # type: ignore[no-untyped-def]
    """The user's identities among ``fingerprints``, unlocked with the passphrase."""
    mine = list(HolderKey.objects.filter(holder=user, fingerprint__in=fingerprints))
    # A revoked key opens nothing through Brankas (its holder left, or it was stolen);
    # retired keys still open what was encrypted to them.
    keys = [k for k in mine if not k.revoked]
    if not keys and mine:
        raise AccessDenied("key_revoked", username=user.username,
                           fingerprint=", ".join(k.fingerprint for k in mine))
    if not keys:
        raise AccessDenied("no_key_for_document", username=user.username, agenda=agenda)
    # A revoked key opens nothing through Brankas any more (``key revoke``): what a copy of
    # it still opens is the backup disks' old versions, never the working archive.
    usable = [k for k in keys if k.revoked_at is None]
    if not usable:
        raise AccessDenied("key_revoked", username=user.username, fingerprint=keys[0].fingerprint)
    keys = usable
    identities = [crypto.unlock_identity(bytes(k.protected_identity), passphrase,
                                         username=user.username) for k in keys]
    anchors_fill(keys, identities)
    return identities


# -- the office signing key and its anchors (``core.disk.seal``) ------------------------

def office_key() -> OfficeKey:
    """The office's active signing key (made on first need for an office set up before
    backups were sealed)."""
    key = OfficeKey.objects.filter(retired_at__isnull=True).order_by("-created_at").first()
    if key is not None:
        return key
    pair = diskseal.generate()
    return OfficeKey.objects.create(public=pair.public, private=pair.private,
                                    fingerprint=pair.fingerprint)


def office_keys_trusted() -> set[str]:
    """Every signing key this office has used (a disk keeps seals of older keys)."""
    return set(OfficeKey.objects.values_list("public", flat=True))


def _anchor(signing: OfficeKey, holder: str, identity: str) -> bytes:
    office = Office.objects.first()
    return diskseal.anchor_bytes(public=signing.public, office=office.name if office else "",
                                 holder=holder, secret=identity)


def anchors_fill(keys: list[HolderKey], identities: list[object]) -> None:
    """Give each unlocked key the anchor of the current office key, if it lacks one: the
    identity is in memory now, and an anchor can only be made with it."""
    signing = office_key()
    for key, identity in zip(keys, identities, strict=True):
        if key.anchor_office_key == signing.fingerprint and bytes(key.anchor):
            continue
        key.anchor = _anchor(signing, key.fingerprint, str(identity))
        key.anchor_office_key = signing.fingerprint
        key.save(update_fields=["anchor", "anchor_office_key"])
        keys_write_files()


def recovery_anchor_set(*, identity_text: str) -> OfficeKey:
    """Anchor the office key with the office recovery identity (at set-up, or later with
    the paper key: ``brankas key anchor --identity FILE``)."""
    identity = crypto.parse_identity(identity_text)
    office = Office.objects.get()
    if str(identity.to_public()) != office.recovery_recipient:
        raise InvalidInput("field_invalid", field="identity",
                           detail=("bukan identitas pemulihan kantor ini",
                                   "not this office's recovery identity"))
    signing = office_key()
    signing.recovery_anchor = _anchor(signing, RECOVERY, str(identity))
    signing.save(update_fields=["recovery_anchor"])
    keys_write_files()
    return signing


def anchor_with_recovery_allowed(actor: User) -> None:
    """May ``actor`` anchor the office key with the recovery identity (the admin, or a key
    holder with the paper from the safe)? Refused and audited if not: asked before the
    identity is rebuilt from shares."""
    action = Action.MANAGE_KEYS if actor.role == Role.ADMIN.value else Action.OWN_KEY
    require_audited(actor, action, target=RECOVERY)


def key_anchor(*, actor: User, identity_text: str | None = None,
               passphrase: str | None = None) -> list[str]:
    """Anchor the office key: with the recovery identity (an admin or a key holder who has
    the paper from the safe), or with the acting holder's own keys and passphrase. Returns
    what was anchored; audited."""
    if identity_text is not None:
        anchor_with_recovery_allowed(actor)
        with transaction.atomic():
            signing = recovery_anchor_set(identity_text=identity_text)
            audit_record(actor=actor.username, action="key.anchor", target=RECOVERY,
                         detail={"office_key": signing.fingerprint})
        return [f"{RECOVERY}: {signing.fingerprint}"]
    require_audited(actor, Action.OWN_KEY, target=actor.username)
    held = list(HolderKey.objects.filter(holder=actor))
    if not held:
        raise AccessDenied("no_key_for_document", username=actor.username, agenda="-")
    keys = [k for k in held if not k.revoked]  # a revoked key vouches for nothing any more
    if not keys:
        raise AccessDenied("key_revoked", username=actor.username, fingerprint=held[0].fingerprint)
    identities = [crypto.unlock_identity(bytes(k.protected_identity), passphrase or "",
                                         username=actor.username) for k in keys]
    with transaction.atomic():
        anchors_fill(keys, identities)
        signing = office_key()
        audit_record(actor=actor.username, action="key.anchor", target=actor.username,
                     detail={"office_key": signing.fingerprint,
                             "keys": [k.fingerprint for k in keys]})
    return [f"{k.holder.username} {k.fingerprint}: {signing.fingerprint}" for k in keys]


def anchor_file_name(holder: str, holder_fingerprint: str, office_fingerprint: str) -> str:
    """An anchor's file name under ``keys/anchors/`` (the laptop) and on a disk."""
    return (f"{safe_component(holder, max_len=60)}-{holder_fingerprint}-"
            f"{office_fingerprint.replace('-', '')[:8]}.json")


def anchor_files() -> list[tuple[str, bytes]]:
    """(name, bytes) of every anchor this office has: each holder key's and the recovery
    identity's, for ``keys/anchors/`` and the backup disks."""
    out = []
    for k in HolderKey.objects.select_related("holder").exclude(anchor_office_key=""):
        if bytes(k.anchor):
            out.append((anchor_file_name(k.holder.username, k.fingerprint, k.anchor_office_key),
                        bytes(k.anchor)))
    office = Office.objects.first()
    recovery_fp = crypto.recipient_fingerprint(office.recovery_recipient) if office else ""
    for signing in OfficeKey.objects.all():
        if bytes(signing.recovery_anchor):
            out.append((anchor_file_name(RECOVERY, recovery_fp, signing.fingerprint),
                        bytes(signing.recovery_anchor)))
    return out


def key_file_name(key: HolderKey) -> str:
    """The identity file's name, in ``BRANKAS_HOME/keys`` and on a backup disk:
    ``<holder>-<fingerprint>.age``, and ``<holder>-p<N>-<fingerprint>.age`` once the
    passphrase was changed (protection N): a disk is append-only, so the identity under a
    new passphrase needs a new name (the old file stays on the disks that carry it)."""
    holder = safe_component(key.holder.username, max_len=60)
    if key.protection > 1:
        return f"{holder}-p{key.protection}-{key.fingerprint}.age"
    return f"{holder}-{key.fingerprint}.age"


def _stale_key_files(folder: Path, keys: list[HolderKey]) -> list[Path]:
    """Identity files in ``folder`` of these keys under an earlier protection's name."""
    current = {key_file_name(k) for k in keys}
    fingerprints = {k.fingerprint for k in keys}
    return [path for path in folder.glob("*.age")
            if path.name not in current
            and path.name.removesuffix(".age").rpartition("-")[2] in fingerprints]


def recipients_text(recovery_recipient: str | None, keys: list[HolderKey]) -> bytes:
    """A ``recipients.txt`` for ``age -R``: the recovery recipient and the given keys."""
    lines = ["# Brankas recipients (age X25519). Usage: age -R recipients.txt -o out.age in"]
    if recovery_recipient:
        lines += [f"# office recovery key ({RECOVERY})", recovery_recipient]
    for k in keys:
        lines += [f"# {k.holder.username} ({k.holder.role}) {key_file_name(k)}", k.recipient]
    return ("\n".join(lines) + "\n").encode("utf-8")


def keys_write_files() -> None:
    """Keep ``BRANKAS_HOME/keys`` in step with the database: each identity as an age
    passphrase file (``age -d -i <file>`` asks for the holder's passphrase), a
    ``recipients.txt`` that the ``age -R`` option reads, and the office key's anchors
    (``anchors/``)."""
    import os

    settings = brankas_settings()
    folder = settings.keys
    fsutil.make_private_dir(folder)
    office = Office.objects.first()
    keys = list(HolderKey.objects.select_related("holder"))
    for k in keys:
        path = folder / key_file_name(k)
        if not path.exists():
            with fsutil.staged_file(settings.tmp) as (staged, fh):
                fh.write(bytes(k.protected_identity))
            fsutil.publish(staged, path)
    for stale in _stale_key_files(folder, keys):  # the identity under an old passphrase
        with contextlib.suppress(OSError):  # Windows: in use; removed on the next call
            stale.unlink()
    anchors = anchor_files()
    if anchors:
        fsutil.make_private_dir(folder / diskseal.ANCHORS_DIR)
    for name, data in anchors:
        path = folder / diskseal.ANCHORS_DIR / name
        if not path.exists():
            with fsutil.staged_file(settings.tmp) as (staged, fh):
                fh.write(data)
            fsutil.publish(staged, path)
    text = recipients_text(office.recovery_recipient if office else None,
                           [k for k in keys if k.active])
    with fsutil.staged_file(settings.tmp) as (staged, fh):
        fh.write(text)
    target = folder / "recipients.txt"
    os.replace(staged, target)
    fsutil.fsync_dir(folder)
