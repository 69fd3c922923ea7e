from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from brankas.web.accounts.selectors import is_initialized


class FirstRunMiddleware:
    """Until the office is set up, every page leads to the first-run setup page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._ready = False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._ready:
            self._ready = is_initialized()
            setup = reverse("ui:setup")
            if not self._ready and not (
                request.path.startswith(setup) or request.path.startswith("/static/")
            ):
                return redirect(setup)
        return self.get_response(request)
