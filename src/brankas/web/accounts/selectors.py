from __future__ import annotations

from django.db.models import QuerySet

from brankas.core.errors import NotFound
from brankas.web.accounts.models import Office, User


def office_get() -> Office | None:
    return Office.objects.first()


def is_initialized() -> bool:
    return Office.objects.exists()


def user_get(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise NotFound("user_not_found", username=username) from None


def user_list() -> QuerySet[User]:
    return User.objects.order_by("role", "username")
