"""SOP steps that used to exist only on the command line: import of an old four-folder
archive, restore from a backup disk, and the restore drill. Each page calls the service the
command calls (``brankas import``, ``brankas restore``, ``brankas drill``) in a background
persistent job (``ui.jobs``) whose progress page polls, as the backup page does. The services check
the role and audit; the pages refuse a role early (a page of its own) and check the typed
folders while the form is on screen. Passphrases and shares are only in the memory of the
process that took the form, while its job runs: never stored, never in a URL or a log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET

from brankas.core.access import Action, allowed
from brankas.core.errors import BrankasError
from brankas.core.terms import Classification
from brankas.web.accounts.models import User
from brankas.web.ui import jobs
from brankas.web.ui.backup.step_forms import DrillForm, ImportForm, RestoreForm
from brankas.web.ui.common import language, message_of, refusals, require_role
from brankas.web.ui.security import password_is_recent, reauth_redirect
from brankas.web.ui.uploads import refuse_if_too_large

ACTION_OF_KIND = {
    jobs.IMPORT: Action.IMPORT,
    jobs.RESTORE: Action.RESTORE,
    jobs.DRILL: Action.DRILL,
    jobs.AUDIT_VERIFY: Action.VIEW_AUDIT,
}
SHOWN = 500  # of each list on the result page


def start_job(request: HttpRequest, user: User, kind: str, dest: str, template: str,
              context: dict[str, Any], *, params: dict[str, Any],
              secrets: dict[str, Any] | None = None, lang: str = "") -> HttpResponse:
    """A job of ``kind`` (``params`` stored, ``secrets`` in memory only); the page again
    (409) while another job runs."""
    try:
        job = jobs.job_start(kind=kind, user=user, dest=dest, params=params, secrets=secrets,
                             lang=lang)
    except jobs.JobBusy as exc:
        return render(request, template, {**context, "busy": exc.job, "active": exc.job},
                      status=409)
    return redirect("ui:step_job", job_id=job.id)


# -- import -------------------------------------------------------------------------------

@login_required
@refusals
def import_page(request: HttpRequest) -> HttpResponse:
    """Import an old four-folder tree (``brankas import``): the Sandiman or the admin."""
    user = require_role(request, Action.IMPORT)
    form = ImportForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "active": jobs.job_active()}
    if request.method != "POST":
        return render(request, "ui/step_import.html", context)
    if not form.is_valid():
        return render(request, "ui/step_import.html", context, status=400)
    folder = form.cleaned_data["folder"]
    classification = Classification(form.cleaned_data["exempted_classification"])
    lang = language()  # the worker has not the request's language
    return start_job(request, user, jobs.IMPORT, folder, "ui/step_import.html", context,
                     params={"folder": folder, "exempted_classification": classification.value},
                     lang=lang)


# -- restore ------------------------------------------------------------------------------

@login_required
@refusals
@never_cache
@sensitive_post_parameters()
def restore_page(request: HttpRequest) -> HttpResponse:
    """Restore documents from a backup disk into an empty folder (``brankas restore``);
    a key holder may decrypt their exempted documents with their passphrase."""
    user = require_role(request, Action.RESTORE)
    form = RestoreForm(request.POST if request.method == "POST" else None)
    context = {"form": form, "active": jobs.job_active(),
               "can_decrypt": allowed(user.role, Action.OPEN_EXEMPTED)}
    if request.method != "POST":
        return render(request, "ui/step_restore.html", context)
    if not form.is_valid():
        return render(request, "ui/step_restore.html", context, status=400)
    data = form.cleaned_data
    passphrase = data["passphrase"] if data["decrypt"] else None
    if passphrase is not None:
        require_role(request, Action.OPEN_EXEMPTED)
        if not password_is_recent(request):  # decrypting is opening exempted content
            return reauth_redirect(request, request.path)
    dest, to, agendas = data["dest"], data["to"], data["agendas"] or None
    return start_job(request, user, jobs.RESTORE, dest, "ui/step_restore.html", context,
                     params={"dest": dest, "to": to, "agendas": agendas},
                     secrets={"passphrase": passphrase})


# -- the restore drill --------------------------------------------------------------------

@login_required
@refusals
@never_cache
@sensitive_post_parameters()
def drill_page(request: HttpRequest) -> HttpResponse:
    """A restore drill (``brankas drill``): the whole disk checked and restored into a
    temporary folder; with a key holder's passphrase or the recovery shares, a whole
    instance rebuilt from it too. The result is recorded for the disk."""
    user = require_role(request, Action.DRILL)
    post = request.method == "POST"
    form = DrillForm(request.POST if post else None, request.FILES if post else None)
    context = {"form": form, "active": jobs.job_active(),
               "can_open": allowed(user.role, Action.OPEN_EXEMPTED)}
    if not post:
        return render(request, "ui/step_drill.html", context)
    if refuse_if_too_large(request, form) or not form.is_valid():
        return render(request, "ui/step_drill.html", context, status=400)
    passphrase = form.cleaned_data["passphrase"] or None
    shares = form.shares_given() or None
    if passphrase is not None or shares is not None:
        require_role(request, Action.OPEN_EXEMPTED)
        if not password_is_recent(request):  # the sealed register is opened
            return reauth_redirect(request, request.path)
    if shares is not None:
        from brankas.core.keyring import shares as core_shares

        try:  # words that rebuild no key are refused beside the field, before the job
            core_shares.identity(shares)
        except BrankasError as exc:
            form.add_error("shares", message_of(exc))
            return render(request, "ui/step_drill.html", context, status=400)
    dest = form.cleaned_data["dest"]
    return start_job(request, user, jobs.DRILL, dest, "ui/step_drill.html", context,
                     params={"dest": dest}, secrets={"passphrase": passphrase, "shares": shares},
                     lang=language())


# -- a step's progress and result ---------------------------------------------------------

def _job_for(request: HttpRequest, job_id: str) -> jobs.Job:
    """The job, for the user who started it (its result may name their documents)."""
    job = jobs.job_get(job_id)
    if not isinstance(job, jobs.Job) or job.kind not in ACTION_OF_KIND:
        raise Http404
    user = require_role(request, ACTION_OF_KIND[job.kind])
    if job.user_id != user.pk:
        raise Http404
    return job


def _shown(result: dict[str, Any]) -> dict[str, Any]:
    """The result with each list cut to what a page shows."""
    return {k: v[:SHOWN] if isinstance(v, list) else v for k, v in result.items()}


@login_required
@refusals
def step_job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    running = job.running  # read first (backup/views.py job_page)
    context: dict[str, Any] = {"job": job, "running": running,
                               "progress": jobs.progress_json(job),
                               "interrupted": job.state == jobs.INTERRUPTED}
    if job.error is not None:
        context["error"] = message_of(job.error)
    elif job.error_text:
        context["error"] = job.error_text
    if job.result is not None and job.state == jobs.DONE:
        context["result"] = _shown(job.result)
        if job.kind == jobs.AUDIT_VERIFY:
            from brankas.web.ui.audit.verify_views import chain_context

            context.update(chain_context(jobs.chain_report_from_dict(job.result["report"])))
    return render(request, "ui/step_job.html", context)


@login_required
@refusals
@require_GET
def step_job_status(request: HttpRequest, job_id: str) -> JsonResponse:
    """The job's progress for the page's script (polled about once a second)."""
    return JsonResponse(jobs.progress_json(_job_for(request, job_id)),
                        headers={"Cache-Control": "no-store"})
