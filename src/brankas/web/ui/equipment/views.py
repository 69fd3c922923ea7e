"""The equipment register (issue 17): the list with the disks and safes Brankas knows,
an item with its maintenance log and disk health, and the Sandiman's forms.

The rules are ``brankas.web.equipment``'s; the pages only show and post."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from brankas.core.access import Action, allowed
from brankas.core.equipment.advice import STATUS_WORDS, reason_text, which_text
from brankas.core.errors import BrankasError
from brankas.web.accounts.models import User
from brankas.web.equipment.selectors import (
    Item,
    equipment_item,
    equipment_items,
    equipment_warnings,
    item_health,
    item_log,
)
from brankas.web.equipment.services import equipment_add, equipment_log, equipment_retire
from brankas.web.ui.common import refusals, require_role
from brankas.web.ui.equipment.forms import EquipmentForm, LogForm, RetireForm


def _lang() -> str:
    return "id" if (get_language() or "id").startswith("id") else "en"


def _users() -> list[tuple[str, str]]:
    return [(u.username, u.display()) for u in
            User.objects.filter(is_active=True).order_by("username")]


def _list_page(request: HttpRequest, user: User, form: EquipmentForm | None = None,
               status: int = 200) -> HttpResponse:
    items = equipment_items(actor=user, via="web", target=request.path)
    lang = _lang()
    warned: dict[str, list[str]] = {}
    for w in equipment_warnings(items):
        warned.setdefault(w.ref, []).append(w.text(lang))
    can_record = allowed(user.role, Action.RECORD_EQUIPMENT)
    return render(request, "ui/equipment.html", {
        "rows": [{"item": i, "warnings": warned.get(i.ref, []),
                  "health": STATUS_WORDS[i.health.status][0 if lang == "id" else 1]
                  if i.health else ""} for i in items],
        "can_record": can_record,
        "form": form or (EquipmentForm(users=_users(), initial={"condition": "baik"})
                         if can_record else None),
    }, status=status)


@login_required
@refusals
def equipment_page(request: HttpRequest) -> HttpResponse:
    """Every item (the disks and safes Brankas knows among them); the Sandiman adds one."""
    if request.method != "POST":
        return _list_page(request, require_role(request, Action.VIEW_EQUIPMENT))
    user = require_role(request, Action.RECORD_EQUIPMENT)
    form = EquipmentForm(request.POST, users=_users())
    if form.is_valid():
        data = form.cleaned_data
        try:
            row = equipment_add(actor=user, kind=data["kind"], name=data["name"],
                                serial=data["serial"], location=data["location"],
                                responsible=data["responsible"] or None,
                                acquired=data["acquired"], condition=data["condition"],
                                next_check_due=data["next_check_due"], notes=data["notes"])
        except BrankasError as exc:
            if exc.kind == "denied":
                raise
            form.add_brankas_error(exc)
        else:
            messages.success(request, _("Equipment %(name)s recorded.") % {"name": row.name})
            return redirect("ui:equipment_item", str(row.pk))
    return _list_page(request, user, form, status=400)


def _item_page(request: HttpRequest, user: User, item: Item, *,
               log_form: LogForm | None = None, retire_form: RetireForm | None = None,
               status: int = 200) -> HttpResponse:
    lang = _lang()
    can_record = allowed(user.role, Action.RECORD_EQUIPMENT) and item.retired_at is None
    sources = {"backup": _("Backup"), "verify": _("Verification"), "drill": _("Restore drill")}
    health = [{"h": h, "status": STATUS_WORDS[h.status][0 if lang == "id" else 1],
               "source": sources.get(h.source, h.source),
               "reason": reason_text(h.reason, lang),
               "rose": which_text(h.rose, lang) if h.rose else ""} for h in item_health(item)]
    return render(request, "ui/equipment_item.html", {
        "item": item,
        "log": list(item_log(item)),
        "health": health,
        "warnings": [w.text(lang) for w in equipment_warnings([item])],
        "can_record": can_record,
        "log_form": log_form or (LogForm(initial={
            "on": timezone.localdate(), "condition": item.condition or "baik"})
            if can_record else None),
        "retire_form": retire_form or (RetireForm() if can_record else None),
    }, status=status)


@login_required
@refusals
def equipment_item_page(request: HttpRequest, ref: str) -> HttpResponse:
    user = require_role(request, Action.VIEW_EQUIPMENT)
    return _item_page(request, user, equipment_item(actor=user, ref=ref, via="web",
                                                    target=request.path))


def _posted(request: HttpRequest, ref: str, form: Any, call: Any, done: str) -> HttpResponse:
    user = require_role(request, Action.RECORD_EQUIPMENT)
    item = equipment_item(actor=user, ref=ref, via="web", target=request.path)
    if form.is_valid():
        try:
            row = call(user, form.cleaned_data)
        except BrankasError as exc:
            if exc.kind == "denied":
                raise
            form.add_brankas_error(exc)
        else:
            messages.success(request, done)
            return redirect("ui:equipment_item", str(row.pk))
    key = "log_form" if isinstance(form, LogForm) else "retire_form"
    return _item_page(request, user, item, status=400, **{key: form})


@login_required
@refusals
@require_POST
def equipment_log_view(request: HttpRequest, ref: str) -> HttpResponse:
    """The Sandiman logs a check or repair (a known disk or safe is linked at its first)."""
    def call(user: User, data: dict[str, Any]) -> Any:
        return equipment_log(actor=user, ref=ref, work=data["work"],
                             condition=data["condition"], on=data["on"],
                             next_check_due=data["next_check_due"]).equipment

    return _posted(request, ref, LogForm(request.POST), call, _("Check recorded."))


@login_required
@refusals
@require_POST
def equipment_retire_view(request: HttpRequest, ref: str) -> HttpResponse:
    def call(user: User, data: dict[str, Any]) -> Any:
        return equipment_retire(actor=user, ref=ref, reason=data["reason"])

    return _posted(request, ref, RetireForm(request.POST), call,
                   _("The item is out of service."))
