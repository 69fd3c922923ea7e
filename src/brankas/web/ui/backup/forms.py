"""The forms of the backup pages: where the backup disk is, and how to check it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.web.ui.forms import BaseForm, text_field


def _disk_folder(value: str) -> str:
    """The folder on the external disk, as the laptop's system names it."""
    import os

    value = value.strip()
    if not os.path.isabs(os.path.expanduser(value)):
        raise forms.ValidationError(
            _("Enter the full path of the folder on the disk, e.g. %(windows)s or %(linux)s."),
            params={"windows": "E:\\brankas", "linux": "/media/usb/brankas"})
    return value


class BackupForm(BaseForm):
    dest = text_field(_("Folder on the backup disk"), 500, required=True,
                      placeholder="E:\\brankas", autocomplete="off", spellcheck="false")
    label = text_field(_("Label for a new disk (optional)"), 100, placeholder="DISK-01",
                       autocomplete="off")

    def clean_dest(self) -> str:
        return _disk_folder(self.cleaned_data["dest"])


class VerifyForm(BaseForm):
    """Also on the backup page beside ``BackupForm``: its fields' ids are its own
    (``verify_dest``), so that each label points at its own field (both have ``dest``)."""

    MODES = [
        ("full", _("Full: read and hash every file")),
        ("fast", _("Fast: presence and size of every file, no hashing")),
        ("sample", _("Sample: fast, and hash a slice of the files")),
    ]
    dest = text_field(_("Folder on the backup disk"), 500, required=True,
                      placeholder="E:\\brankas", autocomplete="off", spellcheck="false")
    mode = forms.ChoiceField(label=_("Check"), choices=MODES, initial="full",
                             widget=forms.RadioSelect)
    sample_percent = forms.IntegerField(label=_("Sample size (percent of the files)"),
                                        min_value=1, max_value=100, initial=10, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "verify_%s")
        super().__init__(*args, **kwargs)

    def clean_dest(self) -> str:
        return _disk_folder(self.cleaned_data["dest"])
