"""The snapshot's rows read through the cursor (``web/backup/rowtext.py``, issue 15's
100,000-document backup): the big tables take that path, what it does not know goes
through Django's serializer, and values stored in a shape Django writes differently
(time and date texts of another form, JSON text that is not JSON, booleans as 0/1) come
out as Django's serializer writes them. Run on SQLite here and on PostgreSQL in
``test_snapshot_rows_pg.py``; ``test_snapshot_hostile.py`` holds every model's hostile
values to Django's bytes."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models
from django.utils import timezone

from brankas.web.accounts.models import User
from brankas.web.backup import registers, rowtext, services, snapshot
from brankas.web.documents.models import Document
from tests.web.backup.test_services import register

# The tables that grow with the archive: read as rows, never through model objects.
BIG = ("documents.Document", "backup.BackupCopy", "backup.BackupRun", "audit.AuditEvent",
       "custody.CustodyMove")


def test_the_big_tables_are_read_as_rows_and_the_others_by_django(db) -> None:
    for label in BIG:
        assert rowtext.model_rows(apps.get_model(label)) is not None, label
    for label in ("accounts.User", "keys.HolderKey"):  # many-to-many, binary keys
        assert rowtext.model_rows(apps.get_model(label)) is None, label


def test_a_field_class_or_manager_it_does_not_know_goes_to_django() -> None:
    class Upper(models.CharField):  # type: ignore[type-arg]
        def from_db_value(self, value, expression, connection):  # type: ignore[no-untyped-def]
            return value.upper()

    assert rowtext.column_text(Upper(max_length=5)) is None
    assert rowtext.column_text(models.DecimalField(max_digits=5, decimal_places=2)) is None
    assert rowtext.column_text(models.BinaryField()) is None
    assert rowtext.column_text(models.UUIDField()) is None
    assert rowtext.column_text(models.JSONField(encoder=json.JSONEncoder)) is None
    assert rowtext.column_text(models.CharField(max_length=5)) is not None


def test_each_table_equals_djangos_serializer_and_every_model_is_in_it(office,
                                                                       tmp_path: Path) -> None:
    for i in range(3):
        register(office, f"Surat {i} \u00e9 \"kutip\" =1+1", "rahasia" if i else "biasa")
    services.backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="A")
    fast = snapshot.snapshot_bytes()
    assert fast == snapshot._django_snapshot()
    kinds = {o["model"] for o in json.loads(fast)}
    present = {apps.get_model(m)._meta.label_lower for m in snapshot.MODELS
               if apps.get_model(m)._default_manager.exists()}
    assert present <= kinds
    for label in BIG[:3]:  # each table alone, as a journal part reads it
        model = apps.get_model(label)
        ours = list(snapshot.object_texts(model))
        django = [json.dumps(o, cls=snapshot._Encoder, ensure_ascii=False)
                  for o in snapshot._dump_objects(model)]
        assert ours == django and ours
        last = model._default_manager.order_by("pk").first().pk  # type: ignore[union-attr]
        assert list(snapshot.object_texts(model, after=last)) == ours[1:]


def _raw_update(model: type[models.Model], pk: int, **columns: object) -> None:
    meta = model._meta
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {quote(meta.db_table)} SET {sets} WHERE id = %s",  # noqa: S608
                       [*columns.values(), pk])


def test_values_stored_in_other_shapes_come_out_as_django_writes_them(office) -> None:
    docs = [register(office, f"Surat {i}") for i in range(6)]
    Document.objects.filter(pk=docs[0].pk).update(sealed={"subject": "x", "\u00e9": [1.5, None]})
    if connection.vendor == "sqlite":
        # Texts Django parses but never writes: an offset, fewer digits of a second, a
        # 'T'; a date of one digit a part; JSON of another writer; a long one.
        _raw_update(Document, docs[1].pk, registered_at="2026-11-20T08:30:00+07:00",
                    doc_date="2026-1-5")
        _raw_update(Document, docs[2].pk, registered_at="2026-11-20 08:30:00.5",
                    sealed='{"b":1,"a":[1.0e3,"\\u00e9",{}]}')  # JSON of another writer
        _raw_update(Document, docs[3].pk, registered_at="2026-11-20 08:30:00.123456",
                    sealed=json.dumps({"k": "\u00e9" * 100}))
    else:
        Document.objects.filter(pk=docs[1].pk).update(
            registered_at=datetime.datetime(2026, 11, 20, 8, 30, tzinfo=datetime.timezone(
                datetime.timedelta(hours=7))))
        _raw_update(Document, docs[2].pk, sealed=json.dumps({"b": 1, "a": [1e300, "\x01"]}))
    nul = "\x00" if connection.vendor == "sqlite" else ""  # PostgreSQL's text holds none
    Document.objects.filter(pk=docs[4].pk).update(notes=f"{nul}\u2028\U0001f512 ' \" \\")
    fast = list(snapshot.object_texts(Document))
    django = [json.dumps(o, cls=snapshot._Encoder, ensure_ascii=False)
              for o in snapshot.serializers.get_serializer("python")().serialize(
                  Document.objects.order_by("pk"))]
    assert fast == django
    assert len({t for t in fast}) == len(docs)


@pytest.mark.parametrize("value", [True, False, 1, 0, None])
def test_a_boolean_as_the_driver_gives_it(value: object) -> None:
    text, _ = rowtext.column_text(models.BooleanField(null=True))  # type: ignore[misc]
    assert text(value) == json.dumps(None if value is None else bool(value))


_OLD_FIELDS = ("id", "agenda", "direction", "classification", "category", "number",
               "doc_date", "subject", "correspondent", "pages", "attachments", "notes",
               "registered_by_id", "registered_at", "stored_path", "stored_sha256",
               "stored_size", "content_sha256", "sealed")


def _registers_as_before(after: int | None) -> tuple[bytes, bytes]:
    """The registers as the ORM and ``register_row`` make them (one query per file)."""
    users = dict(User.objects.values_list("id", "username"))
    made = []
    for biasa_only in (True, False):
        qs = Document.objects.order_by("id")
        if after is not None:
            qs = qs.filter(id__gt=after)
        if biasa_only:
            qs = qs.filter(category="biasa")
        rows = [registers.register_row(d, users.get(d["registered_by_id"], ""))
                for d in qs.values(*_OLD_FIELDS)]
        out = io.BytesIO()
        registers.csv_write(out, registers.REGISTER_COLUMNS, rows)
        made.append(out.getvalue())
    return made[0], made[1]


def test_the_registers_from_rows_are_the_registers_row_by_row(office) -> None:
    docs = [register(office, subject, kind) for subject, kind in [
        ("Surat biasa \u00e9 \"kutip\", koma", "biasa"), ("=HYPERLINK(\"x\")", "biasa"),
        ("-1 rahasia", "rahasia"), ("@ terbatas\r\nbaris", "terbatas"),
        ("Surat akhir", "biasa")]]
    Document.objects.filter(pk=docs[4].pk).update(subject="\u4e2d\u6587 \U0001f512 \u2028")
    Document.objects.filter(pk=docs[0].pk).update(sealed={"subject": "x", "notes": "y",
                                                          "bukan-kolom": 1})
    Document.objects.filter(pk=docs[2].pk).update(sealed={"correspondent": "z"},
                                                  notes="+62 21", number="-")
    Document.objects.filter(pk=docs[3].pk).update(sealed={})
    if connection.vendor == "sqlite":  # a time stored by another writer, with an offset
        _raw_update(Document, docs[4].pk, registered_at="2026-11-20T23:30:00+07:00")
    for after in (None, docs[1].pk):
        out_biasa, out_full = io.BytesIO(), io.BytesIO()
        registers.registers_write(out_biasa, out_full, services._register_rows(after),
                                  users=dict(User.objects.values_list("id", "username")),
                                  zone=timezone.get_current_timezone(),
                                  db_zone=connection.timezone)
        assert (out_biasa.getvalue(), out_full.getvalue()) == _registers_as_before(after)
    assert registers.SEALED_LABEL.encode() in out_full.getvalue()
    assert b"'=HYPERLINK" in out_biasa.getvalue() or after is not None


@pytest.mark.parametrize("count", [0, 1, 1203])
def test_the_control_list_in_one_pass_is_both_files_byte_for_byte(count: int) -> None:
    control = {"format": "x", "run": 3, "office": "Dinas \u00e9", "verified": True,
               "categories": {"biasa/pengiriman": {"label": "L", "files": 1, "bytes": 2}},
               "documents": [], "audit_head": None, "snapshot": False}
    odd = [{"agenda": "=1+1", "folder": "dikecualikan/penerimaan", "classification": "rahasia",
            "file": "arsip/\u4e2d \"q\"\n.pdf", "bytes": -5, "sha256": None},
           {"agenda": "B-2", "folder": "biasa/pengiriman", "classification": "biasa",
            "file": "@x", "bytes": True, "sha256": "ab", "extra": [1, {"n": 2.5}]},
           {"agenda": "B-3", "folder": "biasa/penerimaan", "classification": "terbatas"}]
    documents = [*odd, *({"agenda": f"B-{i}", "folder": "biasa/pengiriman",
                          "classification": "biasa", "file": f"arsip/{i}.pdf", "bytes": i,
                          "sha256": f"{i:064x}"} for i in range(count))][:count]
    out_csv, out_json = io.BytesIO(), io.BytesIO()
    registers.control_write(out_csv, out_json, control, iter(documents))
    whole = {**control, "documents": documents}
    assert out_json.getvalue() == registers.control_json(whole)
    assert out_csv.getvalue() == registers.control_csv(whole)
    assert json.loads(out_json.getvalue())["documents"] == documents


def test_sqlite_texts_django_parses_but_writes_otherwise_are_not_copied_verbatim(office) -> None:
    """A time of a whole second stored with ``.000000`` (another writer's form: Django
    writes none) and times and dates in digits other than ASCII ones (Django's parser
    takes any Unicode digit) are Django's text, not the stored text. Found in review:
    the fast path copied them as they were stored."""
    if connection.vendor != "sqlite":
        pytest.skip("the texts of SQLite's columns")
    docs = [register(office, f"Surat {i}") for i in range(3)]
    arabic = "\u0662\u0660\u0662\u0666"  # 2026 in Arabic-Indic digits
    _raw_update(Document, docs[0].pk, registered_at="2026-11-20 08:30:00.000000")
    _raw_update(Document, docs[1].pk, registered_at=f"{arabic}-11-20 08:30:00")
    _raw_update(Document, docs[2].pk, doc_date=f"{arabic}-11-20")
    fast = list(snapshot.object_texts(Document))
    django = [json.dumps(o, cls=snapshot._Encoder, ensure_ascii=False)
              for o in snapshot.serializers.get_serializer("python")().serialize(
                  Document.objects.order_by("pk"))]
    assert fast == django
    assert '"2026-11-20T08:30:00+00:00"' in fast[0] and arabic not in fast[1] + fast[2]


def test_edges_of_the_registers_and_pages_of_rows(office) -> None:
    """Review: the first and last years, cells starting with a tab, CR, ``@`` or a
    formula, a user name that is a formula, a long text, sealed names that are a time's
    or a path's column; the registers equal the old writer's and the snapshot Django's;
    rows read in pages of two (the ``WHERE pk > last`` query, which pages of 2,000 never
    reach in the other tests) and from an ``after`` bound are the rows read at once."""
    docs = [register(office, f"Surat {i}", "rahasia" if i % 2 else "biasa") for i in range(7)]
    utc = datetime.UTC
    Document.objects.filter(pk=docs[0].pk).update(
        registered_at=datetime.datetime(1, 1, 1, tzinfo=utc), doc_date=datetime.date(1, 1, 1))
    Document.objects.filter(pk=docs[1].pk).update(
        registered_at=datetime.datetime(9999, 12, 31, 16, 0, 0, 1, tzinfo=utc),
        doc_date=datetime.date(9999, 12, 31))
    Document.objects.filter(pk=docs[2].pk).update(subject="\t=x", notes="\r\n", number="@",
                                                  correspondent="a\"b\nc", pages=3)
    Document.objects.filter(pk=docs[3].pk).update(notes="x" * 200_000, subject="")
    User.objects.filter(pk=docs[4].registered_by_id).update(username="=cmd|calc")
    Document.objects.filter(pk=docs[5].pk).update(
        sealed={"subject": {"age": "x"}, "registered_at": 1, "file": 2})
    fast = list(snapshot.object_texts(Document))
    assert fast == [json.dumps(o, cls=snapshot._Encoder, ensure_ascii=False)
                    for o in snapshot.serializers.get_serializer("python")().serialize(
                        Document.objects.order_by("pk"))]
    for after in (None, docs[2].pk):
        out_biasa, out_full = io.BytesIO(), io.BytesIO()
        registers.registers_write(out_biasa, out_full, services._register_rows(after),
                                  users=dict(User.objects.values_list("id", "username")),
                                  zone=timezone.get_current_timezone(),
                                  db_zone=connection.timezone)
        assert (out_biasa.getvalue(), out_full.getvalue()) == _registers_as_before(after)
    assert b"'=cmd|calc" in out_full.getvalue()
    whole = rowtext.model_rows(Document)
    paged = rowtext.model_rows(Document, chunk=2)
    bounded = rowtext.model_rows(Document, chunk=2, after=docs[1].pk)
    assert whole and paged and bounded
    rows = list(whole[1])
    assert list(paged[1]) == rows and len(rows) == len(docs)
    assert list(bounded[1]) == rows[2:]
