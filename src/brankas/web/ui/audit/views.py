"""The audit log: browse and filter (Kasi, Kabid, admin), export what is shown as CSV. Checking
the chain is ``verify_views``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from brankas.web.audit.outcomes import OUTCOMES
from brankas.web.audit.selectors import (
    AuditFilter,
    audit_actions,
    audit_export_stream,
    audit_list,
)
from brankas.web.ui.common import actor, language, paginate, refusals
from brankas.web.ui.formats import FORM_DATE, FORM_DATE_HINT
from brankas.web.ui.security import recent_password

DATE_INPUTS = [FORM_DATE, "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]  # dd/mm/yyyy; ISO from old links

PER_PAGE = 50
TEXT_CAP = 1000  # a search by text is counted up to this many entries (no index serves it)


class AuditFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.SearchInput())
    actor = forms.CharField(label=_("User"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)
    since = forms.DateField(label=_("From"), required=False, input_formats=DATE_INPUTS,
                            widget=forms.DateInput(format=FORM_DATE, attrs={
                                "placeholder": FORM_DATE_HINT, "inputmode": "numeric"}))
    until = forms.DateField(label=_("Until"), required=False, input_formats=DATE_INPUTS,
                            widget=forms.DateInput(format=FORM_DATE, attrs={
                                "placeholder": FORM_DATE_HINT, "inputmode": "numeric"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actions = audit_actions()
        groups = sorted({a.split(".", 1)[0] + "." for a in actions if "." in a})
        self.fields["action"].choices = [  # type: ignore[attr-defined]
            ("", _("All")), *[(g, g + "*") for g in groups], *[(a, a) for a in actions]]
        index = 1 if language() == "en" else 0
        self.fields["outcome"].choices = [  # type: ignore[attr-defined]
            ("", _("All")), *[(code, words[index]) for code, words in OUTCOMES.items()]]

    def filters(self) -> AuditFilter:
        if not self.is_valid():
            return AuditFilter()
        d = self.cleaned_data
        return AuditFilter(actor=d["actor"].strip(), action=d["action"] or "",
                           outcome=d["outcome"] or "", since=d["since"], until=d["until"],
                           text=d["q"].strip())


@login_required
@refusals
def audit_page(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    filters = form.filters()
    entries = audit_list(actor=actor(request), filters=filters, via="web", target=request.path)
    page = paginate(request, entries, PER_PAGE, cap=TEXT_CAP if filters.text else None)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "ui/audit.html", {
        "form": form, "page": page, "filtered": not filters.is_empty(),
        "export_query": query.urlencode(),
    })


@login_required
@recent_password
@refusals
@never_cache
def audit_export_view(request: HttpRequest) -> StreamingHttpResponse:
    filters = AuditFilterForm(request.GET).filters()
    chunks = audit_export_stream(actor=actor(request), filters=filters, via="web",
                                 target=request.path)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="log-audit-{stamp}.csv"'
    return response
