"""``brankas seal-fields``: seal the register fields of the exempted entries an instance
registered before issue 16, then rewrite the database so the old values are gone.

Run by a key holder (their passphrase) or by the admin with the recovery shares: sealing
itself needs only the public keys (``recipients_for``), but every sealed value is opened
again with the given identity and compared before its column is emptied, so a value is
never left sealed to keys that do not open it. Rows are sealed in batches, each in its own
transaction: a run cut short leaves every row either sealed or as it was, and running it
again continues with the rows left. Audited: ``sealed.seal_fields`` (counts only).

Afterwards the freed pages that still hold the old values are removed: SQLite ``VACUUM``
(a new database file), then ``PRAGMA wal_checkpoint(TRUNCATE)`` (the write-ahead log
emptied); PostgreSQL ``VACUUM FULL`` of the two tables (a new copy of each table; the
old files are removed by the server). docs/security.md says what stays outside Brankas's
reach (backup disks written before, file-system snapshots, the SSD's own spare blocks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection, transaction

from brankas.core import sealing
from brankas.core.access import Action
from brankas.core.errors import CryptoFailure
from brankas.core.terms import CLASSIFICATION_LABELS, Category, Classification, category_of
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.documents.models import Document
from brankas.web.documents.sealing import (
    _user_identities,
    mask_names,
    seal_into,
    sealed_fields,
)
from brankas.web.keys.selectors import Purpose, Recipient, recipients_for
from brankas.web.sendrequests.models import SendRequest

BATCH = 200
EXEMPTED_CLASSES = [c.value for c in CLASSIFICATION_LABELS
                    if category_of(Classification(c)) is Category.EXEMPTED]


@dataclass
class SealSummary:
    documents: int = 0
    requests: int = 0
    already: int = 0  # rows sealed before this run
    fields: list[str] = field(default_factory=list)
    vacuum: str = ""  # what rewrote the database
    checkpoint: list[int] | None = None  # SQLite: (busy, log pages, checkpointed)
    via: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DOCUMENT_FIELDS = ("subject", "notes", "attachments", "correspondent")
REQUEST_FIELDS = ("subject", "notes", "correspondent")  # the addressee: "correspondent"


def _values(row: Document | SendRequest) -> dict[str, str]:
    if isinstance(row, Document):
        return {"subject": row.subject, "notes": row.notes, "attachments": row.attachments,
                "correspondent": row.correspondent}
    return {"subject": row.subject, "notes": row.notes, "correspondent": row.addressee}


def _missing(row: Document | SendRequest, fields: frozenset[str]) -> set[str]:
    """The configured fields of an exempted row not sealed yet (all of them for a row
    from before issue 16; a field added to BRANKAS_SEALED_FIELDS later for one sealed)."""
    return (set(_values(row)) & fields) - set(row.sealed or {})


def _seal_rows(rows: Sequence[Document | SendRequest], recipients: list[Recipient],
               identities: list[Any]) -> None:
    for row in rows:
        before = _values(row)
        old = dict(row.sealed or {})
        # What is sealed already stays as it is (its column is empty: nothing to seal anew).
        seal_into(row, before, recipients, presealed=old)
        for name, entry in row.sealed.items():  # opened again before the column is emptied
            if name in old:
                continue
            try:
                same = sealing.open_value(entry, identities) == before[name]
            except Exception as exc:  # the given key is not among the readers
                raise CryptoFailure("decrypt_failed", agenda=str(row), detail=str(exc)) from None
            if not same:  # pragma: no cover - age authenticates what it opens
                raise CryptoFailure("decrypt_failed", agenda=str(row), detail="differs")
        names = [row.FIELD_ATTRS.get(n, n) for n in row.sealed]
        # The original files' names too (``mask_names``: a name often is the subject).
        kept = "originals" if isinstance(row, Document) else "letter_originals"
        setattr(row, kept, mask_names(getattr(row, kept)))
        row.save(update_fields=["sealed", kept, *names])


def _batches(model: type[Any], progress: Callable[[str, int], None] | None,
             recipients: list[Recipient], identities: list[Any]) -> int:
    done = 0
    fields = sealed_fields()
    wanted = fields & set(REQUEST_FIELDS if model is SendRequest else DOCUMENT_FIELDS)
    exempted = model.objects.filter(classification__in=EXEMPTED_CLASSES)
    # The rows with a configured field not sealed yet (JSON keys compared here, in Python,
    # the same way on SQLite and PostgreSQL); each batch checked again under its lock.
    pending = [pk for pk, sealed in exempted.order_by("pk").values_list("pk", "sealed")
               .iterator(chunk_size=2000)
               if not wanted <= set(sealed or {})]
    for start in range(0, len(pending), BATCH):
        with transaction.atomic():
            rows = [row for row in exempted.select_for_update()
                    .filter(pk__in=pending[start:start + BATCH]).order_by("pk")
                    if _missing(row, fields)]
            if not rows:
                continue
            _seal_rows(rows, recipients, identities)
        done += len(rows)
        if progress is not None:
            progress(model._meta.model_name, done)
    return done


def rewrite_database() -> tuple[str, list[int] | None]:
    """Remove the freed pages that may hold old values (outside any transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return "sqlite: VACUUM; wal_checkpoint(TRUNCATE)", list(cursor.fetchone())
        tables = [Document._meta.db_table, SendRequest._meta.db_table]
        for table in tables:
            cursor.execute(f'VACUUM FULL "{table}"')
        return "postgresql: VACUUM FULL " + ", ".join(tables), None


def seal_existing(*, actor: User, passphrase: str | None = None, recovery: Any = None,
                  progress: Callable[[str, int], None] | None = None,
                  vacuum: bool = True) -> SealSummary:
    """Seal every exempted document and request not sealed yet (see the module)."""
    require_audited(actor, Action.SEAL_FIELDS)
    if recovery is not None:
        identities, via = [recovery], "recovery"
    else:
        if passphrase is None:
            raise CryptoFailure("passphrase_missing")
        identities, _fps = _user_identities(actor, passphrase)
        via = "passphrase"
    summary = SealSummary(fields=sorted(sealed_fields()), via=via)
    summary.already = (Document.objects.exclude(sealed={}).count()
                       + SendRequest.objects.exclude(sealed={}).count())
    if summary.fields:
        audit_record(actor=actor.username, action="sealed.seal_fields",
                     detail={"phase": "start", "via": via, "fields": summary.fields})
        # Every row sealed to the readers a new one would get (the one recipient selector);
        # each batch is opened again with the given identity, so a holder whose key is
        # not among them (or a wrong recovery key) stops before anything is emptied.
        summary.documents = _batches(Document, progress,
                                     recipients_for(purpose=Purpose.DOCUMENT).all(),
                                     identities)
        summary.requests = _batches(SendRequest, progress,
                                    recipients_for(purpose=Purpose.LETTER).all(), identities)
    if vacuum:
        summary.vacuum, summary.checkpoint = rewrite_database()
    audit_record(actor=actor.username, action="sealed.seal_fields",
                 detail={k: v for k, v in summary.as_dict().items()})
    return summary
