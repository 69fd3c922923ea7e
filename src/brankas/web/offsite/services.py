"""Offsite copies (issue 18; docs/offsite.md): add a remote, push, verify, restore.

The objects are written through ``brankas.core.offsite.remote.Remote`` (the S3 layer:
checksums, retries, bandwidth limit, Object Lock), laid out by ``core.offsite.index``.
A push sends, in this order:

1. every file of the disk bag the remote lacks (the office's records, ``PushedObject``,
   say what it has): the archive, request letters, key files and anchors, then this
   push's folder (``backup/offsite-NNNN/``: registers, database snapshot, recipients) and
   the audit entries since the last push (one segment). A file not already ``.age`` is
   encrypted (age, to the holders and the recovery key) into a staging file of ciphertext
   as it is read; the objects the server confirmed are recorded in small batches (and
   when a push stops), so an interrupted push resumes where it stopped;
2. the index (encrypted), the manifest, bag-info, bagit, the tag manifest, each a new
   version;
3. last, the office seal (encrypted) naming the index's and the manifest's versions.

Every service takes an ``on_progress(files_done, files_total, bytes_done, bytes_total)``
callback, as the backup's, so a job can run it and show its progress.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import io
import json
import math
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from brankas.core import crypto, fsutil
from brankas.core.access import Action
from brankas.core.disk import format as fmt
from brankas.core.disk import seal as diskseal
from brankas.core.disk.layout import KEYS_DIR, RECIPIENTS, RUNS_DIR
from brankas.core.errors import (
    BrankasError,
    Conflict,
    CryptoFailure,
    IntegrityFailure,
    InvalidInput,
    NotFound,
)
from brankas.core.names import is_safe_component
from brankas.core.offsite import index as layout
from brankas.core.register import lock as archivelock
from brankas.core.register.store import HashingReader, HashingWriter
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import AuditEntry, audit_record, audit_record_many
from brankas.web.backup import runfiles
from brankas.web.backup import segments as auditsegments
from brankas.web.backup.paths import empty_target, outside_home
from brankas.web.consistency import one_view
from brankas.web.documents.models import Document
from brankas.web.keys.models import HolderKey
from brankas.web.keys.selectors import Purpose, recipients_for
from brankas.web.keys.services import (
    anchor_files,
    key_file_name,
    office_key,
    office_keys_trusted,
    recipients_text,
)
from brankas.web.offsite.models import Push, PushedObject, Remote
from brankas.web.runtime import brankas_settings
from brankas.web.sendrequests.selectors import request_letters

Progress = Callable[[int, int, int, int], None]  # files_done, files_total, bytes_done, bytes_total

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}")
MAX_RETENTION_DAYS = 36500
EXTEND_WHEN = 3  # a lock ending within a third of the retention period is extended
SEAL_VERSIONS_TRIED = 50  # newer forged seal versions than this are not all opened
# On a new machine (no records) every seal version is read, to find the newest push
# sealed: a daily push keeps about 400 (their locks run out after that).
SEAL_VERSIONS_READ_NEW = 2000
_RECORD_EVERY = 32  # objects confirmed by the server recorded in one transaction
UPLOADS = 8  # objects sent at once (s18 OD: bench/offsite.py)


# -- the S3 layer ------------------------------------------------------------------------

def _config(remote: Remote, bwlimit: int | None = None) -> Any:
    from brankas.core.offsite.remote import RemoteConfig

    return RemoteConfig(endpoint=remote.endpoint, bucket=remote.bucket, region=remote.region,
                        prefix=remote.prefix, retention_days=remote.retention_days,
                        bwlimit=bwlimit, credentials_file=remote.credentials_file or None)


def client_for(remote: Remote, bwlimit: int | None = None) -> Any:
    """The S3 client of ``remote`` (``core.offsite.remote.Remote``)."""
    from brankas.core.offsite.remote import Remote as S3

    return S3(_config(remote, bwlimit))


def _remote(name: str) -> Remote:
    found = Remote.objects.filter(name=name).first()
    if found is None:
        raise NotFound("offsite_remote_not_found", name=fmt.shown(name, 60))
    return found


# -- add --------------------------------------------------------------------------------

def checked_fields(name: str, endpoint: str, bucket: str, region: str, prefix: str,
                    retention_days: int, credentials_file: str | None) -> tuple[str, str]:
    """A remote's fields as ``offsite add`` takes them (the one home of these checks: the
    first-run recover page calls it too): the prefix and the credentials file's path."""

    def bad(what: str, detail: str) -> InvalidInput:
        return InvalidInput("offsite_field_invalid", field=what, detail=detail)

    if not _NAME.fullmatch(name) or not is_safe_component(name):
        raise bad("NAME", "huruf, angka, . _ - (maks. 60) / letters, digits, . _ - (max 60)")
    if (not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", endpoint) or len(endpoint) > 500
            or _endpoint_shown(endpoint) != endpoint):  # no KEY:SECRET@ in it
        raise bad("--endpoint", "http(s)://host[:port]")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
        raise bad("--bucket", "3-63: a-z 0-9 . -")
    if not re.fullmatch(r"[A-Za-z0-9-]{1,60}", region):
        raise bad("--region", region[:60])
    if not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise bad("--retention-days", f"1..{MAX_RETENTION_DAYS}")
    prefix = prefix.strip("/")
    parts = prefix.split("/") if prefix else []
    if len(prefix) > 200 or "\\" in prefix or any(p in ("", ".", "..") for p in parts):
        raise bad("--prefix", "a/b/c, tanpa .. / without ..")
    creds = ""
    if credentials_file:
        path = Path(credentials_file).expanduser().absolute()
        if not path.is_file():
            raise bad("--credentials-file", f"{path}: tidak ada / not found")
        creds = str(path)  # the path only: the secret stays in that file
    return prefix, creds


def _same_place(a: str, b: str) -> bool:
    return _endpoint_shown(a).rstrip("/").lower() == _endpoint_shown(b).rstrip("/").lower()


def _nested(a: str, b: str) -> bool:
    """One prefix holds the other (or they are the same): one remote would list the
    other's objects as its own, and both write the same tag names."""
    return a == b or not a or not b or b.startswith(a + "/") or a.startswith(b + "/")


def _endpoint_shown(endpoint: str) -> str:
    """The endpoint as it may be recorded or shown: a ``user:secret@`` typed into it (as
    some tools take the keys) removed, so that a credential never reaches a record."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1", endpoint)


def remote_add(*, actor: User, name: str, endpoint: str, bucket: str,
               region: str = "us-east-1", prefix: str = "", retention_days: int = 400,
               credentials_file: str | None = None) -> Remote:
    """Register a bucket as an offsite remote: checked (reachable, versioned, Object Lock
    on: else refused), then the canary (a locked version that must refuse a delete): a
    remote that lets it go is recorded, as NOT immutable."""
    require_audited(actor, Action.OFFSITE_ADD, target=name[:200])
    try:
        prefix, creds = checked_fields(name, endpoint, bucket, region, prefix, retention_days,
                                        credentials_file)
        if Remote.objects.filter(name=name).exists():
            raise Conflict("offsite_remote_exists", name=name)
        for other in Remote.objects.filter(bucket=bucket):
            if _same_place(other.endpoint, endpoint) and _nested(other.prefix, prefix):
                raise InvalidInput(
                    "offsite_field_invalid", field="--prefix",
                    detail=f"bertumpang dengan remote {other.name} / overlaps remote "
                           f"{other.name} ({other.prefix or '/'})")
        remote = Remote(name=name, remote_id=secrets.token_hex(16), endpoint=endpoint,
                        bucket=bucket, region=region, prefix=prefix,
                        retention_days=retention_days, credentials_file=creds,
                        added_by=actor, added_at=timezone.now())
        client = client_for(remote)
        client.check()
        canary = client.canary()
    except BrankasError as exc:
        audit_record(actor=actor.username, action="offsite.add", target=name[:200],
                     outcome="refused" if exc.kind in ("invalid", "conflict") else "failed",
                     detail={"error": exc.code, "endpoint": _endpoint_shown(endpoint)[:200],
                             "bucket": bucket})
        raise
    remote.immutable = bool(canary.immutable)
    remote.canary_at = timezone.now()
    remote.canary_detail = str(canary.detail)[:2000]
    with transaction.atomic():
        remote.save()
        audit_record(actor=actor.username, action="offsite.add", target=name,
                     detail={"endpoint": endpoint, "bucket": bucket, "region": region,
                             "prefix": prefix, "retention_days": retention_days,
                             "credentials_file": bool(creds),
                             "immutable": remote.immutable,
                             "canary": remote.canary_detail[:300]})
    return remote


# -- push -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Item:
    """A file of the disk bag to push: its payload path, where its bytes come from (a
    file or bytes), its own SHA-256 and size."""

    path: str
    source: str | bytes  # a file's path (text: 100,000 of them stay small), or the bytes
    sha256: str
    size: int
    cipher: tuple[str, int] | None = None  # source already encrypted: its SHA-256, size

    @property
    def wrap(self) -> str:
        """A file that is age already goes as it is; anything else is encrypted."""
        return layout.WRAP_PLAIN if self.path.endswith(".age") else layout.WRAP_AGE


@dataclass
class PushOutcome:
    push: Push
    remote: Remote
    damaged: list[str] = field(default_factory=list)  # archive files not matching the register

    @property
    def ok(self) -> bool:
        return self.push.status == Push.COMPLETED and not self.damaged

    def as_dict(self) -> dict[str, Any]:
        p = self.push
        return {"remote": self.remote.name, "push": p.number, "status": p.status,
                "folder": p.folder, "objects_sent": p.objects_sent, "bytes_sent": p.bytes_sent,
                "objects_skipped": p.objects_skipped, "files": p.files_total,
                "bytes": p.bytes_total, "retention_extended": p.retention_extended,
                "immutable": self.remote.immutable, "damaged": self.damaged,
                "started_at": p.started_at.isoformat(),
                "finished_at": p.finished_at.isoformat() if p.finished_at else None}


@contextlib.contextmanager
def _push_lock(remote: Remote) -> Iterator[None]:
    """One push per remote at a time (a lock file in the data folder's tmp/)."""
    tmp = brankas_settings().tmp
    fsutil.make_private_dir(tmp)
    fd = os.open(tmp / f"offsite-{remote.remote_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise Conflict("offsite_push_running", name=remote.name) from None
        yield
    finally:
        os.close(fd)


def offsite_push(*, actor: User, name: str, bwlimit: int | None = None,
                 on_progress: Progress | None = None,
                 on_start: Callable[[Push], None] | None = None) -> PushOutcome:
    """Push to the remote ``name`` what it lacks, then a new index, manifest and seal."""
    require_audited(actor, Action.OFFSITE_PUSH, target=name[:200])
    try:
        remote = _remote(name)
        with contextlib.ExitStack() as stack:
            stack.enter_context(archivelock.archive_lock(brankas_settings().tmp,
                                                         archivelock.BACKUP, shared=True))
            stack.enter_context(_push_lock(remote))
            client = client_for(remote, bwlimit)
            client.check()
            return _push(actor, remote, client, on_progress, on_start)
    except BrankasError as exc:
        if not getattr(exc, "_offsite_audited", False):
            audit_record(actor=actor.username, action="offsite.push", target=name[:200],
                         outcome="refused" if exc.kind in ("conflict", "not_found") else "failed",
                         detail={"error": exc.code})
        raise


def _push(actor: User, remote: Remote, client: Any, on_progress: Progress | None,
          on_start: Callable[[Push], None] | None) -> PushOutcome:
    # We hold the remote's lock: a push still "running" was interrupted.
    Push.objects.filter(remote=remote, status=Push.RUNNING).update(
        status=Push.FAILED, error="interrupted", finished_at=timezone.now())
    with transaction.atomic():
        number = (Push.objects.filter(remote=remote).aggregate(n=Max("number"))["n"] or 0) + 1
        push = Push.objects.create(remote=remote, number=number, folder=f"offsite-{number:04d}",
                                   operator=actor, started_at=timezone.now())
        audit_record(actor=actor.username, action="offsite.push.start", target=remote.name,
                     detail={"push": number})
    if on_start is not None:
        on_start(push)
    outcome = PushOutcome(push=push, remote=remote)
    try:
        with runfiles.RunFiles(brankas_settings().tmp) as files:
            items, recipients, head = _sources(files, remote, push)
            _send_payload(client, remote, push, items, recipients, files, outcome, on_progress)
            _send_tags(client, remote, push, recipients, head)
        push.retention_extended = _extend_locks(client, remote)
    except BaseException as exc:
        message = exc.message() if isinstance(exc, BrankasError) else repr(exc)
        code = exc.code if isinstance(exc, BrankasError) else type(exc).__name__
        Push.objects.filter(pk=push.pk).update(status=Push.FAILED, error=message[:2000],
                                               finished_at=timezone.now())
        push.refresh_from_db()
        audit_record(actor=actor.username, action="offsite.push", target=remote.name,
                     outcome="failed", detail={"push": push.number, "error": code,
                                               "objects_sent": push.objects_sent})
        if isinstance(exc, BrankasError):
            exc._offsite_audited = True  # type: ignore[attr-defined]
        raise
    push.status = Push.COMPLETED
    push.finished_at = timezone.now()
    # The push completed, the remote's last push and the audit entry saying so: one
    # transaction (one commit, one sync of the database's journal instead of three: s22,
    # a no-change push is mostly start-up and its commits), as the push's start is.
    with transaction.atomic():
        push.save()
        Remote.objects.filter(pk=remote.pk).update(last_push_at=push.finished_at)
        audit_record(actor=actor.username, action="offsite.push", target=remote.name,
                     outcome="ok" if not outcome.damaged else "problems",
                     detail={"push": push.number, "objects_sent": push.objects_sent,
                             "bytes_sent": push.bytes_sent, "skipped": push.objects_skipped,
                             "files": push.files_total, "extended": push.retention_extended,
                             "damaged": outcome.damaged[:100]})
    remote.refresh_from_db()
    return outcome


def _register_seq() -> int:
    """The disk's rule (``backup.registerseq``): the last audit entry that is
    not a sign-in or a backup's or a push's own bookkeeping."""
    from brankas.web.backup.registerseq import register_seq  # (not the backup's services)

    return register_seq()


# The purposes of a disk bag's encrypted files: the same readers for each (every active
# key and the recovery key; none of them refused without a holder: ``keys.selectors``),
# read once for the three (s22: four queries fewer a push; tests/offsite guard the sameness).
DISK_PURPOSES = (Purpose.REGISTER, Purpose.SNAPSHOT, Purpose.AUDIT_TAIL)


def _disk_readers() -> dict[Purpose, Any]:
    """``recipients_for`` each of ``DISK_PURPOSES``, read once."""
    readers = recipients_for(purpose=DISK_PURPOSES[0])
    return {p: replace(readers, purpose=p) for p in DISK_PURPOSES}


def _sources(files: runfiles.RunFiles, remote: Remote, push: Push
             ) -> tuple[list[_Item], list[str], tuple[int, str] | None]:
    """The disk bag's files, read in one transaction: the archive, letters, keys and
    anchors, and this push's folder (registers and snapshot written to ``files``,
    encrypted where a disk has them encrypted) and the audit segment since the last push."""
    home = str(brankas_settings().home)
    folder = f"{RUNS_DIR}/{push.folder}"
    with one_view():
        items = [_Item(p, os.path.join(home, p), sha, size) for p, sha, size in
                 Document.objects.order_by("id").values_list(
                     "stored_path", "stored_sha256", "stored_size").iterator(chunk_size=2000)]
        items.extend(_Item(p, os.path.join(home, p), sha, size)
                     for p, size, sha in request_letters())
        keys = list(HolderKey.objects.select_related("holder").order_by("id"))
        for k in keys:
            data = bytes(k.protected_identity)
            items.append(_Item(f"{KEYS_DIR}/{key_file_name(k)}", data,
                               layout.sha256(data), len(data)))
        for name, data in anchor_files():
            items.append(_Item(f"{KEYS_DIR}/{diskseal.ANCHORS_DIR}/{name}", data,
                               layout.sha256(data), len(data)))
        readers = _disk_readers()
        recipients = readers[Purpose.SNAPSHOT].age()
        push.register_seq = _register_seq()
        done = Push.objects.filter(remote=remote, status=Push.COMPLETED, snapshot=True)
        if not done.filter(register_seq=push.register_seq).exists():
            # The registers and the snapshot, unless a completed push holds them as they
            # still are (only sign-ins, backups and pushes happened since).
            from brankas.web.backup.services import _write_run_files  # the disk's writers

            sealing = _SealingFiles(files, recipients)
            made = _write_run_files(sealing, readers)  # type: ignore[arg-type]
            for n, w in made.items():
                if n in sealing.plain:  # encrypted here, the file's own hash in the index
                    sha, size = sealing.plain[n]
                    items.append(_Item(f"{folder}/{n}", str(w.path), sha, size,
                                       cipher=(w.sha256, w.size)))
                else:
                    items.append(_Item(f"{folder}/{n}", str(w.path), w.sha256, w.size))
            text = recipients_text(readers[Purpose.SNAPSHOT].recovery,
                                   list(readers[Purpose.SNAPSHOT].keys))
            items.append(_Item(f"{folder}/{RECIPIENTS}", text, layout.sha256(text), len(text)))
            push.snapshot = True
        row = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        head = (int(row[0]), str(row[1])) if row else None
        after = (Push.objects.filter(remote=remote, status=Push.COMPLETED)
                 .aggregate(s=Max("audit_seq"))["s"] or 0)
        if head is not None and head[0] > after:
            segment, written = auditsegments.segment_write(
                files, after, head[0], readers[Purpose.AUDIT_TAIL].age())
            items.append(_Item(segment.path, str(written.path), written.sha256, written.size))
    return items, recipients, head


class _SealingFiles:
    """The run's files as the disk's writers see them, with every file encrypted as it is
    written: a disk has the biasa register in the clear, an offsite copy has nothing in
    the clear, and no plaintext temporary file is made for it (docs/offsite.md).
    ``plain``: the SHA-256 and size of what was written, by name."""

    def __init__(self, files: runfiles.RunFiles, recipients: list[str]) -> None:
        self.files = files
        self.recipients = recipients
        self.plain: dict[str, tuple[str, int]] = {}

    @contextlib.contextmanager
    def write(self, name: str, *, recipients: list[str] | None = None
              ) -> Iterator[tuple[IO[bytes], list[runfiles.Written]]]:
        if recipients:
            with self.files.write(name, recipients=recipients) as made:
                yield made
            return
        with self.files.write(name, recipients=self.recipients) as (out, done):
            tee = HashingWriter(out)
            yield tee, done  # type: ignore[misc]
        self.plain[name] = (tee.hash.hexdigest(), tee.size)


def _open_source(item: _Item) -> IO[bytes]:
    """``item``'s bytes: a file as the S3 layer opens one to send (no link followed, no
    wait for a FIFO, a regular file, else ``offsite_source_changed``; r21)."""
    if isinstance(item.source, bytes):
        return io.BytesIO(item.source)
    from brankas.core.offsite.remote import open_source

    return open_source(Path(item.source), item.path)


def _retain_until(remote: Remote) -> datetime:
    return timezone.now() + timedelta(days=remote.retention_days)


IN_MEMORY = 1 << 20  # a file up to this size is encrypted in memory (no staging file)


def _encrypt(item: _Item, recipients: list[str], files: runfiles.RunFiles, name: str
             ) -> tuple[Path | bytes, str, int] | None:
    """``item`` encrypted to ``recipients`` (age), its plaintext checked against the
    register (SHA-256 and size: None when it is not as registered): the ciphertext, its
    SHA-256 and size. A file up to IN_MEMORY is read and encrypted in memory (most
    documents: no staging file, no helper thread, s19 P18); a larger one is encrypted into
    a staging file of ciphertext as it is read, in this thread. No plaintext is written."""
    try:
        opened = _open_source(item)
    except IntegrityFailure:
        return None  # no longer a regular file: not as registered
    with opened as raw:
        if item.size <= IN_MEMORY:
            plain = raw.read(item.size + 1)  # a file grown since: refused below
            if len(plain) != item.size or hashlib.sha256(plain).hexdigest() != item.sha256:
                return None
            cipher = crypto.encrypt_bytes(plain, recipients)
            return cipher, hashlib.sha256(cipher).hexdigest(), len(cipher)
        reader = HashingReader(raw)  # type: ignore[arg-type]
        with files.write(name) as (out, done):
            crypto.encrypt_stream(io.BufferedReader(reader, fsutil.CHUNK), out,  # type: ignore[arg-type]
                                  recipients)
    if reader.hash.hexdigest() != item.sha256 or reader.size != item.size:
        with contextlib.suppress(OSError):
            done[0].path.unlink()
        return None
    return done[0].path, done[0].sha256, done[0].size


def _send_payload(client: Any, remote: Remote, push: Push, items: list[_Item],
                  recipients: list[str], files: runfiles.RunFiles, outcome: PushOutcome,
                  on_progress: Progress | None) -> None:
    """Each file the remote lacks (by payload path and SHA-256) as a new object."""
    journal_path = brankas_settings().tmp / f"offsite-{remote.remote_id}.sent"
    _adopt_sent(client, remote, journal_path)
    _adopt_tags(client, remote, push, _tags_journal(remote))
    there = set(PushedObject.objects.filter(remote=remote, kind=PushedObject.PAYLOAD)
                .values_list("bag_path", "bag_sha256").iterator(chunk_size=5000))
    todo = [i for i in items if (i.path, i.sha256) not in there]
    push.files_total = len(items)
    push.objects_skipped = len(items) - len(todo)
    push.bytes_total = sum(i.size for i in todo)
    push.save(update_fields=["files_total", "objects_skipped", "bytes_total"])

    def report(n: int, partial: int = 0) -> None:
        if on_progress is not None:
            on_progress(push.objects_skipped + n, push.files_total, push.bytes_done + partial,
                        push.bytes_total)

    report(0)
    pending: list[PushedObject] = []  # confirmed by the server, recorded in batches

    def record() -> None:
        with transaction.atomic():
            PushedObject.objects.bulk_create(pending)
            push.save(update_fields=["objects_sent", "bytes_sent", "files_done", "bytes_done"])
        pending.clear()

    fd = os.open(journal_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8") as journal:
        try:
            _send_each(client, remote, push, todo, recipients, files, outcome, report,
                       pending, record, journal)
        finally:  # what the server confirmed is recorded even when the push is cut short
            if pending:
                record()
    journal_path.unlink()  # everything it names is recorded
    push.files_done = push.files_total
    push.save()


def _send_each(client: Any, remote: Remote, push: Push, todo: list[_Item],
               recipients: list[str], files: runfiles.RunFiles, outcome: PushOutcome,
               report: Callable[..., None], pending: list[PushedObject],
               record: Callable[[], None], journal: IO[str]) -> None:
    """Each item as a new object, ``UPLOADS`` at a time (s18 OD: a thread each reads,
    encrypts (``_encrypt``), names the object in the journal and PUTs; ``Remote`` is
    thread-safe): one stream would spend most of its time waiting on the server. What the
    server confirmed is recorded by this thread only, in the order confirmed (an
    interrupted push waits for the uploads in flight and records those). A large ``.age``
    file (multipart, resumable: its state is kept in the database after each part) is sent
    by this thread, after the others."""
    import threading
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    Sent = tuple[str, str, int, datetime, Any, Any]  # key, sha256, size, until, result, state
    journal_lock = threading.Lock()

    def send(n: int, item: _Item, progress: Callable[[int], None] | None = None,
             resumable: bool = False) -> Sent | None:
        key = layout.new_object_key()
        if item.wrap == layout.WRAP_PLAIN:
            source: Path | bytes = item.source if isinstance(item.source, bytes) \
                else Path(item.source)
            sha, size = item.sha256, item.size
            staged = None
        elif item.cipher is not None:  # encrypted as it was written (a run file)
            staged = Path(str(item.source))
            source, (sha, size) = staged, item.cipher
        else:
            encrypted = _encrypt(item, recipients, files, f"obj-{n}")
            if encrypted is None:
                return None  # the archive's file is not as registered
            source, sha, size = encrypted
            staged = source if isinstance(source, Path) else None
        until = _retain_until(remote)
        state = None
        if resumable:
            key, state, progress = _resumable(remote, item, key, progress)
        # Named before it is sent: a push killed outright (no ``finally``) leaves objects
        # the server confirmed and nobody recorded; the next push adopts them.
        line = json.dumps({
            "push": push.pk, "key": key, "sha256": sha, "size": size, "path": item.path,
            "bag_sha256": item.sha256, "bag_size": item.size, "wrap": item.wrap,
            "until": until.isoformat()}) + "\n"
        with journal_lock:
            journal.write(line)
            journal.flush()
        try:
            result = client.put(key, source, sha256=bytes.fromhex(sha), size=size,
                                retain_until=until, progress=progress, resume=state)
        except BrankasError as exc:
            if item.wrap == layout.WRAP_PLAIN and exc.code.startswith(
                    ("offsite_checksum", "offsite_source_changed")):
                return None  # the archive's .age is not as registered
            raise
        finally:
            if staged is not None:
                with contextlib.suppress(OSError):
                    staged.unlink()
        return key, sha, size, until, result, state

    finished = 0

    def finish(item: _Item, sent: Sent | None, quiet: bool = False) -> None:
        nonlocal finished
        finished += 1
        push.files_done = push.objects_skipped + finished
        if sent is None:
            outcome.damaged.append(item.path)
            return
        key, sha, size, until, result, state = sent
        pending.append(PushedObject(
            remote=remote, push=push, kind=PushedObject.PAYLOAD, key=key,
            version_id=result.version_id or "", sha256=sha, size=size, bag_path=item.path,
            bag_sha256=item.sha256, bag_size=item.size, wrap=item.wrap,
            confirmed=result.confirmed, retain_until=until, pushed_at=timezone.now()))
        push.objects_sent += 1
        push.bytes_sent += size
        push.bytes_done += item.size
        if len(pending) >= _RECORD_EVERY or state is not None:
            record()
        if state is not None:  # recorded: the upload's state is no longer needed
            Remote.objects.filter(pk=remote.pk).update(upload={})
        if not quiet:
            report(finished)

    def large(item: _Item) -> bool:
        return item.wrap == layout.WRAP_PLAIN and item.size > client.config.part_size

    queue = iter(enumerate(i for i in todo if not large(i)))
    running: dict[Future[Sent | None], _Item] = {}
    with ThreadPoolExecutor(max_workers=UPLOADS, thread_name_prefix="offsite") as pool:
        try:
            while True:
                for n, item in queue:
                    running[pool.submit(send, n, item)] = item
                    if len(running) >= 2 * UPLOADS:
                        break
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    finish(running.pop(future), future.result())
        except BaseException:
            for future in running:
                future.cancel()
            for future, item in running.items():  # what was in flight, if confirmed
                if not future.cancelled() and future.exception() is None:
                    finish(item, future.result(), quiet=True)
            raise
    for n, item in enumerate(i for i in todo if large(i)):
        finish(item, send(n, item, functools.partial(report, finished), resumable=True))


def _confirm(client: Any, key: str, head: Any, sha: str, size: int) -> str | None:
    """How a journalled object's newest version on the server is confirmed to be the one
    the journal names (``"checksum"``: the server's SHA-256; ``"read-back"``: read whole
    and hashed), or None when it is not (the journal is a file in the data folder: it is
    believed only as far as the server bears it out)."""
    if head.sha256 is not None:
        return "checksum" if head.sha256.hex() == sha else None
    sink = _HashSink()
    client.get(key, sink, version_id=head.version_id, max_bytes=size)
    return "read-back" if sink.hash.hexdigest() == sha else None


def _adopt_sent(client: Any, remote: Remote, path: Path) -> int:
    """Record the objects a push killed outright had sent and the server holds as sent
    (its SHA-256 reported, or read back) but that push had not recorded yet (it records
    in batches): named in its journal ``tmp/offsite-<id>.sent`` before each was sent.
    Then they are not sent again, and verify knows them as the office's own."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return 0
    wanted: dict[str, dict[str, Any]] = {}
    for line in lines:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            d = json.loads(line)
            if layout.OBJECT_KEY.fullmatch(str(d.get("key"))):
                wanted[str(d["key"])] = d
    keys = list(wanted)
    for i in range(0, len(keys), 500):  # those the push recorded before it died
        for done in PushedObject.objects.filter(remote=remote, key__in=keys[i:i + 500]
                                                ).values_list("key", flat=True):
            wanted.pop(done, None)
    pushes = {p.pk: p for p in Push.objects.filter(remote=remote, pk__in={
        d.get("push") for d in wanted.values() if isinstance(d.get("push"), int)})}
    adopted: list[PushedObject] = []
    for key, d in wanted.items():
        try:
            push, sha, size = pushes[d["push"]], str(d["sha256"]), int(d["size"])
            until = datetime.fromisoformat(str(d["until"]))
            fields = (str(d["path"]), str(d["bag_sha256"]), int(d["bag_size"]), str(d["wrap"]))
        except (KeyError, ValueError, TypeError):
            continue
        if fields[3] not in (layout.WRAP_AGE, layout.WRAP_PLAIN):
            continue
        head = client.head(key)
        if head is None or head.size != size or not head.version_id:
            continue  # never arrived (or only some parts of it)
        # The lock is the server's, not the journal's (a file in the data folder: whoever
        # holds the laptop writes it): none or shorter, and this push extends it.
        until = min(until, head.retain_until or timezone.now())
        confirmed = _confirm(client, key, head, sha, size)
        if confirmed is None:
            continue
        adopted.append(PushedObject(
            remote=remote, push=push, kind=PushedObject.PAYLOAD, key=key,
            version_id=head.version_id, sha256=sha, size=size, bag_path=fields[0],
            bag_sha256=fields[1], bag_size=fields[2], wrap=fields[3], confirmed=confirmed,
            retain_until=until, pushed_at=timezone.now()))
    PushedObject.objects.bulk_create(adopted)
    if adopted and (Remote.objects.filter(pk=remote.pk).values_list("upload", flat=True)
                    .first() or {}).get("key") in {o.key for o in adopted}:
        Remote.objects.filter(pk=remote.pk).update(upload={})
    return len(adopted)


def _resumable(remote: Remote, item: _Item, key: str, progress: Callable[[int], None] | None
               ) -> tuple[str, Any, Callable[[int], None]]:
    """A large file's multipart upload: the one an interrupted push left for this very
    file (same path and SHA-256: its parts are not sent again), else a new one; its state
    recorded after each part."""
    from brankas.core.offsite.remote import MultipartState

    saved = Remote.objects.filter(pk=remote.pk).values_list("upload", flat=True).first() or {}
    state = MultipartState()
    if (isinstance(saved, dict) and saved.get("path") == item.path
            and saved.get("sha256") == item.sha256
            and layout.OBJECT_KEY.fullmatch(str(saved.get("key")))):
        try:
            state = MultipartState.from_json(str(saved.get("state")))
            key = str(saved["key"])
        except BrankasError:
            state = MultipartState()

    def on_part(done: int) -> None:
        Remote.objects.filter(pk=remote.pk).update(upload={
            "path": item.path, "sha256": item.sha256, "key": key, "state": state.to_json()})
        if progress is not None:
            progress(done)

    return key, state, on_part


def _payload_records(remote: Remote) -> tuple[list[layout.Entry], dict[str, str],
                                               dict[str, int]]:
    """In one reading of the remote's payload records: the newest object of each bag file
    (the index; older objects stay, locked, in the manifest), and every object's SHA-256
    and size as stored (the manifest, bag-info)."""
    newest: dict[str, layout.Entry] = {}
    shas: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for key, sha, size, wrap, bag_sha, bag_size, path in (PushedObject.objects.filter(
            remote=remote, kind=PushedObject.PAYLOAD).order_by("id").values_list(
            "key", "sha256", "size", "wrap", "bag_sha256", "bag_size", "bag_path")
            .iterator(chunk_size=5000)):
        newest[path] = layout.Entry(key, wrap, bag_sha, bag_size, path)
        shas[key], sizes[key] = sha, size
    return list(newest.values()), shas, sizes


def _send_tags(client: Any, remote: Remote, push: Push, recipients: list[str],
               head: tuple[int, str] | None) -> None:
    """The index, manifest, bag-info, bagit and tag manifest as new versions, then the
    seal naming the index's and manifest's versions."""
    entries, objects, sizes = _payload_records(remote)
    index_plain = layout.index_bytes(entries)
    index_sealed = crypto.encrypt_bytes(index_plain, recipients)
    manifest = layout.manifest_bytes(objects)
    tags = {layout.BAGIT: fmt.BAGIT_CONTENT, layout.BAG_INFO: layout.bag_info_bytes(sizes),
            layout.MANIFEST: manifest, layout.INDEX: index_sealed}
    tags[layout.TAGMANIFEST] = layout.tag_manifest_bytes(
        {n: layout.sha256(d) for n, d in tags.items()})
    versions = _put_tags(client, remote, push, {
        n: tags[n] for n in (layout.BAGIT, layout.BAG_INFO, layout.MANIFEST, layout.INDEX,
                             layout.TAGMANIFEST)})
    previous = (Push.objects.filter(remote=remote, status=Push.COMPLETED)
                .exclude(seal_sha256="").order_by("-number").values_list("seal_sha256",
                                                                         flat=True).first())
    statement = layout.seal_statement(
        remote_id=remote.remote_id, push=push.number, folder=push.folder,
        index=(layout.sha256(index_plain), versions[layout.INDEX]),
        manifest=(layout.sha256(manifest), versions[layout.MANIFEST]),
        objects=len(objects), audit_head=head, previous=previous)
    signing = office_key()
    seal = diskseal.seal_bytes(statement, diskseal.OfficeKey(signing.public,
                                                             bytes(signing.private)))
    def sealed() -> None:  # recorded with the seal's object (s22: one commit for both)
        push.seal_sha256 = layout.sha256(seal)
        if head is not None:
            push.audit_seq, push.audit_hash = head
        push.save(update_fields=["seal_sha256", "audit_seq", "audit_hash"])

    _put_tags(client, remote, push, {layout.SEAL: crypto.encrypt_bytes(seal, recipients)},
              then=sealed)


def _tags_journal(remote: Remote) -> Path:
    """The tag objects a push is sending (``_put_tags``), named before they are sent and
    removed once they are recorded: what a push killed in between had sent, the next one
    adopts (``_adopt_tags``)."""
    return brankas_settings().tmp / f"offsite-{remote.remote_id}.tags"


def _adopt_tags(client: Any, remote: Remote, push: Push, path: Path) -> int:
    """Record the tag objects (the seal, the index...) a push killed outright had sent and
    the server holds, as sent, as their newest version, but that push had not recorded:
    named in its journal (``_tags_journal``) before they were sent. Only those of the
    remote's push before ``push``, one that did not complete; each checked against the server (its
    SHA-256 reported, or read back), never trusted from the journal (a file in the data
    folder). Without it verify names such a version unsealed for as long as it is locked."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return 0
    last = (Push.objects.filter(remote=remote, number__lt=push.number).order_by("-number")
            .first())
    adopted: list[PushedObject] = []
    if last is not None and last.status != Push.COMPLETED:
        for line in lines:
            try:
                d = json.loads(line)
                name, sha, size = str(d["key"]), str(d["sha256"]), int(d["size"])
                until = datetime.fromisoformat(str(d["until"]))
                if d["push"] != last.pk or name not in layout.TAGS:
                    continue
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
            head = client.head(name)
            if (head is None or head.size != size or not head.version_id
                    or PushedObject.objects.filter(remote=remote, key=name,
                                                   version_id=head.version_id).exists()):
                continue  # never arrived, or its newest version is recorded already
            if head.sha256 is not None:
                confirmed = "checksum"
                if head.sha256.hex() != sha:
                    continue
            else:
                confirmed, sink = "read-back", _HashSink()
                client.get(name, sink, version_id=head.version_id, max_bytes=size)
                if sink.hash.hexdigest() != sha:
                    continue
            until = min(until, head.retain_until or timezone.now())  # the server's lock
            adopted.append(PushedObject(
                remote=remote, push=last, kind=PushedObject.TAG, key=name,
                version_id=head.version_id, sha256=sha, size=size, bag_path=name,
                confirmed=confirmed, retain_until=until, pushed_at=timezone.now()))
    PushedObject.objects.bulk_create(adopted)
    path.unlink()
    return len(adopted)


def _put_tags(client: Any, remote: Remote, push: Push, tags: dict[str, bytes],
              then: Callable[[], None] | None = None) -> dict[str, str | None]:
    """Each tag object as a new version (bagit.txt, a constant, once), sent at once (they
    do not depend on each other: the seal, which names the others' versions, is sent on
    its own after them), then recorded in the order given. The version of each, None for
    one not sent. A failure of any fails the push (after the others have ended).
    ``then``: written in the same transaction as the records when every tag was sent
    (the seal's: the push's seal and audit head, one commit with the seal's record)."""
    from concurrent.futures import ThreadPoolExecutor

    until = _retain_until(remote)
    shas = {name: layout.sha256(data) for name, data in tags.items()}
    if layout.BAGIT in tags and PushedObject.objects.filter(
            remote=remote, kind=PushedObject.TAG, key=layout.BAGIT,
            sha256=shas[layout.BAGIT]).exists():
        tags = {n: d for n, d in tags.items() if n != layout.BAGIT}  # written once

    def put(name: str) -> Any:
        return client.put(name, tags[name], sha256=bytes.fromhex(shas[name]),
                          size=len(tags[name]), retain_until=until)

    journal = _tags_journal(remote)  # named before they are sent (``_adopt_tags``)
    fd = os.open(journal, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8") as out:
        for name, data in tags.items():
            out.write(json.dumps({"key": name, "sha256": shas[name], "size": len(data),
                                  "until": until.isoformat(),
                                  "push": push.pk}) + "\n")
    results: dict[str, Any] = {}
    failure: BaseException | None = None
    if len(tags) > 1:
        with ThreadPoolExecutor(max_workers=len(tags), thread_name_prefix="offsite-tag") as pool:
            futures = {name: pool.submit(put, name) for name in tags}
        for name, future in futures.items():
            if future.exception() is None:
                results[name] = future.result()
            else:
                failure = failure or future.exception()
    else:
        results = {name: put(name) for name in tags}
    # what the server confirmed is the office's own, even when another tag failed or
    # ``then`` fails (verify would name it an unsealed version otherwise, for as long as
    # its lock keeps it): ``then`` in a savepoint of its own, its failure raised after the
    # records are committed (s22 review)
    with transaction.atomic():
        PushedObject.objects.bulk_create(PushedObject(
            remote=remote, push=push, kind=PushedObject.TAG, key=name,
            version_id=result.version_id or "", sha256=shas[name], size=len(tags[name]),
            bag_path=name, confirmed=result.confirmed, retain_until=until,
            pushed_at=timezone.now()) for name, result in results.items())
        if failure is None and then is not None:
            try:
                with transaction.atomic():
                    then()
            except BaseException as exc:  # a Ctrl-C as well: the records are kept
                failure = exc
    if failure is None:
        journal.unlink()  # everything it names is recorded
    if failure is not None:
        raise failure
    return {name: results[name].version_id if name in results else None
            for name in shas}


def _superseded(obj: PushedObject) -> bool:
    """A tag version a later push wrote again, or a payload object of a file the index now
    names by a newer object: no longer part of the copy (its lock runs out)."""
    later = PushedObject.objects.filter(remote_id=obj.remote_id, kind=obj.kind, pk__gt=obj.pk)
    if obj.kind == PushedObject.TAG:
        return later.filter(key=obj.key).exists()
    return later.filter(bag_path=obj.bag_path).exists()


def _extend_locks(client: Any, remote: Remote) -> int:
    """Extend the lock of every object version of the copy (the newest tag versions, the
    objects the index names) whose lock ends within a third of the retention period (the
    documents are kept: so are their offsite copies). The versions a later push replaced
    (a 20 MB index a day at 100,000 documents) are left to run out."""
    now = timezone.now()
    soon = now + timedelta(days=remote.retention_days / EXTEND_WHEN)
    until = _retain_until(remote)
    n = 0
    for obj in PushedObject.objects.filter(remote=remote, retain_until__lt=soon).exclude(
            version_id="").iterator(chunk_size=1000):
        if _superseded(obj):
            continue
        client.extend_retention(obj.key, obj.version_id, until)
        PushedObject.objects.filter(pk=obj.pk).update(retain_until=until)
        n += 1
    return n


# -- verify -----------------------------------------------------------------------------

@dataclass
class OffsiteVerifyReport:
    remote: str
    immutable: bool | None
    canary: str
    checked: int = 0  # objects whose SHA-256 the server reported
    sampled: int = 0  # objects downloaded and hashed
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    unlocked: list[str] = field(default_factory=list)  # locked for less than pushed

    @property
    def ok(self) -> bool:
        return (not self.missing and not self.changed and not self.unexpected
                and not self.unlocked and self.immutable is True)

    def as_dict(self) -> dict[str, Any]:
        return {"remote": self.remote, "ok": self.ok, "immutable": self.immutable,
                "canary": self.canary, "checked": self.checked, "sampled": self.sampled,
                "missing": self.missing, "changed": self.changed,
                "unexpected": self.unexpected, "unlocked": self.unlocked}


class _HashSink(io.RawIOBase):
    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.hash.update(b)
        return len(b)


def offsite_verify(*, actor: User, name: str, sample: float = 5.0,
                   on_progress: Progress | None = None) -> OffsiteVerifyReport:
    """The canary again; then every object version the office pushed: there, of its
    size, still the newest version of its name (a payload object), and its SHA-256 as the
    server reports it, or for ``sample`` percent of those it does not, downloaded. Names
    every missing, changed or unexpected object (a version the office did not write)."""
    require_audited(actor, Action.OFFSITE_VERIFY, target=name[:200])
    found: OffsiteVerifyReport | None = None  # once the canary has answered
    try:
        remote = _remote(name)
        if not 0 <= sample <= 100:
            raise InvalidInput("offsite_field_invalid", field="--sample", detail="0..100")
        client = client_for(remote)
        client.check()
        canary = client.canary()
        report = found = OffsiteVerifyReport(
            remote=remote.name, immutable=bool(canary.immutable),
            canary=str(canary.detail)[:2000])
        # What the canary found is kept whatever happens next (a verify that then fails
        # must not leave the remote shown as immutable).
        Remote.objects.filter(pk=remote.pk).update(
            immutable=report.immutable, canary_at=timezone.now(), canary_detail=report.canary)
        _verify_objects(client, remote, report, sample, on_progress)
    except BrankasError as exc:
        audit_record(actor=actor.username, action="offsite.verify", target=name[:200],
                     outcome="refused" if exc.kind in ("invalid", "not_found") else "failed",
                     detail={"error": exc.code} | (
                         {"immutable": found.immutable} if found is not None else {}))
        if found is not None:
            Remote.objects.filter(pk=remote.pk).update(last_verified_at=timezone.now(),
                                                       last_verify_ok=False)
        raise
    now = timezone.now()
    Remote.objects.filter(pk=remote.pk).update(last_verified_at=now,
                                               last_verify_ok=report.ok)
    audit_record(actor=actor.username, action="offsite.verify", target=remote.name,
                 outcome="ok" if report.ok else "problems",
                 detail={"immutable": report.immutable, "checked": report.checked,
                         "sampled": report.sampled, "missing": report.missing[:100],
                         "changed": report.changed[:100],
                         "unexpected": report.unexpected[:100],
                         "unlocked": report.unlocked[:100]})
    return report


def _label(obj: PushedObject) -> str:
    """How verify names an object: its key, and for a payload object the file it holds
    (the office's own record, never shown to the bucket)."""
    return f"{obj.key} ({obj.bag_path})" if obj.kind == PushedObject.PAYLOAD else obj.key


def _verify_objects(client: Any, remote: Remote, report: OffsiteVerifyReport, sample: float,
                    on_progress: Progress | None) -> None:
    listed: dict[tuple[str, str], Any] = {}
    newest: dict[str, str] = {}  # by key, its newest version (listed first)
    for info in client.list_versions(""):
        listed[(info.key, info.version_id or "")] = info
        newest.setdefault(info.key, info.version_id or "")
    shown = {info.key for info in client.list("")}  # not hidden by a delete marker
    recorded = list(PushedObject.objects.filter(remote=remote).order_by("id"))
    mine = {(o.key, o.version_id) for o in recorded}
    last_tag = {o.key: o.pk for o in recorded if o.kind == PushedObject.TAG}  # newest written
    last_file = {o.bag_path: o.pk for o in recorded if o.kind == PushedObject.PAYLOAD}
    now = timezone.now()
    unchecked: list[PushedObject] = []
    total = len(recorded)
    for n, obj in enumerate(recorded):
        if on_progress is not None and n % 100 == 0:
            on_progress(n, total, 0, 0)
        info = listed.get((obj.key, obj.version_id))
        replaced = (last_tag if obj.kind == PushedObject.TAG else last_file).get(
            obj.key if obj.kind == PushedObject.TAG else obj.bag_path) != obj.pk
        if replaced and obj.retain_until is not None and obj.retain_until < now:
            continue  # replaced, its lock run out (not extended): it may be gone
        if info is None:
            report.missing.append(_label(obj))
            continue
        if info.size != obj.size:
            report.changed.append(f"{_label(obj)}: size {info.size} != {obj.size}")
            continue
        if obj.kind == PushedObject.PAYLOAD and newest.get(obj.key) != obj.version_id:
            report.changed.append(f"{_label(obj)}: a newer version was written over it")
            continue
        if (obj.kind == PushedObject.PAYLOAD or last_tag.get(obj.key) == obj.pk) \
                and obj.key not in shown:
            # the locked version is still there, but a plain download of the bucket
            # (``aws s3 sync``) no longer sees it
            report.missing.append(f"{_label(obj)}: hidden by a delete marker")
            continue
        head = client.head(obj.key, obj.version_id or None)
        if head is None:
            report.missing.append(_label(obj))
            continue
        if obj.retain_until is not None and (
                head.retain_until is None
                or head.retain_until < obj.retain_until - timedelta(seconds=1)):
            until = head.retain_until.isoformat() if head.retain_until else "-"
            report.unlocked.append(f"{_label(obj)}: terkunci sampai / locked until {until}")
        if head.sha256 is not None:
            report.checked += 1
            if head.sha256.hex() != obj.sha256:
                report.changed.append(f"{_label(obj)}: sha256")
        else:
            unchecked.append(obj)
    if unchecked:
        count = min(len(unchecked), max(1, math.ceil(len(unchecked) * sample / 100))) \
            if sample > 0 else 0
        for obj in secrets.SystemRandom().sample(unchecked, count):
            sink = _HashSink()
            report.sampled += 1
            try:
                client.get(obj.key, sink, version_id=obj.version_id or None,
                           max_bytes=obj.size)
            except BrankasError as exc:
                if exc.kind not in ("integrity", "invalid"):
                    raise
                report.changed.append(f"{_label(obj)}: {exc.code}")
                continue
            if sink.hash.hexdigest() != obj.sha256:
                report.changed.append(f"{_label(obj)}: sha256")
    for key, version in sorted(listed):
        if key.startswith(f"{layout.CANARY}/") or (key, version) in mine:
            continue
        what = "versi tak bersegel / unsealed version" if key in layout.TAGS else \
            "tak terduga / unexpected"
        report.unexpected.append(f"{key} [{version}] ({what})")
    if on_progress is not None:
        on_progress(total, total, 0, 0)


# -- reading the sealed copy (restore; recover later) -----------------------------------

@dataclass
class SealedCopy:
    sealed: layout.SealedPush
    entries: dict[str, layout.Entry]  # by payload path
    objects: dict[str, str]  # key -> sha256 as stored (the sealed manifest)
    problems: list[str]


def _age_limit(size: int) -> int:
    """The most an age file of ``size`` plaintext bytes can be (64 KiB chunks with a
    16-byte tag, a header of at most 64 KiB)."""
    return size + (size // 65536 + 1) * 16 + (64 << 10)


def _fetch(client: Any, key: str, version: str | None, limit: int) -> bytes:
    out = io.BytesIO()
    client.get(key, out, version_id=version, max_bytes=limit)
    return out.getvalue()


def read_sealed(client: Any, *, name: str, remote_id: str | None, trusted: set[str],
                identities: list[Any], known: set[str] | None = None) -> SealedCopy:
    """The newest seal version signed by a trusted key for this remote (``remote_id``;
    None on a new machine: any), and the index and manifest versions it names, checked
    against it. ``known``: the seal versions this office wrote (its records): any other
    is named without being read. Every version passed over (forged, not decryptable,
    unsealed) is named in ``problems``; no such seal refuses (``offsite_not_sealed``)."""
    problems: list[str] = []
    sealed = None
    tried = 0
    for info in client.list_versions(layout.SEAL):
        if info.key != layout.SEAL:
            continue
        label = f"{layout.SEAL} [{info.version_id}]"
        if known is not None and (info.version_id or "") not in known:
            problems.append(f"{label}: tidak ditulis kantor ini, diabaikan / not written by "
                            "this office, ignored")
            continue
        limit = SEAL_VERSIONS_TRIED if known is not None else SEAL_VERSIONS_READ_NEW
        if tried >= limit:
            problems.append(f"{label}: tidak dibaca, segel yang lebih baru mungkin ada / not "
                            f"read (more than {limit} tried): a newer push's "
                            "seal may be among those not read")
            break
        tried += 1
        try:
            data = crypto.decrypt_bytes(_fetch(client, layout.SEAL, info.version_id,
                                               _age_limit(layout.SEAL_LIMIT)), identities)
            found = layout.open_seal(data, trusted)
            if remote_id is not None and found.remote != remote_id:
                raise ValueError("sealed for another remote")
        except BrankasError as exc:
            if exc.kind not in ("integrity", "invalid", "crypto"):
                raise
            problems.append(f"{label}: ditolak / refused ({exc.code})")
            continue
        except (ValueError, RuntimeError) as exc:
            problems.append(f"{label}: ditolak / refused ({exc})")
            continue
        # The newest PUSH sealed wins, not the newest version: whoever holds the bucket's
        # credentials can put an older genuine seal back as a new version (a rollback).
        # The office's own versions (``known``) are its pushes in order: the first will do.
        if sealed is None or found.push > sealed.push:
            sealed = found
        if known is not None:
            break
    if sealed is None:
        raise IntegrityFailure("offsite_not_sealed", name=name,
                               detail="; ".join(problems)[:500] or "no seal")
    for tag, version in ((layout.INDEX, sealed.index_version),
                         (layout.MANIFEST, sealed.manifest_version)):
        for info in client.list_versions(tag):
            if info.key == tag and info.version_id != version:  # bounded: planted by
                # the million, each costs nothing to put
                fmt.note(problems, f"{tag} [{info.version_id}]: tidak bersegel, diabaikan / "
                                   "unsealed, ignored")
            if info.key == tag and info.version_id == version:
                break  # the older ones were sealed by older pushes
    try:
        index = crypto.decrypt_bytes(_fetch(client, layout.INDEX, sealed.index_version,
                                            _age_limit(layout.INDEX_LIMIT)), identities)
    except (CryptoFailure, ValueError, RuntimeError) as exc:
        raise IntegrityFailure("offsite_not_sealed", name=name,
                               detail=f"index: {exc}"[:500]) from None
    if layout.sha256(index) != sealed.index_sha256:
        raise IntegrityFailure("offsite_not_sealed", name=name,
                               detail="the index is not the one sealed")
    manifest = _fetch(client, layout.MANIFEST, sealed.manifest_version, layout.TAG_LIMIT)
    if layout.sha256(manifest) != sealed.manifest_sha256:
        raise IntegrityFailure("offsite_not_sealed", name=name,
                               detail="the manifest is not the one sealed")
    entries, index_problems = layout.parse_index(index)
    objects, manifest_problems = layout.parse_manifest(manifest)
    problems.extend(index_problems + manifest_problems)
    by_path: dict[str, layout.Entry] = {}
    for e in entries:
        if e.key not in objects:
            problems.append(f"{e.key}: not in the sealed manifest")
            continue
        by_path[e.path] = e
    return SealedCopy(sealed, by_path, objects, problems)


# -- restore ----------------------------------------------------------------------------

@dataclass
class OffsiteRestoreReport:
    remote: str
    to: str
    push: int
    restored: list[str] = field(default_factory=list)
    decrypted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.missing and not self.damaged and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"remote": self.remote, "to": self.to, "push": self.push, "ok": self.ok,
                "restored": self.restored, "decrypted": self.decrypted,
                "missing": self.missing, "damaged": self.damaged, "problems": self.problems,
                "bytes": self.bytes}


def offsite_restore(*, actor: User, name: str, to: Path | str, passphrase: str,
                    agendas: list[str] | None = None, decrypt: bool = False,
                    on_progress: Progress | None = None) -> OffsiteRestoreReport:
    """Documents (all, or those named) from the remote's sealed copy into ``to`` (the
    four-folder tree), each object checked against the sealed manifest and the file
    against the register. Needs the acting holder's passphrase (everything offsite is
    encrypted); with ``decrypt`` the holder's exempted documents are decrypted too."""
    from brankas.web.backup.restore import (
        _documents_wanted,
        _holder_identities,
        _keys_in_force,
        _out_name,
    )

    require_audited(actor, Action.OFFSITE_RESTORE, target=name[:200])
    if decrypt:
        require_audited(actor, Action.OPEN_EXEMPTED, target=name[:200])
    try:
        remote = _remote(name)
        outside_home(to)
        docs = _documents_wanted(agendas)
        found = _holder_identities(actor, passphrase, docs, name)
        identities = list(found.values())
        client = client_for(remote)
        known = set(PushedObject.objects.filter(remote=remote, kind=PushedObject.TAG,
                                                key=layout.SEAL).values_list("version_id",
                                                                             flat=True))
        copy = read_sealed(client, name=remote.name, remote_id=remote.remote_id,
                           trusted=office_keys_trusted(), identities=identities, known=known)
        target = empty_target(to)
        target.mkdir(parents=True, exist_ok=True)
    except BrankasError as exc:
        audit_record(actor=actor.username, action="offsite.restore", target=name[:200],
                     outcome="denied" if exc.kind == "denied" else "failed",
                     detail={"error": exc.code})
        raise
    report = OffsiteRestoreReport(remote=remote.name, to=str(target), push=copy.sealed.push,
                                  problems=list(copy.problems))
    total = sum(d.stored_size for d in docs)
    done = 0
    opened: list[tuple[str, str]] = []
    # The version each payload object was written as (the office's records): a newer
    # version planted over it, or a delete marker hiding it, must not stand in its way.
    versions = dict(PushedObject.objects.filter(remote=remote, kind=PushedObject.PAYLOAD)
                    .exclude(version_id="").values_list("key", "version_id")
                    .iterator(chunk_size=5000))
    try:
        for i, doc in enumerate(docs):
            if on_progress is not None:
                on_progress(i, len(docs), done, total)
            entry = copy.entries.get(doc.stored_path)
            if entry is None or entry.sha256 != doc.stored_sha256:
                report.missing.append(doc.agenda)
                continue
            # An exempted document is decrypted only with the holder's keys it was
            # encrypted to (as ``brankas restore``); otherwise it stays .age. Anything the
            # push encrypted opens with any of the holder's keys (encrypted to every one).
            if doc.exempted:  # a holder deactivated meanwhile decrypts nothing more
                found = _keys_in_force(actor, found)
            mine = [found[f] for f in doc.recipients if f in found] if doc.exempted else []
            open_it = entry.wrap == layout.WRAP_AGE or (decrypt and bool(mine))
            out = target / _out_name(doc.stored_path, open_it)
            result = _restore_one(client, entry, copy.objects[entry.key], out,
                                  identities if entry.wrap == layout.WRAP_AGE else mine,
                                  open_it, version=versions.get(entry.key))
            if result is None:
                report.damaged.append(doc.agenda)
                continue
            report.restored.append(doc.agenda)
            report.bytes += doc.stored_size
            done += doc.stored_size
            if open_it and doc.exempted:
                report.decrypted.append(doc.agenda)
                opened.append((doc.agenda, str(out)))
    except BaseException as exc:  # what was decrypted before the cut is audited all the same
        _restore_audit(actor, remote.name, target, report, opened,
                       exc.code if isinstance(exc, BrankasError) else type(exc).__name__)
        raise
    if on_progress is not None:
        on_progress(len(docs), len(docs), done, total)
    _restore_audit(actor, remote.name, target, report, opened, None)
    return report


def _restore_audit(actor: User, name: str, target: Path, report: OffsiteRestoreReport,
                   opened: list[tuple[str, str]], failure: str | None) -> None:
    """Each exempted document decrypted (``document.open``) and the restore itself; also
    when the restore was cut short (``failure``: what stopped it)."""
    detail: dict[str, Any] = {
        "push": report.push, "to": str(target), "restored": len(report.restored),
        "decrypted": len(report.decrypted), "missing": report.missing[:100],
        "damaged": report.damaged[:100], "problems": report.problems[:20]}
    if failure is not None:
        detail["error"] = failure
    audit_record_many([*(AuditEntry(actor=actor.username, action="document.open",
                                    target=agenda, detail={"via": "offsite-restore", "out": out})
                         for agenda, out in opened), AuditEntry(
        actor=actor.username, action="offsite.restore", target=name,
        outcome="failed" if failure is not None else "ok" if report.ok else "problems",
        detail=detail)])


def _restore_one(client: Any, entry: layout.Entry, stored_sha: str, out: Path,
                 identities: list[Any], open_it: bool, *, version: str | None = None
                 ) -> Path | None:
    """Download one object (``version``: the one pushed, when known) beside ``out`` (a
    ``.part`` file), check it against the
    sealed manifest, decrypt it when ``open_it`` (the result checked against the index:
    the register's hash for a biasa file), and rename it into place. None when damaged."""
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    plain = out.with_name(out.name + ".plain.part")
    try:
        with fsutil.open_private(part) as fh:
            sink = HashingWriter(fh)
            client.get(entry.key, sink, version_id=version, max_bytes=_age_limit(entry.size))
        if sink.hash.hexdigest() != stored_sha:
            return None
        if entry.wrap == layout.WRAP_PLAIN and sink.size != entry.size:
            return None
        if entry.wrap == layout.WRAP_PLAIN and sink.hash.hexdigest() != entry.sha256:
            return None
        if entry.wrap == layout.WRAP_AGE or open_it:
            with open(part, "rb") as src, fsutil.open_private(plain) as dst:
                hashed = HashingWriter(dst)
                crypto.decrypt_stream(src, hashed, identities)  # type: ignore[arg-type]
            if entry.wrap == layout.WRAP_AGE and hashed.hash.hexdigest() != entry.sha256:
                return None
            os.replace(plain, out)
        else:
            os.replace(part, out)
        return out
    except (CryptoFailure, ValueError, RuntimeError):
        return None
    except BrankasError as exc:
        if exc.kind == "integrity":
            return None
        raise
    finally:
        for leftover in (part, plain):
            with contextlib.suppress(OSError):
                leftover.unlink()
