"""The forms of the grant and revoke pages."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.web.ui.forms import BaseForm, password_field

PASSPHRASE, SHARES = "passphrase", "shares"


class SecretTextarea(forms.Textarea):
    """A textarea for secrets (recovery share words): what was posted is never rendered
    back into the page (as a password field does)."""

    def format_value(self, value: Any) -> str | None:
        return None


def shares_field() -> forms.CharField:
    return forms.CharField(
        label=_("Recovery shares"), required=False, strip=True,
        help_text=_("Type or paste each share's words; leave an empty line between two "
                    "shares."),
        widget=SecretTextarea(attrs={"rows": 8, "autocomplete": "off", "spellcheck": "false",
                                     "autocapitalize": "off"}))


def split_shares(text: str) -> list[tuple[str, str]]:
    """The shares typed in one box, separated by empty lines, each named by its place."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n"))]
    return [(str(_("share %(n)s") % {"n": i}), b)
            for i, b in enumerate((b for b in blocks if b), start=1)]


class GrantForm(BaseForm):
    mode = forms.ChoiceField(choices=[(PASSPHRASE, PASSPHRASE), (SHARES, SHARES)],
                             widget=forms.HiddenInput())
    to = forms.ChoiceField(label=_("Give access to"))
    passphrase = password_field(_("Your key passphrase"), autocomplete="off")
    shares = shares_field()

    def __init__(self, *args: Any, holders: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = holders  # type: ignore[attr-defined]
        self.fields["passphrase"].required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("mode") == PASSPHRASE and not cleaned.get("passphrase"):
            self.add_error("passphrase", _("Type your key passphrase."))
        if cleaned.get("mode") == SHARES and not cleaned.get("shares"):
            self.add_error("shares", _("Type the recovery shares."))
        return cleaned


class RevokeForm(BaseForm):
    holder = forms.ChoiceField(label=_("Key holder"))
    confirm = forms.BooleanField(
        label=_("I understand: this holder's keys receive nothing from now on, and Brankas "
                "opens nothing with them."))
    rekey = forms.BooleanField(
        label=_("Also re-encrypt the archive under fresh file keys (needs the recovery "
                "shares)"), required=False)
    shares = shares_field()

    def __init__(self, *args: Any, holders: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = holders  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("rekey") and not cleaned.get("shares"):
            self.add_error("shares", _("Type the recovery shares."))
        return cleaned
