"""Signing in (with lockout after repeated failures) and out."""

from __future__ import annotations

from axes.helpers import get_lockout_response
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from brankas.core.errors import AuthenticationFailed
from brankas.web.accounts.services import user_authenticate
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
@sensitive_post_parameters("password")
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
            form.add_error(None, message_of(exc))
        else:
            login(request, user)
            return redirect(next_url(request) or "ui:dashboard")
    return render(request, "ui/login.html", {"form": form, "next": next_url(request)})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record(actor=request.user.get_username(), action="auth.logout",
                     detail={"via": "web"})
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("ui:login")
