"""User administration on the web (issue 14): one user's page for the admin (role,
deactivate or reactivate, reset the password, lift a lock-out, qualifications), and my
account (my own password, every role). The rules are the services'
(``accounts.administration``); the admin's page asks for the password again as other
sensitive pages do, and every change there is confirmed."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_lockout_response
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from brankas.core.access import Action
from brankas.core.errors import AccessDenied, AuthenticationFailed, BrankasError
from brankas.web.accounts import administration as admin_services
from brankas.web.accounts.selectors import own_qualifications, user_state
from brankas.web.keys.selectors import user_has_key
from brankas.web.ui.accounts.admin_forms import (
    DeactivateForm,
    OwnPasswordForm,
    QualificationForm,
    ResetPasswordForm,
    RoleForm,
)
from brankas.web.ui.common import actor, message_of, refusals, require_role
from brankas.web.ui.security import password_is_recent, password_typed, reauth_redirect

OPS = ("role", "deactivate", "activate", "reset", "unlock", "qualify", "withdraw")


def _exposure(change: admin_services.UserChange) -> dict[str, Any] | None:
    """What the revoked keys still open (as the revoke page shows it)."""
    revoked = change.revoked
    if revoked is None:
        return None
    return {"holder": revoked.holder, "fingerprints": revoked.fingerprints,
            "still_opens": [vars(e) for e in revoked.still_opens],
            "recovery_only": revoked.recovery_only}


@login_required
@refusals
@never_cache
@sensitive_post_parameters("password1", "password2")
def user_page(request: HttpRequest, username: str) -> HttpResponse:
    """One user: their state and the admin's actions on them."""
    admin = require_role(request, Action.MANAGE_USERS)
    if not password_is_recent(request):  # as before opening or exporting
        return reauth_redirect(request, request.path)
    state = user_state(actor=admin, username=username, via="web")
    target = state.user
    op = request.POST.get("op", "") if request.method == "POST" else ""
    bound = request.POST if op else None
    forms: dict[str, Any] = {
        "role_form": RoleForm(bound if op == "role" else None, initial={"role": target.role}),
        "deactivate_form": DeactivateForm(bound if op == "deactivate" else None),
        "reset_form": ResetPasswordForm(bound if op == "reset" else None),
        "qualify_form": QualificationForm(bound if op == "qualify" else None,
                                          initial={"training": "Diklat Sandiman"}),
    }
    context: dict[str, Any] = {"state": state, "target": target, "self_page": target == admin,
                               "holds_key": user_has_key(target.pk), **forms}
    if op not in OPS:
        return render(request, "ui/user_detail.html", context)
    form = forms.get(f"{op}_form")
    if form is not None and not form.is_valid():
        return render(request, "ui/user_detail.html", context, status=400)
    try:
        done = _apply(admin, target.username, op, form, request)
    except AccessDenied:
        raise
    except BrankasError as exc:
        if form is not None and form.field_of(exc) is not None:
            form.add_brankas_error(exc)
        else:  # at the top of the page: not every form is shown (one's own page)
            context["error"] = message_of(exc)
        return render(request, "ui/user_detail.html", context, status=400)
    if isinstance(done, admin_services.UserChange) and done.revoked is not None:
        # The admin must see which disks still hold copies the revoked keys open.
        context = {"state": user_state(actor=admin, username=target.username, via="web"),
                   "target": done.user, "revoked": _exposure(done), "done": True,
                   "combinations": done.combinations}
        return render(request, "ui/user_detail.html", context)
    return redirect("ui:user", username=target.username)


def _apply(admin: Any, username: str, op: str, form: Any, request: HttpRequest) -> Any:
    """Run the service of ``op``; the message that tells what was done."""
    data = form.cleaned_data if form is not None else {}
    if op == "role":
        change = admin_services.user_set_role(actor=admin, username=username,
                                              role=data["role"])
        messages.success(request, _("%(username)s now has the role %(role)s.")
                         % {"username": username, "role": change.user.get_role_display()})
        return change
    if op == "deactivate":
        change = admin_services.user_deactivate(actor=admin, username=username)
        messages.success(request, _("%(username)s is deactivated: they can no longer sign in.")
                         % {"username": username})
        return change
    if op == "activate":
        change = admin_services.user_activate(actor=admin, username=username)
        messages.success(request, _("%(username)s is active again.") % {"username": username})
        return change
    if op == "reset":
        admin_services.password_reset(actor=admin, username=username,
                                      new_password=data["password1"])
        messages.success(request, _("The password of %(username)s is reset: give it to them in "
                                    "person; they must change it when they next sign in.")
                         % {"username": username})
        return None
    if op == "unlock":
        admin_services.user_unlock(actor=admin, username=username)
        messages.success(request, _("%(username)s can sign in again.") % {"username": username})
        return None
    if op == "qualify":
        admin_services.qualification_record(
            actor=admin, username=username, training=data["training"],
            certificate_number=data["certificate_number"], passed_on=data["passed_on"])
        messages.success(request, _("The qualification is recorded."))
        return None
    # withdraw
    number = request.POST.get("number", "")
    admin_services.qualification_withdraw(actor=admin, username=username,
                                          number=int(number) if number.isdigit() else 0)
    messages.success(request, _("The qualification is withdrawn (the record is kept)."))
    return None


@login_required
@never_cache
@sensitive_post_parameters("old_password", "password1", "password2")
def account_page(request: HttpRequest) -> HttpResponse:
    """My account: my role and qualifications, and changing my own password."""
    user = actor(request)
    form = OwnPasswordForm(request.POST or None)
    context = {"form": form, "qualifications": own_qualifications(user)}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = admin_services.password_change(
                username=user.username, old_password=data["old_password"],
                new_password=data["password1"], request=request, via="web")
        except AuthenticationFailed as exc:
            if exc.code == "auth_locked":
                return get_lockout_response(request, None, {"username": user.username})
            form.add_error("old_password", message_of(exc))
        except BrankasError as exc:
            form.add_brankas_error(exc)
        else:
            update_session_auth_hash(request, changed)  # this session stays signed in
            password_typed(request)
            messages.success(request, _("Your password is changed."))
            return redirect(reverse("ui:dashboard"))
        return render(request, "ui/account.html", context, status=400)
    return render(request, "ui/account.html", context)
