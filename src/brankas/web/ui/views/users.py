"""Users and their SOP roles (admin only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from brankas.core.errors import BrankasError
from brankas.web.accounts.selectors import user_list
from brankas.web.accounts.services import user_create
from brankas.web.keys.selectors import users_with_key
from brankas.web.ui.common import actor, message_of, refusals
from brankas.web.ui.forms import UserForm

FIELD_OF_CODE = {"user_exists": "username", "role_invalid": "role", "password_invalid": "password1"}
FIELD_OF_PARAM = {"username": "username", "NIP": "nip"}


@login_required
@refusals
@sensitive_post_parameters("password1", "password2")
def users_view(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    users = user_list(actor=user, via="web", target=request.path)  # refused before the form
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = user_create(actor=user, username=data["username"], role=data["role"],
                                  password=data["password1"], full_name=data["full_name"],
                                  position=data["position"], nip=data["nip"])
        except BrankasError as exc:
            field = FIELD_OF_CODE.get(exc.code, FIELD_OF_PARAM.get(exc.params.get("field", "")))
            form.add_error(field, message_of(exc))
        else:
            messages.success(request, _("User %(username)s was added with the role %(role)s.")
                             % {"username": created.username, "role": created.role.title()})
            return redirect("ui:users")
    return render(request, "ui/users.html", {"form": form, "users": users,
                                             "with_key": users_with_key()})
