"""Requests to send a secret message: the list, a new request, a request's page with the
step its holder can take, registering its letter, and reading the letter."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from brankas.core.access import Action
from brankas.core.chains.request import REQUEST, State, Step, number_text
from brankas.core.errors import BrankasError
from brankas.core.names import safe_component
from brankas.core.sealing import SEALABLE
from brankas.web.accounts.models import User
from brankas.web.documents.sealing import reveal
from brankas.web.keys.selectors import key_list
from brankas.web.runtime import brankas_settings
from brankas.web.sendrequests import services
from brankas.web.sendrequests.models import SendRequest
from brankas.web.sendrequests.selectors import (
    request_assignees,
    request_get,
    request_inbox,
    request_list,
    request_lookup,
)
from brankas.web.ui.common import actor, message_of, paginate, pdf_response, refusals, require_role
from brankas.web.ui.documents.forms import opened_at, opened_token
from brankas.web.ui.documents.sealed_views import sealed_context, unlocked_key
from brankas.web.ui.formats import form_date_text
from brankas.web.ui.forms import PassphraseForm
from brankas.web.ui.sendrequests.forms import (
    AssignForm,
    ReceiveForm,
    RequestForm,
    RequestRegisterForm,
    ReturnForm,
    SentForm,
    ServiceForm,
)
from brankas.web.ui.uploads import refuse_if_too_large, uploaded_files

PER_PAGE = 50


def overdue_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=brankas_settings().request_max_open_hours)


@login_required
@refusals
def request_list_view(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    show = request.GET.get("show", "open")
    key = unlocked_key(request)  # an unlocked holder also searches sealed subjects
    qs = request_list(actor=user, via="web", target=request.path, open_only=show != "all",
                      query=request.GET.get("q"), unlocked=key)
    if show == "overdue":
        qs = qs.filter(created_at__lt=overdue_cutoff())
    page = paginate(request, qs, PER_PAGE)
    reveal(page.object_list, key, fields=("subject", "correspondent"))
    hidden = 0
    if show != "all":  # what the filter leaves out, said beside the count
        hidden = request_list(actor=user, via="web", target=request.path, unlocked=key,
                              query=request.GET.get("q")).count() - page.paginator.count
    response = render(request, "ui/request_list.html", {
        "page": page, "show": show, "q": request.GET.get("q", ""), "hidden": hidden,
        "inbox": list(request_inbox(user, via="web", target=request.path)),
        "cutoff": overdue_cutoff(),
        "max_hours": brankas_settings().request_max_open_hours,
    })
    if key is not None:  # revealed sealed values: kept by no cache (issue 16)
        response["Cache-Control"] = "no-store"
    return response


@login_required
@refusals
@sensitive_post_parameters(*SEALABLE, "addressee")  # never in an error report (issue 16)
def request_new(request: HttpRequest) -> HttpResponse:
    user = require_role(request, Action.REQUEST_CREATE)
    if request.method != "POST":
        form = RequestForm(initial={"urgency": "biasa"})
        return render(request, "ui/request_new.html", {"form": form})
    form = RequestForm(request.POST, request.FILES)
    if not refuse_if_too_large(request, form) and form.is_valid():
        try:
            req = services.request_create(actor=user, via="web", **form.service_kwargs())
        except BrankasError as exc:
            if exc.kind == "denied":
                raise
            form.add_brankas_error(exc)
        else:
            messages.success(request, _("Request number %(number)s recorded; it waits for "
                                        "the Kadis.") % {"number": number_text(req.pk)})
            return redirect("ui:request", number=req.pk)
    return render(request, "ui/request_new.html", {"form": form, "files_dropped": True})


def _people(req: SendRequest) -> list[tuple[str, str]]:
    return [(u.username, f"{u.display()} ({u.username})") for u in request_assignees(req)]


def render_detail(request: HttpRequest, req: SendRequest, *, status: int = 200,
                  **forms: ServiceForm | PassphraseForm) -> HttpResponse:
    user = actor(request)
    reveal([req], unlocked_key(request))
    state = State(req.state)
    last_return = req.steps.filter(kind="return").order_by("-at", "-pk").first()
    context: dict[str, Any] = {
        "req": req,
        "steps": req.steps.select_related("actor", "assignee"),
        "holder": REQUEST.holds(role=user.role, state=state, assignee=req.assignee_id,
                                user=user.pk),
        "open_steps": [s.value for s in REQUEST.open_steps(
            role=user.role, state=state, assignee=req.assignee_id, user=user.pk)],
        "last_return": last_return,
        "overdue": req.closed_at is None and req.created_at < overdue_cutoff(),
        "holds_key": req.letter_encrypted and key_list().filter(
            holder=user, fingerprint__in=list(req.letter_recipients)).exists(),
        "assign_form": AssignForm(people=_people(req)),
        "return_form": ReturnForm(),
        "receive_form": ReceiveForm(),
        "sent_form": SentForm(),
        "passphrase_form": PassphraseForm(),
        "lang_next": reverse("ui:request", args=[req.pk]),
        **sealed_context(request),
    }
    context.update(forms)
    response = render(request, "ui/request_detail.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@refusals
def request_detail(request: HttpRequest, number: int) -> HttpResponse:
    return render_detail(request, request_get(actor=actor(request), number=number, via="web",
                                              target=request.path))


def _step_view(request: HttpRequest, number: int, form: ServiceForm, name: str,
               call: Any, done: str, action: Action) -> HttpResponse:
    """Run one step of the chain from its form; on a refusal show the page again with the
    message beside the form's field. A role that may not take the step is refused before
    the form is read (the service checks again)."""
    require_role(request, action)
    user = actor(request)
    req = request_get(actor=user, number=number, via="web", target=request.path)
    if not refuse_if_too_large(request, form) and form.is_valid():
        try:
            call(user, form.cleaned_data)
        except BrankasError as exc:
            if exc.kind in {"denied", "not_found"}:
                raise
            form.add_brankas_error(exc)
        else:
            messages.success(request, done)
            return redirect("ui:request", number=number)
    req.refresh_from_db()
    return render_detail(request, req, status=400, **{name: form})


@login_required
@refusals
@require_POST
def request_assign_view(request: HttpRequest, number: int) -> HttpResponse:
    req = request_lookup(number)  # its state names the step, whose role is checked first
    form = AssignForm(request.POST, people=_people(req))
    step = REQUEST.find(req.state, Step.ASSIGN)
    return _step_view(request, number, form, "assign_form", lambda user, d: (
        services.request_assign(actor=user, number=number, assignee_username=d["to"],
                                note=d["note"], via="web")), _("Assigned."),
        step.action if step else Action.REQUEST_VIEW)


@login_required
@refusals
@require_POST
def request_return_view(request: HttpRequest, number: int) -> HttpResponse:
    return _step_view(request, number, ReturnForm(request.POST), "return_form", lambda user, d: (
        services.request_return(actor=user, number=number, note=d["note"], via="web")),
        _("Returned, with the reason."), REQUEST.action(Step.RETURN))


@login_required
@refusals
@require_POST
def request_receive_view(request: HttpRequest, number: int) -> HttpResponse:
    form = ReceiveForm(request.POST, request.FILES)

    def call(user: User, d: dict[str, Any]) -> None:
        files = uploaded_files(d["letter"])
        services.request_receive(actor=user, number=number, files=files or None,
                                 note=d["note"], via="web")

    return _step_view(request, number, form, "receive_form", call,
                      _("The letter is recorded as received."),
                      REQUEST.action(Step.RECEIVE))


@login_required
@refusals
@require_POST
def request_sent_view(request: HttpRequest, number: int) -> HttpResponse:
    return _step_view(request, number, SentForm(request.POST), "sent_form", lambda user, d: (
        services.request_send(actor=user, number=number, channel=d["channel"],
                              reference=d["reference"], note=d["note"], via="web")),
        _("Recorded as sent; the request is closed."), REQUEST.action(Step.SEND))


@login_required
@refusals
@sensitive_post_parameters(*SEALABLE)  # never in an error report (issue 16)
def request_register_view(request: HttpRequest, number: int) -> HttpResponse:
    """The registration form, pre-filled from the request; registering links the two."""
    user = require_role(request, REQUEST.action(Step.REGISTER))
    req = request_get(actor=user, number=number, via="web", target=request.path)
    context: dict[str, Any] = {"req": req}
    if request.method != "POST":
        form = RequestRegisterForm(initial={
            "opened": opened_token(), "correspondent": req.addressee,
            "doc_date": form_date_text(timezone.localdate())})
        return render(request, "ui/request_register.html", {**context, "form": form})
    form = RequestRegisterForm(request.POST, request.FILES)
    if not refuse_if_too_large(request, form) and form.is_valid():
        try:
            doc = services.request_register(
                actor=user, number=number, form_opened_at=opened_at(form.cleaned_data["opened"]),
                source="web", **form.service_kwargs())
        except BrankasError as exc:
            if exc.kind in {"denied", "not_found"}:
                raise
            form.add_brankas_error(exc)
        else:
            messages.success(request, _("Registered as agenda %(agenda)s and filed in %(path)s.")
                             % {"agenda": doc.agenda, "path": doc.stored_path})
            return redirect("ui:request", number=number)
    return render(request, "ui/request_register.html",
                  {**context, "form": form, "files_dropped": True}, status=400)


def _letter_name(req: SendRequest) -> str:
    return safe_component(f"permintaan-{req.pk}.pdf", max_len=120)


@login_required
@refusals
@require_POST
@never_cache
@sensitive_post_parameters("passphrase")
def request_letter_view(request: HttpRequest, number: int) -> HttpResponseBase:
    """The request's letter as a download: a Biasa one at once, an exempted one decrypted in
    memory with the key holder's passphrase (nothing written to disk; audited)."""
    user = actor(request)
    form = PassphraseForm(request.POST)
    form.is_valid()
    passphrase = form.cleaned_data.get("passphrase") or None
    buffer = io.BytesIO()
    try:
        req = services.request_letter_open(actor=user, number=number, dst=buffer,
                                           passphrase=passphrase, via="web")
    except BrankasError as exc:
        if exc.kind in {"denied", "not_found"}:
            raise
        form.add_error("passphrase", message_of(exc))
        req = request_get(actor=user, number=number, via="web", target=request.path)
        return render_detail(request, req, status=400, passphrase_form=form)
    return pdf_response(buffer, _letter_name(req), attachment=True)
