"""First run: the office, its letterhead and the first admin; the recovery identity once."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from brankas.core.errors import BrankasError
from brankas.web.accounts.selectors import is_initialized
from brankas.web.accounts.services import office_initialize
from brankas.web.ui.common import message_of
from brankas.web.ui.forms import SetupForm

FIELD_OF_CODE = {"password_invalid": "password1", "already_initialized": None}
FIELD_OF_PARAM = {"office": "office_name", "admin": "admin_username"}


@never_cache
@sensitive_post_parameters("password1", "password2")
def setup(request: HttpRequest) -> HttpResponse:
    if is_initialized():
        return redirect("ui:login")
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = office_initialize(
                office_name=data["office_name"],
                admin_username=data["admin_username"],
                admin_password=data["password1"],
                admin_full_name=data["admin_full_name"],
                government=data["government"],
                department=data["department"],
                division=data["division"],
                address=data["address"],
                city=data["city"],
                phone=data["phone"],
                email=data["email"],
            )
        except BrankasError as exc:
            field = FIELD_OF_CODE.get(exc.code, FIELD_OF_PARAM.get(exc.params.get("field", "")))
            form.add_error(field, message_of(exc))
        else:
            # The secret half of the recovery key lives only in this one response: it is not
            # stored, not put in the session, and the page is marked not to be cached.
            from brankas.web.keys.services import office_key

            return render(request, "ui/setup_done.html", {
                "office": result.office,
                "admin": result.admin,
                "recovery_identity": result.recovery_identity,
                "office_key_fingerprint": office_key().fingerprint,
            })
    return render(request, "ui/setup.html", {"form": form})
