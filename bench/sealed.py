"""What searching sealed register fields costs (issue 16): an instance with N exempted
documents whose subject, notes and attachments are sealed (default 10,000), a Kabid who
unlocks their key, and the register's search by a word of a sealed subject.

    python -m bench.sealed HOME [--exempted 10000]

HOME must not hold an instance (one is made: ``brankas.instance.initialise``, the bench's
users and keys of bench/bulk.py). The rows are made with the registration's own sealing
(``documents.sealing.seal_into`` to ``recipients_for(Purpose.DOCUMENT)``: the Kabid, the
Kadis and the recovery key); their files are not written (the search reads no file).
Measured, wall and CPU seconds: unlocking the key (the passphrase's scrypt), the first
search (every candidate's subject decrypted: the cache is empty), the same search again
and another word (from the unlocked session's cache), and one list page of 50 revealed.
Prints one JSON line. docs/benchmarks.md, "Sealed fields"."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.bulk import PASSPHRASES, office_users


def _timed(fn: Any) -> tuple[Any, dict[str, float]]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, {"wall": round(time.perf_counter() - w, 3),
                 "cpu": round(time.process_time() - c, 3)}


def run(exempted: int) -> dict[str, Any]:
    _init, users, _recipients = office_users()  # sets Django up: the imports follow
    from django.utils import timezone

    from brankas.web.documents import sealing
    from brankas.web.documents.models import Document
    from brankas.web.documents.sealing import key_for_passphrase, reveal, seal_into
    from brankas.web.documents.selectors import document_list
    from brankas.web.keys.selectors import Purpose, recipients_for

    readers = recipients_for(purpose=Purpose.DOCUMENT).all()
    now = timezone.now()
    t0 = time.perf_counter()
    batch: list[Any] = []
    for i in range(exempted):
        at = now - dt.timedelta(minutes=exempted - i)
        doc = Document(
            agenda=f"M-{i:06d}", year=at.year, seq=i + 1, direction="penerimaan",
            classification="rahasia", category="dikecualikan", number=f"{i}/RHS/2026",
            doc_date=at.date(), subject=f"Perihal rahasia nomor {i} kata{i % 997:03d}",
            correspondent="Sekda", registered_by=users["operator"], form_opened_at=at,
            registered_at=at, source="bench", originals=[], source_sha256=f"{i:064x}",
            content_sha256="0" * 64, content_size=1, stored_path=f"bench/{i}.pdf.age",
            stored_sha256="0" * 64, stored_size=1, suite="age", recipients=[
                r.fingerprint for r in readers])
        seal_into(doc, {"subject": doc.subject, "notes": f"Catatan {i}",
                        "attachments": "1 berkas", "correspondent": doc.correspondent},
                  readers)
        batch.append(doc)
        if len(batch) == 1000:
            Document.objects.bulk_create(batch)
            batch.clear()
    Document.objects.bulk_create(batch)
    made = round(time.perf_counter() - t0, 1)

    key, unlock = _timed(lambda: key_for_passphrase(actor=users["kabid"],
                                                    passphrase=PASSPHRASES["kabid"],
                                                    via="bench"))

    def search(word: str) -> tuple[int, list[str]]:
        qs = document_list(actor=users["kabid"], via="bench", query=word, unlocked=key)
        page = list(qs[:50])
        reveal(page, key, fields=("subject",))
        return qs.count(), [d.shown("subject") for d in page]

    (n1, _p), cold = _timed(lambda: search("kata123"))
    (n2, _p), warm = _timed(lambda: search("kata123"))
    (n3, _p), other = _timed(lambda: search("nomor 42"))
    # The web's unlock: the passphrase, then the newest BRANKAS_SEALED_WARM subjects
    # decrypted into the key's cache; then a search of a fresh key reads memory only.
    token, web_unlock = _timed(lambda: sealing.unlock(actor=users["kabid"],
                                                      passphrase=PASSPHRASES["kabid"]))
    key = sealing._KEYS[token]
    (n4, _p), after_web_unlock = _timed(lambda: search("kata500"))

    def page() -> int:
        docs = list(document_list(actor=users["kabid"], via="bench")[:50])
        reveal(docs, key, fields=("subject", "correspondent"))
        return len(docs)

    _n, listed = _timed(page)
    return {"exempted": exempted, "make_seconds": made, "unlock": unlock,
            "search_cold": {**cold, "matches": n1}, "search_warm": {**warm, "matches": n2},
            "search_other_word_warm": {**other, "matches": n3},
            "web_unlock_with_warm_up": web_unlock,
            "search_after_web_unlock": {**after_web_unlock, "matches": n4},
            "list_page_50": listed,
            "cache_entries": len(key.cache)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sealed")
    parser.add_argument("home", type=Path)
    parser.add_argument("--exempted", type=int, default=10_000)
    args = parser.parse_args(argv)
    os.environ["BRANKAS_HOME"] = str(args.home)
    os.environ.setdefault("BRANKAS_LANG", "en")
    print(json.dumps(run(args.exempted)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
