"""Re-authentication: the password again before opening exempted content or exporting."""

from __future__ import annotations

from axes.helpers import get_lockout_response
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from brankas.core.errors import AuthenticationFailed
from brankas.web.accounts.services import user_authenticate
from brankas.web.ui.common import actor, message_of
from brankas.web.ui.security import REAUTH_SECONDS, password_typed
from brankas.web.ui.views.auth import next_url


class ReauthForm(forms.Form):
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete":
                                                                 "current-password",
                                                                 "autofocus": True}))


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
