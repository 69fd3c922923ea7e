from __future__ import annotations

from django.db.models import QuerySet

from brankas.web.keys.models import HolderKey


def key_list() -> QuerySet[HolderKey]:
    return HolderKey.objects.select_related("holder").order_by("holder__username", "created_at")


def user_has_key(user_id: int) -> bool:
    return HolderKey.objects.filter(holder_id=user_id, retired_at__isnull=True).exists()
