"""Hand-over (grant) and rekey: re-encrypting the archive to new readers.

``key_grant``: a holder (with their passphrase) or the admin (with the recovery shares)
opens to another holder's current key everything the granter can open: the exempted
documents, the request letters and, when the grantee's role may read them, the safe
combinations. Every later backup is encrypted to the grantee as well
(``recipients_for``), because the grantee's key is active. ``key_rekey`` re-encrypts
every exempted file under fresh file keys to today's readers (after a revocation, so a
copied key opens none of the current files).

Both work file by file through ``keys.rewrap`` (crash-safe, resumable) under the archive
lock, with a ``RewrapJob`` for the progress page and the summary. A grant rewrites only
each file's age header (``core.keyring.agehdr``: the same file key, one more reader); a
rekey decrypts and encrypts each file again under a fresh file key.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from pyrage import x25519

from brankas.core import crypto
from brankas.core.access import Action
from brankas.core.errors import (
    AccessDenied,
    BrankasError,
    CryptoFailure,
    InvalidInput,
    SetupError,
)
from brankas.core.keyring import early
from brankas.core.keyring.pool import RewrapFailed, RewrapPool, workers_for
from brankas.core.keyring.rewrap import Precopied, Rewrapped, header_size_for
from brankas.core.register import store
from brankas.web.accounts.models import Office, User
from brankas.web.accounts.selectors import user_get
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import audit_record
from brankas.web.custody.models import SafeCombination
from brankas.web.documents.sealing import SealedRewrap, rewrap_sealed, rewrap_sealed_steps
from brankas.web.keys import rewrap as engine
from brankas.web.keys.models import HolderKey, RewrapJob
from brankas.web.keys.rewrap import OnProgress, RewrapProgress, StoredFile
from brankas.web.keys.selectors import (
    RECOVERY,
    Purpose,
    Recipients,
    recipients_adding,
    recipients_for,
)
from brankas.web.runtime import brankas_settings


@dataclass
class RewrapSummary:
    """What a grant or rekey did. ``files``/``bytes``: re-encrypted now; ``skipped``: files
    the target could already open; ``failed``: files left as they were (each opens as
    before; a re-run tries them again), with the reason."""

    kind: str  # RewrapJob.GRANT or REKEY
    job_id: int
    grantee: str = ""  # grant: the username that gained access
    grantee_fingerprint: str = ""
    via: str = ""  # "recovery" or the granter's username
    files: int = 0
    bytes: int = 0
    documents: int = 0
    letters: int = 0
    combinations: int = 0
    skipped: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    unreadable: int = 0  # files the granter's keys do not open (left out)
    sealed: int = 0  # sealed register values re-encrypted (issue 16)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Opener:
    """What opens the files: the granter's own keys (not revoked), or the recovery key."""

    identities: dict[str, Any]  # fingerprint -> identity
    via: str  # RECOVERY, or the granter's username
    via_fingerprint: str  # the recovery fingerprint, or the granter's first key's

    def for_file(self, recipients: Iterable[str]) -> list[Any]:
        return [self.identities[fp] for fp in recipients if fp in self.identities]


def _opener(actor: User, passphrase: str | None, recovery: x25519.Identity | None,
            *, target: str) -> _Opener:
    """Who opens: with ``recovery`` the admin (``GRANT_KEY_WITH_SHARES``), else the actor's
    own keys with the passphrase (``GRANT_KEY``). Checked and audited before any file."""
    return _opening(actor, passphrase, recovery, target=target).result()


def _unlock(protected: list[tuple[str, bytes]], passphrase: str,
            username: str) -> dict[str, Any]:
    """The keys ``passphrase`` opens, fingerprint -> identity (no database: a thread's)."""
    opened: dict[str, Any] = {}
    for fingerprint, identity_file in protected:
        begun = early.take(identity_file, passphrase)  # the same bytes and passphrase
        try:
            if begun is not None:  # unlocked since the command started (``keyring.early``)
                opened[fingerprint] = begun.result()
            else:
                opened[fingerprint] = crypto.unlock_identity(identity_file, passphrase,
                                                             username=username)
        except CryptoFailure:
            continue  # an older key under another passphrase: its files stay unread
    return opened


class _Opening:
    """The granter's keys being unlocked: the scrypt work (about a second, without the
    interpreter's lock: ``keyring.agepass``) runs in a thread of its own while the grant
    gets on with what needs no key (the grantee, the archive lock, the list of files and
    the first files' payloads, ``_Ahead``). ``result`` gives the ``_Opener``, or raises
    (and audits, once) a wrong passphrase, in the calling thread."""

    def __init__(self, *, via: str, candidates: set[str], opener: _Opener | None = None,
                 unlocking: Future[dict[str, Any]] | None = None, target: str = "") -> None:
        self.via = via  # RECOVERY, or the granter's username
        self.candidates = candidates  # the fingerprints that may open (before the unlock)
        self._opener = opener
        self._unlocking = unlocking
        self._target = target
        self._refused = False

    def done(self) -> bool:
        return self._unlocking is None or self._unlocking.done()

    def may_open(self, recipients: Iterable[str]) -> bool:
        return any(fp in self.candidates for fp in recipients)

    def result(self) -> _Opener:
        if self._opener is not None:
            return self._opener
        assert self._unlocking is not None
        opened = self._unlocking.result()
        if not opened:
            if not self._refused:
                self._refused = True
                audit_record(actor=self.via, action="key.grant", target=self._target,
                             outcome="failed", detail={"error": "passphrase_wrong"})
            raise CryptoFailure("passphrase_wrong", username=self.via)
        self._opener = _Opener(opened, self.via, next(iter(opened)))
        return self._opener


def _opening(actor: User, passphrase: str | None, recovery: x25519.Identity | None,
             *, target: str) -> _Opening:
    """``_opener`` begun: the role checked and audited, the actor's keys found, and their
    unlock started in a thread (the recovery identity needs none)."""
    if recovery is not None:
        require_audited(actor, Action.GRANT_KEY_WITH_SHARES, target=target)
        office = Office.objects.get()
        if str(recovery.to_public()) != office.recovery_recipient:
            raise InvalidInput("field_invalid", field="identity",
                               detail=("bukan identitas pemulihan kantor ini",
                                       "not this office's recovery identity"))
        fp = crypto.recipient_fingerprint(office.recovery_recipient)
        return _Opening(via=RECOVERY, candidates={fp},
                        opener=_Opener({fp: recovery}, RECOVERY, fp))
    require_audited(actor, Action.GRANT_KEY, target=target)
    if not passphrase:
        raise CryptoFailure("passphrase_missing")
    keys = list(HolderKey.objects.filter(holder=actor, revoked_at__isnull=True)
                .order_by("-created_at"))
    if not keys:
        if HolderKey.objects.filter(holder=actor).exists():
            revoked = HolderKey.objects.filter(holder=actor).first()
            raise AccessDenied("key_revoked", username=actor.username,
                               fingerprint=revoked.fingerprint if revoked else "")
        raise InvalidInput("grant_no_key", username=actor.username)
    protected = [(k.fingerprint, bytes(k.protected_identity)) for k in keys]
    unlocker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="brankas-unlock")
    try:
        unlocking = unlocker.submit(_unlock, protected, passphrase, actor.username)
    finally:
        unlocker.shutdown(wait=False)  # its one thread ends with the unlock
    return _Opening(via=actor.username, candidates={k.fingerprint for k in keys},
                    unlocking=unlocking, target=target)


# While the key is being unlocked, one thread copies the payloads of the first files
# (up to this many bytes) into staging files, leaving room for their new headers: the
# unlock keeps one core, the copy (reading, hashing, writing) takes the other.
AHEAD_BYTES = 512 << 20


class _Ahead:
    """The first files' payloads copied while the granter's key is being unlocked
    (``keys.rewrap.precopy_file``); ``take`` hands a file's copy to the worker that
    writes its header once the key is open (``keys.rewrap.finish_file``). A copy begun
    after the unlock ended is not made (that file takes the usual way); ``discard``
    removes every copy not taken."""

    def __init__(self) -> None:
        self._copier: ThreadPoolExecutor | None = None
        self._copies: dict[StoredFile, tuple[list[str], Future[Precopied | None]]] = {}
        # handed over by ``take`` but not yet claimed by the worker that finishes it
        # (``_stage_ahead``): a worker's task cancelled before it ran never claims its
        # copy, and ``discard`` removes it (dict operations: atomic)
        self._handed: dict[StoredFile, Future[Precopied | None]] = {}

    def start(self, files: list[StoredFile], *, readers_of: Any, opening: _Opening) -> None:
        if opening.done() or not files:
            return
        self._copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="brankas-ahead")
        sizes: dict[tuple[str, ...], int] = {}
        budget = AHEAD_BYTES
        for stored in files:
            if budget <= 0:
                break
            try:
                recipients = readers_of(stored).age()
                key = tuple(recipients)
                if key not in sizes:
                    sizes[key] = header_size_for(recipients)
            except Exception:  # noqa: BLE001, S112 - refused again, and reported, in its turn
                continue
            self._copies[stored] = (recipients, self._copier.submit(
                self._copy, stored, sizes[key], opening))
            budget -= stored.size

    @staticmethod
    def _copy(stored: StoredFile, header_size: int, opening: _Opening) -> Precopied | None:
        if opening.done():
            return None
        return engine.precopy_file(stored, header_size=header_size)

    def take(self, stored: StoredFile, recipients: list[str]) -> Future[Precopied | None] | None:
        entry = self._copies.pop(stored, None)
        if entry is None:
            return None
        if entry[0] != recipients:  # the readers changed meanwhile: the usual way
            self._drop(entry[1])
            return None
        self._handed[stored] = entry[1]
        return entry[1]

    def claim(self, stored: StoredFile) -> None:
        """The worker finishing ``stored``'s copy owns it from here (it removes it on
        failure)."""
        self._handed.pop(stored, None)

    def discard(self) -> None:
        for _recipients, copy in self._copies.values():
            self._drop(copy)
        self._copies.clear()
        for copy in self._handed.values():
            self._drop(copy)
        self._handed.clear()
        if self._copier is not None:
            self._copier.shutdown(wait=True)

    @staticmethod
    def _drop(copy: Future[Precopied | None]) -> None:
        if copy.cancel():
            return
        with contextlib.suppress(BaseException):
            pre = copy.result()
            if pre is not None:
                pre.path.unlink(missing_ok=True)


def _stage_ahead(stored: StoredFile, copy: Future[Precopied | None], ahead: _Ahead, *,
                 identities: list[Any], recipients: list[str]) -> Rewrapped:
    """A grant's step 1 for a file whose payload was copied ahead (or not, if the key was
    open first): its header written into the copy."""
    ahead.claim(stored)
    try:
        pre = copy.result()
    except BrankasError:  # (tmp/ full then, the file changed...): the usual way, which
        pre = None  # meets and reports whatever is still wrong, as without the copy
    if pre is None:
        return engine.stage_file(stored, identities=identities, recipients=recipients,
                                 header_only=True, sync=False)
    return engine.finish_file(stored, pre, identities=identities, recipients=recipients,
                              sync=False)


def _grantee_key(to: str) -> tuple[User, HolderKey]:
    user = user_get(to)
    key = HolderKey.objects.active().filter(holder=user).select_related("holder").first()
    if key is None:
        revoked = HolderKey.objects.filter(holder=user, revoked_at__isnull=False).first()
        if revoked is not None and not HolderKey.objects.unretired().filter(holder=user).exists():
            raise InvalidInput("key_revoked", username=user.username,
                               fingerprint=revoked.fingerprint)
        raise InvalidInput("grant_no_key", username=user.username)
    return user, key


def _all_files() -> Iterator[StoredFile]:
    yield from engine.exempted_documents()
    yield from engine.encrypted_letters()


def _progress(on_progress: OnProgress | None, job: RewrapJob, current: str = "") -> None:
    if on_progress is None:
        return
    job.refresh_from_db(fields=["files_done", "files_total", "bytes_done", "bytes_total"])
    on_progress(RewrapProgress(job.files_done, job.files_total, job.bytes_done,
                               job.bytes_total, current, job.pk))


def _run_files(files: list[StoredFile], *, opener: _Opener, readers_of: Any, job: RewrapJob,
               action: str, actor: User, detail: dict[str, Any], summary: RewrapSummary,
               on_progress: OnProgress | None, header_only: bool = False,
               ahead: _Ahead | None = None, meanwhile: Iterator[None] | None = None) -> None:
    """Each file through ``keys.rewrap``. ``header_only`` (a grant): only the age header is
    rewritten, by worker threads of this process ahead of the recording (the payload is
    copied, not decrypted: no helper process is needed), and this thread takes steps of
    ``meanwhile`` whenever it would wait for them; else (a rekey) helper processes
    re-encrypt side by side."""
    _progress(on_progress, job)
    if header_only:
        _headers_ahead(files, opener=opener, readers_of=readers_of, job=job, action=action,
                       actor=actor, detail=detail, summary=summary, on_progress=on_progress,
                       ahead=ahead, meanwhile=meanwhile)
        return
    if len(files) < 2:
        _each_file(files, opener=opener, readers_of=readers_of, job=job, action=action,
                   actor=actor, detail=detail, summary=summary, on_progress=on_progress)
        return
    try:  # several files side by side, one helper process per core (as `age | age` does)
        pool = RewrapPool(list(opener.identities.values()), workers_for(len(files)))
    except OSError:  # no helper process here: one file after the other in this process
        _each_file(files, opener=opener, readers_of=readers_of, job=job, action=action,
                   actor=actor, detail=detail, summary=summary, on_progress=on_progress)
        return
    settings = brankas_settings()
    readers: dict[StoredFile, Recipients] = {}

    def recipients_of(stored: StoredFile) -> list[str]:
        readers[stored] = readers_of(stored)
        return readers[stored].age()

    with pool:
        results = pool.run(files, src_of=lambda s: store.absolute(settings, s.path),
                           tmp=settings.tmp, recipients_of=recipients_of)
        for stored, result in results:
            try:
                if isinstance(result, RewrapFailed):
                    raise CryptoFailure("rewrap_failed", name=stored.number,
                                        detail=str(result))
                if isinstance(result, Exception):
                    raise result
                engine.keep_rewrapped(stored, result, readers=readers.pop(stored),
                                      job=job, action=action, actor=actor.username,
                                      detail=detail)
            except BrankasError as exc:
                _failed(summary, stored, exc, actor=actor, action=action, detail=detail)
            else:
                _done(summary, stored)
            _progress(on_progress, job, stored.number)


# Two worker threads write new headers and copy payloads ahead of the recording, up to
# eight files ahead: the copies are bound by the disk (each file is fsynced), and two
# files in flight keep it busier than one. Each thread holds one 8 MiB copy buffer.
# The recording takes KEEP_TOGETHER staged files at a time (one transaction), and the
# workers stage up to HEADERS_AHEAD files after those meanwhile.
HEADER_WORKERS = 4
HEADERS_AHEAD = 8
KEEP_TOGETHER = 8
# Sealed rows re-encrypted per step (one transaction) while the workers copy files: a
# step is short enough (a few dozen values) not to keep the staged files waiting long.
SEALED_ROWS_MEANWHILE = 16
_DONE = object()  # the end of ``meanwhile``


def _headers_ahead(files: list[StoredFile], *, opener: _Opener, readers_of: Any,
                   job: RewrapJob, action: str, actor: User, detail: dict[str, Any],
                   summary: RewrapSummary, on_progress: OnProgress | None,
                   ahead: _Ahead | None = None, meanwhile: Iterator[None] | None = None
                   ) -> None:
    """A grant's files: worker threads write the next files' new headers and copy
    their payloads into staging files (``keys.rewrap.stage_file``: hashing and copying,
    which run without the interpreter's lock, and the writeback begun; each group's files
    are fsynced together by ``keep_rewrapped_many`` before they are published: one pass
    instead of an fsync per file in each worker) while this thread checks, publishes,
    records and audits the staged files in order, those staged together in one transaction
    (``keep_rewrapped_many``). Whenever the next files are not staged yet, this thread takes
    a step of ``meanwhile`` (other work of the grant: the sealed values) instead of
    waiting. The database is used in this thread only. On any way out, staged files not
    kept are removed."""
    pending: deque[tuple[StoredFile, Recipients | None, Future[Rewrapped] | BrankasError]]
    pending = deque()
    source = iter(files)
    with ThreadPoolExecutor(max_workers=HEADER_WORKERS,
                            thread_name_prefix="brankas-grant") as worker, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="brankas-sync") as syncer:

        def feed() -> None:
            while len(pending) < HEADERS_AHEAD:
                stored = next(source, None)
                if stored is None:
                    return
                try:
                    readers: Recipients = readers_of(stored)
                except BrankasError as exc:
                    pending.append((stored, None, exc))
                    continue
                recipients = readers.age()
                copy = ahead.take(stored, recipients) if ahead is not None else None
                if ahead is not None and copy is not None:  # copied while the key was unlocked
                    pending.append((stored, readers, worker.submit(
                        _stage_ahead, stored, copy, ahead,
                        identities=opener.for_file(stored.recipients), recipients=recipients)))
                    continue
                pending.append((stored, readers, worker.submit(
                    engine.stage_file, stored, identities=opener.for_file(stored.recipients),
                    recipients=recipients, header_only=True, sync=False)))

        taken: list[tuple[StoredFile, Recipients | None,
                          Future[Rewrapped] | BrankasError]] = []
        try:
            feed()
            while pending:
                # The next files, recorded together (``keep_rewrapped_many``: one folder
                # fsync, one commit and one audit append for them all); the workers go on
                # with the files after them meanwhile.
                while pending and len(taken) < KEEP_TOGETHER:
                    taken.append(pending.popleft())
                feed()
                while meanwhile is not None and not all(
                        isinstance(work, BrankasError) or work.done()
                        for _stored, _held, work in taken):
                    if next(meanwhile, _DONE) is _DONE:
                        meanwhile = None
                keep: list[tuple[StoredFile, Rewrapped, Recipients]] = []
                outcomes: dict[StoredFile, BrankasError | None] = {}
                for stored, held, work in taken:
                    try:
                        if isinstance(work, BrankasError):
                            raise work
                        staged = work.result()
                    except BrankasError as exc:
                        outcomes[stored] = exc
                        continue
                    assert held is not None
                    keep.append((stored, staged, held))
                if meanwhile is not None and any(not staged.synced
                                                 for _stored, staged, _held in keep):
                    # The group's fsync (else ``keep_rewrapped_many``'s, before it publishes)
                    # runs in a thread while this one takes steps of ``meanwhile``; a file
                    # whose fsync failed fails alone (its staging file removed).
                    syncing = syncer.submit(engine.sync_staged, [
                        (stored, staged) for stored, staged, _held in keep])
                    while meanwhile is not None and not syncing.done():
                        if next(meanwhile, _DONE) is _DONE:
                            meanwhile = None
                    unsynced = syncing.result()
                    outcomes.update(unsynced)
                    keep = [(stored, replace(staged, synced=True), held)
                            for stored, staged, held in keep if stored not in unsynced]
                order = [stored for stored, _readers, _work in taken]
                taken.clear()  # the staged files are keep_rewrapped_many's from here
                if keep:
                    results = engine.keep_rewrapped_many(
                        keep, job=job, action=action, actor=actor.username, detail=detail)
                    for (stored, _staged, _readers), result in zip(keep, results, strict=True):
                        outcomes[stored] = result if isinstance(result, BrankasError) else None
                if on_progress is not None:  # counted file by file, as recorded
                    job.refresh_from_db(fields=["files_done", "files_total", "bytes_done",
                                                "bytes_total"])
                    files_done = job.files_done - sum(o is None for o in outcomes.values())
                    bytes_done = job.bytes_done - sum(s.size for s, o in outcomes.items()
                                                      if o is None)
                for stored in order:
                    failure = outcomes[stored]
                    if failure is not None:
                        _failed(summary, stored, failure, actor=actor, action=action,
                                detail=detail)
                    else:
                        _done(summary, stored)
                    if on_progress is not None:
                        if failure is None:
                            files_done += 1
                            bytes_done += stored.size
                        on_progress(RewrapProgress(files_done, job.files_total, bytes_done,
                                                   job.bytes_total, stored.number, job.pk))
                feed()
        finally:
            for _held_file, _held_readers, work in [*taken, *pending]:
                if isinstance(work, Future) and not work.cancel():
                    with contextlib.suppress(BaseException):
                        work.result().path.unlink(missing_ok=True)


def _failed(summary: RewrapSummary, stored: StoredFile, exc: BrankasError, *, actor: User,
            action: str, detail: dict[str, Any]) -> None:
    summary.failed.append({"number": stored.number, "kind": stored.kind,
                           "error": exc.code, "message": exc.message()})
    audit_record(actor=actor.username, action=action, target=stored.number,
                 outcome="failed", detail={**detail, "kind": stored.kind, "error": exc.code})


def _done(summary: RewrapSummary, stored: StoredFile) -> None:
    summary.files += 1
    summary.bytes += stored.size
    if stored.kind == engine.DOCUMENT:
        summary.documents += 1
    else:
        summary.letters += 1


def _each_file(files: list[StoredFile], *, opener: _Opener, readers_of: Any, job: RewrapJob,
               action: str, actor: User, detail: dict[str, Any], summary: RewrapSummary,
               on_progress: OnProgress | None) -> None:
    for stored in files:
        try:
            readers: Recipients = readers_of(stored)
            engine.rewrap_file(stored, identities=opener.for_file(stored.recipients),
                               readers=readers, job=job, action=action,
                               actor=actor.username, detail=detail)
        except BrankasError as exc:
            _failed(summary, stored, exc, actor=actor, action=action, detail=detail)
        else:
            _done(summary, stored)
        _progress(on_progress, job, stored.number)


def _finish(job: RewrapJob, summary: RewrapSummary, actor: User, action: str,
            target: str) -> RewrapSummary:
    job.state = RewrapJob.FAILED if summary.failed else RewrapJob.DONE
    job.finished_at = timezone.now()
    job.summary = summary.as_dict()
    with transaction.atomic():
        job.save(update_fields=["state", "finished_at", "summary"])
        audit_record(actor=actor.username, action=action, target=target,
                     outcome="failed" if summary.failed else "ok",
                     detail={"stage": "summary", **{k: v for k, v in summary.as_dict().items()
                                                   if k != "failed"},
                             "failed": [f["number"] for f in summary.failed]})
    return summary


def _start_job(*, kind: str, actor: User, via: str, files: list[StoredFile],
               grantee_key: HolderKey | None = None,
               revoked_key: HolderKey | None = None) -> RewrapJob:
    return RewrapJob.objects.create(
        kind=kind, actor=actor, grantee_key=grantee_key, revoked_key=revoked_key, via=via,
        files_total=len(files), bytes_total=sum(f.size for f in files),
        started_at=timezone.now())


# -- grant ----------------------------------------------------------------------------------

def key_grant(*, actor: User, to: str, passphrase: str | None = None,
              recovery: x25519.Identity | None = None,
              on_progress: OnProgress | None = None) -> RewrapSummary:
    """Open to ``to``'s active key every exempted document, request letter and (when that
    role may read them) safe combination that the granter opens: the actor's own keys with
    ``passphrase``, or the office recovery identity ``recovery`` (rebuilt from the shares;
    the admin). Crash-safe and resumable: a re-run re-encrypts what is still missing.

    The granter's keys are unlocked in a thread (``_Opening``) while the grantee is
    checked, the archive locked and the first files' payloads copied; every refusal
    still names a wrong passphrase first, as when the unlock came first."""
    opening = _opening(actor, passphrase, recovery, target=to)
    try:
        grantee, key = _grantee_key(to)
        if opening.via != RECOVERY and grantee.pk == actor.pk:
            raise InvalidInput("grant_to_self", username=actor.username)
    except BrankasError as exc:  # refused for whom it is for: audited as a wrong passphrase is
        opening.result()  # a wrong passphrase is named (and audited) first
        audit_record(actor=actor.username, action="key.grant", target=to, outcome="failed",
                     detail={"error": exc.code, "granter": opening.via})
        raise
    try:
        with engine.archive_exclusive():
            return _grant_locked(actor=actor, grantee=grantee, key=key, opening=opening,
                                 on_progress=on_progress)
    except BrankasError:
        opening.result()  # likewise (the archive busy, nothing to grant...)
        raise


class _KeyState:
    """Every holder key as it stands now (pk, revoked, retired, its holder active): the
    grant asks before every file and every sealed value whether a key changed meanwhile
    (a revocation while it runs), about a thousand times. The query is made by the ORM
    once and then run as it is: compiling a queryset anew each time was most of the cost
    (a fifth of the grant's Python time at 1 GiB)."""

    def __init__(self) -> None:
        query = HolderKey.objects.order_by("pk").values_list(
            "pk", "revoked_at", "retired_at", "holder__is_active")
        self._db = query.db
        self._sql, self._params = query.query.sql_with_params()

    def read(self) -> tuple[Any, ...]:
        with connections[self._db].cursor() as cursor:
            cursor.execute(self._sql, self._params)
            return tuple(cursor.fetchall())


def _grant_locked(*, actor: User, grantee: User, key: HolderKey, opening: _Opening,
                  on_progress: OnProgress | None) -> RewrapSummary:
    target_fp = key.fingerprint
    candidates: list[StoredFile] = []
    skipped = unreadable = 0
    for stored in _all_files():
        if target_fp in stored.recipients:
            skipped += 1
        elif opening.may_open(stored.recipients):
            candidates.append(stored)
        else:
            unreadable += 1

    known: dict[tuple[Any, ...], Recipients] = {}
    seen: list[tuple[Any, ...]] = []
    keys_now = _KeyState()

    def readers_for(purpose: Purpose, recipients: Iterable[str]) -> Recipients:
        # Most files and sealed values share the same readers: asked once per set of
        # readers, and again after any key changed meanwhile (a revocation while the
        # grant runs counts).
        state = keys_now.read()
        if seen != [state]:
            known.clear()
            seen[:] = [state]
        cache_key = (purpose, tuple(recipients))
        if cache_key not in known:
            known[cache_key] = recipients_adding(list(cache_key[1]), key, purpose=purpose)
        return known[cache_key]

    def readers_of(stored: StoredFile) -> Recipients:
        return readers_for(Purpose.DOCUMENT if stored.kind == engine.DOCUMENT
                           else Purpose.LETTER, stored.recipients)

    ahead = _Ahead()
    try:
        ahead.start(candidates, readers_of=readers_of, opening=opening)
        opener = opening.result()
        todo = [stored for stored in candidates if opener.for_file(stored.recipients)]
        unreadable += len(candidates) - len(todo)  # only an older key under another passphrase
        combos = _combinations_to_grant(opener, key)
        if not todo and not combos and not skipped:
            raise InvalidInput("grant_nothing", granter=opener.via, username=grantee.username)
        job = _start_job(kind=RewrapJob.GRANT, actor=actor, via=opener.via_fingerprint
                         if opener.via != RECOVERY else RECOVERY, files=todo, grantee_key=key)
        summary = RewrapSummary(kind=RewrapJob.GRANT, job_id=job.pk, grantee=grantee.username,
                                grantee_fingerprint=target_fp, via=opener.via, skipped=skipped,
                                unreadable=unreadable)
        detail = {"granter": opener.via, "grantee": grantee.username, "grantee_key": target_fp,
                  "job": job.pk}
        audit_record(actor=actor.username, action="key.grant", target=grantee.username,
                     detail={"stage": "start", **detail, "files": len(todo),
                             "bytes": job.bytes_total, "skipped": skipped,
                             "combinations": len(combos)})
        # The sealed register fields (issue 16) are re-encrypted a few rows at a time by
        # this thread while the worker threads copy files (``_headers_ahead``), the rest
        # after the files.
        sealed = SealedRewrap()
        sealed_steps = rewrap_sealed_steps(
            sealed, identities_for=opener.for_file, rows=SEALED_ROWS_MEANWHILE,
            readers_for=lambda purpose, to: None if target_fp in to else readers_for(
                purpose, to), on_batch=_sealed_batch_audit(actor, "key.grant", detail))
        # A grant adds a reader to files whose contents stay: only the age header is
        # rewritten (the same file key; docs/security.md). A rekey below makes fresh keys.
        with _cut_short_audited(job, summary, actor, "key.grant", grantee.username, detail):
            _run_files(todo, opener=opener, readers_of=readers_of, job=job,
                       action="key.grant.file", actor=actor, detail=detail, summary=summary,
                       on_progress=on_progress, header_only=True, ahead=ahead,
                       meanwhile=sealed_steps)
    finally:
        ahead.discard()
    with _cut_short_audited(job, summary, actor, "key.grant", grantee.username, detail):
        summary.combinations = _rewrap_combinations(
            combos, opener=opener, readers_of=lambda c: recipients_adding(
                c.fingerprints, key, purpose=Purpose.COMBINATION),
            actor=actor, action="key.grant", detail=detail, summary=summary)
        for _step in sealed_steps:  # what the files left to do
            pass
        _sealed_done(summary, sealed, actor, "key.grant", detail)
    return _finish(job, summary, actor, "key.grant", grantee.username)


@contextlib.contextmanager
def _cut_short_audited(job: RewrapJob, summary: RewrapSummary, actor: User, action: str,
                       target: str, detail: dict[str, Any]) -> Iterator[None]:
    """A grant or rekey that stops on an error after its start (a database error, the
    disk full, the grantee's key revoked meanwhile, an interrupt): its job is marked
    failed and the stop audited (what was done before stays done, and audited, and a
    re-run continues), then the error goes on."""
    try:
        yield
    except BaseException as exc:
        error = exc.code if isinstance(exc, BrankasError) else type(exc).__name__
        with contextlib.suppress(Exception):  # the error raised is what the caller sees
            job.state = RewrapJob.FAILED
            job.finished_at = timezone.now()
            job.summary = {**summary.as_dict(), "error": error}
            with transaction.atomic():
                job.save(update_fields=["state", "finished_at", "summary"])
                audit_record(actor=actor.username, action=action, target=target,
                             outcome="failed", detail={"stage": "interrupted", **detail,
                                                       "error": error,
                                                       "files_done": summary.files})
        raise


def _sealed_batch_audit(actor: User, action: str, detail: dict[str, Any]) -> Any:
    """``rewrap_sealed``'s ``on_batch``: the rows of one batch audited in its transaction."""

    def audit(model_name: str, pks: list[Any], values: int) -> None:
        audit_record(actor=actor.username, action=action, target="*",
                     detail={"stage": "sealed.rows", **detail, "kind": model_name,
                             "rows": pks, "values": values})

    return audit


def _combination_role_ok(key: HolderKey) -> bool:
    return key.holder.role in brankas_settings().combination_roles


def _combinations_to_grant(opener: _Opener, key: HolderKey) -> list[SafeCombination]:
    if not _combination_role_ok(key):
        return []
    out = []
    for combo in SafeCombination.objects.select_related("safe").order_by("pk"):
        if key.fingerprint in combo.fingerprints:
            continue
        if opener.via == RECOVERY or opener.for_file(combo.fingerprints):
            out.append(combo)
    return out


def _rewrap_combinations(combos: list[SafeCombination], *, opener: _Opener, readers_of: Any,
                         actor: User, action: str, detail: dict[str, Any],
                         summary: RewrapSummary) -> int:
    """Combinations are small: re-wrapped in memory, all in one transaction. One that does
    not open (damaged) is left as it was and named in ``summary.failed``."""
    if not combos:
        return 0
    done = 0
    with transaction.atomic():
        for combo in combos:
            identities = list(opener.identities.values()) if opener.via == RECOVERY \
                else opener.for_file(combo.fingerprints)
            try:
                plain = crypto.decrypt_bytes(bytes(combo.ciphertext), identities)
            except Exception as exc:  # noqa: BLE001 - pyrage: damaged, or not a reader
                failure = CryptoFailure("rewrap_failed", name=combo.safe.name,
                                        detail=str(exc))
                summary.failed.append({"number": combo.safe.name, "kind": "combination",
                                       "error": failure.code, "message": failure.message()})
                audit_record(actor=actor.username, action=action, target=combo.safe.name,
                             outcome="failed", detail={**detail, "kind": "combination",
                                                       "error": failure.code})
                continue
            done += 1
            readers: Recipients = readers_of(combo)
            combo.ciphertext = crypto.encrypt_bytes(plain, readers.age())
            combo.fingerprints = readers.holder_fingerprints()
            combo.save(update_fields=["ciphertext", "fingerprints"])
            del plain
        audit_record(actor=actor.username, action=action, target="*",
                     detail={"stage": "combinations", **detail,
                             "safes": sorted({c.safe.name for c in combos})})
    return done


# -- rekey ----------------------------------------------------------------------------------

def key_rekey(*, actor: User, passphrase: str | None = None,
              recovery: x25519.Identity | None = None, on_progress: OnProgress | None = None,
              revoked_key: HolderKey | None = None) -> RewrapSummary:
    """Re-encrypt every exempted document, request letter and safe combination under fresh
    file keys to today's readers (``recipients_for``: the active holders and the recovery
    key), so that a revoked or copied key opens none of the current files. With the
    recovery identity (the admin, from shares) every file; with a holder's passphrase the
    files that holder opens. A re-run after an interruption continues the same job."""
    opener = _opener(actor, passphrase, recovery, target="*")
    with engine.archive_exclusive():
        return _rekey_locked(actor=actor, opener=opener, on_progress=on_progress,
                             revoked_key=revoked_key)


def _rekey_locked(*, actor: User, opener: _Opener, on_progress: OnProgress | None,
                  revoked_key: HolderKey | None) -> RewrapSummary:
    resumed = (RewrapJob.objects.filter(kind=RewrapJob.REKEY).exclude(state=RewrapJob.DONE)
               .order_by("-started_at").first())
    done: set[tuple[str, int]] = set()
    if resumed is not None:
        done = set(resumed.superseded.values_list("kind", "object_id"))
    readers = {engine.DOCUMENT: recipients_for(purpose=Purpose.DOCUMENT),
               engine.LETTER: recipients_for(purpose=Purpose.LETTER)}
    today = {kind: {r.fingerprint for r in readers[kind].all()} for kind in readers}
    todo: list[StoredFile] = []
    unreadable = skipped = 0
    for stored in _all_files():
        # Done by the job resumed, and still to today's readers only: a key revoked since
        # that job ran must not keep the files it re-encrypted.
        if (stored.kind, stored.object_id) in done and \
                set(stored.recipients) == today[stored.kind]:
            skipped += 1
            continue
        if opener.for_file(stored.recipients):
            todo.append(stored)
        else:
            unreadable += 1
    if resumed is not None:
        job = resumed
        job.state = RewrapJob.RUNNING
        job.finished_at = None
        job.files_total = job.files_done + len(todo)
        job.bytes_total = job.bytes_done + sum(f.size for f in todo)
        job.save(update_fields=["state", "finished_at", "files_total", "bytes_total"])
    else:
        job = _start_job(kind=RewrapJob.REKEY, actor=actor, files=todo,
                         via=opener.via_fingerprint if opener.via != RECOVERY else RECOVERY,
                         revoked_key=revoked_key)
    summary = RewrapSummary(kind=RewrapJob.REKEY, job_id=job.pk, via=opener.via,
                            skipped=skipped, unreadable=unreadable)
    detail = {"via": opener.via, "job": job.pk,
              "readers": readers[engine.DOCUMENT].holder_fingerprints()}
    audit_record(actor=actor.username, action="key.rekey", target="*",
                 detail={"stage": "start", **detail, "files": len(todo),
                         "bytes": job.bytes_total, "resumed": resumed is not None})
    with _cut_short_audited(job, summary, actor, "key.rekey", "*", detail):
        _rekey_run(todo, opener=opener, readers=readers, job=job, actor=actor, detail=detail,
                   summary=summary, on_progress=on_progress)
    return _finish(job, summary, actor, "key.rekey", "*")


def _rekey_run(todo: list[StoredFile], *, opener: _Opener, readers: dict[str, Recipients],
               job: RewrapJob, actor: User, detail: dict[str, Any], summary: RewrapSummary,
               on_progress: OnProgress | None) -> None:
    _run_files(todo, opener=opener, readers_of=lambda s: readers[s.kind], job=job,
               action="key.rekey.file", actor=actor, detail=detail, summary=summary,
               on_progress=on_progress)
    combos = [c for c in SafeCombination.objects.select_related("safe").order_by("pk")
              if opener.via == RECOVERY or opener.for_file(c.fingerprints)]
    try:
        combination_readers = recipients_for(purpose=Purpose.COMBINATION)
    except SetupError:
        combos = []  # no holder may read one: they stay as they are (the recovery key opens them)
    else:
        summary.combinations = _rewrap_combinations(
            combos, opener=opener, readers_of=lambda c: combination_readers, actor=actor,
            action="key.rekey", detail=detail, summary=summary)
    _sealed_done(summary, rewrap_sealed(  # sealed register fields (issue 16): fresh, to today's
        identities_for=opener.for_file,
        readers_for=lambda purpose, to: None if set(to) == {
            r.fingerprint for r in readers[_KIND_OF[purpose]].all()} else readers[
                _KIND_OF[purpose]], on_batch=_sealed_batch_audit(actor, "key.rekey", detail)),
        actor, "key.rekey", detail)


_KIND_OF = {Purpose.DOCUMENT: engine.DOCUMENT, Purpose.LETTER: engine.LETTER}


def _sealed_done(summary: RewrapSummary, done: SealedRewrap, actor: User, action: str,
                 detail: dict[str, Any]) -> None:
    summary.sealed = done.values
    for where in done.failed:
        failure = CryptoFailure("rewrap_failed", name=where, detail="sealed")
        summary.failed.append({"number": where, "kind": "sealed", "error": failure.code,
                               "message": failure.message()})
    audit_record(actor=actor.username, action=action, target="*",
                 detail={"stage": "sealed", **detail, "values": done.values,
                         "failed": done.failed})
