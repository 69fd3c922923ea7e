"""Key holders' keys: the public recipients every exempted document is encrypted to, and
creating a key (a holder their own; the admin for a holder)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from brankas.core import crypto
from brankas.core.access import Action, allowed
from brankas.core.errors import BrankasError
from brankas.core.passphrase import MIN_LENGTH, MIN_SCORE
from brankas.web.accounts.models import User
from brankas.web.accounts.selectors import office_get
from brankas.web.keys.models import HolderKey
from brankas.web.keys.selectors import (
    key_check_due,
    key_checked_since,
    key_holder_candidates,
    key_list,
    recovery_splits,
    user_has_key,
)
from brankas.web.keys.services import key_create
from brankas.web.runtime import brankas_settings
from brankas.web.ui.common import actor, message_of, refusals
from brankas.web.ui.keys.forms import KeyForm
from brankas.web.ui.security import password_is_recent, reauth_redirect

OWN, FOR_HOLDER = "own", "holder"
ACTIVE, RETIRED, REVOKED, INACTIVE = "active", "retired", "revoked", "inactive"


@dataclass(frozen=True)
class KeyRow:
    """A key as the keys page shows it: its state (active; retired: replaced by a newer key
    of its holder; revoked; inactive: its holder's account is switched off), when the
    passphrase was last proved, and whether a check is due."""

    key: HolderKey
    state: str
    checked_since: datetime
    check_due: bool
    own: bool


def key_rows(user: User) -> list[KeyRow]:
    now = timezone.now()
    rows = []
    for key in key_list():
        state = (REVOKED if key.revoked_at else RETIRED if key.retired_at
                 else ACTIVE if key.holder.is_active else INACTIVE)
        rows.append(KeyRow(key, state, key_checked_since(key), key_check_due(key, now=now),
                           key.holder_id == user.pk))
    return rows


def holder_choices() -> list[tuple[str, str]]:
    return [(u.username, f"{u.display()} ({u.username}, {u.role.title()})")
            for u in key_holder_candidates()]


def forms_for(user: User, data: Any = None,
              which: str | None = None) -> dict[str, KeyForm | None]:
    """The key forms this user may see, the one named ``which`` bound to ``data``."""
    out: dict[str, KeyForm | None] = {OWN: None, FOR_HOLDER: None}
    if allowed(user.role, Action.OWN_KEY):
        out[OWN] = KeyForm(data if which == OWN else None, prefix=OWN)
    if allowed(user.role, Action.MANAGE_KEYS):
        out[FOR_HOLDER] = KeyForm(data if which == FOR_HOLDER else None, prefix=FOR_HOLDER,
                                  holders=holder_choices())
    return out


@login_required
@refusals
@sensitive_post_parameters()
def keys_view(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    which = request.POST.get("form") if request.method == "POST" else None
    if which is not None and not password_is_recent(request):
        # A new key retires the holder's and receives every file made next (issue 14 review).
        return reauth_redirect(request, request.path)
    forms = forms_for(user, request.POST if which else None, which)
    if which is not None:
        form = forms.get(which)
        if form is None:  # a form this role is not shown: the service refuses what it asks
            for_holder = which == FOR_HOLDER
            form = KeyForm(request.POST, prefix=FOR_HOLDER if for_holder else OWN,
                           holders=holder_choices() if for_holder else None)
        if form.is_valid():
            holder = form.cleaned_data.get("holder") or user.username
            try:
                key = key_create(actor=user, holder_username=holder,
                                 passphrase=form.cleaned_data["passphrase1"])
            except BrankasError as exc:
                if exc.kind == "denied":
                    raise
                field = "passphrase1" if exc.code == "passphrase_weak" else None
                form.add_error(field, message_of(exc))
            else:
                messages.success(request, _("A new key was created for %(holder)s: %(recipient)s")
                                 % {"holder": key.holder.display(), "recipient": key.recipient})
                return redirect("ui:keys")
    office = office_get()
    return render(request, "ui/keys.html", {
        "rows": key_rows(user),
        "check_months": brankas_settings().key_check_months,
        "splits": list(recovery_splits()[:10]) if allowed(user.role, Action.RECOVERY_SPLIT)
        else [],
        "recovery_recipient": office.recovery_recipient if office else "",
        "recovery_fingerprint": (crypto.recipient_fingerprint(office.recovery_recipient)
                                 if office else ""),
        "own_form": forms[OWN],
        "holder_form": forms[FOR_HOLDER],
        "has_own_key": user_has_key(user.pk),
        "min_length": MIN_LENGTH,
        "min_score": MIN_SCORE,
    })
