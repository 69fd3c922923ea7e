"""Enrolling a second factor (TOTP) for a key holder: a secret for the authenticator app,
confirmed by one code from it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from brankas.core.access import Action
from brankas.core.errors import BrankasError
from brankas.web.accounts.totp import totp_enrol_begin, totp_enrol_confirm, totp_enrolled
from brankas.web.ui.common import message_of, refusals, require_role
from brankas.web.ui.security import recent_password


class ConfirmForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code from the authenticator app"), max_length=10,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))


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
