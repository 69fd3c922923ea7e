"""The offsite copies' pages (issue 18, s18 OC): the remotes, a remote added, a remote's
page (its pushes, objects, lock period, daily push), and push, verify and restore as
persistent jobs (``ui.jobs``) with the live progress page, as the disk's pages.

The rules are ``brankas.web.offsite``'s (the services the ``brankas offsite`` commands
call check the role and audit); the pages refuse a role early with the same actions
(core/access.py: OFFSITE_ADD, OFFSITE_PUSH, OFFSITE_VERIFY, OFFSITE_RESTORE; the list is
VIEW_BACKUPS). A push or verify is not the office's one long job: it runs beside a disk
backup, one per remote. The restore's passphrase stays in the memory of the process that
took the form while its job runs (a local job): never stored, never in a URL or a log."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from brankas.core.access import Action, allowed
from brankas.core.errors import BrankasError
from brankas.web.accounts.models import User
from brankas.web.jobs import runners
from brankas.web.jobs.models import ACTIVE
from brankas.web.offsite.models import Push, PushedObject, Remote
from brankas.web.offsite.schedule import schedule_of, schedule_set
from brankas.web.offsite.selectors import push_list, remote_list
from brankas.web.ui import jobs
from brankas.web.ui.backup.step_views import _shown  # each list cut to what a page shows
from brankas.web.ui.common import message_of, refusals, require_role
from brankas.web.ui.offsite.forms import (
    OffsiteRestoreForm,
    PushForm,
    RemoteForm,
    ScheduleForm,
    VerifyForm,
)
from brankas.web.ui.security import password_is_recent, reauth_redirect

PUSHES_SHOWN = 30


def _remote_or_404(name: str) -> Remote:
    remote = Remote.objects.filter(name=name).first()
    if remote is None:
        raise Http404
    return remote


def _active_jobs(remote: Remote) -> list[jobs.Job]:
    return list(jobs.Job.objects.filter(kind__in=runners.OFFSITE, state__in=ACTIVE,
                                        params__remote=remote.name).select_related("user"))


def _row(remote: Remote) -> dict[str, Any]:
    last = remote.pushes.filter(status=Push.COMPLETED).order_by("-number").first()
    return {"remote": remote, "last_push": last, "schedule": schedule_of(remote)}


# -- the list and add ---------------------------------------------------------------------

def _list_page(request: HttpRequest, user: User, form: RemoteForm | None = None,
               status: int = 200) -> HttpResponse:
    can_add = allowed(user.role, Action.OFFSITE_ADD)
    return render(request, "ui/offsite.html", {
        "rows": [_row(r) for r in remote_list(actor=user)],
        "can_add": can_add,
        "form": form or (RemoteForm(initial={"retention_days": 400, "region": "us-east-1"})
                         if can_add else None),
    }, status=status)


@login_required
@refusals
def offsite_page(request: HttpRequest) -> HttpResponse:
    """Every remote, immutable or NOT, its last push and verify; the Sandiman adds one."""
    if request.method != "POST":
        return _list_page(request, require_role(request, Action.VIEW_BACKUPS))
    user = require_role(request, Action.OFFSITE_ADD)
    form = RemoteForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        from brankas.web.offsite.services import remote_add

        try:
            remote = remote_add(actor=user, name=data["name"], endpoint=data["endpoint"],
                                bucket=data["bucket"], region=data["region"],
                                prefix=data["prefix"] or "",
                                retention_days=data["retention_days"],
                                credentials_file=data["credentials_file"] or None)
        except BrankasError as exc:
            if exc.kind == "denied":
                raise
            form.add_brankas_error(exc)
        else:
            if remote.immutable:
                messages.success(request, _("Remote %(name)s added: the server refused to "
                                            "delete a locked object.") % {"name": remote.name})
            else:
                messages.error(request, _("Remote %(name)s added, but it is NOT IMMUTABLE: the "
                                          "server deleted a locked object.")
                               % {"name": remote.name})
            return redirect("ui:offsite_remote", remote.name)
    return _list_page(request, user, form, status=400)


# -- a remote ---------------------------------------------------------------------------

def _remote_page(request: HttpRequest, user: User, remote: Remote, *, status: int = 200,
                 **forms: Any) -> HttpResponse:
    pushes = list(push_list(actor=user, remote=remote)[:PUSHES_SHOWN])
    objects = PushedObject.objects.filter(remote=remote).aggregate(n=Count("id"),
                                                                   size=Sum("size"))
    schedule = schedule_of(remote)
    can = {"push": allowed(user.role, Action.OFFSITE_PUSH),
           "verify": allowed(user.role, Action.OFFSITE_VERIFY),
           "restore": allowed(user.role, Action.OFFSITE_RESTORE)}
    return render(request, "ui/offsite_remote.html", {
        "remote": remote, "pushes": pushes, "objects": objects["n"] or 0,
        "objects_size": objects["size"] or 0, "schedule": schedule,
        "last_push": next((p for p in pushes if p.status == Push.COMPLETED), None),
        "active": _active_jobs(remote), "can_offsite": can,
        "push_form": forms.get("push_form") or (PushForm() if can["push"] else None),
        "verify_form": forms.get("verify_form") or (VerifyForm() if can["verify"] else None),
        "schedule_form": forms.get("schedule_form") or (ScheduleForm(initial={
            "daily_at": schedule.daily_at if schedule else None}) if can["push"] else None),
        "busy": forms.get("busy"),
    }, status=status)


@login_required
@refusals
def remote_page(request: HttpRequest, name: str) -> HttpResponse:
    user = require_role(request, Action.VIEW_BACKUPS)
    return _remote_page(request, user, _remote_or_404(name))


def _start(request: HttpRequest, user: User, remote: Remote, kind: str,
           params: dict[str, Any], secrets: dict[str, Any] | None = None,
           **forms: Any) -> HttpResponse:
    try:
        job = jobs.job_start(kind=kind, user=user, dest=remote.name,
                             params={"remote": remote.name, **params}, secrets=secrets,
                             exclusive=False)
    except jobs.JobBusy as exc:
        return _remote_page(request, user, remote, status=409, busy=exc.job, **forms)
    return redirect("ui:offsite_job", job_id=job.id)


@login_required
@refusals
@require_POST
def push_view(request: HttpRequest, name: str) -> HttpResponse:
    user = require_role(request, Action.OFFSITE_PUSH)
    remote = _remote_or_404(name)
    form = PushForm(request.POST)
    if not form.is_valid():
        return _remote_page(request, user, remote, status=400, push_form=form)
    return _start(request, user, remote, runners.OFFSITE_PUSH,
                  {"bwlimit": form.cleaned_data["bwlimit"]}, push_form=form)


@login_required
@refusals
@require_POST
def verify_view(request: HttpRequest, name: str) -> HttpResponse:
    user = require_role(request, Action.OFFSITE_VERIFY)
    remote = _remote_or_404(name)
    form = VerifyForm(request.POST)
    if not form.is_valid():
        return _remote_page(request, user, remote, status=400, verify_form=form)
    return _start(request, user, remote, runners.OFFSITE_VERIFY,
                  {"sample": form.cleaned_data["sample"]}, verify_form=form)


@login_required
@refusals
@require_POST
def schedule_view(request: HttpRequest, name: str) -> HttpResponse:
    user = require_role(request, Action.OFFSITE_PUSH)
    remote = _remote_or_404(name)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _remote_page(request, user, remote, status=400, schedule_form=form)
    at = form.when()
    schedule_set(actor=user, name=remote.name, daily_at=at)
    if at is None:
        messages.success(request, _("Daily push turned off."))
    else:
        messages.success(request, _("Daily push at %(time)s.") % {"time": at.strftime("%H:%M")})
    return redirect("ui:offsite_remote", remote.name)


@login_required
@refusals
@never_cache
@sensitive_post_parameters()
def restore_page(request: HttpRequest, name: str) -> HttpResponse:
    """Documents from the remote's sealed copy into an empty folder (``brankas offsite
    restore``): a key holder's passphrase opens it (everything offsite is encrypted)."""
    user = require_role(request, Action.OFFSITE_RESTORE)
    remote = _remote_or_404(name)
    form = OffsiteRestoreForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "remote": remote,
               "can_decrypt": allowed(user.role, Action.OPEN_EXEMPTED)}
    if request.method != "POST":
        return render(request, "ui/offsite_restore.html", context)
    if not form.is_valid():
        return render(request, "ui/offsite_restore.html", context, status=400)
    data = form.cleaned_data
    if data["decrypt"]:
        require_role(request, Action.OPEN_EXEMPTED)
        if not password_is_recent(request):  # decrypting is opening exempted content
            return reauth_redirect(request, request.path)
    try:
        job = jobs.job_start(kind=runners.OFFSITE_RESTORE, user=user, dest=remote.name,
                             params={"remote": remote.name, "to": data["to"],
                                     "agendas": data["agendas"] or None,
                                     "decrypt": bool(data["decrypt"])},
                             secrets={"passphrase": data["passphrase"]}, exclusive=False)
    except jobs.JobBusy as exc:
        return render(request, "ui/offsite_restore.html", {**context, "busy": exc.job},
                      status=409)
    return redirect("ui:offsite_job", job_id=job.id)


# -- a job's progress and result ----------------------------------------------------------

ACTION_OF_KIND = {runners.OFFSITE_PUSH: Action.VIEW_BACKUPS,
                  runners.OFFSITE_VERIFY: Action.VIEW_BACKUPS,
                  runners.OFFSITE_RESTORE: Action.OFFSITE_RESTORE}


def _job_for(request: HttpRequest, job_id: str) -> jobs.Job:
    """A push or verify for every role that sees the remotes; a restore (its result names
    documents and a folder) for the user who started it."""
    job = jobs.job_get(job_id)
    if not isinstance(job, jobs.Job) or job.kind not in ACTION_OF_KIND:
        raise Http404
    user = require_role(request, ACTION_OF_KIND[job.kind])
    if job.kind == runners.OFFSITE_RESTORE and job.user_id != user.pk:
        raise Http404
    return job


@login_required
@refusals
def job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    running = job.running  # read first: the result below is the row's as read then
    context: dict[str, Any] = {"job": job, "running": running, "remote": job.params.get("remote"),
                               "progress": jobs.progress_json(job),
                               "scheduled": job.params.get("scheduled"),
                               "interrupted": job.state == jobs.INTERRUPTED}
    if job.error is not None:
        context["error"] = message_of(job.error)
    elif job.error_text:
        context["error"] = job.error_text
    if job.result is not None and job.state == jobs.DONE:
        context["result"] = _shown(job.result)
    return render(request, "ui/offsite_job.html", context)


@login_required
@refusals
@require_GET
def job_status(request: HttpRequest, job_id: str) -> JsonResponse:
    """The job's progress for the page's script (polled about once a second)."""
    return JsonResponse(jobs.progress_json(_job_for(request, job_id)),
                        headers={"Cache-Control": "no-store"})
