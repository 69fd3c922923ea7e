"""Searching the register by its fields and by what its documents say (issue 19).

``document_search`` is the register's one search box: the documents whose agenda, number,
subject or correspondent holds the query (``documents.selectors.metadata_match``, as the
register searched before: a substring; sealed fields for an unlocked holder) and the
documents whose text holds every word of it (``text_search``: SQLite FTS5, PostgreSQL
``indonesian``; web/text/fts.py), in one ranked list:

1. the field matches, newest first (the subject and the correspondent are what the
   registrar typed as the letter's identity: a match there is the strongest sign);
2. then the content matches that no field matched: the newest ``RANKED`` (1,000, by the
   order the documents entered the register, after the filters) best match first (FTS5
   ``bm25``, PostgreSQL ``ts_rank`` normalised by the text's length; newest first among
   equals), then any older ones newest first (a word found in most letters is not ranked
   across all of them: docs/search.md).

Every result whose text matches carries a snippet: the part of its text around the
matches, the matches between ``fts.START`` and ``fts.STOP`` (``fts.snippet_html``,
``fts.snippet_text``). An exempted document is never a content match (it has no text
row; the query excludes its category as well).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection, transaction
from django.db.models import QuerySet

from brankas.core.terms import Category
from brankas.web.audit.guard import Actor
from brankas.web.documents.models import Document
from brankas.web.documents.selectors import document_list, metadata_match
from brankas.web.text import fts

if TYPE_CHECKING:
    from brankas.web.documents.sealing import UnlockedKey

DOC = Document._meta.db_table
# The content matches ranked by score are the newest this many (after the filters); older
# ones follow, newest first. Ranking every match of a word found in most letters computes
# bm25 / ts_rank for each (75,000 at 100,000 documents: 0.4-0.9 s); the first pages of a
# search are its newest 1,000 matches, best first (docs/search.md, "Ranking").
RANKED = 1000
# The most ids one snippet statement is given (``text_snippets``): under SQLite's oldest
# bound of a statement's variables (999), with the statement's own parameters.
SNIPPET_IDS = 900
# The most ids one statement of PostgreSQL's texts for excerpts is given (``_headlines``):
# each sends a body of up to ``fts.EXCERPT_BODY_MAX`` characters.
BODY_IDS = 100
# The longest text whose body, already read for its excerpt, is sent back to be headlined
# whole beside the excerpts (``_headlines``; a letter is 1,000-3,000 characters): a longer
# one is headlined by the database from the table, as the texts too long to send.
WHOLE_SENT_MAX = 20_000


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


def _matches(found: list[str], within: QuerySet[Document], *, score: bool = False,
             below: int | None = None, limit: int | None = None, offset: int = 0,
             ordered: bool = True) -> list[tuple[int, float]]:
    """(id, score) of the texts holding every word of ``found`` among ``within`` (exempted
    documents taken out), newest entry first: ``fts.matches_sql``."""
    where = _where(within.exclude(category=Category.EXEMPTED.value))
    if where is None:
        return []
    gathered = (connection.vendor == "postgresql" and ordered and limit is not None
                and _gathered(found, limit + offset))
    sql = fts.matches_sql(connection.vendor, where[0], score=score, below=below is not None,
                          limit=limit is not None, offset=offset > 0, doc_table=DOC,
                          ordered=ordered, gathered=gathered)
    params = [fts.match_param(connection.vendor, found), *where[1],
              *([below] if below is not None else []), *([limit] if limit is not None else []),
              *([offset] if offset > 0 else [])]
    if connection.vendor == "postgresql":
        return _serial(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(i), float(s)) for i, s in cursor.fetchall()]


# no parallel workers: starting one costs more than the window's own work on a busy server
# (40 ms at load 20 on 2 cores, for a window of no match); no JIT: the planner prices the
# register's lookup per match with the field matches' subquery in each (it is hashed once),
# past jit_optimize_above_cost (compilation took 670 ms for a query of 0.1 ms: session 21).
# Local to a transaction (``set_config(..., true)``): it ends with the window's own.
SERIAL = ("SELECT set_config('max_parallel_workers_per_gather', '0', true), "
          "set_config('jit', 'off', true)")


def one_string() -> bool:
    """PostgreSQL: may statements with parameters go as one query string? Only where
    psycopg 3 binds the parameters itself (its client-side cursor: Django's default).
    With ``server_side_binding`` (Django's option, also in ``BRANKAS_DATABASE_URL``:
    ``?server_side_binding=true``) each statement is prepared, one command each; psycopg2
    reads only a string's last result. There, one statement at a time (review s22)."""
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    options = connection.settings_dict.get("OPTIONS") or {}
    return bool(is_psycopg3) and options.get("server_side_binding") is not True


def _serial(sql: str, params: list[Any]) -> list[tuple[int, float]]:
    """PostgreSQL: the rows of ``sql`` read with ``SERIAL``'s settings, which end with it.
    In autocommit (a web request, the CLI) and where ``one_string``, the settings and the
    statement go as one query string, one round trip (session 22): the server runs them
    as one implicit transaction
    of their own, the settings planned into the statement after them and gone at its end
    (or with its error). In a caller's transaction, a savepoint of the window's own, rolled
    back after the read (a read: nothing lost): SET LOCAL would otherwise last to the end
    of the caller's transaction. Never in pipeline mode (Django uses none)."""
    if one_string() and connection.get_autocommit() and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"{SERIAL}; {sql}", params)
            cursor.nextset()
            rows = cursor.fetchall()
        return [(int(i), float(s)) for i, s in rows]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SERIAL)
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        transaction.set_rollback(True)
    return [(int(i), float(s)) for i, s in rows]


def _window(found: list[str], within: QuerySet[Document]) -> list[tuple[int, float]]:
    """The ranked window's matches with their scores: the newest ``RANKED`` + 1 (the one
    more says whether older matches follow, and makes a capped count of up to ``RANKED`` +
    1 exact without a second pass over the index)."""
    return _matches(found, within, score=True, limit=RANKED + 1)


def _gathered(found: list[str], wanted: int) -> bool:
    """PostgreSQL: the newest ``wanted`` matches of ``found`` gathered from the GIN index
    (``fts.gather_matches``, on the planner's estimates: one ``EXPLAIN``, no row read)?"""
    texts_sql = f"SELECT reltuples FROM pg_class WHERE oid = '{fts.TABLE}'::regclass"  # noqa: S608 (our name)
    with connection.cursor() as cursor:
        # the estimate and the texts' number: one query string, one round trip (s22)
        if one_string():
            estimated = fts.estimated_rows(cursor, fts.estimate_sql(),
                                           [fts.match_param("postgresql", found)],
                                           then=texts_sql)
        else:
            estimated = fts.estimated_rows(cursor, fts.estimate_sql(),
                                           [fts.match_param("postgresql", found)])
            cursor.execute(texts_sql)
        (texts,) = cursor.fetchone()
    return fts.gather_matches(estimated, float(texts), wanted)


def text_search(query: str | None, *, within: QuerySet[Document], limit: int | None = None,
                offset: int = 0, window: list[tuple[int, float]] | None = None) -> list[Hit]:
    """The documents of ``within`` whose text holds every word of ``query``, in the order
    of the module docstring: the ``RANKED`` newest matches best first (newest first among
    equals), then any older ones newest first; ``offset`` and at most ``limit`` of them.
    No word (after cleaning: ``fts.words``): none. ``within``: the register filtered on its
    own columns (the filters, exclusions); exempted documents are never content matches.
    ``window``: ``_window`` of the same query and ``within``, when already read."""
    found = fts.words(query)
    if not found or limit == 0:
        return []
    if window is None:
        window = _window(found, within)
    # best first, newest first among equals: the window is newest first (``_window``)
    # and a sort keeps equals in their order (``reverse`` too): by the score alone,
    # a float's comparison, 0.14 ms for 1,000 where a tuple key took 0.58 (s23)
    ranked = sorted(window[:RANKED], key=itemgetter(1), reverse=True)
    hits = ranked[offset: None if limit is None else offset + limit]
    wanted = None if limit is None else limit - len(hits)
    if len(window) > RANKED and (wanted is None or wanted > 0):
        # the older matches, past the ranked ones: newest first
        hits += _matches(found, within, below=window[RANKED - 1][0], limit=wanted,
                         offset=max(0, offset - RANKED))
    return [Hit(i, s) for i, s in hits]


def text_count(query: str | None, *, within: QuerySet[Document], cap: int | None = None) -> int:
    """How many documents ``text_search`` finds (at most ``cap``)."""
    found = fts.words(query)
    if not found or cap == 0:
        return 0
    return len(_matches(found, within, limit=cap, ordered=False))


def text_snippets(query: str | None, ids: list[int],
                  matched: Collection[int] = ()) -> dict[int, str]:
    """Document id -> its snippet, for those of ``ids`` whose text holds every word of
    ``query`` (marked with ``fts.START`` / ``fts.STOP``). ``matched``: ids of ``ids``
    known to hold them (the ranked window's hits of the same query): PostgreSQL does not
    read their vectors again to test it (the other conditions stay)."""
    found = fts.words(query)
    if not found or not ids:
        return {}
    vendor = connection.vendor
    marks = fts.snippet_marks()  # the text's own private-use marks are no match
    ordered = sorted(set(ids))
    if vendor == "postgresql":
        return _headlines(found, ordered, marks, sorted(set(matched) & set(ordered)))
    snippets: dict[int, str] = {}
    with connection.cursor() as cursor:
        # At most SNIPPET_IDS ids a statement: SQLite builds bound its variables (999
        # before 3.32, 32,766 since: the CLI's "list --query" reads every result); sorted,
        # each statement's id range is its own (SQLite: FTS5 reads the words' doclists in
        # that range only)
        for at in range(0, len(ordered), SNIPPET_IDS):
            part = ordered[at: at + SNIPPET_IDS]
            cursor.execute(fts.snippets_sql(vendor, len(part), DOC),
                           [*marks, fts.match_param(vendor, found), part[0], part[-1], *part,
                            Category.EXEMPTED.value])
            snippets.update((int(i), fts.marked(str(s), marks)) for i, s in cursor.fetchall())
    return snippets


def _headlines(found: list[str], ids: list[int], marks: tuple[str, str],
               matched: list[int]) -> dict[int, str]:
    """PostgreSQL's snippets (``text_snippets``): ``ts_headline`` of an excerpt of each text
    around its matches (``fts.excerpt``: about 600 characters, not the whole letter, which
    it parses and stems: 0.2-0.4 ms a text), of the whole text where it is short (in the
    same pass as the bodies), where no excerpt surely holds the matches, or where the
    excerpt's headline marks no match. Two statements for a page (session 22: the bodies,
    then the excerpts' and the whole texts' headlines together, the whole ones from the
    bodies already read); a third only for a text too long to send, or an excerpt whose
    headline marked no match."""
    words = fts.match_param("postgresql", found)
    whole: list[int] = []  # headlined whole by the database (bodies not sent)
    snippets: dict[int, str] = {}
    with connection.cursor() as cursor:
        for at in range(0, len(ids), BODY_IDS):
            part = ids[at: at + BODY_IDS]
            known = [i for i in matched if part[0] <= i <= part[-1]]
            cursor.execute(fts.bodies_sql(len(part), DOC),
                           [*marks, words, known, *part, Category.EXEMPTED.value])
            given: dict[int, str] = {}  # id -> its excerpt, or its whole body, to headline
            excerpted: set[int] = set()  # those of ``given`` that are excerpts
            for i, body, headline, lexemes in cursor.fetchall():
                if body is None and headline is None:  # too long to send: headlined whole
                    whole.append(int(i))
                    continue
                if body is None:  # a short text: its headline made in the same pass
                    snippets[int(i)] = fts.marked(str(headline), marks)
                    continue
                piece = fts.excerpt(str(body), [str(x) for x in lexemes or []])
                if piece is not None:
                    given[int(i)] = piece
                    excerpted.add(int(i))
                elif len(body) <= WHOLE_SENT_MAX:  # sent back whole beside the excerpts
                    given[int(i)] = str(body)
                else:  # a long text: headlined whole by the database, its body not sent
                    whole.append(int(i))
            if not given:
                continue
            # the excerpts and the whole texts (their bodies just read) in one statement
            cursor.execute(fts.headlines_sql(),
                           [*marks, words, list(given), list(given.values())])
            for i, s in cursor.fetchall():
                if int(i) not in excerpted or marks[0] in str(s):
                    snippets[int(i)] = fts.marked(str(s), marks)
                else:  # the substrings found were no match ("rapat" in "merapikan")
                    whole.append(int(i))
        for at in range(0, len(whole), SNIPPET_IDS):
            part = sorted(whole[at: at + SNIPPET_IDS])
            cursor.execute(fts.snippets_sql("postgresql", len(part), DOC),
                           [*marks, words, *part, Category.EXEMPTED.value])
            snippets.update((int(i), fts.marked(str(s), marks)) for i, s in cursor.fetchall())
    return snippets


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

        self.fields_total: int | None = None  # known once a window read past their end
        self._window: list[tuple[int, float]] | None = None  # _window, once read

    def within(self) -> QuerySet[Document]:
        """Where the content matches are looked for: the register less its field matches,
        or, once a read found that none of its rows matched by its fields, the register
        itself (the same rows: ``exclude`` of a condition no row meets keeps every row),
        whose lookups in the window test no field (four ``LIKE`` a match: session 22)."""
        return self.base if self.fields_total == 0 else self.content

    def window(self) -> list[tuple[int, float]]:
        """The content matches' ranked window (``_window``), read once for every slice
        and count of these results."""
        if self._window is None:
            found = fts.words(self.query)
            self._window = _window(found, self.within()) if found else []
        return self._window

    def content_count(self, cap: int | None = None) -> int:
        """How many content matches (at most ``cap``): from the ranked window, when a
        slice read it and it holds them all or ``cap`` of them (the first page and its
        capped count: one pass over the index); else counted in the index."""
        window = self._window
        if window is not None and (len(window) <= RANKED
                                   or (cap is not None and cap <= len(window))):
            return len(window) if cap is None else min(cap, len(window))
        return text_count(self.query, within=self.within(), cap=cap)

    def fields_count(self, stop: int | None = None) -> int:
        """How many field matches (at most ``stop``)."""
        if self.fields_total is not None:
            return self.fields_total if stop is None else min(stop, self.fields_total)
        fields = self.fields.order_by()
        return (fields[:stop] if stop is not None else fields).count()

    def count(self) -> int:
        return self.fields_count() + self.content_count()

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
        fields = r.fields_count(stop)
        rest = None if stop is None else stop - fields
        content = r.content_count(cap=rest) if rest != 0 else 0
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
            before = start + len(rows) if rows or start == 0 else r.fields_count()
            r.fields_total = before
            hits = text_search(r.query, within=r.within(), limit=wanted,
                               offset=max(0, start - before), window=r.window())
            found = r.base.in_bulk([h.document_id for h in hits])
            rows += [found[h.document_id] for h in hits if h.document_id in found]
            matched = [h.document_id for h in hits]
        else:
            matched = []
        snippets = text_snippets(r.query, [d.pk for d in rows], matched)
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
                    unlocked: UnlockedKey | None = None,
                    registrant: bool = True) -> SearchResults:
    """The register searched by ``query`` in its fields and its texts, filtered, ranked
    (module docstring). Governed by ``list`` as ``document_list`` (which it calls).
    ``registrant``: the rows carry their registrant (``registered_by``, joined: the CLI
    shows it); without, no user is joined and built per row (the register page shows
    none: s23, a page of 50 results 1-2 ms of the client's CPU less)."""
    base = document_list(actor=actor, via=via, target=target, direction=direction,
                         classification=classification, year=year, unlocked=unlocked)
    if not registrant:
        base = base.select_related(None)
    if category:
        base = base.filter(category=category)
    match = metadata_match(base, query, unlocked)
    return SearchResults(query, base, base.filter(match), base.exclude(match))
