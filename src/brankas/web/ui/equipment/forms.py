"""The forms of the equipment pages: an item, a check or repair, retiring an item."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.core.terms import CONDITION_LABELS, EQUIPMENT_KIND_LABELS, choices
from brankas.web.ui.forms import BaseForm, text_field


def _date(label: Any, required: bool = False) -> forms.DateField:
    return forms.DateField(label=label, required=required, input_formats=["%Y-%m-%d"],
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class EquipmentForm(BaseForm):
    field_of_param: ClassVar[dict[str, str]] = {"next-check": "next_check_due"}
    field_of_code: ClassVar[dict[str, str | None]] = {
        "equipment_kind_invalid": "kind", "equipment_condition_invalid": "condition",
        "user_not_found": "responsible", "equipment_linked": None}

    kind = forms.ChoiceField(label=_("Kind"), choices=choices(EQUIPMENT_KIND_LABELS))
    name = text_field(_("Name"), 100, required=True, placeholder="Laptop-01")
    serial = text_field(_("Serial number"), 100)
    location = text_field(_("Location"), 200, placeholder="Ruang Persandian")
    responsible = forms.ChoiceField(label=_("Official responsible"), required=False)
    acquired = _date(_("Acquired"))
    condition = forms.ChoiceField(label=_("Condition"), choices=choices(CONDITION_LABELS))
    next_check_due = _date(_("Next check due"))
    notes = text_field(_("Notes"), 2000)

    def __init__(self, *args: object, users: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["responsible"].choices = [("", "—"), *users]  # type: ignore[attr-defined]


class LogForm(BaseForm):
    field_of_param: ClassVar[dict[str, str]] = {"next-check": "next_check_due", "date": "on"}
    field_of_code: ClassVar[dict[str, str | None]] = {
        "equipment_condition_invalid": "condition"}

    on = _date(_("Date"), required=True)
    work = forms.CharField(label=_("What was checked or repaired"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    condition = forms.ChoiceField(label=_("Condition after"), choices=choices(CONDITION_LABELS))
    next_check_due = _date(_("Next check due"))


class RetireForm(BaseForm):
    reason = text_field(_("Reason"), 500, required=True)
