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

_WORD = re.compile(r"[^\W_]+")


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
    """After a ``migrate`` (post_migrate), SQLite: when the text table was remade by a
    later migration (its triggers gone with the old table) or the index is missing, make
    them again and rebuild the index from the texts (the writes made without the triggers
    were not indexed)."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    conn = connections[using]
    if conn.vendor != "sqlite":
        return  # PostgreSQL alters a table in place: the column and its index stay
    if ("text", "0002_s19_search") not in MigrationRecorder(conn).applied_migrations():
        return
    with conn.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'table') "
                       "AND name IN (%s, %s, %s, %s)", [FTS, *TRIGGERS])
        if len(cursor.fetchall()) == 1 + len(TRIGGERS):
            return
        for statement in create_sql("sqlite"):
            cursor.execute(statement)


# ---------------------------------------------------------------- the queries

def matches_sql(vendor: str, where: str, *, score: bool, below: bool, limit: bool,
                offset: bool, doc_table: str, ordered: bool = True) -> str:
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
    the rows it returns."""
    if vendor == "sqlite":
        rank = f"-bm25({FTS})" if score else "0"
        sql = (f'SELECT {FTS}.rowid, {rank} FROM {FTS} CROSS JOIN "{doc_table}" '  # noqa: S608 (our names; values are parameters)
               f'ON "{doc_table}"."id" = {FTS}.rowid WHERE {FTS} MATCH %s'
               + (f" AND ({where})" if where else "")
               + (f" AND {FTS}.rowid < %s" if below else "")
               + (f" ORDER BY {FTS}.rowid DESC" if ordered else ""))
        return sql + (" LIMIT %s" if limit else " LIMIT -1") + (" OFFSET %s" if offset else "")
    rank = f"ts_rank(t.{VECTOR}, q.q, 1)" if score else "0"
    sql = (f"SELECT t.document_id, {rank} FROM plainto_tsquery('{CONFIG}', %s) q(q) "  # noqa: S608 (our names; values are parameters)
           f'CROSS JOIN {TABLE} t JOIN "{doc_table}" ON "{doc_table}"."id" = t.document_id '
           f"WHERE t.{VECTOR} @@ q.q"
           + (f" AND ({where})" if where else "")
           + (" AND t.document_id < %s" if below else "")
           + (" ORDER BY t.document_id DESC" if ordered else ""))
    return sql + (" LIMIT %s" if limit else "") + (" OFFSET %s" if offset else "")


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
    return START.join(STOP.join(part.replace(START, "").replace(STOP, "")
                                for part in piece.split(stop))
                      for piece in snippet.split(start))


def snippets_sql(vendor: str, count: int, doc_table: str) -> str:
    """(id, snippet) of the texts among ``count`` ids that match: the part of the body
    around the matches, each match between the query's marks (``snippet_marks``). The
    parameters: the two marks, the match, the ids, then the exempted category: a text of
    an exempted document (a row that should not exist: raw SQL, a hostile disk) never
    gives a snippet, even for an entry found by its fields (its agenda)."""
    marks = ", ".join(["%s"] * count)
    exempt = (f'AND NOT EXISTS (SELECT 1 FROM "{doc_table}" d WHERE d."id" = {{id}} '  # noqa: S608 (our names, the values are parameters)
              f'AND d."category" = %s)')
    if vendor == "sqlite":
        return (f"SELECT rowid, snippet({FTS}, 0, %s, %s, '…', "  # noqa: S608 (our names, the values are parameters)
                f"{SNIPPET_TOKENS}) FROM {FTS} WHERE {FTS} MATCH %s AND rowid IN ({marks}) "
                + exempt.format(id=f"{FTS}.rowid"))
    options = (f"MaxWords={SNIPPET_TOKENS}, MinWords=8, "
               "ShortWord=2, MaxFragments=2, FragmentDelimiter=\" … \"")
    return (f"SELECT t.document_id, ts_headline('{CONFIG}', t.body, q.q, "  # noqa: S608 (our names, the values are parameters)
            f"'StartSel=' || %s || ', StopSel=' || %s || ', {options}') "
            f"FROM {TABLE} t, plainto_tsquery('{CONFIG}', %s) q(q) "
            f"WHERE t.document_id IN ({marks}) AND t.{VECTOR} @@ q.q "
            + exempt.format(id="t.document_id"))


def marked_parts(snippet: str) -> list[tuple[str, bool]]:
    """A snippet as (text, is a match) parts: what lies between ``START`` and ``STOP``
    is a match; a stray mark is dropped."""
    parts: list[tuple[str, bool]] = []
    inside = False
    text = ""
    for ch in snippet:
        if ch == START and not inside:
            if text:
                parts.append((text, False))
            text, inside = "", True
        elif ch == STOP and inside:
            if text:
                parts.append((text, True))
            text, inside = "", False
        elif ch not in (START, STOP):
            text += ch
    if text:
        parts.append((text, inside))
    return parts


def snippet_html(snippet: str) -> str:
    """The snippet as HTML: every character escaped, only the matches in ``<mark>``."""
    from django.utils.html import escape

    return "".join(f"<mark>{escape(t)}</mark>" if hit else str(escape(t))
                   for t, hit in marked_parts(snippet))


def snippet_text(snippet: str, start: str = "«", stop: str = "»") -> str:
    """The snippet as plain text, each match between ``start`` and ``stop`` (the CLI)."""
    return "".join(f"{start}{t}{stop}" if hit else t for t, hit in marked_parts(snippet))
