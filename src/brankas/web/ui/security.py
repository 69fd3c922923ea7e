"""Session hardening: an idle timeout, and "your password again" before the most sensitive
steps (opening exempted content, exporting).

- ``IdleTimeoutMiddleware``: a signed-in session unused for ``BRANKAS_SESSION_IDLE_MINUTES``
  (default 30) is ended (audited as ``auth.logout``, reason ``idle``) and the next page
  asks to sign in again.
- ``recent_password``: a view decorator; unless the password was typed within
  ``REAUTH_SECONDS`` (5 minutes), the user is sent to the re-authentication page, which
  returns them to the page they came from. Signing in counts as typing the password.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from brankas.web.audit.services import audit_record

LAST_SEEN = "brankas_last_seen"
PASSWORD_AT = "brankas_password_at"  # noqa: S105 (a session key, not a password)
REAUTH_SECONDS = 5 * 60
_TOUCH_EVERY = 30  # seconds: the session is not rewritten on every request

V = TypeVar("V", bound=Callable[..., HttpResponseBase])


def idle_seconds() -> int:
    return int(getattr(settings, "BRANKAS_SESSION_IDLE_SECONDS", 30 * 60))


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last = request.session.get(LAST_SEEN)
            if last is not None and now - float(last) > idle_seconds():
                audit_record(actor=user.get_username(), action="auth.logout",
                             detail={"via": "web", "reason": "idle",
                                     "idle_minutes": idle_seconds() // 60})
                logout(request)
                messages.info(request, _("You were signed out after a period without activity. "
                                         "Please sign in again."))
                login = reverse("ui:login")
                if request.path != login:
                    return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
            elif last is None or now - float(last) > _TOUCH_EVERY:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


def password_typed(request: HttpRequest) -> None:
    """The user has just typed their password (signing in, or re-authenticating)."""
    now = time.time()
    request.session[PASSWORD_AT] = now
    request.session[LAST_SEEN] = now


def password_is_recent(request: HttpRequest) -> bool:
    at = request.session.get(PASSWORD_AT)
    return at is not None and time.time() - float(at) <= REAUTH_SECONDS


def reauth_redirect(request: HttpRequest, back_to: str | None = None) -> HttpResponse:
    target = back_to or request.get_full_path()
    return redirect(f"{reverse('ui:reauth')}?{urlencode({'next': target})}")


def recent_password(view: V) -> V:
    """Ask for the password again unless it was typed in the last five minutes. After a
    POST the user comes back to the page the form was on (the referring page of this
    site), so nothing is submitted twice without them seeing it."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and not password_is_recent(request):
            back = None
            if request.method != "GET":
                back = request.POST.get("back") or request.path.rsplit("/", 1)[0] + "/"
            return reauth_redirect(request, back)
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in``: signing in is typing the password."""
    if request is not None and hasattr(request, "session"):
        password_typed(request)
