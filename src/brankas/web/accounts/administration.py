"""Administration an office needs (issue 14): deactivate and reactivate a user, change a
role, reset a password, change one's own, lift a lock-out, record a qualification.

Every change is audited, and so is every refusal of a rule (outcome ``failed``, with the
error's code); a role refusal is audited by ``require_audited``. The admin acts on others
(``manage-users``); changing one's own password is every user's (the old one is needed).

A user is never deleted: their name stays in the audit log, on the reports they signed and
on the records they made, so that history and signatures stay valid. Deactivating a key
holder, or moving them to a role that may hold no key, takes their keys out of every future
encryption through the key revocation (``keys.revocation.key_revoke``, without re-encrypting
the archive); what the keys can still open on backup disks is reported (``still_opens``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from brankas.core.access import Action
from brankas.core.errors import BrankasError, Conflict, InvalidInput, NotFound
from brankas.core.terms import KEY_HOLDER_ROLES, Role
from brankas.web.accounts import lockout
from brankas.web.accounts.models import Qualification, User
from brankas.web.accounts.selectors import user_get
from brankas.web.accounts.services import _check_password, _parse_role, user_authenticate
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record

if TYPE_CHECKING:
    from brankas.web.keys.revocation import RevokeResult

# What a refusal of acting on oneself names (``user_self``).
SELF_DEACTIVATE = ("menonaktifkan", "deactivate")
SELF_RESET = ("mengatur ulang kata sandi", "reset the password of")
SELF_ROLE = ("mengubah peran", "change the role of")


@dataclass(frozen=True)
class UserChange:
    """A user after a change; ``revoked``: their keys' revocation, when the change took a
    key holder out of encryption."""

    user: User
    revoked: RevokeResult | None = None
    old_role: str = ""
    # The safes whose current combination the revoked keys open: the user could read it,
    # and revocation cannot take that back. The combination must be changed.
    combinations: tuple[str, ...] = ()


def _refused(actor: User, action: str, target: str, exc: BrankasError,
             **detail: Any) -> BrankasError:
    """Audit a refused change (the rule and its code) and give the error back to raise."""
    audit_record(actor=actor.username, action=action, target=target, outcome="failed",
                 detail={"error": exc.code, **detail})
    return exc


def _other_active_admin(user: User) -> bool:
    return User.objects.filter(role=Role.ADMIN.value, is_active=True).exclude(
        pk=user.pk).exists()


def _lock_admins() -> None:
    """Inside a transaction, before the last-admin rule is checked: hold the active admins'
    rows until it ends (SQLite's IMMEDIATE transaction already holds the whole database),
    so that two changes made at once, each leaving "another admin", cannot both pass."""
    list(User.objects.select_for_update().filter(role=Role.ADMIN.value, is_active=True)
         .only("pk"))


def _holds_key(user: User) -> bool:
    from brankas.web.keys.models import HolderKey

    return HolderKey.objects.filter(holder=user, revoked_at__isnull=True).exists()


def _revoke_keys(actor: User, user: User) -> RevokeResult | None:
    """Take ``user``'s keys out of every future encryption (``key.revoke``), if they hold
    one not yet revoked."""
    if not _holds_key(user):
        return None
    from brankas.web.keys.revocation import key_revoke

    return key_revoke(actor=actor, holder=user.username)


def _end_sessions(user: User) -> int:
    """Delete ``user``'s web sessions; the number ended. Django already refuses the session
    of an inactive user, but a session kept would come back to life at reactivation, on
    whatever machine it was left open."""
    from django.contrib.sessions.models import Session

    mine = [s.pk for s in Session.objects.filter(expire_date__gt=timezone.now())
            if s.get_decoded().get(SESSION_KEY) == str(user.pk)]
    Session.objects.filter(pk__in=mine).delete()
    return len(mine)


def _release_requests(user: User) -> list[int]:
    """The open requests to send that wait for ``user`` alone now wait for any active user
    of that step's role (as a new request waits for any Kadis): nobody else could ever move
    them once ``user`` is deactivated or holds another role. Their numbers."""
    from brankas.core.chains.request import REQUEST, State
    from brankas.web.sendrequests.models import SendRequest

    held = [s.value for s in State if REQUEST.holder(s) is not None]
    numbers = list(SendRequest.objects.filter(assignee=user, state__in=held)
                   .order_by("pk").values_list("pk", flat=True))
    SendRequest.objects.filter(pk__in=numbers).update(assignee=None)
    return numbers


def _combinations_known(revoked: RevokeResult | None) -> tuple[str, ...]:
    """The safes whose current combination is encrypted to one of the revoked keys."""
    if revoked is None:
        return ()
    from brankas.web.custody.models import SafeCombination

    keys = set(revoked.fingerprints)
    return tuple(sorted({c.safe.name for c in SafeCombination.objects.select_related("safe")
                         .filter(superseded_at__isnull=True)
                         if keys & set(c.fingerprints)}))


def _revoked_detail(revoked: RevokeResult | None) -> dict[str, Any]:
    if revoked is None:
        return {}
    return {"revoked_keys": revoked.newly_revoked,
            "still_opens_disks": [e.medium_label for e in revoked.still_opens],
            "combinations_to_change": list(_combinations_known(revoked))}


# ---------------------------------------------------------------- active or not

def user_deactivate(*, actor: User, username: str) -> UserChange:
    """Deactivate ``username``: they can no longer sign in (web or command line) and their
    open sessions end; an active key holder's keys are revoked. Refused for oneself and
    for the last active admin."""
    require_audited(actor, Action.MANAGE_USERS, target=username)
    user = user_get(username)
    if user.pk == actor.pk:
        raise _refused(actor, "user.deactivate", user.username,
                       InvalidInput("user_self", what=SELF_DEACTIVATE))
    revoked: RevokeResult | None = None
    with transaction.atomic():
        _lock_admins()
        user = user_get(username)  # as it is now: another request may have changed it
        refusal: BrankasError | None = None
        if not user.is_active:
            refusal = Conflict("user_already_inactive", username=user.username)
        elif user.role == Role.ADMIN.value and not _other_active_admin(user):
            refusal = Conflict("user_last_admin", username=user.username)
        else:
            revoked = _revoke_keys(actor, user)
            user.is_active = False
            user.save(update_fields=["is_active"])
            ended = _end_sessions(user)
            released = _release_requests(user)
            audit_record(actor=actor.username, action="user.deactivate", target=user.username,
                         detail={"role": user.role, "sessions_ended": ended,
                                 "requests_released": released, **_revoked_detail(revoked)})
    if refusal is not None:  # audited after the transaction, which wrote nothing
        raise _refused(actor, "user.deactivate", user.username, refusal)
    return UserChange(user=user, revoked=revoked, combinations=_combinations_known(revoked))


def user_activate(*, actor: User, username: str) -> UserChange:
    """Reactivate ``username``. A key revoked at deactivation stays revoked: a holder who
    comes back makes a new key and is granted access (``key grant``)."""
    require_audited(actor, Action.MANAGE_USERS, target=username)
    user = user_get(username)
    if user.is_active:
        raise _refused(actor, "user.activate", user.username,
                       Conflict("user_already_active", username=user.username))
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        audit_record(actor=actor.username, action="user.activate", target=user.username,
                     detail={"role": user.role})
    return UserChange(user=user)


# ---------------------------------------------------------------- the role

def user_set_role(*, actor: User, username: str, role: str) -> UserChange:
    """Give ``username`` another SOP role. The last active admin keeps theirs; nobody changes
    their own (an admin would make themselves a key holder); a key holder moved to a role
    that holds no key (Sandiman, admin) has their keys revoked."""
    require_audited(actor, Action.MANAGE_USERS, target=username)
    new = _parse_role(role)
    revoked: RevokeResult | None = None
    with transaction.atomic():
        _lock_admins()
        user = user_get(username)  # as it is now: another request may have changed it
        old = Role(user.role)
        refusal: BrankasError | None = None
        if new is old:
            refusal = Conflict("role_unchanged", username=user.username, role=new.value)
        elif old is Role.ADMIN and user.is_active and not _other_active_admin(user):
            refusal = Conflict("user_last_admin", username=user.username)
        elif user.pk == actor.pk:  # an admin making themselves a key holder: another admin
            refusal = InvalidInput("user_self", what=SELF_ROLE)
        else:
            if new not in KEY_HOLDER_ROLES:
                revoked = _revoke_keys(actor, user)
            user.role = new.value
            user.save(update_fields=["role"])
            released = _release_requests(user)
            audit_record(actor=actor.username, action="user.role", target=user.username,
                         detail={"from": old.value, "to": new.value,
                                 "requests_released": released, **_revoked_detail(revoked)})
    if refusal is not None:  # audited after the transaction, which wrote nothing
        raise _refused(actor, "user.role", user.username, refusal, role=new.value)
    return UserChange(user=user, revoked=revoked, old_role=old.value,
                      combinations=_combinations_known(revoked))


# ---------------------------------------------------------------- passwords

def password_reset(*, actor: User, username: str, new_password: str) -> User:
    """The admin sets a new password for ``username`` (checked as at ``user add``); the user
    must change it at their next sign-in. Their open sessions end. Not for one's own
    password (``password_change``: the old one is needed)."""
    require_audited(actor, Action.MANAGE_USERS, target=username)
    user = user_get(username)
    if user.pk == actor.pk:
        raise _refused(actor, "user.password.reset", user.username,
                       InvalidInput("user_self", what=SELF_RESET))
    try:
        _check_password(new_password, user)
    except BrankasError as exc:
        raise _refused(actor, "user.password.reset", user.username, exc) from None
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        audit_record(actor=actor.username, action="user.password.reset", target=user.username)
    return user


def password_change(*, username: str, old_password: str, new_password: str,
                    request: HttpRequest | None = None, totp_token: str | None = None,
                    via: str = "web") -> User:
    """A user changes their own password: the old one authenticates (audited and counted by
    the lock-out as a sign-in; without ``request``, the command line, the authenticator
    code too), the new one is checked as at ``user add``. Clears the admin's "must change"."""
    user = user_authenticate(username=username, password=old_password, request=request)
    if request is None:
        from brankas.web.accounts.totp import totp_check

        totp_check(user=user, token=totp_token, via=via)
    if new_password == old_password:
        raise _refused(user, "user.password.change", user.username,
                       InvalidInput("password_same"), via=via)
    try:
        _check_password(new_password, user)
    except BrankasError as exc:
        raise _refused(user, "user.password.change", user.username, exc, via=via) from None
    with transaction.atomic():
        was_reset = user.must_change_password
        user.set_password(new_password)
        user.must_change_password = False
        user.save(update_fields=["password", "must_change_password"])
        audit_record(actor=user.username, action="user.password.change", target=user.username,
                     detail={"via": via, "after_reset": was_reset})
    return user


# ---------------------------------------------------------------- lock-outs

def user_unlock(*, actor: User, username: str) -> int:
    """Lift every lock-out of ``username`` (each address, and the command line) through
    django-axes; the number of attempt records removed. Refused when none is in force."""
    require_audited(actor, Action.MANAGE_USERS, target=username)
    user = user_get(username)
    locked = lockout.lockouts(user.username)
    if not locked:
        raise _refused(actor, "user.unlock", user.username,
                       Conflict("user_not_locked", username=user.username))
    removed = lockout.unlock(user.username)
    audit_record(actor=actor.username, action="user.unlock", target=user.username,
                 detail={"addresses": [lo.address or "cli" for lo in locked],
                         "attempts_removed": removed})
    return removed


# ---------------------------------------------------------------- qualifications

def parse_passed_on(value: str | dt.date) -> dt.date:
    """A date a training was passed: YYYY-MM-DD, not in the future."""
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidInput("qualification_date_invalid", value=value) from None
    if day > timezone.localdate():
        raise InvalidInput("qualification_date_invalid", value=day.isoformat())
    return day


def qualification_record(*, actor: User, username: str, training: str, passed_on: str | dt.date,
                         certificate_number: str = "") -> Qualification:
    """Record that ``username`` passed ``training`` (e.g. Diklat Sandiman) on ``passed_on``,
    with its certificate number: the SOP's KUALIFIKASI PELAKSANA."""
    require_audited(actor, Action.MANAGE_USERS, target=username)
    user = user_get(username)
    training = training.strip()
    certificate_number = certificate_number.strip()
    try:
        if not training:
            raise InvalidInput("field_required", field="training")
        for name, value, limit in (("training", training, 200),
                                   ("certificate", certificate_number, 100)):
            if len(value) > limit:
                raise InvalidInput("field_too_long", field=name, limit=limit)
        day = parse_passed_on(passed_on)
    except BrankasError as exc:
        raise _refused(actor, "user.qualify", user.username, exc) from None
    with transaction.atomic():
        record = Qualification.objects.create(
            user=user, training=training, certificate_number=certificate_number,
            passed_on=day, recorded_by=actor, recorded_at=timezone.now())
        audit_record(actor=actor.username, action="user.qualify", target=user.username,
                     detail={"qualification": record.pk, "training": training,
                             "certificate": certificate_number, "passed_on": day.isoformat()})
    return record


def qualification_withdraw(*, actor: User, username: str, number: int) -> Qualification:
    """Withdraw qualification ``number`` of ``username`` (recorded in error, or no longer
    valid); the record is kept, marked withdrawn."""
    require_audited(actor, Action.MANAGE_USERS, target=username)
    user = user_get(username)
    record = Qualification.objects.filter(user=user, pk=number).first()
    if record is None:
        raise _refused(actor, "user.qualification.withdraw", user.username,
                       NotFound("qualification_not_found", number=number,
                                    username=user.username))
    if record.withdrawn_at is not None:
        raise _refused(actor, "user.qualification.withdraw", user.username,
                       Conflict("qualification_withdrawn", number=number))
    with transaction.atomic():
        record.withdrawn_at = timezone.now()
        record.withdrawn_by = actor
        record.save(update_fields=["withdrawn_at", "withdrawn_by"])
        audit_record(actor=actor.username, action="user.qualification.withdraw",
                     target=user.username,
                     detail={"qualification": record.pk, "training": record.training})
    return record
