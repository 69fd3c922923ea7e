"""Reading the register. ``document_list`` and ``document_get`` are the reads the access
matrix governs (list, view): they take the acting user and refuse, audited, a role the
matrix does not allow; ``via`` (``web``, ``cli``) and ``target`` only describe the refusal
in the audit log."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from django.db import connections
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL

from brankas.core.access import Action
from brankas.core.errors import NotFound
from brankas.core.terms import Category
from brankas.web import changes
from brankas.web.audit.guard import Actor, require_audited
from brankas.web.documents.models import Document
from brankas.web.runtime import distinct_values

TABLE = Document._meta.db_table  # its changes are counted (web/changes.py)
if TYPE_CHECKING:
    from brankas.web.documents.sealing import UnlockedKey

# The sealed fields the register's search reads (as the columns it searches).
SEARCHED_SEALED = ("subject", "correspondent")


def document_get(*, actor: Actor, agenda: str, via: str = "", target: str = "") -> Document:
    """One register entry (``view``)."""
    require_audited(actor, Action.VIEW, target=target or agenda, via=via)
    return document_lookup(agenda)


def document_lookup(agenda: str) -> Document:
    """A register entry without a role check: for the services that check their own action
    (opening checks open-regular or open-exempted, and audits its refusals)."""
    try:
        return Document.objects.select_related("registered_by").get(agenda=agenda.strip())
    except Document.DoesNotExist:
        raise NotFound("document_not_found", agenda=agenda) from None


def document_by_source(source_sha256: str) -> Document | None:
    return Document.objects.filter(source_sha256=source_sha256).order_by("registered_at").first()


def document_list(
    *,
    actor: Actor,
    via: str = "",
    target: str = "",
    direction: str | None = None,
    classification: str | None = None,
    year: int | None = None,
    query: str | None = None,
    unlocked: UnlockedKey | None = None,
) -> QuerySet[Document]:
    """The register, newest first, filtered (``list``)."""
    require_audited(actor, Action.LIST, target=target, via=via)
    qs = Document.objects.select_related("registered_by")
    if direction:
        qs = qs.filter(direction=direction)
    if classification:
        qs = qs.filter(classification=classification)
    if year:
        qs = qs.filter(year=year)
    if query and query.replace("\x00", "").strip():
        qs = qs.filter(metadata_match(qs, query, unlocked))
    return qs.order_by("-registered_at", "-seq")


def metadata_match(qs: QuerySet[Document], query: str, unlocked: UnlockedKey | None) -> Q:
    """The register's search by its fields: ``query`` a substring of the agenda, number,
    subject or correspondent; a sealed subject or correspondent among ``qs`` for an
    unlocked holder (in memory). The content search (web/text/selectors.py) adds the
    documents' texts to it."""
    # NFC: the fields and texts are stored so; a query typed decomposed is the same words
    q = unicodedata.normalize("NFC", query.replace("\x00", "")).strip()
    match = (Q(agenda__icontains=q) | Q(number__icontains=q) | Q(subject__icontains=q)
             | Q(correspondent__icontains=q))
    conn = connections[qs.db]
    if conn.vendor == "sqlite":
        # SQLite: the trigram index narrows the rows to those that may hold the query (a
        # superset of icontains, which stays the test: the same results as the scan); a
        # query under 3 characters, or one found in thousands of rows, scans
        # (web/text/fts.py, "the register's fields")
        from brankas.web.text.fts import field_match_sql

        with conn.cursor() as cursor:
            narrowed = field_match_sql(q, cursor)
        if narrowed is not None:  # ("", []): no row may hold it
            match = (Q(pk__in=RawSQL(*narrowed)) if narrowed[0]  # noqa: S611 (our SQL; the query a parameter)
                     else Q(pk__in=[])) & match
    elif conn.vendor == "postgresql" and len(q) == 2:
        # PostgreSQL, two characters (under the trigram indexes): the bigram index narrows
        # the rows, icontains stays the test; a common bigram scans (web/text/fts.py)
        from brankas.web.text.fts import bigram_match_sql

        with conn.cursor() as cursor:
            bigrams = bigram_match_sql(q, cursor)
        if bigrams is not None:
            match = Q(pk__in=RawSQL(*bigrams)) & match  # noqa: S611 (our SQL; the query a parameter)
    if unlocked is not None:  # sealed values: in memory, for an unlocked holder only
        from brankas.web.documents.sealing import sealed_matches

        match |= Q(pk__in=sealed_matches(
            qs.filter(category=Category.EXEMPTED.value).order_by("-registered_at", "-seq"),
            q, unlocked, fields=SEARCHED_SEALED).pks)
    return match


def document_counts() -> dict[tuple[str, str], int]:
    """How many documents each SOP folder holds, by (category, direction): counts only,
    shown to every role on the dashboard."""
    # One GROUP BY over the (category, direction) index: the index alone is read (COUNT(*),
    # not COUNT(id): PostgreSQL's index-only scan has no id in that index).
    # Computed again only when the register changed (web/changes.py): 15 ms at 100,000.
    def compute() -> dict[tuple[str, str], int]:
        rows = Document.objects.order_by().values("category", "direction").annotate(n=Count("*"))
        return {(r["category"], r["direction"]): r["n"] for r in rows}

    return dict(changes.cached("document_counts", TABLE, (), compute))


def document_total() -> int:
    """How many documents the register holds (the sum of the folder counts)."""
    return sum(document_counts().values())


def document_years() -> list[int]:
    """The years that have documents, newest first: one seek in the year index per year
    (``distinct_values``; DISTINCT read all 100,000 index entries)."""
    return [int(y) for y in distinct_values(Document, "year", descending=True)]
