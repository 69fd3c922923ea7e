"""Key holders' identities and the recipients every exempted document is encrypted to."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from brankas.core import crypto, fsutil
from brankas.core.access import Action
from brankas.core.errors import AccessDenied, InvalidInput, SetupError
from brankas.core.names import safe_component
from brankas.core.passphrase import check_passphrase
from brankas.core.terms import KEY_HOLDER_ROLES, Role
from brankas.web.accounts.models import Office, User
from brankas.web.accounts.selectors import user_get
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.keys.models import HolderKey
from brankas.web.runtime import brankas_settings

RECOVERY = "recovery"


@dataclass(frozen=True)
class Recipient:
    fingerprint: str
    recipient: str
    holder: str  # username, or "recovery"


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
        retired = list(HolderKey.objects.filter(holder=holder, retired_at__isnull=True))
        HolderKey.objects.filter(pk__in=[k.pk for k in retired]).update(retired_at=now)
        key = HolderKey.objects.create(
            holder=holder,
            recipient=pair.recipient,
            fingerprint=crypto.recipient_fingerprint(pair.recipient),
            protected_identity=protected,
            suite=crypto.SUITE,
        )
        audit_record(
            actor=actor.username,
            action="key.create",
            target=holder.username,
            detail={"fingerprint": key.fingerprint, "retired": [k.fingerprint for k in retired]},
        )
        keys_write_files()  # inside: a failure here leaves no key that has no file
    return key


def recipients_active() -> list[Recipient]:
    """Every active key holder's recipient plus the office recovery recipient.

    Refuses when no key holder exists: an exempted document encrypted only to the
    recovery key could be read by nobody in the office."""
    holders = [
        Recipient(k.fingerprint, k.recipient, k.holder.username)
        for k in HolderKey.objects.filter(retired_at__isnull=True).select_related("holder")
        if k.holder.is_active
    ]
    if not holders:
        raise SetupError("no_key_holder")
    office = Office.objects.get()
    recovery = Recipient(
        crypto.recipient_fingerprint(office.recovery_recipient), office.recovery_recipient, RECOVERY
    )
    return [*holders, recovery]


def identities_unlock(*, user: User, fingerprints: list[str], passphrase: str, agenda: str):  # type: ignore[no-untyped-def]
    """The user's identities among ``fingerprints``, unlocked with the passphrase."""
    keys = list(HolderKey.objects.filter(holder=user, fingerprint__in=fingerprints))
    if not keys:
        raise AccessDenied("no_key_for_document", username=user.username, agenda=agenda)
    return [crypto.unlock_identity(bytes(k.protected_identity), passphrase, username=user.username)
            for k in keys]


def key_file_name(key: HolderKey) -> str:
    """The identity file's name, in ``BRANKAS_HOME/keys`` and on a backup disk."""
    return f"{safe_component(key.holder.username, max_len=60)}-{key.fingerprint}.age"


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
    passphrase file (``age -d -i <file>`` asks for the holder's passphrase) and a
    ``recipients.txt`` that the ``age -R`` option reads."""
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
    text = recipients_text(office.recovery_recipient if office else None,
                           [k for k in keys if k.active])
    with fsutil.staged_file(settings.tmp) as (staged, fh):
        fh.write(text)
    target = folder / "recipients.txt"
    import os

    os.replace(staged, target)
    fsutil.fsync_dir(folder)
