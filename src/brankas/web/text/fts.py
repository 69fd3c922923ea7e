"""The full-text index over ``DocumentText.body`` and the SQL that reads it (issue 19).

- **SQLite** (the embedded default): an FTS5 table ``text_fts`` with *external content*
  (``content='text_documenttext'``: the index holds no second copy of the text, only its
  tokens), tokenizer ``unicode61 remove_diacritics 2`` (case and accents folded, no
  stemming, no prefix index). Three triggers on ``text_documenttext`` keep it in step with
  every write, whoever makes it (the pipeline, ``recover``, ``migrate-db``, raw SQL), so no
  service has to remember it. A later migration that remakes the table drops the
  triggers: ``repair`` (post_migrate) makes them again and rebuilds the index.
- **PostgreSQL** (the server): a stored generated column ``search_vector`` =
  ``to_tsvector('indonesian', body)`` (the Snowball Indonesian stemmer: "berkoordinasi"
  and "koordinasi" are one word) with a GIN index; the database computes it on every
  write.

A user's words never reach either query language as syntax: ``words`` keeps the letters
and digits of the query and nothing else; FTS5 gets each word as a quoted string (the
words side by side: all of them must appear), PostgreSQL ``plainto_tsquery`` (the same).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

TABLE = "text_documenttext"
FTS = "text_fts"
# FTS5 makes these beside the table (its "shadow tables"): part of the index, never data.
FTS_TABLES = (FTS, f"{FTS}_data", f"{FTS}_idx", f"{FTS}_docsize", f"{FTS}_config")
VECTOR, VECTOR_INDEX = "search_vector", "text_search_idx"
CONFIG = "indonesian"
TOKENIZER = "unicode61 remove_diacritics 2"
TRIGGERS = ("text_fts_insert", "text_fts_delete", "text_fts_update")
# At most this many words of a query are searched for in the text (a 10,000-character
# paste is still a query, not a denial of service); longer words are cut.
MAX_WORDS, MAX_WORD = 16, 64
# The longest search query (the register page's box: its form's max_length; the CLI refuses a
# longer one): SQLite refuses a LIKE pattern over 50,000 bytes, and no one types more.
MAX_QUERY = 200
# The marks a snippet's matches come between (private-use characters; a text's own are
# dropped, each query's snippets made with marks of its own: ``snippet_marks``).
START, STOP = "\ue000", "\ue001"
SNIPPET_TOKENS = 24  # FTS5: the snippet's length in tokens (PostgreSQL: MaxWords)
HEADLINE_OPTIONS = (f"MaxWords={SNIPPET_TOKENS}, MinWords=8, ShortWord=2, MaxFragments=2, "
                    "FragmentDelimiter=\" … \"")  # PostgreSQL's ts_headline

_WORD = re.compile(r"[^\W_]+")



def migration_step(statements: Any) -> Any:
    """A migration's ``RunPython`` function that runs ``statements(vendor)`` (the index's
    ``create_sql``/``drop_sql``, the field index's): one for both apps' migrations."""
    def run(apps: Any, schema_editor: Any) -> None:
        for statement in statements(schema_editor.connection.vendor):
            schema_editor.execute(statement)
    return run

def words(query: str | None) -> list[str]:
    """The words of ``query`` that the text is searched for (letters and digits only, at
    most ``MAX_WORDS``, each at most ``MAX_WORD`` characters); empty: no content search."""
    if not query:
        return []
    # NFC as the texts are stored (core/text/normalise.py): "e" + U+0301 is one letter "é"
    query = unicodedata.normalize("NFC", query)
    return [w[:MAX_WORD] for w in _WORD.findall(query)[:MAX_WORDS]]


def fts5_expression(found: list[str]) -> str:
    """An FTS5 MATCH expression of ``found``: each word a quoted string (no operator, no
    column filter, no prefix), side by side (implicit AND)."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in found)


def create_sql(vendor: str) -> list[str]:
    """The index's statements on ``vendor`` (migration text 0002 and ``repair``)."""
    if vendor == "sqlite":
        return [
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(body, content='{TABLE}', "
            f"content_rowid='document_id', tokenize='{TOKENIZER}')",
            *trigger_sql(),
            f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",  # noqa: S608 (our names, the values are parameters)
        ]
    if vendor == "postgresql":
        return [
            f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS {VECTOR} tsvector GENERATED ALWAYS "
            f"AS (to_tsvector('{CONFIG}'::regconfig, body)) STORED",
            f"CREATE INDEX IF NOT EXISTS {VECTOR_INDEX} ON {TABLE} USING gin ({VECTOR})",
        ]
    return []


def drop_sql(vendor: str) -> list[str]:
    if vendor == "sqlite":
        return [*(f"DROP TRIGGER IF EXISTS {t}" for t in TRIGGERS), f"DROP TABLE IF EXISTS {FTS}"]
    if vendor == "postgresql":
        return [f"DROP INDEX IF EXISTS {VECTOR_INDEX}",
                f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS {VECTOR}"]
    return []


def trigger_sql() -> list[str]:
    """SQLite: the index follows every insert, delete and change of a text (an external
    content table is told the old text to remove, and the new one to add)."""
    add = f"INSERT INTO {FTS}(rowid, body) VALUES (new.document_id, new.body);"  # noqa: S608 (our names, the values are parameters)
    remove = f"INSERT INTO {FTS}({FTS}, rowid, body) VALUES ('delete', old.document_id, old.body);"  # noqa: S608 (our names, the values are parameters)
    return [
        f"CREATE TRIGGER IF NOT EXISTS text_fts_insert AFTER INSERT ON {TABLE} BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS text_fts_delete AFTER DELETE ON {TABLE} BEGIN {remove} END",
        f"CREATE TRIGGER IF NOT EXISTS text_fts_update AFTER UPDATE ON {TABLE} "
        f"WHEN old.body IS NOT new.body OR old.document_id IS NOT new.document_id "
        f"BEGIN {remove} {add} END",
    ]


def repair(using: str = "default", **kwargs: Any) -> None:
    """After a ``migrate`` (post_migrate), SQLite: when the text table (or the register's,
    for the field index) was remade by a later migration (its triggers gone with the old
    table) or an index is missing, make them again and rebuild the index from the rows
    (the writes made without the triggers were not indexed)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    conn = connections[using]
    if conn.vendor != "sqlite":
        return  # PostgreSQL alters a table in place: the column and its index stay
    applied = MigrationRecorder(conn).applied_migrations()
    for migration, names, statements in (
            (("text", "0002_s19_search"), (FTS, *TRIGGERS), create_sql),
            (("documents", FIELD_MIGRATION), (FIELD_FTS, *FIELD_TRIGGERS), field_create_sql)):
        if migration not in applied:
            continue
        with conn.cursor() as cursor:
            marks = ", ".join(["%s"] * len(names))
            cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'table') "  # noqa: S608 (placeholders only)
                           f"AND name IN ({marks})", list(names))
            if len(cursor.fetchall()) == len(names):
                continue
            for statement in statements("sqlite"):
                cursor.execute(statement)


# ------------------------------------------------ the register's fields (SQLite)
#
# The register's search by its fields (``documents.selectors.metadata_match``) is a
# substring search (``icontains``) over the agenda, number, subject and correspondent. On
# PostgreSQL trigram GIN indexes serve it (web/trigram.py); on SQLite ``LIKE '%q%'`` reads
# every row (100,000: 30 ms of CPU for any query). ``documents_field_fts`` is an FTS5
# table with external content over those four columns, tokenizer ``trigram
# case_sensitive 0``: a quoted query of 3 characters or more matches the rows holding it
# as a substring of one column, case folded (all of Unicode's case, no diacritics removed).
# That is a superset of ``LIKE`` (which folds ASCII only): the index narrows the rows, the
# ``icontains`` test stays on them, so the results are exactly the scan's. Shorter queries
# scan (a trigram index cannot serve them). Sealed (exempted) documents have empty
# plaintext columns: nothing of them is indexed. Triggers keep the index in step with
# every write; ``repair`` makes them again after a migration that remade the table.
FIELD_TABLE = "documents_document"
FIELD_FTS = "documents_field_fts"
FIELD_TABLES = (FIELD_FTS, f"{FIELD_FTS}_data", f"{FIELD_FTS}_idx", f"{FIELD_FTS}_docsize",
                f"{FIELD_FTS}_config")
FIELD_COLUMNS = ("agenda", "number", "subject", "correspondent")
FIELD_TOKENIZER = "trigram case_sensitive 0"
FIELD_TRIGGERS = ("documents_field_fts_insert", "documents_field_fts_delete",
                  "documents_field_fts_update")
FIELD_MIN = 3  # the shortest query the trigram index serves
FIELD_MIGRATION = "0008_s19_field_fts"
# More matches than this: the scan (newest first, it stops after a page) beats reading the
# matches by id and sorting them (docs/benchmarks.md, "Search speed, session 19 (O2b)").
FIELD_SPARSE = 2000


def field_create_sql(vendor: str) -> list[str]:
    """The field index's statements on ``vendor`` (migration documents 0008, ``repair``);
    nothing on PostgreSQL (its trigram GIN indexes: documents 0004)."""
    if vendor != "sqlite":
        return []
    columns = ", ".join(FIELD_COLUMNS)
    new = ", ".join(f"new.{c}" for c in FIELD_COLUMNS)
    old = ", ".join(f"old.{c}" for c in FIELD_COLUMNS)
    add = f"INSERT INTO {FIELD_FTS}(rowid, {columns}) VALUES (new.id, {new});"  # noqa: S608 (our names)
    remove = (f"INSERT INTO {FIELD_FTS}({FIELD_FTS}, rowid, {columns}) "  # noqa: S608 (our names)
              f"VALUES ('delete', old.id, {old});")
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in ("id", *FIELD_COLUMNS))
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FIELD_FTS} USING fts5({columns}, "
        f"content='{FIELD_TABLE}', content_rowid='id', tokenize='{FIELD_TOKENIZER}', "
        f"detail='full')",
        f"CREATE TRIGGER IF NOT EXISTS {FIELD_TRIGGERS[0]} AFTER INSERT ON {FIELD_TABLE} "
        f"BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS {FIELD_TRIGGERS[1]} AFTER DELETE ON {FIELD_TABLE} "
        f"BEGIN {remove} END",
        f"CREATE TRIGGER IF NOT EXISTS {FIELD_TRIGGERS[2]} AFTER UPDATE ON {FIELD_TABLE} "
        f"WHEN {changed} BEGIN {remove} {add} END",
        f"INSERT INTO {FIELD_FTS}({FIELD_FTS}) VALUES ('rebuild')",  # noqa: S608 (our names)
    ]


def field_drop_sql(vendor: str) -> list[str]:
    if vendor != "sqlite":
        return []
    return [*(f"DROP TRIGGER IF EXISTS {t}" for t in FIELD_TRIGGERS),
            f"DROP TABLE IF EXISTS {FIELD_FTS}"]


def field_match_sql(query: str, cursor: Any) -> tuple[str, list[str]] | None:
    """SQLite: (SQL selecting the ids of the register rows whose agenda, number, subject or
    correspondent may hold ``query``, its parameters): a superset of ``icontains`` (the
    caller keeps that test). None when the scan serves ``query`` better: shorter than
    ``FIELD_MIN`` (no trigram), or found in more than ``FIELD_SPARSE`` rows (counted in the
    index with ``cursor``, under 1 ms): the register read newest first finds a page, or
    the capped count, of a common substring after a few thousand rows (0.3 us each), where
    taking every match from the index and reading it by id costs 0.3-5 us each.
    ``("", [])`` when the index holds no row that may hold it: no field matches, nothing
    for the caller to test (most searches of several words: the index's match not run
    again in the field matches' query and in the content query's exclusion, session 20)."""
    if len(query) < FIELD_MIN:
        return None
    expression = '"' + query.replace('"', '""') + '"'
    sql = f"SELECT rowid FROM {FIELD_FTS} WHERE {FIELD_FTS} MATCH %s"  # noqa: S608 (our names; the value a parameter)
    cursor.execute(f"SELECT count(*) FROM ({sql} LIMIT %s)", [expression, FIELD_SPARSE + 1])  # noqa: S608 (our SQL; values parameters)
    found = cursor.fetchone()[0]
    if found > FIELD_SPARSE:
        return None
    return (sql, [expression]) if found else ("", [])


# ------------------------------------------- the register's fields (PostgreSQL, 2 chars)
#
# PostgreSQL's trigram GIN indexes (web/trigram.py) serve ``icontains`` of 3 characters or
# more; a query of two characters ("qx") read all 100,000 rows, four UPPER() LIKE tests
# each (64 ms quiet, session 20). ``documents_document_field_bigrams`` is a GIN index over
# the two-character substrings (``brankas_bigrams``) of the four columns as ``icontains``
# compares them (``UPPER(col::text)``), joined by U+001F: a row holding the query as a
# substring of a column holds its one bigram, so the rows the index names are a superset of
# the scan's, and ``icontains`` stays the test (the documents found are the scan's). A
# bigram in more rows than ``FIELD_SPARSE`` (the planner's estimate, from the index's
# statistics) scans, as before: newest first, it stops after a page. One character scans.
BIGRAM_FUNCTION = "brankas_bigrams"
BIGRAM_INDEX = "documents_document_field_bigrams"
BIGRAM_LENGTH = 2  # the query length the bigram index serves (3+: the trigram indexes)
BIGRAM_EXPRESSION = (f"{BIGRAM_FUNCTION}("
                     + " || chr(31) || ".join(f'coalesce(upper("{c}"::text), \'\')'
                                               for c in FIELD_COLUMNS) + ")")


def bigram_create_sql(vendor: str) -> list[str]:
    """PostgreSQL: the bigram function and index (migration documents 0009); nothing on
    SQLite (the scan of two characters stays there: 30 ms CPU, its rows in memory)."""
    if vendor != "postgresql":
        return []
    return [
        f"CREATE OR REPLACE FUNCTION {BIGRAM_FUNCTION}(value text) RETURNS text[] "  # noqa: S608 (our names)
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
        "SELECT coalesce(array_agg(DISTINCT substr(value, i, 2)), '{}') "
        "FROM generate_series(1, length(value) - 1) i $$",
        f'CREATE INDEX IF NOT EXISTS {BIGRAM_INDEX} ON "{FIELD_TABLE}" '
        f"USING gin (({BIGRAM_EXPRESSION}))",
        f'ANALYZE "{FIELD_TABLE}"',  # the expression's statistics: the estimate below
    ]


def bigram_drop_sql(vendor: str) -> list[str]:
    if vendor != "postgresql":
        return []
    return [f"DROP INDEX IF EXISTS {BIGRAM_INDEX}",
            f"DROP FUNCTION IF EXISTS {BIGRAM_FUNCTION}(text)"]


def bigram_match_sql(query: str, cursor: Any) -> tuple[str, list[str]] | None:
    """PostgreSQL: (SQL selecting the ids of the register rows that may hold ``query``, of
    ``BIGRAM_LENGTH`` characters, as a substring of a field; its parameters), a superset
    of ``icontains`` (the caller keeps that test); None when the scan serves it better:
    another length, or a bigram the planner estimates in more than ``FIELD_SPARSE`` rows
    (one ``EXPLAIN``, no row read: a common bigram, "AN", read by the index is 100,000
    rows; the scan newest first stops after a page)."""
    if len(query) != BIGRAM_LENGTH:
        return None
    sql = (f'SELECT "id" FROM "{FIELD_TABLE}" '  # noqa: S608 (our names; the value a parameter)
           f"WHERE {BIGRAM_EXPRESSION} @> ARRAY[upper(%s::text)]")
    if estimated_rows(cursor, sql, [query]) > FIELD_SPARSE:
        return None
    return sql, [query]


def estimated_rows(cursor: Any, sql: str, params: list[Any], then: str = "") -> float:
    """PostgreSQL: the rows the planner expects ``sql`` to give (``EXPLAIN``, no row read).
    ``then``: a statement (no parameter) sent after it in the same query string (one round
    trip); its result is ``cursor``'s current one when this returns."""
    if then:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}; {then}", params)
    else:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
    (plan,) = cursor.fetchone()
    if then:
        cursor.nextset()
    if isinstance(plan, str):  # a driver that does not decode JSON
        import json

        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


# ---------------------------------------------------------------- the queries

def matches_sql(vendor: str, where: str, *, score: bool, below: bool, limit: bool,
                offset: bool, doc_table: str, ordered: bool = True,
                gathered: bool = False) -> str:
    """The texts matching the first parameter (the FTS5 expression on SQLite, the words on
    PostgreSQL) whose register entry satisfies ``where`` (SQL over ``doc_table``), newest
    entry first (the highest document id; in any order unless ``ordered``: a count), as
    (id, score): a higher score a better match
    (``score``; else 0). Then the parameters of ``where``; with ``below``, only ids below
    one; ``limit``, ``offset``.

    The text match drives the query and streams in the index's own order (FTS5: its
    doclist by rowid, descending; PostgreSQL: the GIN index, or the primary key read
    backwards testing each text, whichever its planner prices lower), the register joined
    to each match by primary key and filtered there: the trap of FTS5 MATCH planned inside
    a join (a whole match run again for every register row, or "unable to use function
    MATCH") is avoided by ``CROSS JOIN``, which SQLite never reorders. With a LIMIT the
    query stops after that many matches: the score (bm25, ts_rank) is computed only for
    the rows it returns.

    PostgreSQL, ``gathered``: the matches are taken from the GIN index (all of them), then
    sorted, instead of the primary key walked backwards testing each text: the caller's
    choice (``gather_matches``), as the planner prices the ``@@`` test of a text far below
    its cost (the vector read from TOAST and decompressed: 10-15 us a text)."""
    if vendor == "sqlite":
        rank = f"-bm25({FTS})" if score else "0"
        sql = (f'SELECT {FTS}.rowid, {rank} FROM {FTS} CROSS JOIN "{doc_table}" '  # noqa: S608 (our names; values are parameters)
               f'ON "{doc_table}"."id" = {FTS}.rowid WHERE {FTS} MATCH %s'
               + (f" AND ({where})" if where else "")
               + (f" AND {FTS}.rowid < %s" if below else "")
               + (f" ORDER BY {FTS}.rowid DESC" if ordered else ""))
        return sql + (" LIMIT %s" if limit else " LIMIT -1") + (" OFFSET %s" if offset else "")
    if gathered and ordered:
        return _gathered_sql(where, score=score, below=below, limit=limit, offset=offset,
                             doc_table=doc_table)
    sql = (f"SELECT t.document_id, {'q.q' if score else '0'} FROM "  # noqa: S608 (our names; values are parameters)
           f"plainto_tsquery('{CONFIG}', %s) q(q) "
           f'CROSS JOIN {TABLE} t JOIN "{doc_table}" ON "{doc_table}"."id" = t.document_id '
           f"WHERE t.{VECTOR} @@ q.q"
           + (f" AND ({where})" if where else "")
           + (" AND t.document_id < %s" if below else "")
           # gathered: "+ 0" leaves the planner no index giving that order: it gathers
           # every match from the GIN index and sorts them (``gather_matches``)
           + ((" ORDER BY t.document_id + 0 DESC" if gathered else
               " ORDER BY t.document_id DESC") if ordered else ""))
    sql += (" LIMIT %s" if limit else "") + (" OFFSET %s" if offset else "")
    if not score:
        return sql
    # PostgreSQL: ranked after the window is cut. In the query above ts_rank would be
    # computed for every match the plan reads before its LIMIT (the GIN bitmap path sorts
    # all of them: 75,000 ts_rank calls for a common word); here only for the window's own
    # rows, each text read again by its primary key (docs/benchmarks.md, O2b).
    return (f"SELECT m.id, ts_rank(t.{VECTOR}, m.q, 1) FROM ({sql}) m(id, q) "  # noqa: S608 (our names; values are parameters)
            f"JOIN {TABLE} t ON t.document_id = m.id ORDER BY m.id DESC")


def _gathered_sql(where: str, *, score: bool, below: bool, limit: bool, offset: bool,
                  doc_table: str) -> str:
    """PostgreSQL, ``gathered`` (``matches_sql``): every match's id (and its vector, not
    read yet: a TOAST pointer) from the GIN index, sorted newest first in a subquery
    (``OFFSET 0`` keeps it one; ``+ 0``: no index gives the order), then each joined to
    its register row in that order, the filters tested there, stopping at the LIMIT: the
    register is read for the window's rows only (the planner otherwise joined every match
    before its sort: 2,662 register rows for "tertiba", 1,001 needed; or walked the
    register's key backwards to merge, 27,640 rows for four words: session 21; the
    ``LATERAL ... OFFSET 0`` leaves it no other join than a lookup by key per match). The
    score is computed last, for the window's rows, from the vector the subquery carried
    (no second read of the text by its key). Parameters as ``matches_sql``'s."""
    sql = (f'SELECT g.id, g.v, g.q FROM (SELECT t.document_id + 0, t.{VECTOR}, q.q FROM '  # noqa: S608 (our names; values are parameters)
           f"plainto_tsquery('{CONFIG}', %s) q(q) CROSS JOIN {TABLE} t "
           f"WHERE t.{VECTOR} @@ q.q ORDER BY 1 DESC OFFSET 0) g(id, v, q) "
           f'CROSS JOIN LATERAL (SELECT 1 FROM "{doc_table}" WHERE "{doc_table}"."id" = g.id'
           + (f" AND ({where})" if where else "") + " OFFSET 0) d WHERE true"
           + (" AND g.id < %s" if below else "")
           + " ORDER BY g.id DESC" + (" LIMIT %s" if limit else "")
           + (" OFFSET %s" if offset else ""))
    rank = "ts_rank(m.v, m.q, 1)" if score else "0"
    return f"SELECT m.id, {rank} FROM ({sql}) m(id, v, q) ORDER BY m.id DESC"  # noqa: S608 (our SQL)


def estimate_sql() -> str:
    """PostgreSQL: the texts matching the words (the first parameter), for the planner's
    estimate of their number (``estimated_rows``)."""
    return (f"SELECT 1 FROM {TABLE} t "  # noqa: S608 (our names; values are parameters)
            f"WHERE t.{VECTOR} @@ plainto_tsquery('{CONFIG}', %s)")


def gather_matches(estimated: float, texts: float, wanted: int) -> bool:
    """PostgreSQL: whether the newest ``wanted`` matches of words estimated in
    ``estimated`` of ``texts`` texts are cheaper gathered from the GIN index (every
    match read, then sorted: about ``estimated`` rows) than found by the primary key
    walked backwards testing each text (about ``wanted * texts / estimated`` texts, each
    vector read and tested). Equal costs a row: gathered when ``estimated`` is at most
    the square root of ``wanted * texts`` (at 75,000 texts and 1,001 wanted: 8,660; a
    word in most letters walks, four words found together in 5 % of them gather)."""
    return estimated * estimated <= wanted * max(texts, 1.0)


def match_param(vendor: str, found: list[str]) -> str:
    return fts5_expression(found) if vendor == "sqlite" else " ".join(found)


def snippet_marks() -> tuple[str, str]:
    """The marks one query's snippets are made with: ``START``/``STOP`` each followed by
    a random tag and ``U+E002``. A text may carry the private-use characters themselves (a
    PDF's font maps unnamed glyphs there, from U+E000), never this query's tag: its own
    ``START``/``STOP`` are dropped by ``marked``, the query's marks made ``START``/``STOP``."""
    import secrets

    tag = secrets.token_hex(8)
    return f"{START}{tag}\ue002", f"{STOP}{tag}\ue002"


def marked(snippet: str, marks: tuple[str, str]) -> str:
    """A snippet made with ``marks`` (``snippet_marks``) as ``marked_parts`` reads it: the
    text's own ``START``/``STOP`` dropped, the query's marks made ``START``/``STOP``."""
    start, stop = marks
    if snippet.count(START) == snippet.count(start) and snippet.count(STOP) == snippet.count(stop):
        # every START and STOP is a mark's own (the text has none: the usual case; each
        # mark holds one, its tag neither): the same as the general way below (s23)
        return snippet.replace(start, START).replace(stop, STOP)
    return START.join(STOP.join(part.replace(START, "").replace(STOP, "")
                                for part in piece.split(stop))
                      for piece in snippet.split(start))


def _not_exempt(doc_table: str, id_expr: str) -> str:
    """The condition that the text of ``id_expr`` is not an exempted document's (the
    category its parameter): such a text (a row that should not exist) gives no snippet."""
    return (f'AND NOT EXISTS (SELECT 1 FROM "{doc_table}" d WHERE d."id" = {id_expr} '  # noqa: S608 (our names, the values are parameters)
            f'AND d."category" = %s)')


def snippets_sql(vendor: str, count: int, doc_table: str) -> str:
    """(id, snippet) of the texts among ``count`` ids that match: the part of the body
    around the matches, each match between the query's marks (``snippet_marks``). The
    parameters: the two marks, the match, (SQLite) the lowest and the highest id, the ids,
    then the exempted category: a text of
    an exempted document (a row that should not exist: raw SQL, a hostile disk) never
    gives a snippet, even for an entry found by its fields (its agenda)."""
    marks = ", ".join(["%s"] * count)
    if vendor == "sqlite":
        # The ids' range is given to FTS5 (it reads the words' doclists between the lowest
        # and the highest id, once) and the ids tested on the rows it yields (``+rowid``:
        # no index): ``rowid IN (...)`` given to FTS5 starts the whole match again for each
        # id, seeking every word's doclist (four common words, 50 ids: 20 ms, the range 2)
        return (f"SELECT rowid, snippet({FTS}, 0, %s, %s, '…', "  # noqa: S608 (our names, the values are parameters)
                f"{SNIPPET_TOKENS}) FROM {FTS} WHERE {FTS} MATCH %s AND rowid BETWEEN %s AND %s "
                f"AND +rowid IN ({marks}) " + _not_exempt(doc_table, f"{FTS}.rowid"))
    return (f"SELECT t.document_id, ts_headline('{CONFIG}', t.body, q.q, "  # noqa: S608 (our names, the values are parameters)
            f"'StartSel=' || %s || ', StopSel=' || %s || ', {HEADLINE_OPTIONS}') "
            f"FROM {TABLE} t, plainto_tsquery('{CONFIG}', %s) q(q) "
            f"WHERE t.document_id IN ({marks}) AND t.{VECTOR} @@ q.q "
            + _not_exempt(doc_table, "t.document_id"))


# PostgreSQL: ``ts_headline`` parses and stems its whole text (0.2-0.4 ms a letter of 300
# words: the largest fixed cost of a content search there). It is given an excerpt of
# about this many characters around the matches instead (``excerpt``), the whole text
# when no excerpt surely holds them (session 21).
EXCERPT = 600
# The longest text whose body the database sends for ``excerpt`` (a text may hold
# normalise.MAX_TEXT_CHARS, 2,000,000; the CLI snippets every result): a longer one is
# headlined whole by the database, as before session 21 (r21 review).
EXCERPT_BODY_MAX = 100_000


def excerpt(body: str, lexemes: list[str]) -> str | None:
    """The part of ``body`` for ``ts_headline`` to mark: the shortest span holding every
    one of the query's ``lexemes`` (PostgreSQL's stems of its words: its headline marks a
    span holding them all, as the query is an AND) found as substrings of the lower-cased
    text, widened to about ``EXCERPT`` characters and cut at white space; None: the whole
    text (short; a lexeme not found as a substring, a stem the stemmer made by changing
    the word's first letter, "sampai" of "menyampaikan"; or a span near the whole). A
    substring found is not always the word's match ("rapat" inside "merapikan"): the
    caller checks that the excerpt's headline marks a match, else headlines the whole."""
    if len(body) <= EXCERPT * 3 // 2 or not lexemes:
        return None
    lower = body.lower()
    if len(lower) != len(body):
        return None  # a letter whose lower case is longer ("İ"): offsets would not match
    wanted = list(dict.fromkeys(lexemes))
    found: list[tuple[int, int]] = []  # (offset, which lexeme)
    for k, lexeme in enumerate(wanted):
        at = lower.find(lexeme)
        if at < 0:
            return None
        while at >= 0:
            found.append((at, k))
            at = lower.find(lexeme, at + 1)
    found.sort()
    # the shortest window of ``found`` holding every lexeme (two pointers)
    seen: dict[int, int] = {}
    best: tuple[int, int] | None = None
    left = 0
    for end, k in found:
        seen[k] = seen.get(k, 0) + 1
        while len(seen) == len(wanted):
            begin, j = found[left]
            if best is None or end - begin < best[1] - best[0]:
                best = (begin, end + len(wanted[k]))
            seen[j] -= 1
            if not seen[j]:
                del seen[j]
            left += 1
    assert best is not None
    margin = max(0, (EXCERPT - (best[1] - best[0])) // 2) + 60
    begin, end = max(0, best[0] - margin), min(len(body), best[1] + margin)
    # never inside a markup tag ("<span class=...>": ts_headline drops a whole one; a cut
    # one's tail would show as words): the cut moves out of it, before its "<", after its ">"
    opened = body.rfind("<", 0, begin)
    if opened > body.rfind(">", 0, begin):
        begin = opened
    if body.rfind("<", begin, end) > body.rfind(">", begin, end):
        closed = body.find(">", end)
        end = len(body) if closed < 0 else closed + 1
    if end - begin > len(body) * 2 // 3:
        return None
    while begin > 0 and not body[begin - 1].isspace():
        begin -= 1
    while end < len(body) and not body[end].isspace():
        end += 1
    return body[begin:end]


def bodies_sql(count: int, doc_table: str) -> str:
    """PostgreSQL: (id, body, headline, the query's lexemes) of the texts among ``count``
    ids that match: a text longer than ``EXCERPT`` x 1.5 characters gives its body (for
    ``excerpt``), a shorter one its headline at once (one pass over the page's texts), one
    longer than ``EXCERPT_BODY_MAX`` neither (headlined whole: ``snippets_sql``).
    Parameters: the two marks, the words, the ids known to match (an array: the ranked
    window's, whose vectors are not read again for the ``@@`` test: session 22), the
    ``count`` ids, the exempted category (an exempted document's text never gives one)."""
    marks = ", ".join(["%s"] * count)
    long = EXCERPT * 3 // 2
    # the bounds on the body's bytes (``octet_length``: the stored size, no decompression;
    # ``length`` decompressed each body twice, s23): a text of at most ``long`` bytes has
    # at most ``long`` characters; one of more bytes but fewer characters (not ASCII) is
    # sent and ``excerpt`` headlines it whole, the same headline. The upper bound stays
    # in characters (a text of at most ``EXCERPT_BODY_MAX`` characters is excerpted: one
    # of more bytes, a non-Latin script, headlined whole was another snippet and 4x the
    # server's time, s23 review): ``length`` only for a text whose bytes may be either
    # (UTF-8: at most 4 bytes a character), CASE keeping that order
    most = int(EXCERPT_BODY_MAX)
    return (f"SELECT t.document_id, CASE WHEN octet_length(t.body) <= {long} THEN NULL "  # noqa: S608 (our names, the values are parameters)
            f"WHEN octet_length(t.body) <= {most} THEN t.body "
            f"WHEN octet_length(t.body) <= {most * 4} THEN CASE WHEN length(t.body) <= {most} "
            f"THEN t.body END END, "
            f"CASE WHEN octet_length(t.body) <= {long} THEN ts_headline('{CONFIG}', t.body, w.q, "
            f"'StartSel=' || %s || ', StopSel=' || %s || ', {HEADLINE_OPTIONS}') END, "
            # the query and its lexemes computed once (a subquery kept: OFFSET 0)
            f"w.l FROM (SELECT q.q, tsvector_to_array(to_tsvector('{CONFIG}', w.w)), "
            f"w.k FROM (SELECT %s::text, %s::int[]) w(w, k) "
            f"CROSS JOIN plainto_tsquery('{CONFIG}', w.w) q(q) OFFSET 0) w(q, l, k) "
            f"CROSS JOIN {TABLE} t "
            # OR is read left to right and stops at a true: a known match's vector is
            # not read from TOAST again
            f"WHERE t.document_id IN ({marks}) AND (t.document_id = ANY(w.k) "
            f"OR t.{VECTOR} @@ w.q) "
            + _not_exempt(doc_table, "t.document_id"))


def headlines_sql() -> str:
    """PostgreSQL: (id, headline) of texts given as two arrays (ids, texts): the two marks,
    the words, the ids, the texts (an excerpt, or a whole text whose body is already read:
    one statement for both, session 22)."""
    return (f"SELECT u.i, ts_headline('{CONFIG}', u.e, q.q, "  # noqa: S608 (our names, the values are parameters)
            f"'StartSel=' || %s || ', StopSel=' || %s || ', {HEADLINE_OPTIONS}') "
            f"FROM plainto_tsquery('{CONFIG}', %s) q(q), unnest(%s::int[], %s::text[]) u(i, e)")


_MARK = re.compile(f"([{START}{STOP}])")
_MARKS = re.compile(f"[{START}{STOP}]")


def _plain(snippet: str) -> bool:
    """Are ``snippet``'s marks well formed: ``START``, ``STOP``, ``START``, ``STOP``... and
    never a ``START`` right before a ``STOP`` (an empty match)? Then ``marked_parts``
    keeps every mark: a snippet can be made by replacing them (s23: ``snippet_html``)."""
    if START not in snippet and STOP not in snippet:
        return True
    found = _MARKS.findall(snippet)
    return ("".join(found) == (START + STOP) * (len(found) // 2)
            and START + STOP not in snippet)


def marked_parts(snippet: str) -> list[tuple[str, bool]]:
    """A snippet as (text, is a match) parts: what lies between ``START`` and ``STOP``
    is a match; a stray mark is dropped. Read mark by mark, not character by character
    (a page's 50 snippets: about 1.6 ms of Python, 0.15 since session 21)."""
    parts: list[tuple[str, bool]] = []
    inside = False
    text = ""
    for piece in _MARK.split(snippet):
        if piece == START and not inside:
            if text:
                parts.append((text, False))
            text, inside = "", True
        elif piece == STOP and inside:
            if text:
                parts.append((text, True))
            text, inside = "", False
        elif piece not in (START, STOP):
            text += piece
    if text:
        parts.append((text, inside))
    return parts


def snippet_html(snippet: str) -> str:
    """The snippet as HTML: every character escaped (``html.escape``, as Django's
    ``escape`` does, without its lazy-text wrapper: s22), only the matches in ``<mark>``."""
    from html import escape

    if _plain(snippet):  # escaped whole (a character at a time: the same), marks replaced
        return escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>")
    return "".join(f"<mark>{escape(t)}</mark>" if hit else escape(t)
                   for t, hit in marked_parts(snippet))


def snippet_text(snippet: str, start: str = "«", stop: str = "»") -> str:
    """The snippet as plain text, each match between ``start`` and ``stop`` (the CLI)."""
    if STOP not in start and _plain(snippet):
        return snippet.replace(START, start).replace(STOP, stop)
    return "".join(f"{start}{t}{stop}" if hit else t for t, hit in marked_parts(snippet))
