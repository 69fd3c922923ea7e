"""The office profile page: the form (admin only, ``office-settings``), a preview of the
letterhead as the papers print it, and the stored logo."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from brankas.core.access import Action
from brankas.core.errors import BrankasError
from brankas.web.accounts.office import (
    DATE_FIELDS,
    FIELDS,
    letterhead,
    office_profile,
    office_update,
    place_date,
    sop_citation,
)
from brankas.web.ui.common import refusals, require_role
from brankas.web.ui.office.forms import OfficeForm


def _initial() -> dict[str, object]:
    office = office_profile()
    return {name: getattr(office, name) for name in FIELDS}


@login_required
@refusals
@require_http_methods(["GET", "POST"])
def office_page(request: HttpRequest) -> HttpResponse:
    user = require_role(request, Action.OFFICE_SETTINGS)
    status = 200
    if request.method == "POST":
        form = OfficeForm(request.POST, request.FILES, initial=_initial())
        if form.is_valid():
            changes = {name: form.cleaned_data.get(name) for name in FIELDS}
            changes = {k: ("" if v is None and k not in DATE_FIELDS else v)
                       for k, v in changes.items()}
            try:
                office_update(actor=user, changes=changes, logo=form.logo_bytes(),
                              remove_logo=bool(form.cleaned_data.get("no_logo")))
            except BrankasError as exc:
                if exc.kind == "denied":
                    raise
                form.add_brankas_error(exc)
            else:
                messages.success(request, _("The office profile was saved. Papers printed "
                                            "from now on show it; approved reports keep "
                                            "their own."))
                return redirect("ui:office")
        status = 400
    else:
        form = OfficeForm(initial=_initial())
    office = office_profile()
    return render(request, "ui/office.html", {
        "form": form, "kop": letterhead(office), "has_logo": bool(office.logo),
        "place_date": place_date(office), "sop": sop_citation(office),
    }, status=status)


@login_required
@refusals
def office_logo(request: HttpRequest) -> HttpResponse:
    """The stored logo (a PNG Brankas drew itself), for the preview."""
    require_role(request, Action.OFFICE_SETTINGS)
    office = office_profile()
    if not office.logo:
        raise Http404
    response = HttpResponse(bytes(office.logo), content_type="image/png")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
