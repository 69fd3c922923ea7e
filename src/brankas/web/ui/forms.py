"""Forms parse what the browser sent; the rules live in ``brankas.core`` and the services,
whose messages (``BrankasError``) the views add to the form in the active language.
The data-input form of the registration is in ``ui.register_form``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.core.terms import CATEGORY_LABELS, Category
from brankas.web.ui import labels


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


# ------------------------------------------------------------------ setup, login, users

class SetupForm(BaseForm):
    office_name = text_field(_("Office name"), 200, required=True)
    government = text_field(_("Government"), 200, placeholder="Pemerintah Kabupaten …")
    department = text_field(_("Department"), 200, placeholder="Dinas Komunikasi dan Informatika")
    division = text_field(_("Division"), 200, placeholder="Bidang Persandian dan Statistik")
    address = text_field(_("Address"), 300)
    city = text_field(_("City"), 100)
    phone = text_field(_("Phone"), 50)
    email = forms.EmailField(label=_("Email"), required=False, max_length=100)
    admin_username = text_field(_("Username"), 150, required=True, autocomplete="username")
    admin_full_name = text_field(_("Full name"), 200)
    password1 = password_field(_("Password"))
    password2 = password_field(_("Password again"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_match(self, cleaned, "password1", "password2")
        return cleaned


class LoginForm(BaseForm):
    username = text_field(_("Username"), 150, required=True, autocomplete="username",
                          autofocus=True)
    password = password_field(_("Password"), autocomplete="current-password")


class UserForm(BaseForm):
    username = text_field(_("Username"), 150, required=True, autocomplete="off")
    role = forms.CharField(label=_("Role"), widget=forms.Select())
    full_name = text_field(_("Full name"), 200)
    position = text_field(_("Position (jabatan)"), 200)
    nip = text_field(_("NIP"), 30, inputmode="numeric")
    password1 = password_field(_("Password"))
    password2 = password_field(_("Password again"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].widget.choices = labels.role_choices()  # type: ignore[attr-defined]
        self.fields["nip"].help_text = _("18 digits, printed under a signature.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_match(self, cleaned, "password1", "password2")
        return cleaned


# ------------------------------------------------------------------ keys

class KeyForm(BaseForm):
    holder = forms.CharField(label=_("Key holder"), widget=forms.Select())
    passphrase1 = password_field(_("Passphrase"), autocomplete="off")
    passphrase2 = password_field(_("Passphrase again"), autocomplete="off")

    def __init__(self, *args: Any, holders: list[tuple[str, str]] | None = None,
                 **kwargs: Any) -> None:
        """``holders``: the users to choose from (admin); ``None``: the signed-in user's own
        key, so there is no holder to choose."""
        super().__init__(*args, **kwargs)
        if holders is None:
            del self.fields["holder"]
        else:
            self.fields["holder"].widget.choices = holders  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_match(self, cleaned, "passphrase1", "passphrase2")
        return cleaned


class PassphraseForm(BaseForm):
    passphrase = forms.CharField(
        label=_("Your key passphrase"),
        strip=False,
        required=False,  # the service refuses a missing one, with its own message
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "required": True}),
    )


# ------------------------------------------------------------------ the register

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
        self.fields["q"].widget.attrs["placeholder"] = _("agenda, number, subject, correspondent")

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

    def clean_dest(self) -> str:
        return _disk_folder(self.cleaned_data["dest"])


# ------------------------------------------------------------------ safes and custody

class CombinationForm(BaseForm):
    combination1 = password_field(_("Combination"), autocomplete="off")
    combination2 = password_field(_("Combination again"), autocomplete="off")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_match(self, cleaned, "combination1", "combination2")
        return cleaned


class SafeForm(CombinationForm):
    name = text_field(_("Name of the safe"), 100, required=True, placeholder="Brankas-1")
    location = text_field(_("Location"), 200, required=True,
                          placeholder="Ruang Persandian, lantai 2")
    description = text_field(_("Description"), 2000)
    field_order = ["name", "location", "description", "combination1", "combination2"]


class MoveForm(BaseForm):
    MOVES = [
        ("checkin", _("Check into a safe")),
        ("checkout", _("Check out of its safe")),
        ("offsite", _("Kept offsite")),
        ("retire", _("Retire")),
        ("lost", _("Report lost")),
        ("found", _("Found again")),
    ]
    move = forms.ChoiceField(label=_("Move"), choices=MOVES)
    safe = forms.ChoiceField(label=_("Safe (for a check-in)"), required=False)
    location = text_field(_("Location (for offsite)"), 200)
    reason = text_field(_("Reason"), 500)

    def __init__(self, *args: Any, safes: list[str], moves: list[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["safe"].choices = [("", "—")] + [(s, s) for s in safes]  # type: ignore[attr-defined]
        if moves is not None:
            self.fields["move"].choices = [  # type: ignore[attr-defined]
                (value, label) for value, label in self.MOVES if value in moves]


# ------------------------------------------------------------------ reports

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


class ReportForwardForm(ReportSignForm):
    summary = forms.CharField(label=_("Executive summary"), max_length=20000,
                              widget=forms.Textarea(attrs={"rows": 8}))


class ReportVerifyForm(BaseForm):
    file = forms.FileField(label=_("Report PDF"))
