"""Hand-over and revocation pages: a grant (a holder with their passphrase, or the admin
with the recovery shares) and a revocation's rekey run as local jobs (``ui.jobs``,
kind GRANT: the passphrase or the recovery identity stays in this process's memory)
whose progress page reads the ``RewrapJob`` row; a revocation alone is quick and answers
at once with what the key still opens on backup disks."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET

from brankas.core.access import Action, allowed
from brankas.core.errors import AccessDenied, BrankasError
from brankas.web.accounts.models import User
from brankas.web.jobs.runners import exposure
from brankas.web.keys.models import HolderKey, RewrapJob
from brankas.web.keys.revocation import key_revoke
from brankas.web.ui import jobs
from brankas.web.ui.common import actor, message_of, refusals, require_role
from brankas.web.ui.keys.grant_forms import PASSPHRASE, SHARES, GrantForm, RevokeForm, split_shares


def _recovery(form: Any, *, user: User, purpose: str) -> Any:
    """The recovery identity rebuilt in memory from the shares typed in ``form`` (the use
    audited with who and what for); None, with the refusal beside the shares field, when
    they do not rebuild it (a role refusal is raised: a page of its own)."""
    from brankas.web.keys.recovery import shares_identity

    try:
        return shares_identity(split_shares(form.cleaned_data["shares"]), actor=user,
                               purpose=purpose)
    except AccessDenied:
        raise
    except BrankasError as exc:
        form.add_error("shares", message_of(exc))
        return None


def _grantees(user: User) -> list[tuple[str, str]]:
    keys = (HolderKey.objects.active().select_related("holder").exclude(holder=user)
            .order_by("holder__username"))
    return [(k.holder.username, f"{k.holder.display()} ({k.holder.username}, "
             f"{k.holder.role.title()})") for k in keys]


def _holders_to_revoke() -> list[tuple[str, str]]:
    """The users who hold a key not revoked yet (not every user: a reverse ``isnull``
    filter would also match the users with no key at all)."""
    holding = HolderKey.objects.filter(revoked_at__isnull=True).values("holder")
    users = User.objects.filter(pk__in=holding).order_by("username")
    return [(u.username, f"{u.display()} ({u.username}, {u.role.title()})") for u in users]


def _start(request: HttpRequest, user: User, template: str, context: dict[str, Any], *,
           params: dict[str, Any], secrets: dict[str, Any]) -> HttpResponse:
    """The grant or rekey as a local job: its secret stays in this process's memory."""
    try:
        job = jobs.job_start(kind=jobs.GRANT, user=user, params=params, secrets=secrets)
    except jobs.JobBusy as exc:
        return render(request, template, {**context, "busy": exc.job}, status=409)
    return redirect("ui:key_job", job_id=job.id)


# -- grant -------------------------------------------------------------------------------

@login_required
@refusals
@never_cache
@sensitive_post_parameters()
def grant_page(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    own = allowed(user.role, Action.GRANT_KEY)
    mode = request.POST.get("mode") if request.method == "POST" else None
    if mode is None:
        mode = PASSPHRASE if own else SHARES
    require_role(request, Action.GRANT_KEY_WITH_SHARES if mode == SHARES else Action.GRANT_KEY)
    holders = _grantees(user)
    form = GrantForm(request.POST if request.method == "POST" else None, holders=holders,
                     initial={"mode": mode})
    context = {"form": form, "mode": mode, "active": jobs.job_active()}
    if request.method != "POST":
        return render(request, "ui/key_grant.html", context)
    if not form.is_valid():
        return render(request, "ui/key_grant.html", context, status=400)
    to = form.cleaned_data["to"]
    passphrase = recovery = None
    if mode == SHARES:
        recovery = _recovery(form, user=user,
                             purpose=f"{Action.GRANT_KEY_WITH_SHARES.value}:{to}")
        if recovery is None:
            return render(request, "ui/key_grant.html", context, status=400)
    else:
        passphrase = form.cleaned_data["passphrase"]

    return _start(request, user, "ui/key_grant.html", context, params={"to": to},
                  secrets={"passphrase": passphrase, "recovery": recovery})


# -- revoke ------------------------------------------------------------------------------

@login_required
@refusals
@never_cache
@sensitive_post_parameters()
def revoke_page(request: HttpRequest) -> HttpResponse:
    user = require_role(request, Action.REVOKE_KEY)
    # The keys page links each holder's row here with ?holder=USERNAME: preselected.
    form = RevokeForm(request.POST if request.method == "POST" else None,
                      holders=_holders_to_revoke(),
                      initial={"holder": request.GET.get("holder", "")})
    context = {"form": form, "active": jobs.job_active()}
    if request.method != "POST":
        return render(request, "ui/key_revoke.html", context)
    if not form.is_valid():
        return render(request, "ui/key_revoke.html", context, status=400)
    holder, rekey = form.cleaned_data["holder"], form.cleaned_data["rekey"]
    recovery = None
    if rekey:
        recovery = _recovery(form, user=user, purpose=f"{Action.REVOKE_KEY.value}:{holder}")
        if recovery is None:
            return render(request, "ui/key_revoke.html", context, status=400)

        return _start(request, user, "ui/key_revoke.html", context,
                      params={"revoke": holder}, secrets={"recovery": recovery})
    try:
        result = key_revoke(actor=user, holder=holder)
    except BrankasError as exc:
        if isinstance(exc, AccessDenied):
            raise
        form.add_error(None, message_of(exc))
        return render(request, "ui/key_revoke.html", context, status=400)
    return render(request, "ui/key_revoke.html", {**context, "form": None,
                                                  "revoked": exposure(result)})


# -- a job's progress (read from its RewrapJob) -------------------------------------------

def _job_for(request: HttpRequest, job_id: str) -> jobs.Job:
    job = jobs.job_get(job_id)
    if not isinstance(job, jobs.Job) or job.kind != jobs.GRANT:
        raise Http404
    user = actor(request)
    if job.user_id != user.pk:
        require_role(request, Action.REVOKE_KEY)  # the admin may follow any
    return job


def _progress(job: jobs.Job) -> dict[str, Any]:
    """The job's progress, its counts from the grant's own record (``RewrapJob``) once the
    grant has made one."""
    row = RewrapJob.objects.filter(pk=job.rewrap_job_id).first() if job.rewrap_job_id else None
    if row is not None and job.running:
        job.files_done, job.files_total = row.files_done, row.files_total
        job.bytes_done, job.bytes_total = row.bytes_done, row.bytes_total
    return {**jobs.progress_json(job), "rewrap_job": row.pk if row is not None else None}


@login_required
@refusals
def key_job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    running = job.running  # read first (backup/views.py job_page)
    context: dict[str, Any] = {"job": job, "running": running, "progress": _progress(job),
                               "interrupted": job.state == jobs.INTERRUPTED}
    if job.error is not None:
        context["error"] = message_of(job.error)
    elif job.error_text:
        context["error"] = job.error_text
    result = (job.result if job.state == jobs.DONE else None) or {}
    context["summary"] = result.get("grant")
    context["revoked"] = result.get("revoke")
    return render(request, "ui/key_job.html", context)


@login_required
@refusals
@require_GET
def key_job_status(request: HttpRequest, job_id: str) -> JsonResponse:
    return JsonResponse(_progress(_job_for(request, job_id)),
                        headers={"Cache-Control": "no-store"})
