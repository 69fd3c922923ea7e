"""Reading the text of biasa documents into the register (writes): one document
(``text_read``), the OCR job's work (``text_job_run``), and asking for it (``text_queue``
after a registration or an import, ``text_request`` to read again).

The rules, each in one place here:

- An exempted document is never read: ``text_read`` refuses it (``text_exempted``), the
  job's selection leaves it out, a request naming one is refused and audited. Its text
  would be plaintext of a secret letter (DESIGN.md, docs/ocr.md).
- What is read is a private copy of the stored file, made in a private *workdir* (0700,
  under the instance's ``tmp/ocr``) while hashing it; the text is recorded only when that
  hash is the register's (``stored_sha256``), so a changed file is never indexed. OCRmyPDF
  and Tesseract write their temporary files there too (``core.text.extract``'s
  ``workdir``); the folder is removed when the document is done, and a job's start removes
  what a killed process left (``ocr_workdirs_sweep``).
- A scan OCR cannot read is recorded as ``unreadable`` (a mark, not a failure). Without an
  OCR engine a scan gets no row (it stays to be read), Brankas logs it once per process and
  registration and import go on as before.
- A row is *fresh* while its ``content_sha256`` is the document's ``stored_sha256``: a
  stale row (the file changed since) is read again by the next job.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import OperationalError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from brankas.core import fsutil
from brankas.core.access import Action
from brankas.core.errors import AccessDenied, BrankasError, IntegrityFailure, NotFound
from brankas.core.processes import pid_alive
from brankas.core.register import store
from brankas.core.terms import Category
from brankas.core.text import extract
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.documents.models import Document
from brankas.web.runtime import brankas_settings
from brankas.web.text.models import DocumentText

log = logging.getLogger(__name__)

WORKDIRS = "ocr"  # under the instance's tmp folder
# The scopes of an OCR job (its params["scope"]).
PENDING = "pending"  # every biasa document without a fresh text (after an import)
ALL = "all"  # every biasa document, read again (``brankas ocr --all``)
DOCUMENTS = "documents"  # the documents params["documents"] names (a registration, a redo)
# Why a job was queued (its params["reason"]).
REGISTER, IMPORT, REDO = "register", "import", "redo"
SHOWN = 50  # documents named in a job's result (failures)

AUDIT_REQUEST = "text.request"  # someone asked for the text to be read (again)
AUDIT_READ = "text.read"  # a job read documents' text (its counts)
AUDIT_REFUSED = "text.refused"  # an exempted document named: never read

_warned = threading.Event()  # "OCR is not installed", once per process
_live: set[str] = set()  # this process's workdirs in use
_live_lock = threading.Lock()
_WORKDIR_NAME = re.compile(r"(?P<pid>[0-9]+)-[0-9a-f]{8}")


# -- the private workdir ----------------------------------------------------------------

def ocr_workdirs() -> Path:
    """Where the workdirs are made: ``<BRANKAS_HOME>/tmp/ocr`` (0700)."""
    return brankas_settings().tmp / WORKDIRS


@contextmanager
def ocr_workdir() -> Iterator[Path]:
    """A fresh private folder (0700) for one document's copy and OCR's temporary files;
    removed, with whatever is in it, when the block ends (an error too)."""
    base = ocr_workdirs()
    name = f"{os.getpid()}-{secrets.token_hex(4)}"
    path = base / name
    for attempt in range(3):  # another thread may remove the empty base meanwhile
        fsutil.make_private_dir(base)
        try:
            path.mkdir(mode=0o700)
            break
        except FileNotFoundError:
            if attempt == 2:
                raise
    if fsutil.POSIX_MODES:
        os.chmod(path, 0o700)
    with _live_lock:
        _live.add(name)
    try:
        yield path
    finally:
        _remove(path)
        with _live_lock:
            _live.discard(name)
        with contextlib.suppress(OSError):
            base.rmdir()  # when empty: nothing of OCR stays in the data folder


def _remove(path: Path) -> None:
    def retry(func: Callable[..., Any], name: str, _exc: Any) -> None:
        try:  # Windows: a read-only file is not removed until it is writable
            os.chmod(name, 0o700)
            func(name)
        except OSError:
            log.warning("OCR workdir %s: %s not removed", path, name)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=retry)
    else:
        shutil.rmtree(path, onerror=retry)


def ocr_workdirs_sweep(*, older_than: float = 86400.0) -> int:
    """Remove the workdirs a killed process left (its process gone, or this process's not
    in use, or older than ``older_than`` seconds: on Windows a process is not asked, and a
    pid is used again after a reboot), and anything else found there (nothing else is
    ever made there). Returns how many were removed."""
    base = ocr_workdirs()
    try:
        entries = list(base.iterdir())
    except FileNotFoundError:
        return 0
    now = timezone.now().timestamp()
    removed = 0
    for entry in entries:
        match = _WORKDIR_NAME.fullmatch(entry.name)
        if match is not None:
            pid = int(match["pid"])
            if pid == os.getpid():
                with _live_lock:
                    if entry.name in _live:
                        continue
            elif pid_alive(pid):
                # s19 review: older than a day, it is not that process's (after a reboot
                # pids start again, and another process has the one in its name)
                try:
                    if now - entry.stat().st_mtime < older_than:
                        continue
                except OSError:
                    continue
        if entry.is_dir() and not entry.is_symlink():
            _remove(entry)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.warning("removed %d OCR workdir(s) left by a stopped process", removed)
    return removed


# -- one document -------------------------------------------------------------------------

def ocr_unavailable_warn() -> bool:
    """Log once per process that OCR is not installed; whether this call logged it."""
    if _warned.is_set():
        return False
    _warned.set()
    log.warning("OCR is not installed (OCRmyPDF, Tesseract with the 'ind' data): scans get "
                "no text until it is; docs/ocr.md")
    return True


def _copy_hashing(src: Path, dst: Path) -> str:
    """Copy ``src`` to the new private file ``dst``; the SHA-256 of what was copied."""
    digest = hashlib.sha256()
    try:
        with open(src, "rb") as fin, fsutil.open_private(dst) as fout:
            while chunk := fin.read(fsutil.CHUNK):
                digest.update(chunk)
                fout.write(chunk)
    except FileNotFoundError:
        return ""
    return digest.hexdigest()


def text_read(*, document: Document) -> DocumentText | None:
    """Read the text of the biasa ``document`` from its stored file and record it (a new
    row, or the row made again); ``None`` when it is a scan and OCR is not installed (no
    row: it stays to be read). Refuses an exempted document (``text_exempted``: never
    read) and a stored file that is gone or not the register's (``stored_file_changed``).
    ``ocr_failed`` (the engine's own failure) passes through."""
    if document.category != Category.REGULAR.value:
        raise AccessDenied("text_exempted", agenda=document.agenda)
    src = store.absolute(brankas_settings(), document.stored_path)
    with ocr_workdir() as work:
        copy = work / "dokumen.pdf"
        digest = _copy_hashing(src, copy)
        if digest != document.stored_sha256:
            raise IntegrityFailure("stored_file_changed", agenda=document.agenda,
                                   path=document.stored_path)
        try:
            got = extract(copy, ocr=True, workdir=work)
        except BrankasError as exc:
            if exc.code != "ocr_unavailable":
                raise
            ocr_unavailable_warn()
            return None
    if getattr(got, "pending", 0):  # pages left for want of an engine: the rest recorded
        ocr_unavailable_warn()
    return _record(document, got, digest)


# s19 review: how long a text read waits for the database's write lock (SQLite: a backup's
# read holds it for minutes at 100,000 documents, and the OCR job runs beside a backup)
# before the read is given up (the document then read again by the next job).
RECORD_PATIENCE = 1800.0


def _record(document: Document, got: Any, digest: str) -> DocumentText | None:
    """The row, written at once (a stale one replaced) unless the document changed or
    went while it was read (then the next job reads it again). SQLite's write lock held
    by another (a backup's read): it waits, up to ``RECORD_PATIENCE`` (minutes of OCR
    are not thrown away after the 30 s busy timeout)."""
    fields = {"status": got.status, "method": got.method,
              "body": got.text.replace("\x00", ""),  # PostgreSQL's text holds no NUL
              "pages": got.pages, "engine": got.engine[:200], "content_sha256": digest}
    connection = transaction.get_connection()
    deadline = time.monotonic() + RECORD_PATIENCE
    pause = 1.0
    while True:
        try:
            return _record_once(document, fields, digest)
        except OperationalError as exc:
            if (connection.vendor != "sqlite" or "locked" not in str(exc)
                    or connection.in_atomic_block or time.monotonic() > deadline):
                raise
            log.info("text of %s: the database is busy, waiting", document.agenda)
            time.sleep(pause)
            pause = min(pause * 2, 10.0)


def _record_once(document: Document, fields: dict[str, Any],
                 digest: str) -> DocumentText | None:
    with transaction.atomic():
        still = Document.objects.select_for_update().filter(
            pk=document.pk, stored_sha256=digest, category=Category.REGULAR.value).exists()
        if not still:
            return None
        # the time taken once the write is ours (what the page shows)
        row, _ = DocumentText.objects.update_or_create(
            document_id=document.pk, defaults={**fields, "read_at": timezone.now()})
    return row


# -- the job's work -----------------------------------------------------------------------

@dataclass
class TextSummary:
    """What an OCR job did: documents read (with text), marked unreadable, left for want
    of an OCR engine, and failed (file gone or changed, the engine's error)."""

    scope: str = PENDING
    total: int = 0
    read: int = 0
    unreadable: int = 0
    unavailable: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (agenda, error code)
    failed_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "total": self.total, "read": self.read,
                "unreadable": self.unreadable, "unavailable": self.unavailable,
                "failed": self.failed_count,
                "failed_documents": [{"agenda": a, "error": c} for a, c in self.failed]}


def _since(params: dict[str, Any]) -> dt.datetime | None:
    value = params.get("since")
    return parse_datetime(value) if isinstance(value, str) else None


def text_todo(params: dict[str, Any]) -> list[int]:
    """The ids of the documents a job of ``params`` still has to read, in register order:
    biasa only; without a fresh row, or (a redo: ``since``) without one read since. A job
    resumed with the same params goes on with what is left."""
    docs = Document.objects.filter(category=Category.REGULAR.value)
    scope = params.get("scope", PENDING)
    if scope == DOCUMENTS:
        docs = docs.filter(pk__in=[int(i) for i in params.get("documents") or []])
    fresh = DocumentText.objects.filter(document=OuterRef("pk"),
                                        content_sha256=OuterRef("stored_sha256"))
    since = _since(params)
    if since is not None:
        fresh = fresh.filter(read_at__gte=since)
    return list(docs.exclude(Exists(fresh)).order_by("pk").values_list("pk", flat=True))


Progress = Callable[[int, int, int, int], None]


def text_job_run(*, actor: Any, params: dict[str, Any], job_id: str = "",
                 on_progress: Progress | None = None) -> TextSummary:
    """Read the text of the documents ``params`` selects (``text_todo``), one at a time,
    with progress as (done, total, 0, 0). One document's failure is counted and the job
    goes on. Audited at its end (``text.read`` with the counts): the text rows are the
    register's, and a backup writes a new snapshot when the audit log says the register
    changed (``backup.services._register_seq``)."""
    ocr_workdirs_sweep()
    summary = TextSummary(scope=str(params.get("scope", PENDING)))
    todo = text_todo(params)
    summary.total = len(todo)
    if on_progress:
        on_progress(0, summary.total, 0, 0)
    for done, pk in enumerate(todo, 1):
        document = Document.objects.filter(pk=pk).first()
        if document is not None and not document.exempted:
            _read_one(document, summary)
        if on_progress:
            on_progress(done, summary.total, 0, 0)
    if summary.total:
        audit_record(actor=getattr(actor, "username", "") or "system", action=AUDIT_READ,
                     target=job_id, outcome="failed" if summary.failed_count else "ok",
                     detail={"scope": summary.scope, "documents": summary.total,
                             "read": summary.read, "unreadable": summary.unreadable,
                             "unavailable": summary.unavailable,
                             "failed": summary.failed_count,
                             "agendas": [a for a, _ in summary.failed][:SHOWN]})
    return summary


def _read_one(document: Document, summary: TextSummary) -> None:
    from brankas.core.text import STATUS_UNREADABLE

    try:
        row = text_read(document=document)
    except BrankasError as exc:
        log.warning("text of %s not read: %s", document.agenda, exc.code)
        summary.failed_count += 1
        if len(summary.failed) < SHOWN:
            summary.failed.append((document.agenda, exc.code))
        return
    except Exception as exc:  # a damaged PDF pypdf cannot parse: this one fails, not the job
        log.warning("text of %s not read: %s", document.agenda, type(exc).__name__)
        summary.failed_count += 1
        if len(summary.failed) < SHOWN:
            summary.failed.append((document.agenda, "text_read_failed"))
        return
    if row is None:
        summary.unavailable += 1
    elif row.status == STATUS_UNREADABLE:
        summary.unreadable += 1
    else:
        summary.read += 1


# -- asking for it ------------------------------------------------------------------------

def _queue(*, actor: Any, params: dict[str, Any], lang: str = "") -> Any:
    from brankas.web.jobs.runners import OCR
    from brankas.web.jobs.services import job_create

    return job_create(kind=OCR, user=actor, params=params, lang=lang, exclusive=False)


def text_queue_registered(*, actor: Any, documents: Iterable[Document]) -> None:
    """After a registration's commit: an OCR job for its biasa documents. Never fails the
    registration (it is committed): a failure to queue is logged, and the next
    ``brankas ocr`` (or an import's job) reads what was left."""
    ids = [d.pk for d in documents if d is not None and not d.exempted]
    if not ids:
        return
    try:
        _queue(actor=actor, params={"scope": DOCUMENTS, "documents": ids, "reason": REGISTER})
    except Exception:
        log.exception("the OCR job of %d registered document(s) was not queued", len(ids))


def text_queue_imported(*, actor: Any, imported: int) -> Any:
    """After an import (thousands of files): one OCR job for every biasa document still
    without text, not one per file. Never fails the import."""
    if imported <= 0:
        return None
    try:
        job = _queue(actor=actor, params={"scope": PENDING, "reason": IMPORT})
    except Exception:
        log.exception("the OCR job of an import was not queued")
        return None
    return job


def text_request(*, actor: Any, agendas: Iterable[str] = (), every: bool = False,
                 via: str = "cli") -> dict[str, Any]:
    """Check and record a request to read text again: ``every`` biasa document, the
    documents ``agendas`` names, or (neither) those still without a fresh text. The
    ``read-text`` role check (refusals audited); an exempted document named is refused
    (``text_exempted``, audited as ``text.refused``) and so is an unknown agenda. Returns
    the job's params (for ``text_job_run`` here, or ``text_queue_request``)."""
    agendas = [a.strip() for a in agendas if a.strip()]
    require_audited(actor, Action.READ_TEXT, target=" ".join(agendas)[:200], via=via)
    now = timezone.now().isoformat()
    if every:
        params: dict[str, Any] = {"scope": ALL, "since": now, "reason": REDO}
    elif agendas:
        found = dict(Document.objects.filter(agenda__in=agendas)
                     .values_list("agenda", "category"))
        for agenda in agendas:
            if agenda not in found:
                raise NotFound("document_not_found", agenda=agenda)
            if found[agenda] != Category.REGULAR.value:
                audit_record(actor=actor.username, action=AUDIT_REFUSED, target=agenda,
                             outcome="denied", detail={"error": "text_exempted", "via": via})
                raise AccessDenied("text_exempted", agenda=agenda)
        ids = list(Document.objects.filter(agenda__in=agendas).order_by("pk")
                   .values_list("pk", flat=True))
        params = {"scope": DOCUMENTS, "documents": ids, "since": now, "reason": REDO}
    else:
        params = {"scope": PENDING, "reason": REDO}
    audit_record(actor=actor.username, action=AUDIT_REQUEST,
                 target=" ".join(agendas)[:200],
                 detail={"scope": params["scope"], "agendas": agendas[:SHOWN], "via": via})
    return params


def text_queue_request(*, actor: Any, agendas: Iterable[str] = (), every: bool = False,
                       via: str = "web", lang: str = "") -> Any:
    """``text_request``, then its OCR job queued (the web's "read again" button)."""
    params = text_request(actor=actor, agendas=agendas, every=every, via=via)
    return _queue(actor=actor, params=params, lang=lang)
