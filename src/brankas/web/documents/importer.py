"""Bulk import of an existing four-folder tree of old scans (``brankas import``).

The tree is the SOP's hand-made one: ``biasa|dikecualikan / pengiriman|penerimaan /
[YYYY /] files``. Direction and category come from the folders; the file name becomes
the subject. Files already in the register (same SHA-256) are skipped, which also makes
an interrupted import resumable: run it again and it carries on where it stopped.

How it goes fast without giving up safety:

- Checking and staging (intake checks, hashing, encryption) run in a small pool of
  worker threads, a little ahead of the main thread; image decoding, hashing and file
  I/O release the GIL. Workers never touch the database.
- The main thread takes the results in the tree's order and commits them in batches of
  ``BATCH``: one transaction numbers, records and audits the whole batch.
- Durability is batched, not dropped: before a batch's transaction, every staged file of
  the batch is fsynced (several at once, so the disk serves them together); inside it,
  after the files are renamed into their SOP folders, each folder is fsynced once. Only
  then does the transaction commit: no record ever points at a file that is not on
  disk. If anything fails, the batch's files are removed and nothing is recorded.
- A process killed between filing a batch and committing it leaves files that no record
  names; the resumed import moves such a file out of the way (into the staging folder)
  when it files the same agenda number again.
- Exempted files are encrypted while staged: their plaintext never reaches the disk.
- Scans up to ``IN_MEMORY`` are read once and checked and stored from that copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.utils import timezone

from brankas.core import fsutil
from brankas.core.access import Action
from brankas.core.config import Settings
from brankas.core.errors import BrankasError, Conflict, InvalidInput
from brankas.core.register import intake, metadata, store
from brankas.core.sealing import SEALED_LABEL
from brankas.core.terms import Category, Classification, Direction
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.documents.models import Document
from brankas.web.documents.services import Pending, documents_commit, stage_files
from brankas.web.keys.selectors import Purpose, Recipient, recipients_for
from brankas.web.runtime import brankas_settings

BATCH = 100  # documents per transaction (and per round of fsyncs)
WORKERS = 2  # checking and staging threads
GROUP = 4  # files per worker task
AHEAD = BATCH + 2 * WORKERS * GROUP  # files checked and staged ahead of the main thread
IN_MEMORY = 32 * 1024 * 1024  # scans up to this size are read once, into memory
UNKNOWN_CORRESPONDENT = "(tidak diketahui)"
IN_BATCH = "(batch)"  # the agenda shown for a duplicate of a file in the same batch


@dataclass
class ImportCandidate:
    path: Path
    relative: str
    direction: Direction
    category: Category
    year: int | None


@dataclass
class ImportSummary:
    imported: list[str] = field(default_factory=list)  # agenda numbers
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, existing agenda)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    # An exempted file's name is its subject, sealed (issue 16): its relative path →
    # (its name, how what is kept names it: ``shown_name``).
    sealed_names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def as_dict(self, *, kept: bool = False) -> dict[str, object]:
        """The summary; ``kept``: as stored (a web import job's result, in the database),
        where an exempted file is named by its folder only, in its reason too. Without it
        (the operator's own terminal, ``brankas import``) the files are named."""
        def name(f: str) -> str:
            return self.sealed_names[f][1] if kept and f in self.sealed_names else f

        def why(f: str, reason: str) -> str:
            if not kept or f not in self.sealed_names:
                return reason
            base, shown = self.sealed_names[f]
            return reason.replace(f, shown).replace(base, f"({SEALED_LABEL})")

        return {
            "imported": len(self.imported),
            "skipped": len(self.skipped),
            "refused": len(self.refused),
            "agendas": self.imported,
            "skipped_files": [{"file": name(f), "agenda": a} for f, a in self.skipped],
            "refused_files": [{"file": name(f), "reason": why(f, r)} for f, r in self.refused],
        }


def _match(name: str, enum: type[Direction] | type[Category]) -> Direction | Category | None:
    key = name.strip().lower()
    for member in enum:
        if key == member.value:
            return member
    return None


def scan(folder: Path) -> list[ImportCandidate]:
    """Find the files of the four folders (in a stable order)."""
    found: list[ImportCandidate] = []
    if not folder.is_dir():
        raise InvalidInput("import_folder_invalid", path=str(folder))
    for cat_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        category = _match(cat_dir.name, Category)
        if category is None:
            continue
        for dir_dir in sorted(p for p in cat_dir.iterdir() if p.is_dir()):
            direction = _match(dir_dir.name, Direction)
            if direction is None:
                continue
            for path in sorted(dir_dir.rglob("*")):
                if not path.is_file() or path.name.startswith("."):
                    continue
                rel_parts = path.relative_to(dir_dir).parts
                year = next((int(p) for p in rel_parts[:-1] if re.fullmatch(r"\d{4}", p)), None)
                found.append(
                    ImportCandidate(
                        path=path,
                        relative=path.relative_to(folder).as_posix(),
                        direction=direction,  # type: ignore[arg-type]
                        category=category,  # type: ignore[arg-type]
                        year=year,
                    )
                )
    if not found and not any(
        _match(p.name, Category) for p in folder.iterdir() if p.is_dir()
    ):
        raise InvalidInput("import_folder_invalid", path=str(folder))
    return found


def _subject(path: Path) -> str:
    text = re.sub(r"[_\-]+", " ", path.stem).strip()
    return text or path.name


def _date_of(mtime: float, year: int | None) -> dt.date:
    mdate = dt.datetime.fromtimestamp(mtime).date()
    if year is not None and mdate.year != year:
        return dt.date(year, 1, 1)
    return mdate


def _read(cand: ImportCandidate) -> tuple[intake.InputFile, float, bytes | None]:
    """The candidate as an input file, and its modification time. A scan up to
    ``IN_MEMORY`` bytes is read once, and checked and stored from that one copy: the bytes
    checked are the bytes stored, and each file costs a few system calls instead of a
    dozen (which matters with several threads sharing the GIL). Bigger files stream."""
    try:
        fd = os.open(cand.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise InvalidInput("file_missing", name=str(cand.path)) from None
    try:
        st = os.fstat(fd)
        if st.st_size <= IN_MEMORY:
            data = os.read(fd, st.st_size + 1)  # one read: the whole file, and its end
            if len(data) != st.st_size:  # a short read, or a file still being written
                more = bytearray(data)
                while len(more) <= IN_MEMORY and (part := os.read(fd, fsutil.CHUNK)):
                    more += part
                data = bytes(more)
            if len(data) <= IN_MEMORY:
                return intake.InputFile.from_bytes(cand.path.name, data), st.st_mtime, data
    finally:
        os.close(fd)
    return intake.InputFile.from_path(cand.path), st.st_mtime, None


def run_import(
    *,
    actor: User,
    folder: Path,
    exempted_classification: Classification = Classification.RAHASIA,
    on_progress: Callable[[ImportCandidate, str], None] | None = None,
    on_start: Callable[[list[ImportCandidate]], None] | None = None,
    lang: str | None = None,
) -> ImportSummary:
    """``lang`` (id, en): the language of the refusals in the summary (a web job's user's);
    by default the command line's (``BRANKAS_LANG``)."""
    from brankas.web.backup.paths import outside_home

    require_audited(actor, Action.IMPORT, target=str(folder))
    outside_home(folder)
    candidates = scan(folder)
    store.sweep_staging(brankas_settings())  # what an earlier, killed import left behind
    if on_start:
        on_start(candidates)
    job = _ImportRun(actor=actor, exempted_classification=exempted_classification,
                     settings=brankas_settings(), started=timezone.now(), lang=lang)
    try:
        return job.run(candidates, on_progress)
    finally:  # s19: one OCR job for the batch (what was committed, a stopped import's too)
        from brankas.web.text.services import text_queue_imported

        text_queue_imported(actor=actor, imported=len(job.summary.imported))


def _known_sources() -> dict[str, str]:
    """What the register already holds, by source hash (the first registration's agenda)."""
    known: dict[str, str] = {}
    for digest, agenda in Document.objects.order_by("registered_at", "pk").values_list(
        "source_sha256", "agenda"
    ):
        known.setdefault(digest, agenda)
    return known


class _ImportRun:
    """One import: workers check and stage a little ahead (``submit``), the main thread
    takes each result in the tree's order (``take``) and commits batches (``flush``)."""

    def __init__(self, *, actor: User, exempted_classification: Classification,
                 settings: Settings, started: dt.datetime, lang: str | None = None) -> None:
        self.actor = actor
        self.lang = lang
        self.exempted_classification = exempted_classification
        self.settings = settings
        self.started = started
        self.summary = ImportSummary()
        self.known = _known_sources()
        # Into a register that already holds documents (typically: resuming), workers first
        # look each file's hash up and skip known files without checking or staging them.
        self.already = self.known if self.known else None
        self.batch: list[Pending] = []
        self.in_batch: set[str] = set()  # the batch's source hashes
        self.recipients: list[Recipient] | None = None

    def flush(self) -> None:
        """Commit the batch: one transaction numbers, records and audits it."""
        if not self.batch:
            return
        pendings = list(self.batch)
        self.batch.clear()
        self.in_batch.clear()
        committed = documents_commit(actor=self.actor, pendings=pendings)
        for p, doc in zip(pendings, committed.documents, strict=True):
            if doc is None:  # registered by someone else since this import began
                agenda = committed.raced[p.source_sha256]
                self.summary.skipped.append((str(p.extra_detail["imported_from"]), agenda))
            else:
                agenda = doc.agenda
                self.summary.imported.append(agenda)
            self.known.setdefault(p.source_sha256, agenda)

    def submit(self, pool: ThreadPoolExecutor,
               group: list[ImportCandidate]) -> Future[list[_Outcome]]:
        """Hand a group of files to a worker; the recipients are looked up with the first
        exempted file (a refusal then stands for every exempted file)."""
        no_recipients: BrankasError | None = None
        if self.recipients is None and any(c.category is Category.EXEMPTED for c in group):
            try:
                # Refuse before reading anything when exempted files could not be encrypted.
                self.recipients = recipients_for(purpose=Purpose.DOCUMENT).all()
            except BrankasError as exc:
                no_recipients = exc
        return pool.submit(
            _check_and_stage_group,
            group,
            exempted_classification=self.exempted_classification,
            recipients=self.recipients or [],
            no_recipients=no_recipients,
            started=self.started,
            settings=self.settings,
            known=self.already,
        )

    def take(self, cand: ImportCandidate, result: _Outcome) -> str:
        """Put one worker's result into the batch, or record it as skipped (already in the
        register or the batch) or refused; returns which. Without any key holder the
        import stops (after committing the batch so far)."""
        try:
            if isinstance(result, BrankasError):
                raise result
            if isinstance(result, _Known):
                raise Conflict("duplicate_document", agenda=self.known[result.source_sha256])
            digest = result.source_sha256
            seen = self.known.get(digest) or (IN_BATCH if digest in self.in_batch else None)
            if seen is not None:
                store.discard(result.staged)
                raise Conflict("duplicate_document", agenda=seen)
            self.batch.append(result)
            self.in_batch.add(digest)
        except Conflict as exc:
            self._sealed_name(cand)
            self.summary.skipped.append((cand.relative, str(exc.params.get("agenda", ""))))
            return "skipped"
        except BrankasError as exc:
            if exc.code == "no_key_holder":
                self.flush()
                raise
            self._sealed_name(cand)
            self.summary.refused.append((cand.relative, exc.message(self.lang)))
            return "refused"
        return "imported"

    def _sealed_name(self, cand: ImportCandidate) -> None:
        shown = shown_name(cand, self.settings)
        if shown != cand.relative:
            self.summary.sealed_names[cand.relative] = (cand.path.name, shown)

    def run(self, candidates: list[ImportCandidate],
            on_progress: Callable[[ImportCandidate, str], None] | None) -> ImportSummary:
        queue: deque[tuple[list[ImportCandidate], Future[list[_Outcome]]]] = deque()
        rest: list[_Outcome] = []  # results taken from a worker and not yet dealt with
        pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="brankas-import")
        try:
            groups = _groups(iter(candidates), GROUP)
            for group in groups:
                queue.append((group, self.submit(pool, group)))
                if len(queue) * GROUP >= AHEAD:
                    break
            while queue:
                group, future = queue.popleft()
                nxt = next(groups, None)
                if nxt is not None:
                    queue.append((nxt, self.submit(pool, nxt)))
                rest = list(future.result())
                for cand in group:
                    outcome = self.take(cand, rest.pop(0))
                    if on_progress:
                        on_progress(cand, outcome)
                    if len(self.batch) >= BATCH:
                        self.flush()
            self.flush()
        except BaseException:
            self._abort(pool, queue, rest)
            raise
        finally:
            pool.shutdown(wait=True)
        return self.summary

    def _abort(self, pool: ThreadPoolExecutor,
               queue: deque[tuple[list[ImportCandidate], Future[list[_Outcome]]]],
               rest: list[_Outcome]) -> None:
        """Stop the workers and remove whatever they staged that will not be committed."""
        for _, future in queue:
            future.cancel()
        pool.shutdown(wait=True)
        for _, future in queue:
            if future.done() and not future.cancelled() and future.exception() is None:
                rest += future.result()
        for p in [*self.batch, *rest]:
            if isinstance(p, Pending):
                store.discard(p.staged)


@dataclass(frozen=True)
class _Known:
    """A file found to be in the register already, by its hash, without staging it."""

    source_sha256: str


_Outcome = Pending | _Known | BrankasError


def _groups(candidates: Iterator[ImportCandidate], size: int) -> Iterator[list[ImportCandidate]]:
    while group := list(itertools.islice(candidates, size)):
        yield group


def _check_and_stage_group(
    group: list[ImportCandidate],
    *,
    exempted_classification: Classification,
    recipients: list[Recipient],
    no_recipients: BrankasError | None,
    started: dt.datetime,
    settings: Settings,
    known: Mapping[str, str] | None,
) -> list[_Outcome]:
    """``_check_and_stage`` for a few files in a row (one hand-off between threads per
    group, not per file). A refused file is returned as its error, in its place."""
    results: list[_Outcome] = []
    try:
        for cand in group:
            exempted = cand.category is Category.EXEMPTED
            if exempted and no_recipients is not None:
                results.append(no_recipients)
                continue
            try:
                results.append(
                    _check_and_stage(
                        cand,
                        classification=(
                            exempted_classification if exempted else Classification.BIASA
                        ),
                        recipients=recipients if exempted else [],
                        started=started,
                        settings=settings,
                        known=known,
                    )
                )
            except BrankasError as exc:
                results.append(exc)
    except BaseException:
        for result in results:
            if isinstance(result, Pending):
                store.discard(result.staged)
        raise
    return results


def _check_and_stage(
    cand: ImportCandidate,
    *,
    classification: Classification,
    recipients: list[Recipient],
    started: dt.datetime,
    settings: Settings,
    known: Mapping[str, str] | None = None,
) -> Pending | _Known:
    """Check one file and write it (encrypted when exempted) to a staging file that is
    not yet fsynced. Runs in a worker thread: no database access here (``known`` is only
    read; the main thread's later check decides)."""
    source, mtime, data = _read(cand)
    if known and data is not None:
        # Resuming: a file already in the register is recognised by its hash alone (the
        # source hash of a single scan is its SHA-256), before any checking or staging.
        digest = hashlib.sha256(data).hexdigest()
        if digest in known:
            return _Known(digest)
    # An exempted file's name is its subject, sealed (issue 16): the audit entry names its
    # folder only.
    origin = shown_name(cand, settings) if recipients else cand.relative
    meta = metadata.build(
        direction=cand.direction.value,
        classification=classification.value,
        number="",
        doc_date=_date_of(mtime, cand.year),
        subject=_subject(cand.path)[: metadata.LIMITS["subject"]],
        correspondent=UNKNOWN_CORRESPONDENT,
        # The file's name is its subject: named here only if the notes are sealed too.
        notes=f"Diimpor dari {cand.relative if 'notes' in settings.sealed_fields else origin}",
    )
    done = stage_files([source], recipients=recipients, settings=settings, sync=False)
    return Pending.of_staged(meta, done, recipients=recipients, form_opened_at=started,
                             source="import", extra_detail={"imported_from": origin})


def shown_name(cand: ImportCandidate, settings: Settings) -> str:
    """The file as the import's records name it (its audit entry, its summary, which a web
    import keeps in the database as its job's result): an exempted file's name is its
    subject, sealed (issue 16), so only its folder is named."""
    if cand.category is Category.EXEMPTED and settings.sealed_fields:
        return f"{PurePosixPath(cand.relative).parent.as_posix()}/({SEALED_LABEL})"
    return cand.relative
