"""Registering a scanned document (SOP steps 1-5) through the data-input form."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from brankas.core.access import Action
from brankas.core.errors import BrankasError, InvalidInput, NotFound
from brankas.web.accounts.models import User
from brankas.web.documents.models import Document
from brankas.web.documents.selectors import document_get
from brankas.web.documents.services import document_register
from brankas.web.ui.common import refusals, require_role
from brankas.web.ui.register_form import RegisterForm, opened_at, opened_token

MIB = 1024 * 1024


def upload_too_large(request: HttpRequest) -> InvalidInput:
    """The refusal for an upload the handler stopped reading (``ui.uploads``)."""
    limit = settings.FILE_UPLOAD_MAX_MEMORY_SIZE / MIB
    try:
        size = int(request.META.get("CONTENT_LENGTH") or 0) / MIB
    except ValueError:
        size = 0
    return InvalidInput(
        "file_too_large",
        name=getattr(request, "brankas_upload_name", "") or _("the upload"),
        size=round(size, 1),
        limit=int(limit) if limit == int(limit) else round(limit, 1),
    )


def duplicate_of(exc: BrankasError, user: User) -> Document | None:
    try:
        return document_get(actor=user, agenda=str(exc.params.get("agenda", "")), via="web")
    except NotFound:
        return None


@login_required
@refusals
def register(request: HttpRequest) -> HttpResponse:
    user = require_role(request, Action.REGISTER)
    duplicate: Document | None = None
    if request.method != "POST":
        form = RegisterForm(initial={"opened": opened_token()})
        return render(request, "ui/register.html", {"form": form})
    form = RegisterForm(request.POST, request.FILES)
    if getattr(request, "brankas_upload_too_large", False):
        form.is_valid()
        form.add_brankas_error(upload_too_large(request))
    elif (meta := form.document_input()) is not None:
        try:
            doc = document_register(
                actor=user,
                meta=meta,
                files=form.input_files(),
                form_opened_at=opened_at(form.cleaned_data["opened"]),
                source="web",
                allow_duplicate=form.cleaned_data["allow_duplicate"],
            )
        except BrankasError as exc:
            if exc.kind == "denied":
                raise  # a refusal page (403)
            duplicate = duplicate_of(exc, user) if exc.code == "duplicate_document" else None
            if duplicate is None:
                form.add_brankas_error(exc)
        else:
            messages.success(request, _("Registered as agenda %(agenda)s and filed in %(path)s.")
                             % {"agenda": doc.agenda, "path": doc.stored_path})
            if doc.duplicate_of:
                messages.warning(request, _("The same file was already registered as agenda "
                                            "%(agenda)s.") % {"agenda": doc.duplicate_of.agenda})
            return redirect("ui:document", agenda=doc.agenda)
    # Nothing was stored; the files must be chosen again (a browser cannot refill them).
    return render(request, "ui/register.html", {"form": form, "duplicate": duplicate,
                                                "files_dropped": True})
