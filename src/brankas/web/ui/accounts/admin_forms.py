"""The forms of user administration (issue 14): one user's page (role, deactivate or
reactivate, reset the password, a qualification) and my account (my own password)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.web.ui import labels
from brankas.web.ui.formats import FORM_DATE, FORM_DATE_HINT, FORM_DATE_INPUTS
from brankas.web.ui.forms import BaseForm, check_match, password_field, text_field


class RoleForm(BaseForm):
    field_of_code = {"role_invalid": "role", "role_unchanged": "role",
                     "user_last_admin": "role"}

    role = forms.ChoiceField(label=_("New role"))
    confirm = forms.BooleanField(
        label=_("I understand: a key holder moved to a role that holds no key (Sandiman, "
                "admin) has their keys revoked."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = labels.role_choices()  # type: ignore[attr-defined]


class DeactivateForm(BaseForm):
    """On the user's page beside ``RoleForm``: its ids are its own (``deactivate_confirm``),
    so that each label points at its own box (both have ``confirm``)."""

    confirm = forms.BooleanField(
        label=_("I understand: the user can no longer sign in, and a key holder's keys are "
                "revoked. Their history and signatures stay."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "deactivate_%s")
        super().__init__(*args, **kwargs)


class ResetPasswordForm(BaseForm):
    field_of_code = {"password_invalid": "password1"}

    password1 = password_field(_("New password"))
    password2 = password_field(_("New password again"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_match(self, cleaned, "password1", "password2")
        return cleaned


class QualificationForm(BaseForm):
    field_of_code = {"qualification_date_invalid": "passed_on"}
    field_of_param = {"training": "training", "certificate": "certificate_number"}

    training = text_field(_("Training"), 200, required=True, placeholder="Diklat Sandiman")
    certificate_number = text_field(_("Certificate number"), 100)
    passed_on = forms.DateField(
        # dd/mm/yyyy as on every form (a browser's own date field shows the order of its
        # language: mm/dd/yyyy in an English browser); YYYY-MM-DD is read too.
        label=_("Date passed"), input_formats=FORM_DATE_INPUTS,
        widget=forms.DateInput(format=FORM_DATE, attrs={"placeholder": FORM_DATE_HINT,
                                                        "inputmode": "numeric"}))


class OwnPasswordForm(ResetPasswordForm):
    """The new password twice, as a reset takes it, after the current one."""

    field_of_code = {"password_invalid": "password1", "password_same": "password1",
                     "auth_failed": "old_password"}
    field_order = ["old_password", "password1", "password2"]

    old_password = password_field(_("Current password"), autocomplete="current-password")
