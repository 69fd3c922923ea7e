"""Searching the register by its fields and by what its documents say (issue 19).

``document_search`` is the register's one search box: the documents whose agenda, number,
subject or correspondent holds the query (``documents.selectors.metadata_match``, as the
register searched before: a substring; sealed fields for an unlocked holder) and the
documents whose text holds every word of it (``text_search``: SQLite FTS5, PostgreSQL
``indonesian``; web/text/fts.py), in one ranked list:

1. the field matches, newest first (the subject and the correspondent are what the
   registrar typed as the letter's identity: a match there is the strongest sign);
2. then the content matches that no field matched, best match first (FTS5 ``bm25``,
   PostgreSQL ``ts_rank`` normalised by the text's length), newest first among equals.

Every result whose text matches carries a snippet: the part of its text around the
matches, the matches between ``fts.START`` and ``fts.STOP`` (``fts.snippet_html``,
``fts.snippet_text``). An exempted document is never a content match (it has no text
row; the query excludes its category as well).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import QuerySet

from brankas.core.terms import Category
from brankas.web.audit.guard import Actor
from brankas.web.documents.models import Document
from brankas.web.documents.selectors import document_list, metadata_match
from brankas.web.text import fts

if TYPE_CHECKING:
    from brankas.web.documents.sealing import UnlockedKey

DOC = Document._meta.db_table


@dataclass(frozen=True)
class Hit:
    document_id: int
    score: float


def _where(within: QuerySet[Document]) -> tuple[str, list[Any]] | None:
    """``within``'s WHERE clause as SQL over the register's own table (None: it matches
    nothing). ``within`` filters on the register's columns only (no join)."""
    query = within.query
    compiler = query.get_compiler(connection=connection)
    try:
        sql, params = compiler.compile(query.where)
    except FullResultSet:
        return "", []
    except EmptyResultSet:
        return None
    assert set(query.alias_map) <= {DOC}, "the filters must not join another table"
    return sql, list(params)


def _matches(found: list[str], within: QuerySet[Document], select: str, tail: str,
             tail_params: list[Any]) -> list[tuple[Any, ...]] | None:
    where = _where(within)
    if where is None:
        return None
    vendor = connection.vendor
    sql = (f"WITH hits AS MATERIALIZED ({fts.hits_sql(vendor)}) SELECT {select} FROM hits "  # noqa: S608 (our names, the values are parameters)
           f'JOIN "{DOC}" ON "{DOC}"."id" = hits.id'
           + (f" WHERE {where[0]}" if where[0] else "") + tail)
    with connection.cursor() as cursor:
        cursor.execute(sql, [fts.match_param(vendor, found), *where[1], *tail_params])
        return list(cursor.fetchall())


def text_search(query: str | None, *, within: QuerySet[Document], limit: int | None = None,
                offset: int = 0) -> list[Hit]:
    """The documents of ``within`` whose text holds every word of ``query``, best match
    first (newest first among equals), ``offset`` and at most ``limit`` of them. No word
    (after cleaning: ``fts.words``): none. ``within``: the register filtered on its own
    columns (the filters, exclusions); exempted documents are never content matches."""
    found = fts.words(query)
    if not found:
        return []
    within = within.exclude(category=Category.EXEMPTED.value)
    tail = (f' ORDER BY hits.score DESC, "{DOC}"."registered_at" DESC, "{DOC}"."seq" DESC'
            + (" LIMIT %s OFFSET %s" if limit is not None else
               (" LIMIT -1 OFFSET %s" if connection.vendor == "sqlite" else " OFFSET %s")))
    params = [limit, offset] if limit is not None else [offset]
    rows = _matches(found, within, "hits.id, hits.score", tail, params)
    return [Hit(int(i), float(s)) for i, s in rows or []]


def text_count(query: str | None, *, within: QuerySet[Document], cap: int | None = None) -> int:
    """How many documents ``text_search`` finds (at most ``cap``)."""
    found = fts.words(query)
    if not found:
        return 0
    within = within.exclude(category=Category.EXEMPTED.value)
    rows = _matches(found, within, "1", " LIMIT %s" if cap is not None else "",
                    [cap] if cap is not None else [])
    return len(rows or [])


def text_snippets(query: str | None, ids: list[int]) -> dict[int, str]:
    """Document id -> its snippet, for those of ``ids`` whose text holds every word of
    ``query`` (marked with ``fts.START`` / ``fts.STOP``)."""
    found = fts.words(query)
    if not found or not ids:
        return {}
    vendor = connection.vendor
    with connection.cursor() as cursor:
        cursor.execute(fts.snippets_sql(vendor, len(ids)),
                       [fts.match_param(vendor, found), *ids])
        return {int(i): str(s) for i, s in cursor.fetchall()}


class SearchResults:
    """The ranked results of ``document_search``: ``count()`` and slices (a ``Pageable``
    of web/ui/common.py). A slice is a ``Window``, read when iterated; its ``count()``
    counts without reading the rows (the paginator's capped count)."""

    def __init__(self, query: str, base: QuerySet[Document], fields: QuerySet[Document],
                 content: QuerySet[Document]) -> None:
        self.query = query
        self.base = base  # the register, filtered (its rows are read from it)
        self.fields = fields  # tier 1: the field matches, newest first
        self.content = content  # where the content matches are looked for (tier 2)

    def count(self) -> int:
        return self.fields.order_by().count() + text_count(self.query, within=self.content)

    def __getitem__(self, window: slice) -> Any:  # a Window (a Sequence with count())
        if not isinstance(window, slice) or window.step not in (None, 1):
            raise TypeError("SearchResults are read by slices")
        return Window(self, window.start or 0, window.stop)


class Window:
    def __init__(self, results: SearchResults, start: int, stop: int | None) -> None:
        self.results, self.start, self.stop = results, start, stop
        self._rows: list[Document] | None = None

    def count(self) -> int:
        r, stop = self.results, self.stop
        fields = (r.fields.order_by()[:stop] if stop is not None else r.fields.order_by()).count()
        rest = None if stop is None else stop - fields
        content = text_count(r.query, within=r.content, cap=rest) if rest != 0 else 0
        return max(0, fields + content - self.start)

    def rows(self) -> list[Document]:
        if self._rows is None:
            self._rows = self._read()
        return self._rows

    def _read(self) -> list[Document]:
        r, start, stop = self.results, self.start, self.stop
        rows = list(r.fields[start:stop])
        wanted = None if stop is None else stop - start - len(rows)
        if wanted is None or wanted > 0:
            # the field matches end in this window: how many there are in all
            before = start + len(rows) if rows or start == 0 else r.fields.order_by().count()
            hits = text_search(r.query, within=r.content, limit=wanted,
                               offset=max(0, start - before))
            found = r.base.in_bulk([h.document_id for h in hits])
            rows += [found[h.document_id] for h in hits if h.document_id in found]
        snippets = text_snippets(r.query, [d.pk for d in rows])
        for doc in rows:
            doc.snippet = snippets.get(doc.pk)  # type: ignore[attr-defined]
        return rows

    def __iter__(self) -> Iterator[Document]:
        return iter(self.rows())

    def __len__(self) -> int:
        return len(self.rows())


def document_search(*, actor: Actor, query: str, via: str = "", target: str = "",
                    direction: str | None = None, classification: str | None = None,
                    year: int | None = None, category: str | None = None,
                    unlocked: UnlockedKey | None = None) -> SearchResults:
    """The register searched by ``query`` in its fields and its texts, filtered, ranked
    (module docstring). Governed by ``list`` as ``document_list`` (which it calls)."""
    base = document_list(actor=actor, via=via, target=target, direction=direction,
                         classification=classification, year=year, unlocked=unlocked)
    if category:
        base = base.filter(category=category)
    match = metadata_match(base, query, unlocked)
    return SearchResults(query, base, base.filter(match), base.exclude(match))
