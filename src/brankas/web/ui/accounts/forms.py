"""The forms of accounts: the first run, signing in (password, then the authenticator code),
the password again, the authenticator enrolment and a new user."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.web.ui import labels
from brankas.web.ui.forms import BaseForm, check_match, password_field, text_field


class SetupForm(BaseForm):
    field_of_code = {"password_invalid": "password1", "already_initialized": None}
    field_of_param = {"office": "office_name", "admin": "admin_username"}

    office_name = text_field(_("Office name"), 200, required=True)
    government = text_field(_("Government"), 200, placeholder="Pemerintah Kabupaten …")
    department = text_field(_("Department"), 200, placeholder="Dinas Komunikasi dan Informatika")
    division = text_field(_("Division"), 200, placeholder="Bidang Persandian dan Statistik")
    address = text_field(_("Address"), 300)
    city = text_field(_("City"), 100)
    phone = text_field(_("Phone"), 50)
    email = forms.EmailField(label=_("Email"), required=False, max_length=100)
    admin_username = text_field(_("Username"), 150, required=True, autocomplete="username")
    admin_full_name = text_field(_("Full name"), 200)
    password1 = password_field(_("Password"))
    password2 = password_field(_("Password again"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_match(self, cleaned, "password1", "password2")
        return cleaned


class LoginForm(BaseForm):
    username = text_field(_("Username"), 150, required=True, autocomplete="username",
                          autofocus=True)
    password = password_field(_("Password"), autocomplete="current-password")


def code_field(**attrs: Any) -> forms.CharField:
    """The six digits from the authenticator app."""
    return forms.CharField(label=_("Code from the authenticator app"), max_length=10,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric", **attrs}))


class CodeForm(forms.Form):
    """The second step of signing in."""

    code = code_field(autofocus=True)


class ConfirmForm(forms.Form):
    """Enrolling the authenticator app: one code from it confirms the secret."""

    code = code_field()


class ReauthForm(forms.Form):
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete":
                                                                 "current-password",
                                                                 "autofocus": True}))


class UserForm(BaseForm):
    field_of_code = {"user_exists": "username", "role_invalid": "role",
                     "password_invalid": "password1"}
    field_of_param = {"NIP": "nip"}

    username = text_field(_("Username"), 150, required=True, autocomplete="off")
    role = forms.CharField(label=_("Role"), widget=forms.Select())
    full_name = text_field(_("Full name"), 200)
    position = text_field(_("Position (jabatan)"), 200)
    nip = text_field(_("NIP"), 30, inputmode="numeric")
    password1 = password_field(_("Password"))
    password2 = password_field(_("Password again"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].widget.choices = labels.role_choices()  # type: ignore[attr-defined]
        self.fields["nip"].help_text = _("18 digits, printed under a signature.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_match(self, cleaned, "password1", "password2")
        return cleaned
