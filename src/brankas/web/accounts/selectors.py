from __future__ import annotations

from django.db.models import QuerySet

from brankas.core.access import Action
from brankas.web.accounts.models import Office, User
from brankas.web.audit.guard import Actor, require_audited
from brankas.web.runtime import get_or_not_found


def office_get() -> Office | None:
    return Office.objects.first()


def is_initialized() -> bool:
    return Office.objects.exists()


def user_get(username: str) -> User:
    return get_or_not_found(User.objects.all(), "user_not_found", username=username)


def user_list(*, actor: Actor, via: str = "", target: str = "") -> QuerySet[User]:
    """Every user, by role (manage-users: the admin's list; ``via`` and ``target`` describe
    a refusal in the audit log)."""
    require_audited(actor, Action.MANAGE_USERS, target=target, via=via)
    return User.objects.order_by("role", "username")
