"""Access to the Brankas settings object from inside Django."""

from __future__ import annotations

from django.conf import settings

from brankas.core.config import Settings


def brankas_settings() -> Settings:
    return settings.BRANKAS  # type: ignore[no-any-return]
