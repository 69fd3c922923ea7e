"""The forms of the offsite pages (s18 OC): a remote added, a push, a verify with its
sample, the daily push, a restore. No secret of the S3 credentials is ever a field: the
office names the file that holds them (or the server's environment has them); the key
holder's passphrase of a restore is never rendered back."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.web.ui.backup.step_forms import RestoreTargetForm
from brankas.web.ui.forms import BaseForm, password_field, text_field


class RemoteForm(BaseForm):
    field_of_param: ClassVar[dict[str, str]] = {
        "NAME": "name", "--endpoint": "endpoint", "--bucket": "bucket", "--region": "region",
        "--retention-days": "retention_days", "--prefix": "prefix",
        "--credentials-file": "credentials_file"}
    field_of_code: ClassVar[dict[str, str | None]] = {"offsite_remote_exists": "name"}

    name = text_field(_("Name of the remote"), 60, required=True, placeholder="pdn",
                      autocomplete="off", spellcheck="false")
    endpoint = text_field(_("S3 server address"), 500, required=True,
                          placeholder="https://s3.diskominfo.example.go.id", autocomplete="off",
                          spellcheck="false")
    bucket = text_field(_("Bucket (made with Object Lock enabled)"), 63, required=True,
                        placeholder="arsip-sandi", autocomplete="off", spellcheck="false")
    region = text_field(_("Region"), 60, autocomplete="off", spellcheck="false")
    prefix = text_field(_("Folder in the bucket (optional)"), 200, autocomplete="off",
                        spellcheck="false")
    retention_days = forms.IntegerField(label=_("Lock period of every object (days)"),
                                        min_value=1, max_value=36500, initial=400)
    credentials_file = text_field(
        _("File holding the S3 keys, on this computer (optional: else the keys of the "
          "server's environment)"), 500, autocomplete="off",
        spellcheck="false", placeholder="C:\\brankas\\s3.txt")

    def clean_region(self) -> str:
        return str(self.cleaned_data.get("region") or "us-east-1")


class PushForm(BaseForm):
    bwlimit = text_field(_("Bandwidth limit (optional: 500K, 2M bytes per second)"), 20,
                         autocomplete="off", spellcheck="false")

    def clean_bwlimit(self) -> int | None:
        import re

        text = (self.cleaned_data.get("bwlimit") or "").strip()
        if not text:
            return None
        found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmMgG]?)(?:i?[bB](?:/s)?)?", text)
        if found is None or float(found.group(1)) <= 0:
            raise forms.ValidationError(_("For example 500K or 2M."))
        unit = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[found.group(2).lower()]
        return max(1, int(float(found.group(1)) * unit))


class VerifyForm(BaseForm):
    sample = forms.FloatField(
        label=_("Percent of the objects downloaded when the server reports no checksum"),
        min_value=0, max_value=100, initial=5)


class ScheduleForm(BaseForm):
    daily_at = forms.TimeField(label=_("Push every day at (local time; empty: off)"),
                               required=False, input_formats=["%H:%M"],
                               widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def when(self) -> dt.time | None:
        value = self.cleaned_data.get("daily_at")
        return None if value is None else value.replace(second=0, microsecond=0)


class OffsiteRestoreForm(RestoreTargetForm):
    passphrase = password_field(_("Your key passphrase (everything offsite is encrypted)"),
                                autocomplete="off")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("passphrase"):
            self.add_error("passphrase", _("Type your key passphrase."))
        return cleaned
