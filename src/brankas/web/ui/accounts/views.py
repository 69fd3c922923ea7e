"""Accounts: the first run (the office, its letterhead and the first admin; the recovery
identity once), signing in (with lockout after repeated failures, and the authenticator code
for a key holder who enrolled one) and out, the password again before opening exempted
content or exporting, enrolling a second factor (TOTP), and users with their SOP roles
(admin only)."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from axes.helpers import get_lockout_response
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from brankas.core.access import Action
from brankas.core.errors import AuthenticationFailed, BrankasError
from brankas.web.accounts.models import User
from brankas.web.accounts.selectors import is_initialized, user_states
from brankas.web.accounts.services import office_initialize, user_authenticate, user_create
from brankas.web.accounts.totp import (
    totp_check,
    totp_enrol_begin,
    totp_enrol_confirm,
    totp_enrolled,
)
from brankas.web.audit.services import audit_record
from brankas.web.keys.selectors import users_with_key
from brankas.web.ui.accounts.forms import (
    CodeForm,
    ConfirmForm,
    LoginForm,
    ReauthForm,
    SetupForm,
    UserForm,
)
from brankas.web.ui.common import actor, message_of, refusals, require_role
from brankas.web.ui.security import (
    REAUTH_SECONDS,
    password_is_recent,
    password_typed,
    reauth_redirect,
    recent_password,
)

# ------------------------------------------------------------------ signing in and out

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


# ------------------------------------------------------------------ the password again

@login_required
@never_cache
@sensitive_post_parameters("password")
def reauth_view(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # The same service as signing in: audited, and counted by the lockout.
            user_authenticate(username=user.username, password=form.cleaned_data["password"],
                              request=request)
        except AuthenticationFailed as exc:
            if exc.code == "auth_locked":
                return get_lockout_response(request, None, {"username": user.username})
            form.add_error("password", message_of(exc))
        else:
            password_typed(request)
            return redirect(next_url(request) or "ui:dashboard")
    return render(request, "ui/reauth.html", {"form": form, "next": next_url(request),
                                              "minutes": REAUTH_SECONDS // 60})


# ------------------------------------------------------------------ authenticator app

@login_required
@recent_password
@refusals
@never_cache
def totp_view(request: HttpRequest) -> HttpResponse:
    user = require_role(request, Action.OWN_KEY)
    context: dict[str, object] = {"enrolled": totp_enrolled(user)}
    if request.method == "POST" and request.POST.get("step") == "begin":
        context["enrolment"] = totp_enrol_begin(user=user)
        context["form"] = ConfirmForm()
    elif request.method == "POST" and request.POST.get("step") == "confirm":
        form = ConfirmForm(request.POST)
        if form.is_valid():
            try:
                totp_enrol_confirm(user=user, token=form.cleaned_data["code"])
            except BrankasError as exc:
                form.add_error("code", message_of(exc))
            else:
                messages.success(request, _("The authenticator app is set up: signing in now "
                                            "asks for its code."))
                return redirect("ui:totp")
        context["form"] = form
        context["confirming"] = True
    return render(request, "ui/totp.html", context)


# ------------------------------------------------------------------ first run

@never_cache
@sensitive_post_parameters("password1", "password2")
def setup(request: HttpRequest) -> HttpResponse:
    if is_initialized():
        return redirect("ui:login")
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = office_initialize(
                office_name=data["office_name"],
                admin_username=data["admin_username"],
                admin_password=data["password1"],
                admin_full_name=data["admin_full_name"],
                government=data["government"],
                department=data["department"],
                division=data["division"],
                address=data["address"],
                city=data["city"],
                phone=data["phone"],
                email=data["email"],
            )
        except BrankasError as exc:
            form.add_brankas_error(exc)
        else:
            # The secret half of the recovery key lives only in this one response: it is not
            # stored, not put in the session, and the page is marked not to be cached.
            from brankas.web.keys.services import office_key

            return render(request, "ui/setup_done.html", {
                "office": result.office,
                "admin": result.admin,
                "recovery_identity": result.recovery_identity,
                "office_key_fingerprint": office_key().fingerprint,
            })
    return render(request, "ui/setup.html", {"form": form})


# ------------------------------------------------------------------ users

@login_required
@refusals
@sensitive_post_parameters("password1", "password2")
def users_view(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    states = user_states(actor=user, via="web", target=request.path)  # refused before the form
    if request.method == "POST" and not password_is_recent(request):
        return reauth_redirect(request, request.path)  # as on a user's page (issue 14)
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = user_create(actor=user, username=data["username"], role=data["role"],
                                  password=data["password1"], full_name=data["full_name"],
                                  position=data["position"], nip=data["nip"])
        except BrankasError as exc:
            form.add_brankas_error(exc)
        else:
            messages.success(request, _("User %(username)s was added with the role %(role)s.")
                             % {"username": created.username, "role": created.role.title()})
            return redirect("ui:users")
    return render(request, "ui/users.html", {"form": form, "states": states,
                                             "with_key": users_with_key()})
