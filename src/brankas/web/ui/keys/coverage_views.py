"""Key coverage: which active key holders can open each exempted document and request
letter, a page at a time; ``?show=recovery-only`` lists only those no holder can open."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from brankas.web.keys.coverage import key_coverage_view
from brankas.web.keys.selectors import recovery_only_counts
from brankas.web.ui.common import actor, paginate, refusals

PER_PAGE = 100
RECOVERY_ONLY = "recovery-only"


@login_required
@refusals
def coverage_page(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "")
    recovery_only = show == RECOVERY_ONLY
    coverage = key_coverage_view(actor=actor(request), via="web", target=request.path,
                                 recovery_only=recovery_only)
    page = paginate(request, coverage, PER_PAGE)
    documents, letters = recovery_only_counts()
    return render(request, "ui/key_coverage.html", {
        "page": page, "show": RECOVERY_ONLY if recovery_only else "",
        "total": coverage.count(), "recovery_only": documents + letters,
    })
