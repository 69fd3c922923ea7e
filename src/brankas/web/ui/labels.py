"""Choices shown on forms. The official terms (Pengiriman, Biasa, Rahasia, Sandiman…) stay as
they are in both languages; only the short hints beside them are translated."""

from __future__ import annotations

from django.utils.translation import gettext as _

from brankas.core.terms import (
    CATEGORY_LABELS,
    CLASSIFICATION_LABELS,
    DIRECTION_LABELS,
    ROLE_LABELS,
    Category,
    Classification,
    Direction,
    Role,
    category_of,
    store_folders,
)


def direction_hint(direction: Direction) -> str:
    return _("outgoing letter") if direction is Direction.OUTGOING else _("incoming letter")


def direction_choices() -> list[tuple[str, str]]:
    return [(d.value, f"{DIRECTION_LABELS[d]} ({direction_hint(d)})") for d in Direction]


def classification_choices() -> list[tuple[str, str]]:
    out = []
    stored_as_is, encrypted = _("stored as is"), _("encrypted")
    for c in Classification:
        if c is Classification.BIASA:
            hint = stored_as_is
        else:
            hint = f"{CATEGORY_LABELS[category_of(c)]}, {encrypted}"
        out.append((c.value, f"{CLASSIFICATION_LABELS[c]} ({hint})"))
    return out


def role_choices() -> list[tuple[str, str]]:
    """``Kasi Tata Kelola Persandian``, ``Kadis — Kepala Dinas``: the short name is shown
    when the official title does not start with it."""
    out = []
    for r in Role:
        short, title = r.value.title(), ROLE_LABELS[r]
        out.append((r.value, title if title.lower().startswith(r.value) else f"{short} — {title}"))
    return out


def correspondent_label(direction: str | None) -> str:
    """Who is on the other side: the sender of an incoming letter, the addressee of an
    outgoing one; both when the direction is not chosen yet."""
    if direction == Direction.INCOMING.value:
        return _("Sender")
    if direction == Direction.OUTGOING.value:
        return _("Addressee")
    return _("Sender / addressee")


def folder_title(category: Category, direction: Direction) -> str:
    """``a. Biasa / Pengiriman``: the SOP's step 5 names the four folders a to d."""
    letter = "abcd"[store_folders().index((category, direction))]
    return f"{letter}. {CATEGORY_LABELS[category]} / {DIRECTION_LABELS[direction]}"
