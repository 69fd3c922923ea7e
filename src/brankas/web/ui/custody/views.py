"""Safes and their combinations, and the custody of backup disks (SOP step 7).

The rules are ``brankas.web.custody``'s; a combination is shown only in the response to
the POST that carried the holder's passphrase, with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from brankas.core.access import Action, allowed
from brankas.core.chains.custody import CUSTODY, Move
from brankas.core.errors import BrankasError
from brankas.web.accounts.models import User
from brankas.web.custody.printing import combination_list_pdf, custody_log_pdf
from brankas.web.custody.selectors import (
    custody_history,
    medium_get,
    safe_by_pk,
    safe_list,
    state_of,
)
from brankas.web.custody.services import (
    medium_move,
    safe_add,
    safe_combinations_read,
    safe_set_combination,
)
from brankas.web.runtime import brankas_settings
from brankas.web.ui.common import actor, download, message_of, paginate, refusals, require_role
from brankas.web.ui.custody.forms import CombinationForm, MoveForm, SafeForm
from brankas.web.ui.forms import PassphraseForm
from brankas.web.ui.security import recent_password

HISTORY_PER_PAGE = 50  # moves of a disk on its page (a weekly backup makes two)


def may_read_combinations(user: User) -> bool:
    return user.role in brankas_settings().combination_roles


def _safes_page(request: HttpRequest, user: User, *, add_form: SafeForm | None = None,
                shown: list[Any] | None = None, safe_pk: int | None = None,
                passphrase_form: PassphraseForm | None = None,
                combination_form: CombinationForm | None = None, status: int = 200,
                print_form: PassphraseForm | None = None) -> HttpResponse:
    """The safes page. Each safe has its own forms (prefix ``s<pk>``); the one that was
    posted comes back bound, with its errors, or with the combination it showed."""
    can_manage = allowed(user.role, Action.MANAGE_SAFES)
    rows = []
    for safe in safe_list(actor=user, via="web", target=request.path):
        mine = safe.pk == safe_pk
        rows.append({
            "safe": safe,
            "shown": shown if mine else None,
            "passphrase_form": (passphrase_form if mine and passphrase_form
                                else PassphraseForm(prefix=f"s{safe.pk}")),
            "combination_form": (combination_form if mine and combination_form
                                 else CombinationForm(prefix=f"s{safe.pk}")),
            "open": mine and combination_form is not None,
        })
    response = render(request, "ui/safes.html", {
        "rows": rows,
        "can_manage": can_manage,
        "may_read": may_read_combinations(user),
        "add_form": add_form or (SafeForm() if can_manage else None),
        "print_form": print_form or PassphraseForm(prefix="print"),
    }, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@refusals
@sensitive_post_parameters("combination1", "combination2")
def safes_page(request: HttpRequest) -> HttpResponse:
    """The safes, and (for the Sandiman and the Kabid) adding one."""
    if request.method != "POST":
        return _safes_page(request, actor(request))
    user = require_role(request, Action.MANAGE_SAFES)
    form = SafeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            safe = safe_add(actor=user, name=data["name"], location=data["location"],
                            description=data["description"], combination=data["combination1"])
        except BrankasError as exc:
            if exc.kind == "denied":
                raise
            form.add_error("combination1" if exc.code.startswith("combination") else None,
                           message_of(exc))
        else:
            messages.success(request, _("Safe %(name)s recorded; its combination is stored "
                                        "encrypted.") % {"name": safe.name})
            nxt = request.POST.get("next") or ""  # e.g. back to a backup's check-in offer
            if nxt.startswith("/") and not nxt.startswith("//"):
                return redirect(nxt)
            return redirect("ui:safes")
    return _safes_page(request, user, add_form=form, status=400)


@login_required
@refusals
@require_POST
@sensitive_post_parameters()
def safe_set_combination_view(request: HttpRequest, safe_id: int) -> HttpResponse:
    user = require_role(request, Action.MANAGE_SAFES)
    safe = safe_by_pk(safe_id)
    form = CombinationForm(request.POST, prefix=f"s{safe.pk}")
    if form.is_valid():
        try:
            safe_set_combination(actor=user, name=safe.name,
                                 combination=form.cleaned_data["combination1"])
        except BrankasError as exc:
            if exc.kind == "denied":
                raise
            form.add_error("combination1", message_of(exc))
        else:
            messages.success(request, _("The new combination of %(name)s is stored encrypted; "
                                        "the old one is kept as superseded.") % {"name": safe.name})
            return redirect("ui:safes")
    return _safes_page(request, user, combination_form=form, safe_pk=safe.pk, status=400)


@login_required
@recent_password
@refusals
@require_POST
@never_cache
@sensitive_post_parameters()
def safe_combination_view(request: HttpRequest, safe_id: int) -> HttpResponse:
    """Show a safe's combinations to an allowed holder who gave their passphrase."""
    user = actor(request)
    safe = safe_by_pk(safe_id)
    form = PassphraseForm(request.POST, prefix=f"s{safe.pk}")
    form.is_valid()
    passphrase = form.cleaned_data.get("passphrase") or ""
    try:
        shown = safe_combinations_read(actor=user, name=safe.name, passphrase=passphrase,
                                       history=request.POST.get("history") == "1")
    except BrankasError as exc:
        if exc.kind == "denied":
            raise
        form.add_error("passphrase", message_of(exc))
        return _safes_page(request, user, passphrase_form=form, safe_pk=safe.pk, status=400)
    return _safes_page(request, user, shown=shown, safe_pk=safe.pk)


@login_required
@recent_password
@refusals
@require_POST
@never_cache
@sensitive_post_parameters("print-passphrase")
def safes_print(request: HttpRequest) -> HttpResponse:
    """The combination list as a PDF, for an allowed holder (audited)."""
    user = actor(request)
    form = PassphraseForm(request.POST, prefix="print")
    form.is_valid()
    try:
        data = combination_list_pdf(actor=user, passphrase=form.cleaned_data.get("passphrase")
                                    or "", history=request.POST.get("history") == "1")
    except BrankasError as exc:
        if exc.kind == "denied":
            raise
        form.add_error("passphrase", message_of(exc))
        return _safes_page(request, user, print_form=form, status=400)
    return download(data, "application/pdf", "daftar-kombinasi-brankas.pdf", no_store=True)


# -- a disk and its custody --------------------------------------------------------------

def _medium_page(request: HttpRequest, user: User, ref: str, *, form: MoveForm | None = None,
                 status: int = 200) -> HttpResponse:
    medium = medium_get(actor=user, ref=ref, via="web", target=request.path)
    state = state_of(medium)
    safes = [s.name for s in safe_list(actor=user, via="web", target=request.path)]
    moves = [m.value for m in CUSTODY.open_steps(role=user.role, state=state)]
    return render(request, "ui/medium.html", {
        "medium": medium, "state": state,
        "custody": getattr(medium, "custody", None),
        "history": paginate(request, custody_history(actor=user, medium=medium, via="web",
                                                     target=request.path), HISTORY_PER_PAGE),
        "form": (form or MoveForm(safes=safes, moves=moves,
                                  initial={"move": moves[0] if moves else ""}))
        if moves else None,
        "no_safe": not safes,
    }, status=status)


@login_required
@refusals
def medium_page(request: HttpRequest, medium_id: str) -> HttpResponse:
    """A disk: where it is, its chain of custody, and (for the Sandiman) moving it."""
    if request.method != "POST":
        return _medium_page(request, actor(request), medium_id)
    user = require_role(request, Action.MOVE_MEDIA)
    safes = [s.name for s in safe_list(actor=user, via="web", target=request.path)]
    form = MoveForm(request.POST, safes=safes)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = medium_move(actor=user, medium=medium_id, move=Move(data["move"]),
                                safe=data["safe"] or None, reason=data["reason"],
                                location=data["location"])
        except BrankasError as exc:
            if exc.kind == "denied":
                raise
            form.add_brankas_error(exc)  # beside its field, named by the field's label
        else:
            messages.success(request, _("Recorded: disk %(label)s moved.")
                             % {"label": entry.medium.label})
            nxt = request.POST.get("next") or ""
            if nxt.startswith("/") and not nxt.startswith("//"):
                return redirect(nxt)
            return redirect("ui:medium", medium_id=entry.medium.medium_id)
    return _medium_page(request, user, medium_id, form=form, status=400)


@login_required
@refusals
def medium_custody_pdf(request: HttpRequest, medium_id: str) -> HttpResponse:
    user = actor(request)
    medium = medium_get(actor=user, ref=medium_id, via="web", target=request.path)
    return download(custody_log_pdf(actor=user, medium=medium), "application/pdf",
                    f"riwayat-disk-{medium.medium_id[:8]}.pdf")
