"""Getting documents back from a backup disk: restore (into a folder), recover (a whole
instance, when the laptop is lost) and the restore drill (a backup never restored is not
known to work)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from brankas.core import crypto
from brankas.core.access import Action
from brankas.core.bagread import BagReader
from brankas.core.bagverify import verify
from brankas.core.disklayout import ARCHIVE_DIR, CONTROL_JSON, RUNS_DIR, SNAPSHOT
from brankas.core.errors import AccessDenied, BrankasError, CryptoFailure, NotFound, SetupError
from brankas.core.terms import REQUESTS_DIR
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import AuditEntry, audit_record, audit_record_many, audit_verify
from brankas.web.backup.models import BackupCopy, BackupRun, Medium, MediumCheck
from brankas.web.backup.services import Progress, check_record, medium_sync
from brankas.web.backup.snapshot import snapshot_load
from brankas.web.dispatch.selectors import request_letters
from brankas.web.documents.models import Document
from brankas.web.keys.models import HolderKey

ARCHIVE_PREFIX = ARCHIVE_DIR + "/"
REQUESTS_PREFIX = REQUESTS_DIR + "/"
UNREGISTERED_DIR = "dipulihkan-tanpa-register"  # files on the disk no register names


def _empty_target(path: Path, code: str) -> Path:
    path = path.expanduser().absolute()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise SetupError(code, path=str(path))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _out_name(stored_path: str, decrypt: bool) -> PurePosixPath:
    rel = PurePosixPath(stored_path.removeprefix(ARCHIVE_PREFIX))
    if decrypt and rel.name.endswith(crypto.EXTENSION):
        rel = rel.with_name(rel.name[: -len(crypto.EXTENSION)])
    return rel


# -- restore -----------------------------------------------------------------------------

@dataclass
class RestoreReport:
    dest: str
    to: str
    restored: list[str] = field(default_factory=list)  # agenda numbers
    decrypted: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # not on the disk
    damaged: list[str] = field(default_factory=list)  # on the disk, hash mismatch
    bytes: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.damaged)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok}


def backup_restore(*, actor: User, dest: Path | str, to: Path | str,
                   agendas: list[str] | None = None, passphrase: str | None = None,
                   on_progress: Progress | None = None) -> RestoreReport:
    """Copy documents from the disk into the folder ``to`` (the four-folder tree), each
    checked against the disk's manifest and the register. With ``passphrase`` the
    acting key holder's exempted documents are decrypted; otherwise they stay ``.age``."""
    require_audited(actor, Action.RESTORE, target=str(dest))
    if passphrase is not None:
        require_audited(actor, Action.OPEN_EXEMPTED, target=str(dest))
    reader = BagReader(dest)
    qs = Document.objects.order_by("id")
    if agendas:
        wanted = [a.strip() for a in agendas]
        docs = list(qs.filter(agenda__in=wanted))
        unknown = sorted(set(wanted) - {d.agenda for d in docs})
        if unknown:
            raise NotFound("document_not_found", agenda=", ".join(unknown))
    else:
        docs = list(qs)
    identities: dict[str, Any] = {}
    if passphrase is not None:
        for key in HolderKey.objects.filter(holder=actor):
            identities[key.fingerprint] = crypto.unlock_identity(
                bytes(key.protected_identity), passphrase, username=actor.username)
        if not identities:
            refused = AccessDenied("no_key_for_document", username=actor.username,
                                   agenda=", ".join(d.agenda for d in docs if d.exempted)[:200])
            audit_record(actor=actor.username, action="backup.restore", target=str(dest),
                         outcome="denied", detail={"error": refused.code, "decrypt": True})
            raise refused
    target = _empty_target(Path(to), "restore_target_not_empty")
    report = RestoreReport(dest=str(reader.dest), to=str(target))
    total = sum(d.stored_size for d in docs)
    done = 0
    opened: list[AuditEntry] = []
    for i, doc in enumerate(docs):
        if on_progress is not None:
            on_progress(i, len(docs), done, total)
        if not reader.has(doc.stored_path):
            report.missing.append(doc.agenda)
            continue
        if reader.entries[doc.stored_path] != doc.stored_sha256:
            report.damaged.append(doc.agenda)
            continue
        mine = [identities[f] for f in doc.recipients if f in identities] if doc.exempted else []
        decrypt = bool(mine)
        out = target / _out_name(doc.stored_path, decrypt)
        try:
            reader.copy_out(doc.stored_path, out, identities=mine if decrypt else None)
        except BrankasError as exc:
            if exc.code == "backup_file_damaged":
                report.damaged.append(doc.agenda)
                continue
            raise
        except (CryptoFailure, ValueError, RuntimeError):
            report.damaged.append(doc.agenda)
            continue
        report.restored.append(doc.agenda)
        report.bytes += doc.stored_size
        done += doc.stored_size
        if decrypt:
            report.decrypted.append(doc.agenda)
            opened.append(AuditEntry(actor=actor.username, action="document.open",
                                     target=doc.agenda, detail={"via": "restore",
                                                                "out": str(out)}))
    if on_progress is not None:
        on_progress(len(docs), len(docs), done, total)
    audit_record_many([*opened, AuditEntry(
        actor=actor.username, action="backup.restore", target=str(reader.dest),
        outcome="ok" if report.ok else "problems",
        detail={"medium": reader.medium.medium_id, "to": str(target),
                "restored": len(report.restored), "decrypted": len(report.decrypted),
                "missing": report.missing[:100], "damaged": report.damaged[:100]})])
    return report


# -- recover -----------------------------------------------------------------------------

def read_snapshot(reader: BagReader, identities: list[Any], what: str) -> tuple[str, bytes]:
    """The newest database snapshot on the disk that ``identities`` open: (run folder,
    plaintext JSON, kept in memory)."""
    snapshots = reader.run_folders(RUNS_DIR, SNAPSHOT)
    if not snapshots:
        raise SetupError("recover_no_snapshot", path=str(reader.dest))
    for payload in snapshots:
        try:
            data = crypto.decrypt_bytes(reader.read_bytes(payload), identities)
        except BrankasError as exc:
            if exc.code == "backup_file_damaged":
                continue
            raise
        except Exception:  # noqa: BLE001,S112 - pyrage: not one of our recipients
            continue
        return payload.split("/")[1], data
    raise CryptoFailure("recover_cannot_unlock", what=what)


@dataclass
class RecoverReport:
    home: str
    dest: str
    snapshot_run: str
    unlocked_with: str
    users: int = 0
    keys: int = 0
    documents: int = 0
    restored: int = 0
    missing: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    unregistered: list[str] = field(default_factory=list)  # on the disk, named by no record
    letters: int = 0  # request letters (permintaan/) brought back
    runs: int = 0
    exempted_opened: list[str] = field(default_factory=list)
    audit_ok: bool = False
    documents_sha256: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.damaged) and self.audit_ok

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok}


def instance_recover(*, dest: Path | str, identities: list[Any], unlocked_with: str,
                     on_progress: Progress | None = None) -> RecoverReport:
    """Rebuild the instance whose (new, empty, migrated) database Django is set up on,
    from one disk: register, users, keys, audit log, archive and control lists."""
    from brankas.web.keys.services import keys_write_files
    from brankas.web.runtime import brankas_settings

    settings = brankas_settings()
    reader = BagReader(dest)
    if Document.objects.exists() or User.objects.exists():
        raise SetupError("recover_home_not_empty", path=str(settings.home))
    folder, snapshot = read_snapshot(reader, identities, unlocked_with)
    snapshot_load(snapshot)
    del snapshot
    report = RecoverReport(home=str(settings.home), dest=str(reader.dest), snapshot_run=folder,
                           unlocked_with=unlocked_with)
    docs = list(Document.objects.order_by("id"))
    total = sum(d.stored_size for d in docs)
    done = 0
    for i, doc in enumerate(docs):
        if on_progress is not None:
            on_progress(i, len(docs), done, total)
        if not reader.has(doc.stored_path):
            report.missing.append(doc.agenda)
            continue
        try:
            digest = reader.copy_out(doc.stored_path, settings.home / doc.stored_path)
        except BrankasError as exc:
            if exc.code != "backup_file_damaged":
                raise
            report.damaged.append(doc.agenda)
            continue
        if digest != doc.stored_sha256:
            (settings.home / doc.stored_path).unlink()
            report.damaged.append(doc.agenda)
            continue
        report.restored += 1
        done += doc.stored_size
    if on_progress is not None:
        on_progress(len(docs), len(docs), done, total)
    registered = {d.stored_path for d in docs}
    for path, _size, sha in request_letters():  # letters of requests not yet registered
        registered.add(path)
        if not reader.has(path):
            report.missing.append(path)
            continue
        try:
            if reader.copy_out(path, settings.home / path) == sha:
                report.letters += 1
                continue
            (settings.home / path).unlink()
        except BrankasError as exc:
            if exc.code != "backup_file_damaged":
                raise
        report.damaged.append(path)
    for payload in sorted(reader.entries):
        if payload.startswith((ARCHIVE_PREFIX, REQUESTS_PREFIX)) and payload not in registered:
            reader.copy_out(payload, settings.home / UNREGISTERED_DIR / payload)
            report.unregistered.append(payload)
    keys_write_files()
    # Exempted documents open with the identities that opened the snapshot.
    for doc in [d for d in docs if d.exempted and d.agenda not in report.missing
                and d.agenda not in report.damaged][:3]:
        try:
            with open(settings.home / doc.stored_path, "rb") as fh:
                plain = crypto.decrypt_bytes(fh.read(), identities)
        except Exception:  # noqa: BLE001,S112 - reported as not opened
            continue
        if hashlib.sha256(plain).hexdigest() == doc.content_sha256:
            report.exempted_opened.append(doc.agenda)
        del plain
    report.runs = _import_control_lists(reader, docs)
    report.users = User.objects.count()
    report.keys = HolderKey.objects.count()
    report.documents = len(docs)
    report.documents_sha256 = {d.agenda: d.stored_sha256 for d in docs}
    report.audit_ok = audit_verify() is None
    audit_record(actor="-", action="instance.recover", target=str(reader.dest),
                 outcome="ok" if report.ok else "problems",
                 detail={"medium": reader.medium.medium_id, "snapshot": folder,
                         "unlocked_with": unlocked_with, "documents": report.documents,
                         "missing": report.missing[:100], "damaged": report.damaged[:100],
                         "unregistered": len(report.unregistered)})
    return report


def _import_control_lists(reader: BagReader, docs: list[Document]) -> int:
    """Bring the runs the snapshot does not know (or knew as running) up to date from the
    control lists on the disk; record which documents are on this disk."""
    medium = medium_sync(reader.dest, reader.medium.medium_id, reader.medium.label,
                         reader.medium.created)
    count = 0
    with transaction.atomic():
        for payload in reader.run_folders(RUNS_DIR, CONTROL_JSON):
            try:
                control = json.loads(reader.read_bytes(payload))
            except (BrankasError, ValueError):
                continue
            number = int(control["run"])
            run = BackupRun.objects.filter(number=number).first()
            if run is not None and run.status == BackupRun.COMPLETED:
                continue
            operator = User.objects.filter(username=control["operator"]["username"]).first()
            if operator is None:
                continue
            run_medium = Medium.objects.filter(
                medium_id=control["medium"]["medium_id"]).first() or medium
            fields = {
                "medium": run_medium, "operator": operator, "folder": control["folder"],
                "dest": control["dest"], "started_at": parse_datetime(control["started_at"]),
                "finished_at": parse_datetime(control["finished_at"]),
                "status": BackupRun.COMPLETED, "categories": control["categories"],
                "agendas": [d["agenda"] for d in control["documents"]],
                "files_added": control["files_added"], "bytes_added": control["bytes_added"],
                "files_skipped": control["files_skipped"], "verified": control["verified"],
            }
            BackupRun.objects.update_or_create(number=number, defaults=fields)
            count += 1
        BackupRun.objects.filter(status=BackupRun.RUNNING).update(
            status=BackupRun.FAILED, error="interrupted", finished_at=timezone.now())
        on_disk = [d.id for d in docs if reader.has(d.stored_path)]
        BackupCopy.objects.bulk_create(
            [BackupCopy(document_id=i, medium=medium) for i in on_disk], ignore_conflicts=True)
    return count


# -- the restore drill ----------------------------------------------------------------

@dataclass
class DrillReport:
    dest: str
    ok: bool
    verify: dict[str, Any]
    restored: int
    missing: list[str]
    damaged: list[str]
    recovered: dict[str, Any] | None  # the full recover, when a key holder's passphrase was given
    mismatched: list[str]  # recovered register differs from this instance's

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def backup_drill(*, actor: User, dest: Path | str, passphrase: str | None = None,
                 on_progress: Progress | None = None,
                 run_recover: Callable[[Path, Path, str], dict[str, Any]] | None = None
                 ) -> DrillReport:
    """Check the disk in full, restore every document on it into a temporary folder and
    compare with the register; with a key holder's passphrase, also rebuild a whole
    instance from the disk (a separate process) and compare it with this one. The
    temporary folder is removed; the result is recorded for the disk."""
    from brankas.web.runtime import brankas_settings

    require_audited(actor, Action.DRILL, target=str(dest))
    if passphrase is not None:
        require_audited(actor, Action.OPEN_EXEMPTED, target=str(dest))
    settings = brankas_settings()
    started = timezone.now()
    reader = BagReader(dest)
    fixity = verify(reader.dest, mode="full", on_progress=on_progress)
    docs = [d for d in Document.objects.order_by("id") if reader.has(d.stored_path)]
    missing = [d.agenda for d in Document.objects.filter(
        copies__medium__medium_id=reader.medium.medium_id) if not reader.has(d.stored_path)]
    damaged: list[str] = []
    restored = 0
    recovered: dict[str, Any] | None = None
    mismatched: list[str] = []
    settings.tmp.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="drill-", dir=settings.tmp) as tmp:
        for doc in docs:
            try:
                digest = reader.copy_out(doc.stored_path, Path(tmp) / "files" / doc.stored_path)
            except BrankasError:
                damaged.append(doc.agenda)
                continue
            if digest != doc.stored_sha256:
                damaged.append(doc.agenda)
            else:
                restored += 1
        if passphrase is not None:
            recover = run_recover or _recover_subprocess
            recovered = recover(reader.dest, Path(tmp) / "home", passphrase)
            theirs = recovered.get("documents_sha256", {})
            ours = {d.agenda: d.stored_sha256 for d in docs}
            mismatched = sorted(a for a in ours if theirs.get(a) != ours[a])
    ok = (fixity.ok and not missing and not damaged and not mismatched
          and (recovered is None or bool(recovered.get("ok"))))
    report = DrillReport(dest=str(reader.dest), ok=ok, verify=fixity.as_dict(),
                         restored=restored, missing=missing, damaged=damaged,
                         recovered={k: v for k, v in recovered.items()
                                    if k != "documents_sha256"} if recovered else None,
                         mismatched=mismatched)
    report.verify["medium"] = None
    medium = Medium.objects.filter(medium_id=reader.medium.medium_id).first()
    with transaction.atomic():
        check_record(MediumCheck(
            medium=medium, kind=MediumCheck.DRILL, mode="full+recover" if recovered else "full",
            actor=actor, dest=str(reader.dest)[:500], started_at=started,
            finished_at=timezone.now(), ok=ok, files_checked=fixity.files_hashed,
            bytes_checked=fixity.bytes_hashed,
            problems={} if ok else {"missing": missing, "damaged": damaged,
                                    "mismatched": mismatched,
                                    "verify_missing": fixity.missing,
                                    "verify_changed": [c.path for c in fixity.changed],
                                    "unexpected": fixity.unexpected}),
            shown_mode="drill")
        audit_record(actor=actor.username, action="backup.drill",
                     target=medium.label if medium else str(reader.dest),
                     outcome="ok" if ok else "problems",
                     detail={"restored": restored, "missing": len(missing),
                             "damaged": len(damaged), "recovered": recovered is not None,
                             "mismatched": len(mismatched)})
    return report


def _recover_subprocess(dest: Path, home: Path, passphrase: str) -> dict[str, Any]:
    """``brankas recover`` in its own process (its own database), as an office would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_PASSPHRASE": passphrase, "BRANKAS_LANG": os.environ.get(
        "BRANKAS_LANG", "id")})
    proc = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "brankas", "recover", str(dest), "--home", str(home), "--json"],
        env=env, capture_output=True, text=True, check=False)
    try:
        out: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        out = {"ok": False, "error": (proc.stderr or proc.stdout).strip()[-2000:]}
    out["exit"] = proc.returncode
    return out


