"""Backing up to an external disk (SOP step 6), checking disks, and the backup control
lists (SOP step 8's attachment). The work is done by ``brankas.web.backup``; a backup or a
disk check runs as a persistent job (``ui.jobs``) whose progress the page polls."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from brankas.core.access import Action, allowed
from brankas.core.chains.custody import CUSTODY, MediumState, Move
from brankas.core.errors import BrankasError
from brankas.web.accounts.models import User
from brankas.web.backup import registers
from brankas.web.backup.exports import control_list_export
from brankas.web.backup.selectors import (
    backup_status,
    medium_checks,
    medium_list,
    run_get,
    run_list,
)
from brankas.web.custody.selectors import safe_list, state_of
from brankas.web.ui import jobs
from brankas.web.ui.backup.forms import BackupForm, VerifyForm
from brankas.web.ui.common import (
    actor,
    download,
    message_of,
    paginate,
    refusal,
    refusals,
    require_role,
)
from brankas.web.ui.custody.forms import MoveForm, SafeForm
from brankas.web.ui.security import recent_password

RUNS_PER_PAGE = 50
CHECKS_PER_MEDIUM = 5
PROBLEMS_SHOWN = 500  # of each kind on the result page; the check record keeps them all
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


# -- starting a backup or a check --------------------------------------------------------

def _page(request: HttpRequest, user: User, *, backup_form: BackupForm | None = None,
          verify_form: VerifyForm | None = None, busy: jobs.Job | None = None,
          status: int = 200) -> HttpResponse:
    return render(request, "ui/backup.html", {
        "backup_form": backup_form or BackupForm(),
        "verify_form": verify_form or VerifyForm(),
        "can_backup": allowed(user.role, Action.BACKUP),
        "can_verify": allowed(user.role, Action.VERIFY_DISK),
        "status": backup_status(),
        "active": jobs.job_active(),
        "busy": busy,
        "recent": run_list(actor=user, via="web", target=request.path)[:5],
    }, status=status)


@login_required
@refusals
def backup_page(request: HttpRequest) -> HttpResponse:
    """The backup page: where the archive stands, and the forms to back up or check a disk."""
    if request.method != "POST":  # ?dest=: back from recording the disk's check-out
        dest = request.GET.get("dest", "")[:500]
        return _page(request, actor(request),
                     backup_form=BackupForm(initial={"dest": dest}) if dest else None)
    user = require_role(request, Action.BACKUP)
    form = BackupForm(request.POST)
    if not form.is_valid():
        return _page(request, user, backup_form=form, status=400)
    dest, label = form.cleaned_data["dest"], form.cleaned_data["label"] or None
    try:
        job = jobs.job_start(kind=jobs.BACKUP, user=user, dest=dest,
                             params={"dest": dest, "label": label})
    except jobs.JobBusy as exc:
        return _page(request, user, backup_form=form, busy=exc.job, status=409)
    return redirect("ui:backup_job", job_id=job.id)


@login_required
@refusals
def verify_page(request: HttpRequest) -> HttpResponse:
    """Check a disk's fixity: every missing, changed or unexpected file, by name."""
    user = require_role(request, Action.VERIFY_DISK)
    if request.method != "POST":
        return render(request, "ui/backup_verify.html", {"verify_form": VerifyForm(),
                                                         "active": jobs.job_active()})
    form = VerifyForm(request.POST)
    if not form.is_valid():
        return render(request, "ui/backup_verify.html", {"verify_form": form,
                                                         "active": jobs.job_active()},
                      status=400)
    dest, mode = form.cleaned_data["dest"], form.cleaned_data["mode"]
    percent = form.cleaned_data["sample_percent"] or 10
    try:
        job = jobs.job_start(kind=jobs.VERIFY, user=user, dest=dest, mode=mode,
                             params={"dest": dest, "mode": mode, "sample_percent": percent})
    except jobs.JobBusy as exc:
        return render(request, "ui/backup_verify.html", {"verify_form": form, "busy": exc.job,
                                                         "active": exc.job}, status=409)
    return redirect("ui:backup_job", job_id=job.id)


# -- a job's progress and result ------------------------------------------------------------

def _job_for(request: HttpRequest, job_id: str) -> jobs.Job:
    job = jobs.job_get(job_id)
    # the other kinds: their own pages
    if not isinstance(job, jobs.Job) or job.kind not in (jobs.BACKUP, jobs.VERIFY):
        raise Http404
    require_role(request, Action.BACKUP if job.kind == jobs.BACKUP else Action.VERIFY_DISK)
    return job


# A backup refused because custody records the disk as in a safe or offsite: the check-out
# is offered on the spot (the moves custody allows from that state).
_CHECKOUT_CODES = {"backup_medium_in_safe": MediumState.IN_SAFE,
                   "backup_medium_offsite": MediumState.OFFSITE}


def _checkout_offer(request: HttpRequest, job: jobs.Job) -> dict[str, Any]:
    error = job.error
    if error is None or error.code not in _CHECKOUT_CODES:
        return {}
    user = actor(request)
    if not CUSTODY.may(role=user.role, state=_CHECKOUT_CODES[error.code], step=Move.CHECKOUT):
        return {}
    media = list(medium_list(actor=user, via="web", target=request.path)
                 .filter(label=error.params.get("label", ""))[:2])
    if len(media) != 1:
        return {}
    return {
        "checkout_medium": media[0],
        "checkout_form": MoveForm(safes=[], moves=["checkout"],
                                  initial={"move": "checkout", "reason": _("back up")}),
        "checkout_next": f"{reverse('ui:backup')}?{urlencode({'dest': job.dest})}",
        "checkout_safe": error.params.get("safe", ""),
    }


def _folders(categories: dict[str, Any]) -> list[dict[str, Any]]:
    """The four SOP folders in their order, with what a run carried to each."""
    return [
        {"key": key, "label": (categories.get(key) or {}).get("label")
         or registers.folder_label(key),
         "files": (categories.get(key) or {}).get("files", 0),
         "bytes": (categories.get(key) or {}).get("bytes", 0)}
        for key in registers.FOLDER_KEYS
    ]


@login_required
@refusals
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    # Whether it runs, read once and first: its error or outcome is set before it stops
    # running, so a job that stops while the page is made shows one or the other (read
    # later, a job that ended meanwhile showed neither, nor the progress that reloads).
    running = job.running
    context: dict[str, Any] = {"job": job, "running": running,
                               "progress": jobs.progress_json(job),
                               **resume_offer(job)}
    if job.error is not None:
        context["error"] = message_of(job.error)
        context.update(_checkout_offer(request, job))
    elif job.error_text:
        context["error"] = job.error_text
    if job.outcome is not None:
        context["folders"] = _folders(job.outcome.get("categories") or {})
        reminder = job.outcome.get("reminder")
        # A reminder is made only for a disk left out of its safe: offer the check-in, or,
        # with no safe recorded yet, to add one first (then the check-in shows here).
        user = actor(request)
        if reminder and CUSTODY.may(role=user.role, state=MediumState.OUT,
                                    step=Move.CHECKIN):
            safes = [s.name for s in safe_list(actor=user, via="web", target=request.path)]
            if safes:
                context["checkin_form"] = MoveForm(safes=safes, moves=["checkin"], initial={
                    "move": "checkin", "safe": reminder.get("safe") or ""})
            elif allowed(user.role, Action.MANAGE_SAFES):
                context["add_safe_form"] = SafeForm()
            context["checkin_medium"] = job.outcome["medium"]["medium_id"]
    if job.report is not None:
        report = job.report
        context["problems"] = {
            "missing": report["missing"][:PROBLEMS_SHOWN],
            "changed": report["changed"][:PROBLEMS_SHOWN],
            "unexpected": report["unexpected"][:PROBLEMS_SHOWN],
            "tags": report["tag_problems"][:PROBLEMS_SHOWN],
            "seals": report["seal_problems"][:PROBLEMS_SHOWN],
            "register": report["register_problems"][:PROBLEMS_SHOWN],
        }
    return render(request, "ui/backup_job.html", context)


def resume_offer(job: jobs.Job) -> dict[str, Any]:
    """An interrupted or failed job that resumes: a new job goes on from where it stopped."""
    offer = (job.state in (jobs.INTERRUPTED, jobs.FAILED) and job.resumable
             and not job.local and not job.resumed_by.filter().exists())
    return {"can_resume": offer, "interrupted": job.state == jobs.INTERRUPTED,
            "resumed_by": job.resumed_by.order_by("-started_at").first()}


@login_required
@refusals
def job_resume(request: HttpRequest, job_id: str) -> HttpResponse:
    """Resume an interrupted backup (POST): a new job continuing it (the disk keeps what was
    copied; the backup copies only what it lacks)."""
    job = _job_for(request, job_id)
    if request.method != "POST":
        return redirect("ui:backup_job", job_id=job.id)
    user = require_role(request, Action.BACKUP if job.kind == jobs.BACKUP
                        else Action.VERIFY_DISK)
    try:
        new = jobs.job_resume(job, user)
    except jobs.JobBusy as exc:
        return _page(request, user, busy=exc.job, status=409)
    except BrankasError as exc:  # not a job that resumes (a hand-made request): why
        return refusal(request, exc, 409)
    return redirect("ui:backup_job", job_id=new.id)


@login_required
@refusals
@require_GET
def job_status(request: HttpRequest, job_id: str) -> JsonResponse:
    """The job's progress for the page's script (polled about once a second)."""
    return JsonResponse(jobs.progress_json(_job_for(request, job_id)),
                        headers={"Cache-Control": "no-store"})


# -- the disks and the control lists ------------------------------------------------------------

@login_required
@refusals
def media_page(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    media = [{"medium": medium, "state": state_of(medium),
              "custody": getattr(medium, "custody", None),
              "checks": list(medium_checks(actor=user, medium=medium, via="web",
                                           target=request.path)[:CHECKS_PER_MEDIUM])}
             for medium in medium_list(actor=user, via="web", target=request.path)
             .select_related("custody", "custody__safe")]
    return render(request, "ui/backup_media.html", {"media": media})


@login_required
@refusals
def runs_page(request: HttpRequest) -> HttpResponse:
    runs = run_list(actor=actor(request), via="web", target=request.path)
    page = paginate(request, runs, RUNS_PER_PAGE)
    return render(request, "ui/backup_runs.html", {"page": page})


@login_required
@refusals
def run_page(request: HttpRequest, number: int) -> HttpResponse:
    run = run_get(actor=actor(request), number=number, via="web", target=request.path)
    return render(request, "ui/backup_run.html", {
        "run": run,
        "folders": _folders(run.categories or {}),
        "documents": len(run.agendas or []),
    })


@login_required
@recent_password
@refusals
def run_export(request: HttpRequest, number: int, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_TYPES:
        raise Http404
    data = control_list_export(actor=actor(request), number=number, fmt=fmt, via="web",
                               target=request.path)
    return download(data, EXPORT_TYPES[fmt], f"daftar-kontrol-back-up-{number:04d}.{fmt}")
