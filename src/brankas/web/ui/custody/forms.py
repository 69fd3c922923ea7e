"""The forms of the safes and custody pages: a safe, its combination, a disk's move."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

from brankas.web.ui.forms import BaseForm, check_match, password_field, text_field


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
    field_of_param: ClassVar[dict[str, str]] = {"--safe": "safe"}  # the service's name

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
