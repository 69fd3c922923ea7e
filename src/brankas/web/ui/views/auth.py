"""Signing in (with lockout after repeated failures) and out."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from axes.helpers import get_lockout_response
from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from brankas.core.errors import AuthenticationFailed
from brankas.web.accounts.models import User
from brankas.web.accounts.services import user_authenticate
from brankas.web.accounts.totp import totp_check, totp_enrolled
from brankas.web.audit.services import audit_record
from brankas.web.ui.common import message_of
from brankas.web.ui.forms import LoginForm


def next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@never_cache
@sensitive_post_parameters("password", "username")
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(next_url(request) or "ui:dashboard")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        try:
            # The service audits each failure and applies the lockout (django-axes).
            user = user_authenticate(
                username=username, password=form.cleaned_data["password"], request=request
            )
        except AuthenticationFailed as exc:
            if exc.code == "auth_locked":
                return get_lockout_response(request, None, {"username": username})
            # The page does not show again what was typed as the name: it may have been
            # the password. Emptied after every failure alike, so that it tells nobody
            # whether the name exists.
            form.data = {}
            form.add_error(None, message_of(exc))
        else:
            if totp_enrolled(user):  # the second step: a code from the authenticator app
                request.session[TOTP_PENDING] = {"user": user.pk, "at": time.time()}
                target = reverse("ui:login_code")
                nxt = next_url(request)
                return redirect(f"{target}?{urlencode({'next': nxt})}" if nxt else target)
            login(request, user)
            return redirect(next_url(request) or "ui:dashboard")
    return render(request, "ui/login.html", {"form": form, "next": next_url(request)})


TOTP_PENDING = "brankas_totp_pending"
TOTP_WINDOW = 5 * 60  # seconds between the password and the code


class CodeForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code from the authenticator app"), max_length=10,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric",
                                                         "autofocus": True}))


@never_cache
@sensitive_post_parameters("code")
def login_code_view(request: HttpRequest) -> HttpResponse:
    """The second step of signing in for a key holder who enrolled a TOTP code."""
    pending = request.session.get(TOTP_PENDING) or {}
    if not pending or time.time() - float(pending.get("at", 0)) > TOTP_WINDOW:
        request.session.pop(TOTP_PENDING, None)
        return redirect("ui:login")
    user = User.objects.get(pk=pending["user"])
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            totp_check(user=user, token=form.cleaned_data["code"], via="web")
        except AuthenticationFailed as exc:
            form.add_error("code", message_of(exc))
        else:
            request.session.pop(TOTP_PENDING, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(next_url(request) or "ui:dashboard")
    return render(request, "ui/login_code.html", {"form": form, "next": next_url(request)})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(actor=request.user.get_username(), action="auth.logout",
                     detail={"via": "web"})
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("ui:login")
