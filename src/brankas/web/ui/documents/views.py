"""The register: the list with filters and search, a document's page, opening its PDF, and
registering a scanned document (SOP steps 1-5) through the data-input form."""

from __future__ import annotations

import io
from typing import Any

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from brankas.core import crypto
from brankas.core.access import Action, allowed
from brankas.core.errors import BrankasError, NotFound
from brankas.core.names import safe_component
from brankas.core.sealing import SEALABLE
from brankas.core.terms import Category, Direction
from brankas.web import changes
from brankas.web.accounts.models import User
from brankas.web.accounts.selectors import office_get
from brankas.web.documents.models import Document
from brankas.web.documents.sealing import remember_typed, reveal, reveal_typed, take_typed
from brankas.web.documents.selectors import TABLE, document_get, document_list, document_years
from brankas.web.documents.services import document_open, document_register, document_view
from brankas.web.keys.selectors import RECOVERY, key_list
from brankas.web.text.selectors import document_search
from brankas.web.ui import labels
from brankas.web.ui.common import actor, message_of, paginate, pdf_response, refusals, require_role
from brankas.web.ui.documents.forms import FilterForm, RegisterForm, opened_at, opened_token
from brankas.web.ui.documents.sealed_views import sealed_context, unlocked_key
from brankas.web.ui.documents.text_views import text_context
from brankas.web.ui.forms import PassphraseForm
from brankas.web.ui.security import recent_password
from brankas.web.ui.uploads import refuse_if_too_large

PER_PAGE = 50
TYPED_KEY = "brankas_sealed_typed"  # the token of what was just typed (issue 16)
# A search by text is counted up to this many matches (no index serves a substring on
# SQLite: docs/benchmarks.md, "Search"); more are announced as "more than".
SEARCH_CAP = 1000


# The filter form's select fields, rendered by Django's widget templates (about 1 ms of a
# register page's CPU: s22), kept in this process by everything their HTML depends on.
CACHED_FILTERS = ("direction", "classification", "folder", "year")
_FILTER_HTML: dict[tuple[Any, ...], str] = {}
FILTER_HTML_MAX = 512  # distinct renderings kept (then all forgotten, made again)


def filter_fields(form: FilterForm) -> dict[str, str]:
    """The filter form's select fields as HTML (label and widget: ``{{ field.label_tag }}{{
    field }}``), each rendered once per language, value and choices in this
    process: the same for every request with the same filters, whoever asks (the HTML
    holds no user's data). The search box's own field is rendered as always. A field with
    an error (a value not among its choices: an edited address) is rendered and not kept:
    the cache holds the valid values only, never a string of the request's choosing."""
    from django.utils.safestring import mark_safe
    from django.utils.translation import get_language

    language = get_language()
    html: dict[str, str] = {}
    for name in CACHED_FILTERS:
        bound = form[name]
        if bound.errors:  # a value not among the choices (an edited address): not kept
            html[name] = mark_safe(str(bound.label_tag()) + str(bound))  # noqa: S308 (Django's own rendering, escaped)
            continue
        # a valid value is one of the choices: one entry per choice at most
        key = (language, name, repr(bound.value()),
               tuple((str(v), str(label)) for v, label in bound.field.choices))  # type: ignore[attr-defined]
        made = _FILTER_HTML.get(key)
        if made is None:
            made = str(bound.label_tag()) + str(bound)
            if len(_FILTER_HTML) >= FILTER_HTML_MAX:
                _FILTER_HTML.clear()
            _FILTER_HTML[key] = made
        html[name] = mark_safe(made)  # noqa: S308 (Django's own rendering, escaped)
    return html


class CountedOnce:
    """The register filtered without a search (``key``: its filters), paged: the count is
    computed again only when the register changed (web/changes.py), for each filter; the
    pages are read from the query set."""

    def __init__(self, documents: QuerySet[Document], key: tuple[Any, ...]) -> None:
        self.documents, self.key = documents, key

    def count(self) -> int:
        return changes.cached(f"document_count {self.key!r}", TABLE, self.key,
                              self.documents.count)

    def __getitem__(self, window: slice) -> Any:  # a QuerySet (the pages read it lazily)
        return self.documents[window]


@login_required
@refusals
def document_list_view(request: HttpRequest) -> HttpResponse:
    user = actor(request)
    form = FilterForm(request.GET, years=document_years())
    filters = form.filters()
    key = unlocked_key(request)  # sealed fields (issue 16): an unlocked holder's key
    folder = form.chosen_folder()
    if filters.get("query"):  # the fields and the texts, ranked (web/text/selectors.py)
        results = document_search(actor=user, via="web", target=request.path, unlocked=key,
                                  category=folder, registrant=False, **filters)
        page = paginate(request, results, PER_PAGE, cap=SEARCH_CAP)
    else:  # counted once per change of the register (a count reads every index entry)
        # The table shows no registrant: no user joined and built per row.
        documents = document_list(actor=user, via="web", target=request.path, unlocked=key,
                                  **filters).select_related(None)
        if folder:
            documents = documents.filter(category=folder)
        count_key = (folder, *(filters[k] for k in ("direction", "classification", "year")))
        page = paginate(request, CountedOnce(documents, count_key), PER_PAGE)
    reveal(page.object_list, key, fields=("subject", "correspondent"))
    response = render(request, "ui/document_list.html", {
        "form": form,
        "filter_fields": filter_fields(form),
        "page": page,
        "filtered": folder is not None or any(v is not None for v in filters.values()),
        **sealed_context(request),
    })
    if key is not None:  # revealed sealed values: kept by no cache (issue 16)
        response["Cache-Control"] = "no-store"
    return response


def recipient_names(doc: Document) -> list[tuple[str, str]]:
    """(fingerprint, who) for each key the document was encrypted to."""
    holders = {k.fingerprint: k.holder.display() for k in
               key_list().filter(fingerprint__in=list(doc.recipients))}
    office = office_get()
    if office is not None:
        holders[crypto.recipient_fingerprint(office.recovery_recipient)] = _(
            "office recovery key")
    return [(fp, holders.get(fp, "?")) for fp in doc.recipients]


def holds_key_for(user: User, doc: Document) -> bool:
    return key_list().filter(holder=user, fingerprint__in=list(doc.recipients)).exists()


def render_detail(request: HttpRequest, doc: Document, form: PassphraseForm,
                  status: int = 200) -> HttpResponse:
    user = actor(request)
    reveal([doc], unlocked_key(request))
    may_open = allowed(user.role, Action.OPEN_EXEMPTED)
    response = render(request, "ui/document_detail.html", {
        "doc": doc,
        "folder": labels.folder_title(Category(doc.category), Direction(doc.direction)),
        "correspondent_label": labels.correspondent_label(doc.direction),
        "took": doc.registered_at - doc.form_opened_at,
        "recipients": recipient_names(doc) if doc.exempted else [],
        "recovery": RECOVERY,
        "may_open": may_open,
        "holds_key": may_open and doc.exempted and holds_key_for(user, doc),
        "form": form,
        "duplicates": list(doc.duplicates.order_by("registered_at")),
        "lang_next": reverse("ui:document", args=[doc.agenda]),  # after a POST to /open
        **sealed_context(request),
        **text_context(request, doc),  # s19: the "Teks" section
    }, status=status)
    if doc.exempted:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@refusals
def document_detail(request: HttpRequest, agenda: str) -> HttpResponse:
    doc = document_view(actor=actor(request), agenda=agenda, via="web", target=request.path)
    if TYPED_KEY in request.session:  # just registered: what was typed, this once
        typed = take_typed(request.session.pop(TYPED_KEY), user_id=actor(request).pk,
                           agenda=doc.agenda)
        if typed:
            reveal_typed(doc, typed)
    return render_detail(request, doc, PassphraseForm())


def pdf_name(doc: Document) -> str:
    return safe_component(f"{doc.agenda}.pdf", max_len=120)


@login_required
@refusals
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})  # type: ignore[arg-type]  # framed by its page
def document_pdf(request: HttpRequest, agenda: str) -> HttpResponseBase:
    """A Biasa document's PDF, shown in the browser (and in the frame on its page)."""
    buffer = io.BytesIO()
    try:
        doc = document_open(actor=actor(request), agenda=agenda, dst=buffer, via="web",
                            inline=True)
    except BrankasError as exc:
        if exc.kind in {"denied", "not_found"}:
            raise
        return render(request, "ui/refused.html", {"status": 500, "message": message_of(exc)},
                      status=500)
    return pdf_response(buffer, pdf_name(doc), attachment=False)


@login_required
@recent_password
@refusals
@require_POST
@never_cache
@sensitive_post_parameters("passphrase")
def document_open_view(request: HttpRequest, agenda: str) -> HttpResponseBase:
    """Decrypt an exempted document in memory with the key holder's passphrase and hand it
    over as a download; nothing is written to disk or kept by a cache."""
    user = actor(request)
    doc = document_get(actor=user, agenda=agenda, via="web", target=request.path)
    form = PassphraseForm(request.POST)
    form.is_valid()
    passphrase = form.cleaned_data.get("passphrase") or None
    if doc.exempted and passphrase is None and allowed(user.role, Action.OPEN_EXEMPTED):
        form.add_error("passphrase", _("Enter the passphrase of your key."))
        return render_detail(request, doc, form, status=400)
    buffer = io.BytesIO()
    try:
        document_open(actor=user, agenda=doc.agenda, dst=buffer, passphrase=passphrase,
                      via="web")
    except BrankasError as exc:
        if exc.kind == "denied":
            raise  # a refusal page (403), already audited by the service
        form.add_error("passphrase", message_of(exc))
        return render_detail(request, doc, form, status=400)
    return pdf_response(buffer, pdf_name(doc), attachment=True)


# ------------------------------------------------------------------ registering

def duplicate_of(exc: BrankasError, user: User) -> Document | None:
    try:
        return document_get(actor=user, agenda=str(exc.params.get("agenda", "")), via="web")
    except NotFound:
        return None


@login_required
@refusals
@sensitive_post_parameters(*SEALABLE)  # never in an error report (issue 16)
def register(request: HttpRequest) -> HttpResponse:
    user = require_role(request, Action.REGISTER)
    duplicate: Document | None = None
    if request.method != "POST":
        form = RegisterForm(initial={"opened": opened_token()})
        return render(request, "ui/register.html", {"form": form})
    form = RegisterForm(request.POST, request.FILES)
    if not refuse_if_too_large(request, form) and (meta := form.document_input()) is not None:
        try:
            doc = document_register(
                actor=user,
                meta=meta,
                files=form.input_files(),
                form_opened_at=opened_at(form.cleaned_data["opened"]),
                source="web",
                allow_duplicate=form.cleaned_data["allow_duplicate"],
            )
        except BrankasError as exc:
            if exc.kind == "denied":
                raise  # a refusal page (403)
            duplicate = duplicate_of(exc, user) if exc.code == "duplicate_document" else None
            if duplicate is None:
                form.add_brankas_error(exc)
        else:
            messages.success(request, _("Registered as agenda %(agenda)s and filed in %(path)s.")
                             % {"agenda": doc.agenda, "path": doc.stored_path})
            if doc.duplicate_of:
                messages.warning(request, _("The same file was already registered as agenda "
                                            "%(agenda)s.") % {"agenda": doc.duplicate_of.agenda})
            if doc.any_sealed:
                # The confirmation (the document's page, next) shows what was typed, once
                # (issue 16): kept in server memory, the session holds a token only.
                request.session[TYPED_KEY] = remember_typed(
                    user_id=user.pk, agenda=doc.agenda,
                    values={"subject": meta.subject, "notes": meta.notes,
                            "attachments": meta.attachments,
                            "correspondent": meta.correspondent})
            return redirect("ui:document", agenda=doc.agenda)
    # Nothing was stored; the files must be chosen again (a browser cannot refill them).
    return render(request, "ui/register.html", {"form": form, "duplicate": duplicate,
                                                "files_dropped": True})
