"""What every app uses from inside Django: the Brankas settings object, and one row by its
key or the app's ``NotFound``."""

from __future__ import annotations

from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet

from brankas.core.config import Settings
from brankas.core.errors import NotFound

M = TypeVar("M", bound=Model)


def brankas_settings() -> Settings:
    return settings.BRANKAS  # type: ignore[no-any-return]


def get_or_not_found(rows: QuerySet[M], code: str, **key: Any) -> M:
    """The one row of ``rows`` with ``key``, or ``NotFound(code, **key)``."""
    try:
        return rows.get(**key)
    except ObjectDoesNotExist:
        raise NotFound(code, **key) from None
