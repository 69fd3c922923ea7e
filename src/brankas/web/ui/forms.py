"""What the forms of every area share. Forms parse what the browser sent; the rules live in
``brankas.core`` and the services, whose messages (``BrankasError``) the views add to the form
in the active language. Each area's forms are in ``ui.<area>.forms``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class BaseForm(forms.Form):
    required_css_class = "required"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # no colon after labels, in either language
        super().__init__(*args, **kwargs)


def password_field(label: Any, *, autocomplete: str = "new-password") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def text_field(label: Any, max_length: int, *, required: bool = False, **attrs: Any) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.TextInput(attrs=attrs),
    )


def check_match(form: forms.Form, cleaned: dict[str, Any], first: str, second: str) -> None:
    """A password (or passphrase) typed twice must be typed the same."""
    a, b = cleaned.get(first), cleaned.get(second)
    if a and b and a != b:
        form.add_error(second, _("The two entries do not match."))


class PassphraseForm(BaseForm):
    passphrase = forms.CharField(
        label=_("Your key passphrase"),
        strip=False,
        required=False,  # the service refuses a missing one, with its own message
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "required": True}),
    )


ACCEPT = ".pdf,.jpg,.jpeg,.png,.tif,.tiff,application/pdf,image/jpeg,image/png,image/tiff"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; empty selections dropped. The content is checked by
    ``brankas.core.register.intake`` (by content, not by name), not here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT, "required": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, list | tuple) else [data]
        return [f for f in items if f]
