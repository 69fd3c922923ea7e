"""The office recovery key on paper, for the admin: printing share sheets (the recovery
identity typed in a password field, the password again within five minutes; the sheets
come back as one PDF in the response to the POST, and nothing is kept in the session or
on disk), and checking a set of shares (one text box per share)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from brankas.core.access import Action
from brankas.core.errors import BrankasError
from brankas.core.keyring.shares import MAX_SHARES
from brankas.core.keyring.sheets import sheets_pdf
from brankas.web.keys.models import RecoverySplit
from brankas.web.keys.recovery import recovery_check, recovery_split, split_sheets
from brankas.web.ui.common import actor, download, message_of, refusals, require_role
from brankas.web.ui.forms import BaseForm, password_field
from brankas.web.ui.keys.grant_forms import SecretTextarea
from brankas.web.ui.security import recent_password

V = TypeVar("V", bound=Callable[..., Any])
CHECK_BOXES = 5  # text boxes on the check page (more with ?boxes=N, up to MAX_SHARES)


def _role(action: Action) -> Callable[[V], V]:
    """Refuse (audited) a role that may not ``action`` before anything else, so that a
    refused user is not asked for their password first."""

    def decorate(view: V) -> V:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            require_role(request, action)
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


class SplitForm(BaseForm):
    identity = password_field(gettext_lazy("Office recovery key (AGE-SECRET-KEY-1...)"),
                              autocomplete="off")
    shares = forms.IntegerField(label=gettext_lazy("Number of shares (N)"), min_value=1,
                                max_value=MAX_SHARES, initial=5)
    threshold = forms.IntegerField(label=gettext_lazy("Shares needed (K)"), min_value=1,
                                   max_value=MAX_SHARES, initial=3)


class CheckForm(BaseForm):
    def __init__(self, *args: Any, boxes: int = CHECK_BOXES, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, boxes + 1):
            self.fields[f"share{i}"] = forms.CharField(
                label=_("Share %(n)s") % {"n": i}, required=False, strip=False, max_length=8000,
                widget=SecretTextarea(attrs={"rows": 3, "autocomplete": "off",
                                             "spellcheck": "false", "autocapitalize": "none"}))

    def texts(self) -> list[tuple[str, str]]:
        return [(str(self.fields[name].label), value)
                for name, value in self.cleaned_data.items() if value and value.strip()]


def _splits() -> list[RecoverySplit]:
    return list(RecoverySplit.objects.select_related("created_by").order_by("-created_at"))


@login_required
@refusals
@_role(Action.RECOVERY_SPLIT)
@recent_password
@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_post_parameters("identity")
def recovery_split_view(request: HttpRequest) -> HttpResponse:
    """The form; its POST answers with the share sheets (PDF, one share per page)."""
    user = actor(request)
    form = SplitForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            result = recovery_split(actor=user, identity_text=form.cleaned_data["identity"],
                                    shares=form.cleaned_data["shares"],
                                    threshold=form.cleaned_data["threshold"])
        except BrankasError as exc:
            if exc.kind == "denied":
                raise
            form.add_error("identity" if exc.code == "field_invalid" else None,
                           message_of(exc))
        else:
            split = result.split
            data = sheets_pdf(split_sheets(result, actor=user))
            return download(data, "application/pdf",
                            f"bagian-kunci-pemulihan-{split.identifier}.pdf", no_store=True)
    status = 400 if request.method == "POST" else 200
    return render(request, "ui/recovery_split.html", {"form": form, "splits": _splits()},
                  status=status)


@login_required
@refusals
@_role(Action.RECOVERY_CHECK)
@require_http_methods(["GET", "POST"])
@never_cache
@sensitive_post_parameters()
def recovery_check_view(request: HttpRequest) -> HttpResponse:
    """Do these shares rebuild the office recovery key? The fingerprint, nothing else."""
    user = actor(request)
    try:
        boxes = int(request.GET.get("boxes") or request.POST.get("boxes") or CHECK_BOXES)
    except ValueError:
        boxes = CHECK_BOXES
    boxes = min(max(boxes, 2), MAX_SHARES)
    form = CheckForm(request.POST if request.method == "POST" else None, boxes=boxes)
    fingerprint = None
    if form.is_valid():
        try:
            fingerprint = recovery_check(actor=user, shares=form.texts())
        except BrankasError as exc:
            if exc.kind == "denied":
                raise
            form.add_error(None, message_of(exc))
    status = 400 if request.method == "POST" and fingerprint is None else 200
    if fingerprint is not None:
        form = CheckForm(boxes=boxes)  # the words do not come back in the page
    return render(request, "ui/recovery_check.html", {
        "form": form, "boxes": boxes, "fingerprint": fingerprint, "splits": _splits(),
    }, status=status)
