"""The forms of the reports pages: a new report, a note, a signed step, a PDF to verify."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.web.ui.forms import BaseForm, PassphraseForm


class ReportCreateForm(BaseForm):
    kind = forms.ChoiceField(label=_("Report"), choices=[
        ("messages", _("Sent and received messages")), ("backup", _("Backup result"))])
    period = forms.CharField(label=_("Period"), max_length=10,
                             help_text=_("A month YYYY-MM, a quarter YYYY-Qn or a year YYYY."))
    runs = forms.CharField(label=_("Backup runs (optional)"), required=False, max_length=200,
                           help_text=_("Backup report only: run numbers, e.g. 3,4,5."))


class ReportNoteForm(BaseForm):
    note = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(
        attrs={"rows": 3}))


class ReportSignForm(PassphraseForm):
    """A signed step: the signer's signing-key passphrase (the first signing sets it)."""

    passphrase = forms.CharField(
        label=_("Your signing key passphrase"), strip=False, required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "required": True}))


class ReportSubmitForm(ReportSignForm):
    """Submitting; after a return, with the Sandiman's reply to the note (optional)."""

    reply = forms.CharField(label=_("Your reply to the note (optional)"), required=False,
                            max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, reply: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not reply:
            del self.fields["reply"]
        else:  # the reply first, the passphrase last (it signs what is above it)
            self.order_fields(["reply", "passphrase"])


class ReportForwardForm(ReportSignForm):
    summary = forms.CharField(label=_("Executive summary"), max_length=20000,
                              widget=forms.Textarea(attrs={"rows": 8}))


class ReportVerifyForm(BaseForm):
    file = forms.FileField(label=_("Report PDF"))
