"""A holder's own key over time, on the web: the passphrase change and the key check
(``brankas.web.keys.lifecycle``). Reached from the keys page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters

from brankas.core.access import Action
from brankas.core.errors import BrankasError
from brankas.core.passphrase import MIN_LENGTH, MIN_SCORE
from brankas.web.keys.lifecycle import key_check, key_passphrase_change
from brankas.web.keys.services import key_file_name
from brankas.web.ui.common import message_of, refusals, require_role
from brankas.web.ui.forms import BaseForm, check_match, password_field


class PassphraseChangeForm(BaseForm):
    old = password_field(gettext_lazy("Current passphrase"), autocomplete="off")
    new1 = password_field(gettext_lazy("New passphrase"), autocomplete="off")
    new2 = password_field(gettext_lazy("New passphrase again"), autocomplete="off")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_match(self, cleaned, "new1", "new2")
        return cleaned


class KeyCheckForm(BaseForm):
    passphrase = password_field(gettext_lazy("Passphrase"), autocomplete="off")


# Which field a refusal belongs to.
_FIELD = {"passphrase_wrong": "old", "passphrase_same": "new1", "passphrase_weak": "new1"}


def _form_error(form: forms.Form, exc: BrankasError, field: str | None) -> None:
    if exc.kind == "denied":
        raise exc
    form.add_error(field, message_of(exc))


@login_required
@refusals
@sensitive_post_parameters()
def key_passphrase_view(request: HttpRequest) -> HttpResponse:
    user = require_role(request, Action.CHANGE_PASSPHRASE)
    form = PassphraseChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            key = key_passphrase_change(actor=user, holder=user, old=form.cleaned_data["old"],
                                        new=form.cleaned_data["new1"])
        except BrankasError as exc:
            _form_error(form, exc, _FIELD.get(exc.code))
        else:
            messages.success(request, _(
                "Your key %(fingerprint)s is now protected by the new passphrase (key file "
                "%(file)s). Backup disks already written keep the old key file, which the old "
                "passphrase still opens; the next backup adds the new one.")
                % {"fingerprint": key.fingerprint, "file": key_file_name(key)})
            return redirect("ui:keys")
    return render(request, "ui/key_passphrase.html", {
        "form": form, "min_length": MIN_LENGTH, "min_score": MIN_SCORE})


@login_required
@refusals
@sensitive_post_parameters()
def key_check_view(request: HttpRequest) -> HttpResponse:
    user = require_role(request, Action.CHECK_KEY)
    form = KeyCheckForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            key = key_check(actor=user, holder=user, passphrase=form.cleaned_data["passphrase"])
        except BrankasError as exc:
            _form_error(form, exc, "passphrase" if exc.code == "passphrase_wrong" else None)
        else:
            messages.success(request, _(
                "Your passphrase opens your key %(fingerprint)s. No document was opened.")
                % {"fingerprint": key.fingerprint})
            return redirect("ui:keys")
    return render(request, "ui/key_check.html", {"form": form})
