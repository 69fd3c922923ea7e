"""Recover a whole instance from an offsite copy alone (``brankas recover --from-offsite``;
docs/offsite.md). The disk recover's pieces (``web.backup.recover``: the snapshot loaded,
the audit log from sealed segments, the report, the exempted documents test-opened) fed by
an offsite reader (``core.offsite.recovery``): the seal believed through an anchor, the
index and manifest it names (``services.read_sealed``), each object read by the version
the sealed manifest names.

Runs on the new, empty, migrated instance Django is set up on (``instance.offsite``).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from brankas.core import crypto, fsutil
from brankas.core.disk import format as fmt
from brankas.core.disk import segments as segs
from brankas.core.disk.layout import KEY_FILE_LIMIT, KEYS_DIR, RUNS_DIR, SNAPSHOT
from brankas.core.errors import BrankasError, IntegrityFailure, SetupError
from brankas.core.offsite import index as layout
from brankas.core.offsite import recovery
from brankas.core.register.store import HashingWriter
from brankas.web.accounts.models import User
from brankas.web.audit.services import audit_record, audit_verify
from brankas.web.backup import sealing
from brankas.web.backup import segments as auditsegments
from brankas.web.backup.recover import (
    SNAPSHOT_LIMIT,
    RecoverReport,
    _test_open,
    stored_path_problem,
)
from brankas.web.backup.services import Progress
from brankas.web.backup.snapshot import snapshot_load
from brankas.web.documents.models import Document
from brankas.web.keys.models import HolderKey
from brankas.web.offsite.models import Push, PushedObject, Remote
from brankas.web.offsite.services import read_sealed
from brankas.web.runtime import brankas_settings
from brankas.web.sendrequests.selectors import request_letters

_SNAPSHOT = re.compile(rf"{RUNS_DIR}/offsite-(\d{{4,9}})/{re.escape(SNAPSHOT)}")


class _SegmentReader:
    """What ``segments_load`` reads segments through (a disk's ``BagReader``): each
    segment object by the version the sealed manifest names, checked, then decrypted."""

    def __init__(self, where: str, versions: recovery.Versions,
                 entries: dict[str, layout.Entry]) -> None:
        self.dest = where
        self.versions = versions
        self.entries = entries

    def decrypt_to(self, payload: str, sink: Any, identities: list[Any], *,
                   limit: int) -> None:
        entry = self.entries[payload]
        data = self.versions.read(entry, identities, limit)
        if data is None:
            raise IntegrityFailure("backup_file_damaged", name=payload)
        crypto.decrypt_stream(io.BytesIO(data), sink, identities)  # type: ignore[arg-type]


def offsite_instance_recover(*, client: Any, where: str, identities: list[Any],
                             unlocked_with: str, secrets: list[tuple[str, str]],
                             remote_name: str = "offsite", retention_days: int = 400,
                             credentials_file: str = "",
                             on_progress: Progress | None = None) -> RecoverReport:
    """Rebuild the (new, empty, migrated) instance from the offsite copy ``client``
    reads: the newest authentic seal, its index and manifest, the snapshot, the audit log
    (ending at the sealed head), every document checked against the register before it
    is written; then the remote recorded, with the objects read, for the next push."""
    from brankas.web.keys.services import keys_write_files

    settings = brankas_settings()
    if Document.objects.exists() or User.objects.exists():
        raise SetupError("recover_home_not_empty", path=str(settings.home))
    choice = recovery.choose_seal(client, identities=identities, secrets=secrets, where=where)
    sealed = choice.sealed
    copy = read_sealed(client, name=where, remote_id=sealed.remote, trusted=choice.trusted,
                       identities=identities, known={choice.version or ""})
    problems = choice.problems + [p for p in copy.problems
                                  if not p.startswith(f"{layout.SEAL} [")]
    versions = recovery.Versions(client, copy.objects, problems)
    versions.listing()
    snapshot = _newest_snapshot(copy.entries, sealed.push)
    if snapshot is None:
        raise SetupError("recover_no_snapshot", path=where)
    data = versions.read(snapshot, identities, SNAPSHOT_LIMIT)
    if data is None:
        raise SetupError("offsite_recover_unusable", where=where,
                         detail=f"data/{snapshot.path}: " + "; ".join(problems[-2:]))
    try:
        plain = crypto.decrypt_bytes(data, identities)
    except Exception:  # noqa: BLE001 - pyrage: not encrypted to these identities
        raise SetupError("recover_snapshot_unopened", run=snapshot.path) from None
    del data
    segments, head = _segments(copy.entries, sealed, where)
    snapshot_load(plain)
    del plain
    if segments:
        auditsegments.segments_load(_SegmentReader(where, versions, copy.entries),  # type: ignore[arg-type]
                                    segments, identities, head)
        sealing.raise_counter(int(head["seq"]))
    report = RecoverReport(home=str(settings.home), dest=where,
                           snapshot_run=snapshot.path.split("/")[1],
                           unlocked_with=unlocked_with, authenticated=True,
                           trusted_by=choice.trusted_by,
                           newest_sealed_run=f"{sealed.folder} (push {sealed.push})")
    docs = list(Document.objects.order_by("id"))
    _restore_files(versions, copy.entries, [(d.agenda, d.stored_path, d.stored_sha256)
                                            for d in docs], identities, report, on_progress,
                   letters=False)
    _restore_files(versions, copy.entries, [(p, p, sha) for p, _size, sha in request_letters()],
                   identities, report, None, letters=True)
    for path, entry in sorted(copy.entries.items()):  # key files and anchors: recorded
        if path.startswith(f"{KEYS_DIR}/"):
            versions.read(entry, identities, KEY_FILE_LIMIT)
    keys_write_files()
    _test_open(docs, identities, settings.home, report)
    for problem in problems:
        fmt.note(report.problems, problem)
    report.users = User.objects.count()
    report.keys = HolderKey.objects.count()
    report.documents = len(docs)
    report.documents_sha256 = {d.agenda: d.stored_sha256 for d in docs}
    remote = _record_remote(client, copy, choice, versions, remote_name, retention_days,
                            credentials_file, head)
    report.audit_ok = audit_verify() is None
    audit_record(actor="-", action="instance.recover", target=where[:200],
                 outcome="ok" if report.ok else "problems",
                 detail={"offsite": where, "push": sealed.push, "remote": remote.name,
                         "snapshot": snapshot.path, "trusted_by": choice.trusted_by,
                         "unlocked_with": unlocked_with, "documents": report.documents,
                         "missing": report.missing[:100], "damaged": report.damaged[:100],
                         "problems": report.problems[:20]})
    return report


def _newest_snapshot(entries: dict[str, layout.Entry], push: int) -> layout.Entry | None:
    found = [(int(m.group(1)), e) for p, e in entries.items()
             if (m := _SNAPSHOT.fullmatch(p)) is not None and int(m.group(1)) <= push]
    return max(found, key=lambda f: f[0])[1] if found else None


def _segments(entries: dict[str, layout.Entry], sealed: layout.SealedPush,
              where: str) -> tuple[list[segs.Segment], dict[str, Any]]:
    """The segments making the log up to the sealed head, refused
    (``recover_audit_unusable``) before anything is loaded when they do not."""
    if sealed.audit_head is None:
        return [], {}
    head = {"seq": sealed.audit_head[0], "hash": sealed.audit_head[1]}
    chain = recovery.segment_chain(list(entries.values()), sealed.audit_head)
    segments = []
    for e in chain:
        first, last = segs.name_range(e.path) or (0, 0)
        segments.append(segs.Segment(e.path, first, last, e.sha256))
    problems = segs.list_problems(segments, head, {e.path: e.sha256 for e in chain})
    if problems:
        raise SetupError("recover_audit_unusable", path=where, detail="; ".join(problems[:3]))
    return segments, head


def _restore_files(versions: recovery.Versions, entries: dict[str, layout.Entry],
                   wanted: list[tuple[str, str, str]], identities: list[Any],
                   report: RecoverReport, on_progress: Progress | None, *,
                   letters: bool) -> None:
    """Each (name, stored path, register SHA-256) downloaded beside its place in the new
    home, decrypted when the push encrypted it, its SHA-256 checked against the register,
    then renamed into place: the store keeps a biasa document plain, an exempted one
    ``.age`` (as it was sent)."""
    home = brankas_settings().home
    total = sum(entries[p].size for _n, p, _s in wanted if p in entries)
    done = 0
    for i, (name, path, sha) in enumerate(wanted):
        if on_progress is not None:
            on_progress(i, len(wanted), done, total)
        problem = stored_path_problem(path)
        if problem is not None:
            fmt.note(report.problems, f"{name}: stored path {fmt.shown(path)} refused: "
                                      f"{problem}")
            report.damaged.append(name)
            continue
        entry = entries.get(path)
        if entry is None or entry.sha256 != sha:
            report.missing.append(name)
            continue
        target = home.joinpath(*path.split("/"))
        if _restore_one(versions, entry, target, identities):
            done += entry.size
            if letters:
                report.letters += 1
            else:
                report.restored += 1
        else:
            report.damaged.append(name)
    if on_progress is not None:
        on_progress(len(wanted), len(wanted), done, total)


def _restore_one(versions: recovery.Versions, entry: layout.Entry, target: Any,
                 identities: list[Any]) -> bool:
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    plain = target.with_name(target.name + ".plain.part")
    try:
        with fsutil.open_private(part) as fh:
            if not versions.download(entry, fh):
                return False
        if entry.wrap == layout.WRAP_PLAIN:
            if versions.manifest[entry.key] != entry.sha256:
                return False  # the object is the file itself: the same SHA-256
            os.replace(part, target)
            return True
        with open(part, "rb") as src, fsutil.open_private(plain) as dst:
            hashed = HashingWriter(dst)
            crypto.decrypt_stream(src, hashed, identities)  # type: ignore[arg-type]
        if hashed.hash.hexdigest() != entry.sha256:
            return False
        os.replace(plain, target)
        return True
    except (BrankasError, ValueError, RuntimeError, OSError) as exc:
        if isinstance(exc, BrankasError) and exc.kind not in ("integrity", "crypto"):
            raise
        versions.problems.append(f"{entry.key}: {str(exc)[:200]}")
        return False
    finally:
        for leftover in (part, plain):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _record_remote(client: Any, copy: Any, choice: recovery.SealChoice,
                   versions: recovery.Versions, name: str, retention_days: int,
                   credentials_file: str, head: dict[str, Any]) -> Remote:
    """The remote in the rebuilt instance's records, as the push that sealed the copy
    left it: every object this recover read and checked (so the next push sends only
    what is new, and continues the seal chain and the audit segments), with a lock date
    of now: the next push extends every lock (its retention from then on). The canary is
    run by the next ``offsite verify``."""
    config = client.config
    sealed = choice.sealed
    operator = User.objects.order_by("id").first()  # the first admin: set-up made it
    if operator is None:
        raise SetupError("recover_snapshot_invalid", detail="no user")
    now = timezone.now()
    with transaction.atomic():
        remote = Remote.objects.create(
            name=name, remote_id=sealed.remote, endpoint=config.endpoint,
            bucket=config.bucket, region=config.region, prefix=config.prefix,
            retention_days=retention_days, credentials_file=credentials_file,
            added_by=operator, added_at=now, last_push_at=now)
        push = Push.objects.create(
            remote=remote, number=sealed.push, folder=sealed.folder, operator=operator,
            started_at=now, finished_at=now, status=Push.COMPLETED,
            audit_seq=int(head.get("seq") or 0), audit_hash=str(head.get("hash") or ""),
            seal_sha256=sealed.seal_sha256)
        rows = []
        for e in copy.entries.values():
            if e.key not in versions.chosen:
                continue
            version = versions.chosen[e.key]
            rows.append(PushedObject(
                remote=remote, push=push, kind=PushedObject.PAYLOAD, key=e.key,
                version_id=version or "", sha256=versions.manifest[e.key],
                size=versions.sizes.get((e.key, version), 0), bag_path=e.path,
                bag_sha256=e.sha256, bag_size=e.size, wrap=e.wrap, confirmed="recover",
                retain_until=now, pushed_at=now))
        PushedObject.objects.bulk_create(rows, batch_size=2000)
        for key, version in ((layout.SEAL, choice.version),
                             (layout.INDEX, sealed.index_version),
                             (layout.MANIFEST, sealed.manifest_version)):
            data = recovery.fetch(client, key, version, layout.TAG_LIMIT)
            PushedObject.objects.create(
                remote=remote, push=push, kind=PushedObject.TAG, key=key,
                version_id=version or "", sha256=layout.sha256(data), size=len(data),
                bag_path=key, confirmed="recover", retain_until=now, pushed_at=now)
    return remote

