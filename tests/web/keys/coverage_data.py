"""Records for the coverage tests: keys, exempted documents and request letters made
straight in the database (coverage reads only the recipients on record; no file is
opened), so that thousands cost a bulk insert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from brankas.core import crypto
from brankas.core.terms import Category, Classification, category_of


def fake_key(user: Any, **fields: Any) -> Any:
    """A key record for ``user`` whose identity nobody will unlock (``fields``: retired_at,
    revoked_at, ... as the test needs)."""
    from brankas.web.keys.models import HolderKey

    pair = crypto.generate()
    return HolderKey.objects.create(holder=user, recipient=pair.recipient,
                                    fingerprint=crypto.recipient_fingerprint(pair.recipient),
                                    protected_identity=b"-", suite=crypto.SUITE, **fields)


def recovery_fp(office: Any) -> str:
    return crypto.recipient_fingerprint(office.office.recovery_recipient)


_seq = iter(range(1, 10**9))


def document(user: Any, recipients: Sequence[str], *,
             classification: str = Classification.RAHASIA.value) -> Any:
    """An unsaved register entry with these recipients on record."""
    from brankas.web.documents.models import Document

    n = next(_seq)
    now = timezone.now()
    exempted = category_of(classification) is Category.EXEMPTED
    return Document(
        agenda=f"{n:06d}/M/2026", year=2026, seq=n, direction="penerimaan",
        classification=classification, category=category_of(classification).value,
        doc_date=dt.date(2026, 1, 5), subject=f"Uji {n}", correspondent="Uji",
        registered_by=user, form_opened_at=now, registered_at=now, source_sha256=f"{n:064x}",
        content_sha256="0" * 64, content_size=1, stored_path=f"arsip/x/{n:06d}.pdf.age",
        stored_sha256="0" * 64, stored_size=1, suite=crypto.SUITE if exempted else "",
        recipients=list(recipients) if exempted else [])


def documents(user: Any, recipient_lists: Sequence[Sequence[str]], **kw: Any) -> list[Any]:
    from brankas.web.documents.models import Document

    return Document.objects.bulk_create([document(user, r, **kw) for r in recipient_lists],
                                        batch_size=500)


def letter(user: Any, recipients: Sequence[str] | None, *,
           classification: str = Classification.RAHASIA.value) -> Any:
    """A request with a letter encrypted to ``recipients`` (``None``: no letter yet; a
    biasa letter is stored as it came)."""
    from brankas.web.sendrequests.models import SendRequest

    now = timezone.now()
    exempted = category_of(classification) is Category.EXEMPTED
    fields: dict[str, Any] = {}
    if recipients is not None:
        suffix = ".pdf.age" if exempted else ".pdf"
        fields = {"letter_path": f"permintaan/2026/P-{next(_seq)}{suffix}",
                  "letter_suite": crypto.SUITE if exempted else "",
                  "letter_recipients": list(recipients) if exempted else []}
    return SendRequest.objects.create(
        requester_unit="Bagian Umum", requester_name="Uji", subject="Surat uji",
        classification=classification, addressee="Bupati", requested_at=now, created_by=user,
        created_at=now, state_since=now, **fields)
