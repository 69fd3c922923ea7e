"""The forms of the register: the list's filters, and the data-input form of SOP step 1, with
the scan (what the register page sends).

Fields the core checks (``brankas.core.register.metadata``) are not re-validated here, so the web
shows exactly the core's messages, in the active language, beside the field concerned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from brankas.core.errors import BrankasError, InvalidInput
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.core.register.metadata import LIMITS, DocumentInput
from brankas.core.terms import CATEGORY_LABELS, Category
from brankas.web.ui import labels
from brankas.web.ui.formats import FORM_DATE_HINT, form_date_text, iso_form_date
from brankas.web.ui.forms import BaseForm, MultipleFileField
from brankas.web.ui.uploads import uploaded_files

OPENED_SALT = "brankas.ui.register.opened"
OPENED_MAX_AGE = 7 * 24 * 3600


class FilterForm(BaseForm):
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.SearchInput())
    direction = forms.ChoiceField(label=_("Direction"), required=False)
    classification = forms.ChoiceField(label=_("Classification"), required=False)
    folder = forms.ChoiceField(label=_("Folder"), required=False)
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        self.fields["direction"].choices = everything + labels.direction_choices()  # type: ignore[attr-defined]
        self.fields["classification"].choices = everything + labels.classification_choices()  # type: ignore[attr-defined]
        self.fields["folder"].choices = everything + [  # type: ignore[attr-defined]
            (c.value, CATEGORY_LABELS[c]) for c in Category
        ]
        self.fields["year"].choices = everything + [(str(y), str(y)) for y in years]  # type: ignore[attr-defined]
        self.fields["q"].widget.attrs["placeholder"] = _(
            "agenda, number, subject, correspondent, words of the letter")

    def filters(self) -> dict[str, Any]:
        """The valid filters; an invalid value (an edited URL) is ignored, not an error."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "query": data.get("q") or None,
            "direction": data.get("direction") or None,
            "classification": data.get("classification") or None,
            "year": data.get("year") or None,
        }

    def chosen_folder(self) -> str | None:
        """The SOP top folder (biasa, dikecualikan), when one is chosen."""
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("folder") or None


def core_text(label: Any, limit: int, *, required: bool = False, **attrs: Any) -> Any:
    """A field the core checks (``brankas.core.register.metadata``): the browser is told the limit
    and whether it is required, the server leaves both to the core and its messages."""
    attrs = {"maxlength": limit, **attrs}
    if required:
        attrs["required"] = True
    return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs=attrs))


def opened_token(now: dt.datetime | None = None) -> str:
    """When the data-input form was opened, signed so the browser cannot change it."""
    return signing.dumps((now or timezone.now()).isoformat(), salt=OPENED_SALT)


def opened_at(token: str | None) -> dt.datetime | None:
    """The time in a token from ``opened_token``; ``None`` if missing, altered, too old or in
    the future (the service then uses the time of the registration)."""
    if not token:
        return None
    try:
        value = signing.loads(token, salt=OPENED_SALT, max_age=OPENED_MAX_AGE)
        when = dt.datetime.fromisoformat(value)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if timezone.is_naive(when) or when > timezone.now():
        return None
    return when


# Which form field a core error belongs to.
FIELD_OF_CODE = {
    "date_invalid": "doc_date",
    "form_date_invalid": "doc_date",
    "direction_invalid": "direction",
    "classification_invalid": "classification",
}


class RegisterForm(BaseForm):
    field_of_code = FIELD_OF_CODE
    file_field = "scans"

    direction = forms.CharField(label=_("Direction"), required=False,
                                widget=forms.RadioSelect(attrs={"required": True}))
    classification = forms.CharField(label=_("Classification"), required=False,
                                     widget=forms.RadioSelect(attrs={"required": True}))
    number = core_text(_("Document number"), LIMITS["number"], placeholder="005/123/2026")
    doc_date = forms.CharField(
        label=_("Date of the document"), required=False,
        # dd/mm/yyyy as Indonesians write it (a browser's own date field shows the order
        # of its language, and sends YYYY-MM-DD, which is read too).
        widget=forms.TextInput(attrs={"required": True, "placeholder": FORM_DATE_HINT,
                                      "inputmode": "numeric", "autocomplete": "off",
                                      "pattern": r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}|"
                                                 r"\d{4}-\d{2}-\d{2}"}),
        help_text=_("Day/month/year, e.g. 20/11/2026."),
    )
    subject = core_text(_("Subject (perihal)"), LIMITS["subject"], required=True)
    correspondent = core_text(_("Sender / addressee"), LIMITS["correspondent"], required=True)
    pages = forms.CharField(
        label=_("Pages"), required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": 100_000}),
        help_text=_("Optional: counted from the file when left empty."),
    )
    attachments = core_text(_("Attachments (lampiran)"), LIMITS["attachments"],
                            placeholder=_("e.g. 1 (one) file"))
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3, "maxlength": LIMITS["notes"]}))
    scans = MultipleFileField(
        label=_("Scanned document"), required=False,
        help_text=_("One PDF, or one or more scanned pages (JPEG, PNG, TIFF) in page order."),
    )
    opened = forms.CharField(required=False, widget=forms.HiddenInput())
    allow_duplicate = forms.BooleanField(label=_("Register it anyway"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["direction"].widget.choices = labels.direction_choices()  # type: ignore[attr-defined]
        self.fields["classification"].widget.choices = labels.classification_choices()  # type: ignore[attr-defined]
        # The label follows the direction; the browser script changes it when it changes.
        self.fields["correspondent"].label = labels.correspondent_label(
            self.data.get("direction") if self.is_bound else None
        )
        self.fields["correspondent"].help_text = _(
            "Penerimaan: who sent it. Pengiriman: to whom it is sent.")
        self.fields["classification"].help_text = _(
            "Terbatas, Rahasia and Sangat Rahasia are Dikecualikan: encrypted before they are "
            "stored, and only key holders can open them.")

    def _required(self, name: str) -> str | None:
        value = str(self.cleaned_data.get(name) or "").strip()
        if not value:
            self.add_brankas_error(InvalidInput("field_required", field=name))
            return None
        return value

    def clean_doc_date(self) -> str:
        """dd/mm/yyyy (or YYYY-MM-DD) as the ISO date the services read."""
        return iso_form_date(self.cleaned_data.get("doc_date") or "")

    def add_brankas_error(self, exc: BrankasError) -> None:
        if exc.code == "date_invalid":  # worded for the form: dd/mm/yyyy, as typed
            exc = InvalidInput("form_date_invalid", value=self.data.get("doc_date", ""),
                               low=form_date_text(exc.params["low"]),
                               high=form_date_text(exc.params["high"]))
        super().add_brankas_error(exc)

    def document_input(self) -> DocumentInput | None:
        """The checked data-input form, or ``None`` with every field's error added."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        checks: list[tuple[str, Callable[[str], object]]] = [
            ("direction", metadata.parse_direction),
            ("classification", metadata.parse_class),
            ("doc_date", metadata.parse_date),
        ]
        for name, parse in checks:
            value = self._required(name)
            if value is not None:
                try:
                    parse(value)
                except BrankasError as exc:
                    self.add_brankas_error(exc)
        for name in ("number", "subject", "correspondent", "attachments", "notes"):
            try:
                metadata.clean_text(data.get(name), name,
                                    required=name in {"subject", "correspondent"},
                                    multiline=name == "notes")
            except BrankasError as exc:
                self.add_brankas_error(exc)
        if self.errors:
            return None
        try:
            return metadata.build(
                direction=data["direction"],
                classification=data["classification"],
                number=data["number"],
                doc_date=data["doc_date"],
                subject=data["subject"],
                correspondent=data["correspondent"],
                attachments=data["attachments"],
                notes=data["notes"],
                pages=data["pages"],
            )
        except BrankasError as exc:
            self.add_brankas_error(exc)
            return None

    def input_files(self) -> list[InputFile]:
        """The uploads, held in memory (the upload handler never spools them to disk)."""
        return uploaded_files(self.cleaned_data["scans"])
