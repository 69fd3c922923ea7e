"""A document's text on its page (the "Teks" section), reading it again, and the OCR
job's page (s19, issue 19; the work is web/text/services)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_POST

from brankas.core.access import Action, allowed
from brankas.web.documents.models import Document
from brankas.web.jobs.runners import OCR
from brankas.web.text.status import UNAVAILABLE, text_state
from brankas.web.ui import jobs
from brankas.web.ui.common import actor, message_of, refusals, require_role

NOTICE_SEEN = "brankas_ocr_notice_seen"  # the session has been told OCR is not installed


def text_context(request: HttpRequest, doc: Document) -> dict[str, Any]:
    """The "Teks" section of a document's page: its state, the text (biasa, for a role
    that may open biasa documents; escaped by the template), the button to read it again
    (``read-text``), and once per session the notice that OCR is not installed."""
    user = actor(request)
    state = text_state(doc)
    context: dict[str, Any] = {
        "text": state,
        "may_see_text": not doc.exempted and allowed(user.role, Action.OPEN_REGULAR),
        "may_read_text": not doc.exempted and allowed(user.role, Action.READ_TEXT),
    }
    if state.status == UNAVAILABLE and not request.session.get(NOTICE_SEEN):
        request.session[NOTICE_SEEN] = True
        context["ocr_notice"] = True
    return context


@login_required
@refusals
@require_POST
def document_text_redo(request: HttpRequest, agenda: str) -> HttpResponse:
    """Read the document's text again (POST, CSRF): an OCR job; refusals audited."""
    from brankas.web.text.services import text_queue_request

    job = text_queue_request(actor=actor(request), agendas=[agenda], via="web",
                             lang=get_language() or "")
    return redirect("ui:text_job", job_id=job.id)


def _job_for(request: HttpRequest, job_id: str) -> jobs.Job:
    """An OCR job, for a role that may read text (its result names biasa documents only)."""
    require_role(request, Action.READ_TEXT)
    job = jobs.job_get(job_id)
    if not isinstance(job, jobs.Job) or job.kind != OCR:
        raise Http404
    return job


@login_required
@refusals
def text_job_page(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_for(request, job_id)
    running = job.running  # read first (backup/views.py job_page)
    context: dict[str, Any] = {"job": job, "running": running,
                               "progress": jobs.progress_json(job)}
    if job.error is not None:
        context["error"] = message_of(job.error)
    elif job.error_text:
        context["error"] = job.error_text
    if job.result is not None and job.state == jobs.DONE:
        context["result"] = job.result
    return render(request, "ui/text_job.html", context)


@login_required
@refusals
@require_GET
def text_job_status(request: HttpRequest, job_id: str) -> JsonResponse:
    """The job's progress for the page's script (polled about once a second)."""
    return JsonResponse(jobs.progress_json(_job_for(request, job_id)),
                        headers={"Cache-Control": "no-store"})


@login_required
@refusals
@require_POST
def text_job_resume(request: HttpRequest, job_id: str) -> HttpResponse:
    """Go on with an interrupted OCR job (POST): a new job with the documents still
    without their text."""
    from brankas.core.errors import BrankasError
    from brankas.web.ui.common import refusal

    job = _job_for(request, job_id)
    try:
        new = jobs.job_resume(job, actor(request))
    except jobs.JobBusy as exc:
        return redirect("ui:text_job", job_id=exc.job.id)
    except BrankasError as exc:
        return refusal(request, exc, 409)
    return redirect("ui:text_job", job_id=new.id)
