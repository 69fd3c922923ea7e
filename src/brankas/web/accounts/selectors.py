from __future__ import annotations

from django.db.models import QuerySet

from brankas.core.access import Action
from brankas.core.errors import NotFound
from brankas.web.accounts.models import Office, User
from brankas.web.audit.guard import Actor, require_audited


def office_get() -> Office | None:
    return Office.objects.first()


def is_initialized() -> bool:
    return Office.objects.exists()


def user_get(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise NotFound("user_not_found", username=username) from None


def user_list(*, actor: Actor, via: str = "", target: str = "") -> QuerySet[User]:
    """Every user, by role (manage-users: the admin's list; ``via`` and ``target`` describe
    a refusal in the audit log)."""
    require_audited(actor, Action.MANAGE_USERS, target=target, via=via)
    return User.objects.order_by("role", "username")
