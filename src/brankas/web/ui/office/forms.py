"""The office profile form."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.web.accounts.office import DATE_FIELDS, MAX_LOGO_BYTES, TEXT_FIELDS
from brankas.web.ui.formats import FORM_DATE_INPUTS
from brankas.web.ui.forms import BaseForm, text_field

DATE_INPUTS = FORM_DATE_INPUTS  # dd/mm/yyyy (also with - or .), or YYYY-MM-DD


def _date(label: Any) -> forms.DateField:
    return forms.DateField(label=label, required=False, input_formats=DATE_INPUTS,
                           widget=forms.DateInput(format="%d/%m/%Y",
                                                  attrs={"placeholder": "dd/mm/yyyy"}))


class OfficeForm(BaseForm):
    name = text_field(_("Office name"), 200, required=True)
    government = text_field(_("Government line"), 200,
                            placeholder="Pemerintah Kabupaten Bolaang Mongondow")
    department = text_field(_("Department line"), 200,
                            placeholder="Dinas Komunikasi dan Informatika")
    division = text_field(_("Division line"), 200,
                          placeholder="Bidang Persandian dan Statistik")
    address = text_field(_("Address"), 300)
    city = text_field(_("City"), 100)
    phone = text_field(_("Phone"), 50)
    email = text_field(_("E-mail"), 100)
    letterhead_extra = text_field(_("Extra letterhead line"), 300)
    place = text_field(_("Place of signing"), 100, placeholder="Lolak")
    logo = forms.FileField(label=_("Logo (PNG or JPEG)"), required=False,
                           widget=forms.ClearableFileInput(attrs={
                               "accept": "image/png,image/jpeg"}))
    no_logo = forms.BooleanField(label=_("Remove the logo"), required=False)
    sop_number = text_field(_("SOP number"), 100)
    sop_made_on = _date(_("SOP made on"))
    sop_revised_on = _date(_("SOP revised on"))
    sop_effective_on = _date(_("SOP effective on"))
    sop_approved_by = text_field(_("SOP approved by"), 200)

    field_of_code: ClassVar[dict[str, str | None]] = {
        "office_logo_invalid": "logo", "office_logo_too_large": "logo",
        "office_logo_both": "no_logo"}
    field_of_param: ClassVar[dict[str, str]] = {
        str(label): name for name, label in {**TEXT_FIELDS, **DATE_FIELDS}.items()}

    def logo_bytes(self) -> bytes | None:
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        if upload.size > MAX_LOGO_BYTES:
            return upload.read(MAX_LOGO_BYTES + 1)  # the service names the limit
        return bytes(upload.read())
