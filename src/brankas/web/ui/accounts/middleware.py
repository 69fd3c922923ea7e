"""A user whose password the admin reset changes it before anything else (issue 14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

# The pages such a user may still reach: my account (to change it), signing out, the
# language switch.
ALLOWED = frozenset({"ui:account", "ui:logout", "ui:set_language", "ui:login",
                     "ui:login_code"})


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any,
                     kwargs: Any) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(user, "must_change_password", False):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED:
            return None
        return redirect("ui:account")
