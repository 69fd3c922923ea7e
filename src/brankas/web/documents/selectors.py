"""Reading the register."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from brankas.core.errors import NotFound
from brankas.web.documents.models import Document


def document_get(agenda: str) -> Document:
    try:
        return Document.objects.select_related("registered_by").get(agenda=agenda.strip())
    except Document.DoesNotExist:
        raise NotFound("document_not_found", agenda=agenda) from None


def document_by_source(source_sha256: str) -> Document | None:
    return Document.objects.filter(source_sha256=source_sha256).order_by("registered_at").first()


def document_list(
    *,
    direction: str | None = None,
    classification: str | None = None,
    year: int | None = None,
    query: str | None = None,
) -> QuerySet[Document]:
    qs = Document.objects.select_related("registered_by")
    if direction:
        qs = qs.filter(direction=direction)
    if classification:
        qs = qs.filter(classification=classification)
    if year:
        qs = qs.filter(year=year)
    if query and query.strip():
        q = query.strip()
        qs = qs.filter(
            Q(agenda__icontains=q)
            | Q(number__icontains=q)
            | Q(subject__icontains=q)
            | Q(correspondent__icontains=q)
        )
    return qs.order_by("-registered_at", "-seq")


def document_years() -> list[int]:
    return sorted(set(Document.objects.values_list("year", flat=True)), reverse=True)
