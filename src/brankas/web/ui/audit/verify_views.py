"""Check the audit log (``brankas audit verify`` on the web): the chain, its counter and every
approved report's recorded head at once; and, from the form, against the heads recorded on
backup disks (a folder on this computer, read in a background job) and printed on approved
report PDFs (uploaded). Kasi, Kabid and admin (view-audit; a refusal is audited)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from brankas.core.audit.hashchain import Anchor, ChainReport
from brankas.core.errors import AccessDenied, BrankasError
from brankas.web.audit.anchors import (
    audit_chain_report,
    audit_verify_anchors,
    pdf_anchors_data,
)
from brankas.web.jobs.runners import anchor_dict
from brankas.web.ui import jobs
from brankas.web.ui.backup.step_forms import AuditVerifyForm
from brankas.web.ui.backup.step_views import start_job
from brankas.web.ui.common import actor, language, message_of, refusals
from brankas.web.ui.uploads import refuse_if_too_large

TEMPLATE = "ui/audit_verify.html"


def chain_context(report: ChainReport) -> dict[str, Any]:
    """What the page shows of a check, in the active language."""
    lang = language()
    return {
        "report": report,
        "chain": report.chain.message(lang) if report.chain else "",
        "counter": report.counter.message(lang) if report.counter else "",
        "anchors": [{"source": r.anchor.source_text(lang), "seq": r.anchor.seq,
                     "hash": r.anchor.hash, "given": r.anchor.kind in {"disk", "pdf"},
                     "problem": r.problem.message(lang) if r.problem else ""}
                    for r in report.anchors],
    }


@login_required
@refusals
@never_cache
def audit_verify_view(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    report = audit_chain_report(actor=user, via="web", target=request.path)  # view-audit
    post = request.method == "POST"
    form = AuditVerifyForm(request.POST if post else None, request.FILES if post else None)
    context: dict[str, Any] = {"form": form, "active": jobs.job_active(),
                               **chain_context(report)}
    if not post:
        return render(request, TEMPLATE, context)
    if refuse_if_too_large(request, form) or not form.is_valid():
        return render(request, TEMPLATE, context, status=400)
    anchors: list[Anchor] = []
    for upload in form.cleaned_data["pdfs"]:
        name = Path(upload.name or "laporan.pdf").name
        try:
            anchors += pdf_anchors_data(upload.read(), name=name, ref=name)
        except AccessDenied:
            raise
        except BrankasError as exc:
            form.add_error("pdfs", message_of(exc))
    if form.errors:
        return render(request, TEMPLATE, context, status=400)
    disks = form.cleaned_data["disks"]
    if not disks:  # PDFs alone are checked at once
        checked = audit_verify_anchors(anchors=anchors)
        return render(request, TEMPLATE, {**context, **chain_context(checked),
                                          "checked_given": True})

    return start_job(request, user, jobs.AUDIT_VERIFY, ", ".join(disks), TEMPLATE, context,
                     params={"disks": list(disks),
                             "anchors": [anchor_dict(a) for a in anchors]})
