"""One consistent view of the database for a run of reads (the backup's snapshot).

SQLite: the transaction Brankas always opens (``BEGIN IMMEDIATE``, settings.py) holds the
database's write lock, so nothing changes while it lasts: exactly as before.

PostgreSQL: its default isolation, READ COMMITTED, gives every statement a new view, so a
registration committed between two reads would be in one and not the other (a document
copied to the disk but missing from the snapshot, or the reverse). The transaction runs at
REPEATABLE READ instead: every statement sees the database as it was at the transaction's
first read, while registrations go on (they are not blocked, and they are not in this view).
Not SERIALIZABLE READ ONLY DEFERRABLE: the backup's read may write a row of its own (the
office's signing key the first time), and it needs no protection against write skew.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import transaction

ISOLATION = "REPEATABLE READ"


@contextlib.contextmanager
def one_view(using: str | None = None) -> Iterator[None]:
    """A transaction whose reads all see one moment of the database. Inside a transaction
    already open (a test's) that transaction's view applies: PostgreSQL sets the isolation
    only at a transaction's start."""
    connection = transaction.get_connection(using)
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET TRANSACTION ISOLATION LEVEL {ISOLATION}")
        yield
