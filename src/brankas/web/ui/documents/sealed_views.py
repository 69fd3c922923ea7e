"""Unlocking one's key to see sealed register fields (issue 16), and locking it again.

The unlocked key lives in this server process's memory (``documents.sealing``); the session
keeps only a random token naming it, never the key, the passphrase or a sealed value. It is
forgotten after ``BRANKAS_UNLOCK_IDLE_MINUTES`` idle, on "lock", and at sign-out (including
the idle sign-out). A server run as several processes unlocks per process: a page served by
another process shows "tersegel" until the holder unlocks there too (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from brankas.core.access import Action, allowed
from brankas.core.errors import BrankasError
from brankas.web.documents.sealing import UnlockedKey, lock, unlock, unlocked
from brankas.web.ui.accounts.views import next_url
from brankas.web.ui.common import actor, message_of, refusals
from brankas.web.ui.forms import PassphraseForm

SESSION_KEY = "brankas_sealed_token"


def unlocked_key(request: HttpRequest) -> UnlockedKey | None:
    """The acting holder's unlocked key in this process, if any (touching it: idle time)."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    return unlocked(session.get(SESSION_KEY), getattr(request, "user", None))


def sealed_context(request: HttpRequest) -> dict[str, Any]:
    """What the unlock box of the list and document pages needs."""
    user = getattr(request, "user", None)
    may = bool(user and user.is_authenticated and allowed(user.role, Action.UNSEAL))
    return {"sealed_may_unlock": may,
            "sealed_unlocked": may and unlocked_key(request) is not None,
            "sealed_next": request.get_full_path()}


@login_required
@refusals
@require_POST
@never_cache
@sensitive_post_parameters("passphrase")
def sealed_unlock(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    form = PassphraseForm(request.POST)
    form.is_valid()
    passphrase = form.cleaned_data.get("passphrase") or ""
    back = next_url(request) or "ui:documents"
    if not passphrase:
        messages.error(request, _("Enter the passphrase of your key."))
        return redirect(back)
    try:
        token = unlock(actor=user, passphrase=passphrase, via="web")
    except BrankasError as exc:
        if exc.kind == "denied" and exc.code == "permission_denied":
            raise  # a refusal page (403), audited by the service
        messages.error(request, message_of(exc))
        return redirect(back)
    old = request.session.get(SESSION_KEY)
    if old:
        lock(old, actor=user.username, reason="replaced")
    request.session[SESSION_KEY] = token
    messages.success(request, _("Sealed fields are shown while your key stays unlocked."))
    return redirect(back)


@login_required
@require_POST
def sealed_lock(request: HttpRequest) -> HttpResponse:
    token = request.session.pop(SESSION_KEY, None)
    lock(token, actor=request.user.get_username(), reason="lock")
    messages.info(request, _("Your key is locked: sealed fields are hidden again."))
    return redirect(next_url(request) or "ui:documents")


def lock_at_sign_out(request: HttpRequest | None = None, user: Any = None,
                     **kwargs: Any) -> None:
    """``user_logged_out``: forget the key unlocked in this session."""
    if request is None or getattr(request, "session", None) is None:
        return
    token = request.session.get(SESSION_KEY)
    if token:
        lock(token, actor=user.get_username() if user is not None else "",
             reason="sign-out")
