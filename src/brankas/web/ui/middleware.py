from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from brankas.web.accounts.selectors import is_initialized


class SwitchGateMiddleware:
    """First in the chain: a request waits at the served home's gate while a recover swaps
    the rebuilt home into place (``brankas.instance.gate``), then runs on the new one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from brankas.instance.gate import SERVED
        from brankas.web import changes

        try:
            with SERVED.request():
                return self.get_response(request)
        finally:
            # The view and its page are done: what this GET kept (web/changes.py) goes now,
            # not only at request_finished, which a streaming body never read never sends
            # (a body streamed after this reads every figure again).
            changes.forget_request()


class FirstRunMiddleware:
    """Until the office is set up, every page leads to the first-run setup page (the
    language switch and the static files stay reachable)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._ready = False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._ready:
            self._ready = is_initialized()
            setup = reverse("ui:setup")
            open_paths = (setup, reverse("ui:set_language"), "/static/")
            if not self._ready and not request.path.startswith(open_paths):
                return redirect(setup)
        return self.get_response(request)


class IndonesianFirstMiddleware:
    """Bahasa Indonesia unless the user chose English with the language switch (a cookie):
    the browser's Accept-Language is ignored, so an office laptop set up in English still
    shows the official Indonesian interface first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
