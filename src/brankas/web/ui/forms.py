"""What the forms of every area share. Forms parse what the browser sent; the rules live in
``brankas.core`` and the services, whose messages (``BrankasError``) the views add to the form
in the active language. Each area's forms are in ``ui.<area>.forms``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.core.errors import BrankasError
from brankas.web.ui.common import message_of

# The upload refusals of the intake (``brankas.core.register.intake``): shown beside the
# form's file field.
FILE_CODES = frozenset({
    "file_empty", "file_missing", "file_too_large", "file_type_unknown", "file_type_mismatch",
    "pdf_truncated", "pdf_encrypted", "pdf_unreadable", "pdf_no_pages", "image_unreadable",
    "image_too_large", "mixed_inputs", "no_files",
    "pdf_active_content", "pdf_embedded_files", "file_polyglot",
})


class BaseForm(forms.Form):
    """A form that shows a service's ``BrankasError`` beside the field concerned: the field
    named for its code (``field_of_code``), else the field its ``field`` parameter names
    (through ``field_of_param`` where the service's name differs), else at the top of the
    form. Upload refusals go to ``file_field``."""

    required_css_class = "required"
    field_of_code: ClassVar[Mapping[str, str | None]] = {}
    field_of_param: ClassVar[Mapping[str, str]] = {}
    file_field: ClassVar[str | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # no colon after labels, in either language
        super().__init__(*args, **kwargs)

    def field_of(self, exc: BrankasError) -> str | None:
        name: str | None
        if self.file_field and exc.code in FILE_CODES:
            name = self.file_field
        elif exc.code in self.field_of_code:
            name = self.field_of_code[exc.code]
        else:
            field = exc.params.get("field", "")
            # a name given in both languages is looked up by its English one
            param = str(field[1] if isinstance(field, tuple) and len(field) == 2 else field)
            name = self.field_of_param.get(param, param)
        return name if name in self.fields else None

    def add_brankas_error(self, exc: BrankasError) -> None:
        """``exc``'s message in the active language, beside its field (named by that field's
        label in the message)."""
        name = self.field_of(exc)
        override = {"field": str(self.fields[name].label)} if name and "field" in exc.params else {}
        self.add_error(name, message_of(exc, **override))


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
