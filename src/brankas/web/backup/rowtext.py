"""A table's rows read through the database cursor as plain tuples, and each column's
value as the JSON text Django's serializer writes for it (``snapshot.snapshot_write``
of the models whose every column is a plain value: the register, its copies, the runs).

Reading 500,000 rows through the ORM (``values_list``) costs a converter call per cell
and the JSON encoder an object per row; here the query is made once, each column gets
one small function that gives its JSON text straight from what the database driver
returns, and a row is one formatted string. What a value is on each engine:

- SQLite keeps a time as the text of its naive value in the connection's zone
  (``YYYY-MM-DD HH:MM:SS[.ffffff]``) and a date as ``YYYY-MM-DD``: such columns are read
  ``CAST(... AS TEXT)`` (no driver converter), and text of exactly that shape becomes the
  ISO text of the aware value by string operations; any other text is parsed as Django
  parses it (``parse_datetime`` / ``parse_date``, then made aware in the connection's
  zone). A boolean comes as 0/1 (or a bool, through Django's ``bool`` converter).
- PostgreSQL gives aware times (in the connection's zone), dates and booleans as
  objects, and ``jsonb`` as its text (Django registers a text loader).
- A JSON column's text is decoded and encoded again (``json.loads`` then Django's
  encoder settings: ``ensure_ascii=False``), as ``JSONField.from_db_value`` and the
  serializer do; text that is not JSON is kept as a string, as Django keeps it.

``columns_text`` refuses (returns None for) any column it does not know exactly: a field
class of a project or another library (it may convert values its own way), a
``DecimalField``, a binary field. Those models go through Django's own serializer.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterator
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from django.db import connection, models
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

Text = Callable[[Any], str]

# The JSON encoder the snapshot uses (``json.dumps(..., ensure_ascii=False)``), for values
# whose text is not made here: floats, JSON columns' values, anything unexpected.
ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_DECODE = json.JSONDecoder().decode

_INTEGERS = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
             "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
             "PositiveSmallIntegerField"}
_TEXTS = {"CharField", "TextField", "EmailField", "SlugField"}
# Exactly the texts Django writes (``str`` of the value): ASCII digits only (``\d`` takes
# any Unicode digit, and so does Django's parser, which then writes ASCII ones), and no
# ``.000000`` (Django writes a whole second without a fraction; ``isoformat`` drops it).
_SQLITE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
                          r"(?:\.(?!000000)[0-9]{6})?")
_SQLITE_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_BOOLEANS = {True: "true", False: "false", None: "null"}  # 1 and 0 are True and False


def _number(value: Any) -> str:
    return str(value) if type(value) is int else ENCODE(value)


def _text(value: Any) -> str:
    return encode_basestring(value) if type(value) is str else ENCODE(value)


def _boolean(value: Any) -> str:
    return _BOOLEANS[value] if value in _BOOLEANS else ENCODE(value)


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        try:
            return ENCODE(_DECODE(value))
        except json.JSONDecodeError:
            return ENCODE(value)  # Django keeps text that is not JSON as the string itself
    return ENCODE(value)


# The texts of short JSON values seen (``{}``, ``[]``, a list of sealed names): most rows
# repeat a few, decoded and encoded once each. Bounded.
_JSON_SEEN: dict[str, str] = {}
_JSON_SHORT = 64
_JSON_KEPT = 4096


def _json(value: Any) -> str:
    if value is None:
        return "null"
    known = _JSON_SEEN.get(value) if type(value) is str else None
    if known is not None:
        return known
    text = _json_text(value)
    if type(value) is str and len(value) <= _JSON_SHORT and len(_JSON_SEEN) < _JSON_KEPT:
        _JSON_SEEN[value] = text
    return text


def _iso(value: Any) -> str:
    return "null" if value is None else f'"{value.isoformat()}"'


def _sqlite_time(zone: datetime.tzinfo | None) -> Text:
    """A SQLite time (its text) as the serializer writes the aware value Django makes of
    it (``convert_datetimefield_value``: parsed, made aware in the connection's zone)."""
    utc = zone is not None and zone.utcoffset(None) == datetime.timedelta(0)
    match = _SQLITE_TIME.fullmatch

    def text(value: Any) -> str:
        if value is None:
            return "null"
        if utc and type(value) is str and match(value):
            return f'"{value[:10]}T{value[11:]}+00:00"'
        if isinstance(value, str):
            value = parse_datetime(value)
        if zone is not None and value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value, zone)
        return _iso(value)
    return text


def _sqlite_date(value: Any) -> str:
    if value is None:
        return "null"
    if type(value) is str and _SQLITE_DATE.fullmatch(value):
        return f'"{value}"'
    if isinstance(value, str):
        value = parse_date(value)
    return _iso(value)


def _known(field: models.Field) -> bool:  # type: ignore[type-arg]
    """A field of Django's own classes (a subclass may convert values its own way)."""
    return type(field).__module__.startswith("django.db.models.fields")


def column_text(field: models.Field) -> tuple[Text, bool] | None:  # type: ignore[type-arg]
    """The function giving a column's JSON text from the driver's value, and whether the
    column is read as text (SQLite times and dates); None: a column not known here."""
    if not _known(field):
        return None
    if field.is_relation:
        if field.many_to_many or field.one_to_many:
            return None
        target = field.target_field  # type: ignore[attr-defined]
        return None if target is None or target.is_relation else column_text(target)
    kind = field.get_internal_type()
    sqlite = connection.vendor == "sqlite"
    if kind in _INTEGERS:
        return _number, False
    if kind in _TEXTS:
        return _text, False
    if kind == "BooleanField":
        return _boolean, False
    if kind == "JSONField":
        if field.decoder is not None or field.encoder is not None:  # type: ignore[attr-defined]
            return None  # its own decoder: its values are not the JSON text's
        return _json, False
    if kind == "FloatField":
        return ENCODE, False
    if kind == "DateTimeField":
        return (_sqlite_time(connection.timezone), True) if sqlite else (_iso, False)
    if kind == "DateField":
        return (_sqlite_date, True) if sqlite else (_iso, False)
    return None


def model_rows(model: type[models.Model], *, after: int = 0,
               chunk: int = 2000) -> tuple[list[models.Field], Iterator[tuple[Any, ...]]] | None:  # type: ignore[type-arg]
    """The serialized fields of ``model`` (Django's serializer's: its concrete model's
    local fields that serialize) and its rows in pk order (those whose pk is above
    ``after`` when it is not 0), each a tuple of JSON texts (or integers, whose ``str``
    is their JSON text), pk first; None when a
    column is not known here (``column_text``), the model has many-to-many fields, or
    its default manager filters its rows."""
    meta = model._meta.concrete_model._meta  # type: ignore[union-attr]
    pk = meta.pk
    if meta.many_to_many or pk is None:
        return None
    if model._default_manager.all().query.where:
        return None  # a manager that hides rows: the ORM's query says which
    fields = [f for f in meta.local_fields if getattr(f, "serialize", True)]
    texts = [column_text(f) for f in [pk, *fields]]
    if any(t is None for t in texts):
        return None
    if pk.get_internal_type() not in _INTEGERS:
        return None  # read in pages by its pk (``rows``): an integer one
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    cols = []
    for f, t in zip([pk, *fields], texts, strict=True):
        assert t is not None
        name = f"{table}.{quote(str(f.column))}"
        cols.append(f"CAST({name} AS TEXT)" if t[1] else name)
    key = f"{table}.{quote(str(pk.column))}"
    # Pages of ``chunk`` rows by the pk (as the audit segments are read): bounded memory
    # on PostgreSQL too, whose client cursor would hold a whole result.
    sql = (f"SELECT {', '.join(cols)} FROM {table} WHERE {key} > %s "  # noqa: S608
           f"ORDER BY {key} LIMIT {int(chunk)}")  # the names are the model's, quoted
    # The pk and a foreign key that is never null hold an integer on both engines (the
    # key's own column, or one its constraint ties to an integer key): written as it is.
    plain = {0} | {i for i, f in enumerate(fields, 1)
                   if f.is_relation and not f.null and texts[i] is not None
                   and texts[i][0] is _number}  # type: ignore[index]
    convert = [(i, t[0]) for i, t in enumerate(texts) if t is not None and i not in plain]

    def rows() -> Iterator[tuple[Any, ...]]:
        last: Any = after if after else None
        with connection.cursor() as cursor:
            while True:
                if last is None:  # the first page: every pk (a pk may be 0 or below)
                    cursor.execute(sql.replace(f"WHERE {key} > %s ", ""), [])
                else:
                    cursor.execute(sql, [last])
                batch = cursor.fetchall()
                for row in batch:
                    values = list(row)
                    for i, text in convert:
                        values[i] = text(values[i])
                    yield tuple(values)
                if len(batch) < chunk:
                    return
                last = batch[-1][0]
    return fields, rows()
