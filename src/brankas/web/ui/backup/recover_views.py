"""Recover the office from a backup disk, offered on the first-run page of an instance not set
up yet, next to setting up a new office (the laptop was lost; this is the new one).

The page calls the instance service (``instance.recover_in_place``): the same rebuild as
``brankas recover``, in a process of its own beside the data folder, then put in place of
this (empty) instance, so the server goes on running on the recovered office without a
restart and without anything typed (docs/architecture.md, "Recover from the first-run
page"). Nobody is signed in yet: the page is open while the instance is not set up, as the
set-up page is; its job page is reached only through the job's unguessable number."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET

from brankas.core.errors import BrankasError
from brankas.web.accounts.selectors import is_initialized
from brankas.web.ui import jobs
from brankas.web.ui.backup.step_forms import IDENTITY, OFFSITE, SHARES, RecoverForm
from brankas.web.ui.common import language, message_of
from brankas.web.ui.uploads import refuse_if_too_large

TEMPLATE = "ui/step_recover.html"


@never_cache
@sensitive_post_parameters()
def recover_page(request: HttpRequest) -> HttpResponse:
    if is_initialized():
        return redirect("ui:login")
    post = request.method == "POST"
    form = RecoverForm(request.POST if post else None, request.FILES if post else None)
    context: dict[str, Any] = {"form": form, "active": jobs.job_active()}
    if not post:
        return render(request, TEMPLATE, context)
    if refuse_if_too_large(request, form) or not form.is_valid():
        return render(request, TEMPLATE, context, status=400)
    data = form.cleaned_data
    passphrase: str | None = None
    identity_text: str | None = None
    if data["unlock"] == SHARES:
        from brankas.core.keyring import shares as core_shares

        try:  # rebuilt here, in memory; the child gets it on its standard input only
            identity_text = str(core_shares.identity(form.shares_given()))
        except BrankasError as exc:
            form.add_error("shares", message_of(exc))
            return render(request, TEMPLATE, context, status=400)
    elif data["unlock"] == IDENTITY:
        identity_text = form.identity_given().strip()
    else:
        passphrase = data["passphrase"]
    from brankas.instance.recovering import OffsiteSource

    offsite = None
    if data["source"] == OFFSITE:  # the offsite copy (issue 18): never a secret in it
        offsite = OffsiteSource(url=data["url"], endpoint=data["endpoint"],
                                region=data["region"],
                                credentials_file=data["credentials_file"] or None)
        dest = f"{data['url']} ({data['endpoint']})"  # shown on the job page
        options: dict[str, Any] = {"fingerprint": None, "lang": language()}
    else:
        dest = data["dest"]
        options = {"fingerprint": data["fingerprint"].strip() or None,
                   "allow_older": data["allow_older"],
                   "allow_unsigned": data["allow_unsigned"], "lang": language()}

    def work(job: jobs.MemoryJob) -> None:
        from brankas import instance

        switched = instance.recover_in_place(dest="" if offsite else dest,
                                             passphrase=passphrase,
                                             identity_text=identity_text,
                                             on_progress=job.progress, offsite=offsite,
                                             **options)
        job.result = {**switched.report, "set_aside": switched.set_aside}

    # In memory (ui.jobs): the rebuild replaces this instance's database, so its job cannot
    # be a row of it.
    job = jobs.MemoryJob(kind=jobs.RECOVER, user_id=0, username="", dest=dest)
    try:
        jobs.memory_job_start(job, work)
    except jobs.JobBusy as exc:
        return render(request, TEMPLATE, {**context, "busy": exc.job}, status=409)
    return redirect("ui:recover_job", job_id=job.id)


def _job_for(job_id: str) -> jobs.MemoryJob:
    job = jobs.job_get(job_id)
    if not isinstance(job, jobs.MemoryJob) or job.kind != jobs.RECOVER:
        raise Http404
    return job


@never_cache
def recover_job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(job_id)
    running = job.running  # read first (backup/views.py job_page)
    context: dict[str, Any] = {"job": job, "running": running,
                               "progress": jobs.progress_json(job),
                               "refusal": "", "switch_failed": False,
                               "offsite": job.dest.startswith("s3://")}
    if job.error is not None:
        context["error"] = message_of(job.error)
        # rebuilt, and kept where the message says: not "nothing was recovered"
        context["switch_failed"] = job.error.code == "recover_switch_failed"
    elif job.error_text:
        context["error"] = job.error_text
    result = job.result
    if result is not None:
        context["result"] = result
        context["recovered"] = bool(result.get("set_aside"))
        context["refusal"] = "" if context["recovered"] else _child_error(result)
    return render(request, "ui/step_recover_job.html", context)


def _child_error(result: dict[str, Any]) -> str:
    """The child's refusal (``brankas: <why>``, in the server's language) without its
    prefix."""
    text = str(result.get("error") or "").strip()
    return text.removeprefix("brankas:").strip()


@require_GET
def recover_job_status(request: HttpRequest, job_id: str) -> JsonResponse:
    return JsonResponse(jobs.progress_json(_job_for(job_id)),
                        headers={"Cache-Control": "no-store"})
