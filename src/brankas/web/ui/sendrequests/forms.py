"""Forms of the request pages (permintaan pengiriman berita). The rules and their messages
live in ``brankas.core`` and ``sendrequests.services``; these forms only parse."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.core.register.metadata import LIMITS
from brankas.core.terms import URGENCY_LABELS, Urgency
from brankas.web.ui import labels
from brankas.web.ui.documents.forms import RegisterForm, core_text
from brankas.web.ui.forms import BaseForm, MultipleFileField
from brankas.web.ui.uploads import uploaded_files

# Which field a service error belongs to (``field`` parameters name the field directly).
FIELD_OF_CODE = {"classification_invalid": "classification", "urgency_invalid": "urgency",
                 "request_note_required": "note", "request_assignee_invalid": "to"}


class ServiceForm(BaseForm):
    """A form of the request pages (its letter field is ``letter``). The step forms share
    one page, and several have a ``note``: each names its fields' ids with its own prefix
    (``id_prefix``), so that every label points at its own field."""

    field_of_code = FIELD_OF_CODE
    file_field = "letter"
    id_prefix = "id"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


def letter_field(required: bool = False) -> MultipleFileField:
    field = MultipleFileField(
        label=_("The letter (scan)"), required=False,
        help_text=_("One PDF, or one or more scanned pages (JPEG, PNG, TIFF) in page order. "
                    "A Dikecualikan letter is encrypted at once."),
    )
    if not required:
        field.widget.attrs.pop("required", None)
    return field


class RequestForm(ServiceForm):
    subject = core_text(_("Subject (perihal)"), LIMITS["subject"], required=True)
    classification = forms.CharField(label=_("Classification"), required=False,
                                     widget=forms.RadioSelect(attrs={"required": True}))
    addressee = core_text(_("Addressee"), LIMITS["addressee"], required=True)
    urgency = forms.CharField(label=_("Urgency"), required=False,
                              widget=forms.RadioSelect())
    requester_unit = core_text(_("Requesting unit"), LIMITS["requester_unit"])
    requester_name = core_text(_("Requested by"), LIMITS["requester_name"])
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 3, "maxlength": LIMITS["notes"]}))
    letter = letter_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["classification"].widget.choices = labels.classification_choices()  # type: ignore[attr-defined]
        self.fields["urgency"].widget.choices = [  # type: ignore[attr-defined]
            (u.value, URGENCY_LABELS[u]) for u in Urgency]
        self.fields["requester_unit"].help_text = _("Left empty: this office.")
        self.fields["requester_name"].help_text = _("Left empty: you.")

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "subject": data["subject"], "classification": data["classification"] or "",
            "addressee": data["addressee"], "urgency": data["urgency"] or Urgency.BIASA.value,
            "requester_unit": data["requester_unit"], "requester_name": data["requester_name"],
            "notes": data["notes"], "files": uploaded_files(data["letter"]) or None,
        }


class AssignForm(ServiceForm):
    id_prefix = "assign"
    to = forms.ChoiceField(label=_("Assign to"), choices=[])
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2, "maxlength": LIMITS["note"]}))

    def __init__(self, *args: Any, people: list[tuple[str, str]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = people or []  # type: ignore[attr-defined]


class ReturnForm(ServiceForm):
    id_prefix = "return"
    note = forms.CharField(label=_("Reason"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2, "required": True,
                                                        "maxlength": LIMITS["note"]}))


class ReceiveForm(ServiceForm):
    id_prefix = "receive"
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2, "maxlength": LIMITS["note"]}))
    letter = letter_field()


class SentForm(ServiceForm):
    id_prefix = "sent"
    channel = core_text(_("Channel"), LIMITS["channel"], required=True,
                        placeholder=_("e.g. JKS, messaging application"))
    reference = core_text(_("Reference number"), LIMITS["reference"], required=True)
    note = forms.CharField(label=_("Note"), required=False,
                           widget=forms.Textarea(attrs={"rows": 2, "maxlength": LIMITS["note"]}))


class RequestRegisterForm(RegisterForm):
    """The registration's data-input form, pre-filled from the request: direction,
    classification and subject are the request's and not asked again; the scan is optional
    (empty: the letter attached to the request is registered as stored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("direction", "classification", "subject"):
            del self.fields[name]
        self.fields["correspondent"].label = labels.correspondent_label("pengiriman")
        self.fields["correspondent"].help_text = _("Pre-filled with the request's addressee.")
        self.fields["scans"].widget.attrs.pop("required", None)
        self.fields["scans"].help_text = _(
            "Leave empty to register the letter attached to the request as it is stored "
            "(still encrypted when Dikecualikan). Choose a file to register a new scan "
            "instead, e.g. the signed letter.")

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "doc_number": data["number"], "doc_date": data["doc_date"],
            "correspondent": data["correspondent"], "pages": data["pages"],
            "attachments": data["attachments"], "notes": data["notes"],
            "files": self.input_files() or None,
            "allow_duplicate": data["allow_duplicate"],
        }
