"""The forms of the SOP steps that work on a folder of the laptop: import of an old archive,
restore, restore drill, recover (first run), and the audit check against disks and PDFs.

A folder is typed text naming a folder on the computer the server runs on (as the backup
page's): untrusted, checked here by the same rules the services apply
(``web.backup.paths``), so that a refusal shows beside its field. Secrets (a passphrase,
the recovery identity, share words) are never rendered back into the page.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.core.errors import BrankasError
from brankas.core.terms import Classification
from brankas.web.backup import paths
from brankas.web.ui.backup.forms import _disk_folder
from brankas.web.ui.common import message_of
from brankas.web.ui.forms import BaseForm, MultipleFileInput, password_field, text_field
from brankas.web.ui.keys.grant_forms import SecretTextarea, shares_field, split_shares
from brankas.web.ui.labels import classification_choices

MAX_SHARE_FILE = 64 * 1024  # as ``brankas.cli.recovery``: far above a share's words


def _checked(value: str, check: Callable[[Path | str], Path]) -> str:
    """``value`` (already a full path) through a ``paths`` check; its refusal as the field's
    error, in the active language."""
    try:
        return str(check(value))
    except BrankasError as exc:
        raise forms.ValidationError(message_of(exc)) from None


def disk_field(label: Any = None) -> Any:
    return text_field(label or _("Folder on the backup disk"), 500, required=True,
                      placeholder="E:\\brankas", autocomplete="off", spellcheck="false")


def _files(data: Any) -> list[Any]:
    items = data if isinstance(data, list | tuple) else [data]
    return [f for f in items if f]


class _MultipleFiles(forms.FileField):
    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        return _files(data)


def share_files_field() -> forms.FileField:
    return _MultipleFiles(label=_("Or share files (.txt)"), required=False,
                          widget=MultipleFileInput(attrs={"accept": ".txt,text/plain"}))


class SharesMixin(forms.Form):
    """Recovery shares typed (as on the grant page), or their .txt files uploaded."""

    def shares_given(self) -> list[tuple[str, str]]:
        """The shares, as (name, words) pairs for ``shares_identity``."""
        cleaned = self.cleaned_data
        return [*split_shares(cleaned.get("shares") or ""), *cleaned.get("share_files", [])]

    def clean_share_files(self) -> list[tuple[str, str]]:
        out = []
        for f in self.cleaned_data.get("share_files") or []:
            name = Path(f.name or "").name
            if f.size > MAX_SHARE_FILE:
                raise forms.ValidationError(_("%(name)s is far larger than a share: not a "
                                              "share file.") % {"name": name})
            try:
                out.append((name, f.read().decode("utf-8")))
            except UnicodeDecodeError:
                raise forms.ValidationError(_("%(name)s is not a share's text (.txt).")
                                            % {"name": name}) from None
        return out


# -- import ---------------------------------------------------------------------------

class ImportForm(BaseForm):
    folder = text_field(_("Folder of the old archive"), 500, required=True,
                        placeholder="D:\\arsip-lama", autocomplete="off", spellcheck="false")
    exempted_classification = forms.ChoiceField(
        label=_("Classification of the files under dikecualikan/"), initial="rahasia",
        choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exempted_classification"].choices = [  # type: ignore[attr-defined]
            c for c in classification_choices() if c[0] != Classification.BIASA.value]

    def clean_folder(self) -> str:
        return _checked(_disk_folder(self.cleaned_data["folder"]), paths.existing_folder)


# -- restore --------------------------------------------------------------------------

class RestoreTargetForm(BaseForm):
    """Where documents are restored to and which: a disk restore's and an offsite one's."""

    to = text_field(_("Restore into (an empty or new folder)"), 500, required=True,
                    placeholder="D:\\pemulihan", autocomplete="off", spellcheck="false")
    agendas = text_field(_("Agenda numbers (optional; all documents when empty)"), 2000,
                         autocomplete="off", spellcheck="false")
    decrypt = forms.BooleanField(label=_("Decrypt my exempted documents (key holders)"),
                                 required=False)
    passphrase = password_field(_("Your key passphrase"), autocomplete="off")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["passphrase"].required = False  # its own message (``clean``)

    def clean_to(self) -> str:
        return _checked(_disk_folder(self.cleaned_data["to"]), paths.empty_target)

    def clean_agendas(self) -> list[str]:
        text = self.cleaned_data["agendas"] or ""
        return [a for a in text.replace(",", " ").split() if a]


class RestoreForm(RestoreTargetForm):
    dest = disk_field()
    field_order = ["dest", "to", "agendas", "decrypt", "passphrase"]

    def clean_dest(self) -> str:
        return _checked(_disk_folder(self.cleaned_data["dest"]), paths.existing_folder)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decrypt") and not cleaned.get("passphrase"):
            self.add_error("passphrase", _("Type your key passphrase."))
        if cleaned.get("dest") and cleaned.get("to") and cleaned["dest"] == cleaned["to"]:
            self.add_error("to", _("Restore into another folder than the disk's."))
        elif cleaned.get("dest") and cleaned.get("to"):
            try:
                paths.off_disk(cleaned["to"], cleaned["dest"])
            except BrankasError as exc:
                self.add_error("to", message_of(exc))
        return cleaned


# -- the restore drill --------------------------------------------------------------------

class DrillForm(SharesMixin, BaseForm):
    dest = disk_field()
    passphrase = password_field(_("Your key passphrase (optional)"), autocomplete="off")
    shares = shares_field()
    share_files = share_files_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["passphrase"].required = False

    def clean_dest(self) -> str:
        return _checked(_disk_folder(self.cleaned_data["dest"]), paths.existing_folder)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("passphrase") and (cleaned.get("shares") or cleaned.get("share_files")):
            self.add_error(None, _("Give your passphrase or the recovery shares, not both."))
        return cleaned


# -- recover (first run) -------------------------------------------------------------

PASSPHRASE, IDENTITY, SHARES = "passphrase", "identity", "shares"


DISK, OFFSITE = "disk", "offsite"


class RecoverForm(SharesMixin, BaseForm):
    """The office recovered from a backup disk or from the offsite copy (S3, issue 18): the
    bucket's fields get the same checks as ``offsite add``; the credentials are a file on
    this computer, never a field."""

    field_of_param: ClassVar[dict[str, str]] = {
        "--from-offsite": "url", "--bucket": "url", "--prefix": "url",
        "--endpoint": "endpoint", "--region": "region", "--credentials-file": "credentials_file"}
    field_of_code: ClassVar[dict[str, str | None]] = {
        "offsite_credentials_file": "credentials_file",
        "offsite_credentials_file_open": "credentials_file"}

    source = forms.ChoiceField(label=_("Recover from"), initial=DISK, widget=forms.RadioSelect,
                               required=False,  # a disk when not given (as before issue 18)
                               choices=[(DISK, _("a backup disk")),
                                        (OFFSITE, _("the offsite copy (S3)"))])
    dest = disk_field()
    endpoint = text_field(_("S3 server address"), 500,
                          placeholder="https://s3.diskominfo.example.go.id", autocomplete="off",
                          spellcheck="false")
    url = text_field(_("Offsite copy (s3://BUCKET or s3://BUCKET/FOLDER)"), 300,
                     placeholder="s3://arsip-sandi/kantor", autocomplete="off",
                     spellcheck="false")
    region = text_field(_("Region (optional)"), 60, autocomplete="off", spellcheck="false")
    credentials_file = text_field(
        _("File holding the S3 keys, on this computer (optional: else the keys of the "
          "server's environment)"), 500, autocomplete="off",
        spellcheck="false", placeholder="C:\\brankas\\s3.txt")
    unlock = forms.ChoiceField(label=_("Open the disk with"), initial=PASSPHRASE,
                               widget=forms.RadioSelect, choices=[
                                   (PASSPHRASE, _("a key holder's passphrase")),
                                   (IDENTITY, _("the office recovery key")),
                                   (SHARES, _("the recovery shares"))])
    passphrase = password_field(_("Key holder's passphrase"), autocomplete="off")
    identity = forms.CharField(
        label=_("Office recovery key (AGE-SECRET-KEY-1…)"), required=False, strip=True,
        widget=SecretTextarea(attrs={"rows": 2, "autocomplete": "off", "spellcheck": "false",
                                     "autocapitalize": "off"}))
    identity_file = forms.FileField(label=_("Or the file holding it"), required=False)
    shares = shares_field()
    share_files = share_files_field()
    fingerprint = text_field(_("Office key fingerprint from the set-up sheet (optional)"), 200,
                             autocomplete="off", spellcheck="false")
    allow_older = forms.BooleanField(
        label=_("If the newest copy on the disk cannot be used, recover from an older one"),
        required=False)
    allow_unsigned = forms.BooleanField(
        label=_("Accept a disk without the office seal (written before backups were sealed)"),
        required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["passphrase"].required = False
        if self.data.get("source") == OFFSITE:
            self.fields["dest"].required = False
            self.fields["endpoint"].required = True
            self.fields["url"].required = True

    def clean_dest(self) -> str:
        if self.data.get("source") == OFFSITE:
            return ""
        return _checked(_disk_folder(self.cleaned_data["dest"]), paths.existing_folder)

    def clean_source(self) -> str:
        return str(self.cleaned_data.get("source") or DISK)

    def clean_region(self) -> str:
        return str(self.cleaned_data.get("region") or "").strip() or "us-east-1"

    def _clean_offsite(self, cleaned: dict[str, Any]) -> None:
        """The bucket's fields through the checks of ``offsite add`` (the service's), then the
        credentials file read as the S3 client will (missing, loose permissions, no keys):
        refused here, before a process is started."""
        from brankas.core.errors import InvalidInput
        from brankas.core.offsite.credentials import credentials_from_file
        from brankas.core.offsite.recovery import parse_url
        from brankas.web.offsite.services import checked_fields

        url = str(cleaned.get("url") or "").strip()
        endpoint = str(cleaned.get("endpoint") or "").strip()
        if not url or not endpoint or "region" not in cleaned:
            return  # refused already (required)
        try:
            if not url.startswith("s3://"):
                raise InvalidInput("offsite_field_invalid", field="--from-offsite",
                                   detail="s3://BUCKET[/PREFIX]")
            bucket, _slash, prefix = url.removeprefix("s3://").partition("/")
            _prefix, creds = checked_fields("offsite", endpoint, bucket, cleaned["region"],
                                             prefix, 400, cleaned.get("credentials_file") or None)
            cleaned["url"] = url
            cleaned["bucket"], cleaned["prefix"] = parse_url(url)
            cleaned["endpoint"] = endpoint
            cleaned["credentials_file"] = creds
            if creds:
                credentials_from_file(Path(creds), "default")  # the keys are not kept
        except BrankasError as exc:
            self.add_brankas_error(exc)

    def clean_identity_file(self) -> str:
        f = self.cleaned_data.get("identity_file")
        if not f:
            return ""
        if f.size > MAX_SHARE_FILE:
            raise forms.ValidationError(_("This file is far larger than a recovery key."))
        try:
            return str(f.read().decode("utf-8"))
        except UnicodeDecodeError:
            raise forms.ValidationError(_("This file does not hold a recovery key.")) from None

    def identity_given(self) -> str:
        return str(self.cleaned_data.get("identity") or self.cleaned_data.get("identity_file")
                   or "")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("source") == OFFSITE:
            self._clean_offsite(cleaned)
            for name in ("fingerprint", "allow_older", "allow_unsigned"):
                if cleaned.get(name):
                    self.add_error(name, _("Only for a recover from a backup disk."))
        unlock = cleaned.get("unlock")
        if unlock == PASSPHRASE and not cleaned.get("passphrase"):
            self.add_error("passphrase", _("Type the key holder's passphrase."))
        if unlock == IDENTITY and not (cleaned.get("identity") or cleaned.get("identity_file")):
            self.add_error("identity", _("Type the office recovery key, or choose its file."))
        if unlock == SHARES and not (cleaned.get("shares") or cleaned.get("share_files")):
            self.add_error("shares", _("Type the recovery shares."))
        return cleaned


# -- the audit check -----------------------------------------------------------------

class AuditVerifyForm(BaseForm):
    disks = forms.CharField(
        label=_("Backup disks (folder of each, one a line)"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false",
                                     "placeholder": "E:\\brankas"}))
    pdfs = _MultipleFiles(label=_("Approved report PDFs"), required=False,
                          widget=MultipleFileInput(attrs={"accept": ".pdf,application/pdf"}))

    def clean_disks(self) -> list[str]:
        out = []
        for line in (self.cleaned_data["disks"] or "").splitlines():
            if line.strip():
                out.append(_checked(_disk_folder(line), paths.existing_folder))
        return out

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not cleaned.get("disks") and not cleaned.get("pdfs"):
            self.add_error(None, _("Give a backup disk's folder or a report PDF."))
        return cleaned
