"""The form of the keys page: a new key and its passphrase, typed twice."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.web.ui.forms import BaseForm, check_match, password_field


class KeyForm(BaseForm):
    holder = forms.CharField(label=_("Key holder"), widget=forms.Select())
    passphrase1 = password_field(_("Passphrase"), autocomplete="off")
    passphrase2 = password_field(_("Passphrase again"), autocomplete="off")

    def __init__(self, *args: Any, holders: list[tuple[str, str]] | None = None,
                 **kwargs: Any) -> None:
        """``holders``: the users to choose from (admin); ``None``: the signed-in user's own
        key, so there is no holder to choose."""
        super().__init__(*args, **kwargs)
        if holders is None:
            del self.fields["holder"]
        else:
            self.fields["holder"].widget.choices = holders  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_match(self, cleaned, "passphrase1", "passphrase2")
        return cleaned
