"""Reports and their sign-off chain (SOP steps 8-10): list, detail with the PDF preview,
the transition forms of each role, and checking a PDF. The rules are
``brankas.web.reports``'s; every view is a thin caller."""

from __future__ import annotations

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from brankas.core.access import Action, allowed
from brankas.core.chains.report import REPORT, Step, is_frozen
from brankas.core.errors import BrankasError
from brankas.web.accounts.models import User
from brankas.web.reports.selectors import (
    report_get,
    report_inbox,
    report_list,
    report_lookup,
    report_number_text,
    report_steps,
)
from brankas.web.reports.services import (
    report_acknowledge,
    report_approve,
    report_create,
    report_export,
    report_forward,
    report_preview,
    report_refresh,
    report_return,
    report_submit,
    report_verify,
)
from brankas.web.ui.common import actor, download, message_of, paginate, refusals, require_role
from brankas.web.ui.reports.forms import (
    ReportCreateForm,
    ReportForwardForm,
    ReportNoteForm,
    ReportSignForm,
    ReportSubmitForm,
    ReportVerifyForm,
)
from brankas.web.ui.security import recent_password

SIGN_STEPS = {Step.APPROVE: report_approve, Step.ACKNOWLEDGE: report_acknowledge}
PERIOD_CODES = {"period_invalid", "report_period_future"}
REFRESH = "refresh"  # not a step of the chain: a draft's figures gathered again
PER_PAGE = 50


@login_required
@refusals
def reports_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":  # drafting: refused before the form is read
        require_role(request, Action.REPORT_DRAFT)
    user = actor(request)
    reports = report_list(actor=user, via="web", target=request.path)
    form = None
    if allowed(user.role, Action.REPORT_DRAFT):
        form = ReportCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                runs = [int(x) for x in form.cleaned_data["runs"].split(",") if x.strip()]
                report = report_create(actor=user, kind=form.cleaned_data["kind"],
                                       period=form.cleaned_data["period"], runs=runs)
            except ValueError:
                form.add_error("runs", _("Give run numbers separated by commas."))
            except BrankasError as exc:
                form.add_error("period" if exc.code in PERIOD_CODES else None, message_of(exc))
            else:
                messages.success(request, _("Report %(n)s drafted.") % {
                    "n": report_number_text(report)})
                return redirect("ui:report", number=report.number)
    return render(request, "ui/reports.html", {
        "page": paginate(request, reports, PER_PAGE),
        "inbox": report_inbox(actor=user, via="web", target=request.path),
        "form": form}, status=400 if form is not None and form.errors else 200)


def _detail(request: HttpRequest, user: User, number: int, *, forms: dict | None = None,  # type: ignore[type-arg]
            status: int = 200) -> HttpResponse:
    report = report_get(actor=user, number=number, via="web", target=request.path)
    possible = [step.value for step in REPORT.open_steps(role=user.role, state=report.state)]
    forms = forms or {}
    sign_form = forms.get("sign") or (
        ReportSubmitForm(prefix="sign", reply=bool(report.return_note))
        if Step.SUBMIT.value in possible else ReportSignForm(prefix="sign"))
    context = {
        "report": report, "number_text": report_number_text(report),
        "steps": report_steps(report), "possible": possible,
        "sign_form": sign_form,
        "may_refresh": (Step.SUBMIT.value in possible),
        "return_form": forms.get("return") or ReportNoteForm(prefix="return"),
        "forward_form": forms.get("forward") or ReportForwardForm(
            prefix="forward", initial={"summary": report.summary}),
        "frozen": is_frozen(report.state),
        "in_my_inbox": REPORT.waits_for(role=user.role, state=report.state),
        "may_correct": allowed(user.role, Action.REPORT_DRAFT),
        "corrections": list(report.corrections.order_by("number")),
    }
    return render(request, "ui/report_detail.html", context, status=status)


@login_required
@refusals
def report_page(request: HttpRequest, number: int) -> HttpResponse:
    return _detail(request, actor(request), number)


@login_required
@recent_password
@refusals
@require_POST
@sensitive_post_parameters("sign-passphrase", "forward-passphrase")
def report_step_view(request: HttpRequest, number: int, step: str) -> HttpResponse:
    """A step of the sign-off chain. Signing asks for the password again when it was not
    typed in the last five minutes; a role that may not take the step is refused before
    its form is read."""
    user = actor(request)
    if step == REFRESH:
        return _refresh(request, user, number)
    try:
        chosen = Step(step)
    except ValueError:
        return redirect("ui:report", number=number)
    report = report_lookup(number)
    try:
        needed = REPORT.transition(report.state, chosen, number=report.number).action
    except BrankasError as exc:  # not a step this report can take now
        messages.error(request, message_of(exc))
        return _detail(request, user, number, status=400)
    require_role(request, needed)
    if chosen is Step.RETURN:
        form: ReportNoteForm | ReportSignForm = ReportNoteForm(request.POST, prefix="return")
        key = "return"
    elif chosen is Step.FORWARD:
        form = ReportForwardForm(request.POST, prefix="forward")
        key = "forward"
    elif chosen is Step.SUBMIT:
        form = ReportSubmitForm(request.POST, prefix="sign", reply=bool(report.return_note))
        key = "sign"
    else:
        form = ReportSignForm(request.POST, prefix="sign")
        key = "sign"
    if form.is_valid():
        data = form.cleaned_data
        try:
            if chosen is Step.RETURN:
                report_return(actor=user, number=number, note=data["note"])
            elif chosen is Step.SUBMIT:
                report_submit(actor=user, number=number, passphrase=data["passphrase"],
                              note=data.get("reply") or "")
            elif chosen is Step.FORWARD:
                report_forward(actor=user, number=number, summary=data["summary"],
                               passphrase=data["passphrase"])
            else:
                SIGN_STEPS[chosen](actor=user, number=number, passphrase=data["passphrase"])
        except BrankasError as exc:
            if exc.kind == "denied":
                raise
            form.add_error(None, message_of(exc))
        else:
            messages.success(request, _("Report %(n)s: done.") % {
                "n": report_number_text(report_lookup(number))})
            return redirect("ui:report", number=number)
    return _detail(request, user, number, forms={key: form}, status=400)


def _refresh(request: HttpRequest, user: User, number: int) -> HttpResponse:
    """A draft's figures gathered again (the Sandiman, before resubmitting)."""
    require_role(request, Action.REPORT_DRAFT)
    try:
        report_refresh(actor=user, number=number)
    except BrankasError as exc:
        if exc.kind == "denied":
            raise
        messages.error(request, message_of(exc))
    else:
        messages.success(request, _("The figures were gathered again from the records."))
    return redirect("ui:report", number=number)


@login_required
@refusals
@require_POST
def report_correct_view(request: HttpRequest, number: int) -> HttpResponse:
    """A corrected version of an approved report (same kind, period and runs)."""
    user = require_role(request, Action.REPORT_DRAFT)
    old = report_get(actor=user, number=number, via="web", target=request.path)
    try:
        new = report_create(actor=user, kind=old.kind, period=old.period, runs=old.runs,
                            corrects=old.number)
    except BrankasError as exc:
        if exc.kind == "denied":
            raise
        messages.error(request, message_of(exc))
        return redirect("ui:report", number=number)
    messages.success(request, _("Report %(n)s drafted.") % {"n": report_number_text(new)})
    return redirect("ui:report", number=new.number)


@login_required
@refusals
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})  # type: ignore[arg-type]  # framed by its page
def report_pdf_view(request: HttpRequest, number: int) -> HttpResponse:
    """The report's PDF: shown in its page's frame (audited once, as a view), or with
    ``?download`` handed over as a file (audited as an export)."""
    user = actor(request)
    if "download" in request.GET:
        data = report_export(actor=user, number=number, fmt="pdf", via="web",
                             target=request.path)
        return download(data, "application/pdf", f"laporan-{number}.pdf", no_store=True)
    data = report_preview(actor=user, number=number, via="web", target=request.path)
    return download(data, "application/pdf", f"laporan-{number}.pdf", inline=True,
                    no_store=True)


@login_required
@recent_password
@refusals
def report_xlsx_view(request: HttpRequest, number: int) -> HttpResponse:
    return download(
        report_export(actor=actor(request), number=number, fmt="xlsx", via="web",
                      target=request.path),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"laporan-{number}.xlsx")


@login_required
@refusals
def report_verify_view(request: HttpRequest) -> HttpResponse:
    user = require_role(request, Action.VIEW_REPORTS)
    form = ReportVerifyForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = report_verify(actor=user, pdf=form.cleaned_data["file"].read())
    return render(request, "ui/report_verify.html", {"form": form, "result": result})
