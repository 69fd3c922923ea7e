"""What every view shares: the acting user, refusals as pages, errors in the active language."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import get_language

from brankas.core.access import Action
from brankas.core.errors import AccessDenied, BrankasError, NotFound
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def language() -> str:
    """``en`` or ``id``: the language a ``BrankasError`` message is shown in."""
    return "en" if (get_language() or "id").lower().startswith("en") else "id"


def message_of(exc: BrankasError, **override: Any) -> str:
    """The error's message in the active language; ``override`` replaces parameters (e.g. the
    field's name by its label on the form)."""
    if override:
        exc = type(exc)(exc.code, **{**exc.params, **override})
    return exc.message(language())


def actor(request: HttpRequest) -> User:
    """The signed-in user (views that call this are behind ``login_required``)."""
    user = request.user
    assert isinstance(user, User), "login_required must guard this view"
    return user


def require_role(request: HttpRequest, action: Action) -> User:
    """The signed-in user, or ``AccessDenied`` when the role may not do ``action``."""
    user = actor(request)
    require_audited(user, action, target=request.path, via="web")
    return user


def refusal(request: HttpRequest, exc: BrankasError, status: int) -> HttpResponse:
    return render(request, "ui/refused.html", {"message": message_of(exc), "status": status},
                  status=status)


def refusals(view: V) -> V:
    """Turn a refusal into a page: ``AccessDenied`` → 403, ``NotFound`` → 404, with the message."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except AccessDenied as exc:
            return refusal(request, exc, 403)
        except NotFound as exc:
            return refusal(request, exc, 404)

    return wrapper  # type: ignore[return-value]
