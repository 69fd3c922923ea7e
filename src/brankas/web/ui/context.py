from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from brankas.core.access import Action, allowed


def brankas(request: HttpRequest) -> dict[str, Any]:
    from brankas.web.accounts.selectors import office_get

    user = getattr(request, "user", None)
    role = getattr(user, "role", None) if user and user.is_authenticated else None
    can = {a.name.lower(): role is not None and allowed(role, a) for a in Action}
    try:
        office = office_get()
    except Exception:  # before the first migration
        office = None
    return {"office": office, "can": can}
