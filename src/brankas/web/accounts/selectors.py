from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from brankas.core.access import Action
from brankas.core.terms import Role
from brankas.web import changes
from brankas.web.accounts import lockout
from brankas.web.accounts.models import Office, Qualification, User
from brankas.web.audit.guard import Actor, require_audited
from brankas.web.runtime import get_or_not_found


def office_get() -> Office | None:
    """The office profile (one row). Read once per web GET request (``changes.per_request``:
    the page heading, the key warnings and a document's recipients share it); every call
    reads it elsewhere."""
    return changes.per_request("office_get", lambda: Office.objects.first())


def is_initialized() -> bool:
    return Office.objects.exists()


def user_get(username: str) -> User:
    return get_or_not_found(User.objects.all(), "user_not_found", username=username)


def user_list(*, actor: Actor, via: str = "", target: str = "") -> QuerySet[User]:
    """Every user, by role (manage-users: the admin's list; ``via`` and ``target`` describe
    a refusal in the audit log)."""
    require_audited(actor, Action.MANAGE_USERS, target=target, via=via)
    return User.objects.order_by("role", "username")


# ---------------------------------------------------------------- issue 14: administration

@dataclass(frozen=True)
class UserState:
    """A user as the admin's Users page shows them: active or not, locked out now (from
    where), and their qualifications in force."""

    user: User
    lockouts: list[lockout.Lockout]
    qualifications: list[Qualification]
    withdrawn: list[Qualification]

    @property
    def locked(self) -> bool:
        return bool(self.lockouts)


def user_states(*, actor: Actor, via: str = "", target: str = "") -> list[UserState]:
    """Every user with their state (manage-users)."""
    users = list(user_list(actor=actor, via=via, target=target))
    locked: dict[str, list[lockout.Lockout]] = {}
    for lo in lockout.lockouts():
        locked.setdefault(lo.username, []).append(lo)
    records: dict[int, list[Qualification]] = {}
    for q in Qualification.objects.filter(user__in=users).order_by("-passed_on", "-id"):
        records.setdefault(q.user_id, []).append(q)
    return [UserState(user=u, lockouts=locked.get(u.username, []),
                      qualifications=[q for q in records.get(u.pk, []) if q.withdrawn_at is None],
                      withdrawn=[q for q in records.get(u.pk, []) if q.withdrawn_at is not None])
            for u in users]


def user_state(*, actor: Actor, username: str, via: str = "") -> UserState:
    """One user's state (manage-users)."""
    require_audited(actor, Action.MANAGE_USERS, target=username, via=via)
    user = user_get(username)
    records = list(Qualification.objects.filter(user=user).order_by("-passed_on", "-id"))
    return UserState(user=user, lockouts=lockout.lockouts(user.username),
                     qualifications=[q for q in records if q.withdrawn_at is None],
                     withdrawn=[q for q in records if q.withdrawn_at is not None])


def lockouts_now(*, actor: Actor, via: str = "") -> list[lockout.Lockout]:
    """The lock-outs in force (manage-users: the admin's dashboard notice)."""
    require_audited(actor, Action.MANAGE_USERS, via=via)
    return lockout.lockouts()


def unqualified_sandimans() -> list[User]:
    """Active users in the Sandiman role with no qualification in force (the SOP's
    KUALIFIKASI PELAKSANA: staff who passed the Diklat Sandiman)."""
    qualified = Qualification.objects.filter(withdrawn_at__isnull=True).values("user_id")
    return list(User.objects.filter(role=Role.SANDIMAN.value, is_active=True)
                .exclude(pk__in=qualified).order_by("username"))


def own_qualifications(user: User) -> list[Qualification]:
    """The signed-in user's own qualifications in force (my account)."""
    return list(Qualification.objects.filter(user=user, withdrawn_at__isnull=True)
                .order_by("-passed_on", "-id"))
