"""Getting documents back from a backup disk: restore (into a folder) and the restore
drill (a backup never restored is not known to work). Recover (a whole instance, when the
laptop is lost) is in ``recover``. The disk is read as untrusted input (``core.disk.reader``):
every file is checked against the register's hash before it is kept."""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.db import transaction
from django.utils import timezone

from brankas.core import crypto
from brankas.core.access import Action
from brankas.core.disk.format import PROBLEMS_KEPT
from brankas.core.disk.layout import ARCHIVE_DIR
from brankas.core.disk.reader import DAMAGED, BagReader
from brankas.core.disk.verify import VerifyReport, verify
from brankas.core.errors import AccessDenied, BrankasError, CryptoFailure, NotFound
from brankas.core.register import store
from brankas.core.terms import REQUESTS_DIR
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.audit.services import AuditEntry, audit_record, audit_record_many
from brankas.web.backup import healthhook
from brankas.web.backup.models import Medium, MediumCheck
from brankas.web.backup.paths import empty_target, off_disk, outside_home
from brankas.web.backup.services import (
    Progress,
    check_record,
    disk_expectations,
    problems_record,
)
from brankas.web.backup.versions import Version, VersionFinder
from brankas.web.documents.models import Document
from brankas.web.keys.models import HolderKey
from brankas.web.keys.services import anchors_fill

ARCHIVE_PREFIX = ARCHIVE_DIR + "/"
REQUESTS_PREFIX = REQUESTS_DIR + "/"


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
    problems: list[str] = field(default_factory=list)  # manifest lines not used (unsafe)
    # The disk lacks the current version (re-encrypted by a grant or rekey since): an older
    # version was restored, which opens only for the keys it was encrypted to.
    older: list[str] = field(default_factory=list)
    bytes: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.damaged or self.problems)

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
    outside_home(dest)
    outside_home(to)
    off_disk(to, dest)
    reader = BagReader(dest)
    docs = _documents_wanted(agendas)
    identities = _holder_identities(actor, passphrase, docs, dest) \
        if passphrase is not None else {}
    target = empty_target(to)  # the one rule for a restore's folder (``backup.paths``)
    target.mkdir(parents=True, exist_ok=True)
    report = RestoreReport(dest=str(reader.dest), to=str(target),
                           problems=list(reader.problems))
    opened = _restore_into(reader, docs, target, identities, report, on_progress, actor=actor)
    audit_record_many([*(AuditEntry(actor=actor.username, action="document.open",
                                    target=agenda, detail={"via": "restore", "out": out})
                         for agenda, out in opened), AuditEntry(
        actor=actor.username, action="backup.restore", target=str(reader.dest),
        outcome="ok" if report.ok else "problems",
        detail={"medium": reader.medium.medium_id, "to": str(target),
                "restored": len(report.restored), "decrypted": len(report.decrypted),
                "missing": report.missing[:100], "damaged": report.damaged[:100]})])
    return report


def _documents_wanted(agendas: list[str] | None) -> list[Document]:
    """Every document, or those named (each must be in the register)."""
    qs = Document.objects.order_by("id")
    if not agendas:
        return list(qs)
    wanted = [a.strip() for a in agendas]
    docs = list(qs.filter(agenda__in=wanted))
    unknown = sorted(set(wanted) - {d.agenda for d in docs})
    if unknown:
        raise NotFound("document_not_found", agenda=", ".join(unknown))
    return docs


def _holder_identities(actor: User, passphrase: str, docs: list[Document],
                       dest: Path | str) -> dict[str, Any]:
    """The acting holder's identities, by key fingerprint, unlocked with the passphrase
    (a wrong one refuses); refused, and audited, when the holder has no key."""
    identities: dict[str, Any] = {}
    mine = list(HolderKey.objects.filter(holder=actor))
    # A revoked key opens nothing through Brankas (as ``identities_unlock``): what a copy of
    # it still opens on a disk is left to the disk, never decrypted here.
    keys = [k for k in mine if k.revoked_at is None]
    if mine and not keys:
        refused = AccessDenied("key_revoked", username=actor.username,
                               fingerprint=", ".join(k.fingerprint for k in mine))
        audit_record(actor=actor.username, action="backup.restore", target=str(dest),
                     outcome="denied", detail={"error": refused.code, "decrypt": True})
        raise refused
    for key in keys:
        identities[key.fingerprint] = crypto.unlock_identity(
            bytes(key.protected_identity), passphrase, username=actor.username)
    anchors_fill(keys, list(identities.values()))
    if not identities:
        refused = AccessDenied("no_key_for_document", username=actor.username,
                               agenda=", ".join(d.agenda for d in docs if d.exempted)[:200])
        audit_record(actor=actor.username, action="backup.restore", target=str(dest),
                     outcome="denied", detail={"error": refused.code, "decrypt": True})
        raise refused
    return identities


def _keys_in_force(actor: User | None, identities: dict[str, Any]) -> dict[str, Any]:
    """The identities whose key is still ``actor``'s in force: none once the holder was
    deactivated, or the key revoked, while the restore ran (issue 14)."""
    if actor is None or not identities:
        return identities
    live = set(HolderKey.objects.filter(
        holder=actor, holder__is_active=True, revoked_at__isnull=True,
        fingerprint__in=list(identities)).values_list("fingerprint", flat=True))
    return {f: i for f, i in identities.items() if f in live}


def _restore_into(reader: BagReader, docs: list[Document], target: Path,
                  identities: dict[str, Any], report: RestoreReport,
                  on_progress: Progress | None, *,
                  actor: User | None = None) -> list[tuple[str, str]]:
    """Copy each document out of the disk into ``target``, checked against the register's
    hash, decrypting those encrypted to ``identities`` (while ``actor`` still holds them);
    fills in ``report``. Returns the (agenda, output file) of each document decrypted."""
    total = sum(d.stored_size for d in docs)
    done = 0
    opened: list[tuple[str, str]] = []
    versions = VersionFinder(reader.entries)
    for i, doc in enumerate(docs):
        if on_progress is not None:
            on_progress(i, len(docs), done, total)
        found = versions.find(doc)
        if found is None:
            report.missing.append(doc.agenda)
            continue
        on_disk, version = found
        if reader.entries[on_disk] != version.sha256:
            report.damaged.append(doc.agenda)
            continue
        if not version.current:
            report.older.append(f"{doc.agenda}: data/{on_disk}")
        if doc.exempted:  # a holder deactivated meanwhile decrypts nothing more
            identities = _keys_in_force(actor, identities)
        mine = ([identities[f] for f in version.recipients if f in identities]
                if doc.exempted else [])
        decrypt = bool(mine)
        out = target / _out_name(version.path, decrypt)
        try:
            reader.copy_out(on_disk, out, identities=mine if decrypt else None)
        except BrankasError as exc:
            if exc.code in DAMAGED:
                report.damaged.append(doc.agenda)
                continue
            raise
        except (CryptoFailure, ValueError, RuntimeError):
            report.damaged.append(doc.agenda)
            continue
        report.restored.append(doc.agenda)
        report.bytes += version.size
        done += doc.stored_size
        if decrypt:
            report.decrypted.append(doc.agenda)
            opened.append((doc.agenda, str(out)))
    if on_progress is not None:
        on_progress(len(docs), len(docs), done, total)
    return opened


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
    # Documents whose current version the disk lacks (re-encrypted since): an older
    # version was restored and checked.
    older: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def backup_drill(*, actor: User, dest: Path | str, passphrase: str | None = None,
                 on_progress: Progress | None = None,
                 run_recover: Callable[..., dict[str, Any]] | None = None,
                 shares: Sequence[tuple[str, str]] | None = None,
                 lang: str | None = None) -> DrillReport:
    """Check the disk in full, restore every document on it into a temporary folder and
    compare with the register; with a key holder's passphrase, or the office recovery
    ``shares`` ((name, typed words) pairs: the recovery key rebuilt in memory and given
    to the child through its standard input), also rebuild a whole instance from the
    disk (the instance service, in a process of its own; it test-opens documents) and
    compare it with this one. The temporary folder is removed; the result is recorded
    for the disk. ``lang`` (id, en): the language of the rebuild's refusal (a web user's),
    else the command line's."""
    from brankas.web.runtime import brankas_settings

    require_audited(actor, Action.DRILL, target=str(dest))
    if passphrase is not None or shares is not None:
        require_audited(actor, Action.OPEN_EXEMPTED, target=str(dest))
    outside_home(dest)
    identity_text: str | None = None
    if shares is not None:
        from brankas.web.keys.recovery import shares_identity

        identity_text = str(shares_identity(shares, actor=actor, purpose="drill"))
    settings = brankas_settings()
    started = timezone.now()
    reader = BagReader(dest)
    medium = Medium.objects.filter(medium_id=reader.medium.medium_id).first()
    fixity = verify(reader.dest, mode="full", on_progress=on_progress,
                    expect=disk_expectations(medium))
    versions = VersionFinder(reader.entries)
    # Each document in the version the disk holds (the current one, else an older one).
    docs = [(d, found) for d in Document.objects.order_by("id")
            if (found := versions.find(d)) is not None]
    missing = [d.agenda for d in Document.objects.filter(
        copies__medium__medium_id=reader.medium.medium_id)
        if reader.locate(d.stored_path, d.stored_sha256) is None]
    recovered: dict[str, Any] | None = None
    mismatched: list[str] = []
    settings.tmp.mkdir(parents=True, exist_ok=True)
    store.sweep_staging(settings)  # what a killed drill left, a day on
    with tempfile.TemporaryDirectory(prefix=store.DRILL_PREFIX, dir=settings.tmp) as tmp:
        restored, damaged = _drill_restore(reader, docs, Path(tmp) / "files")
        if passphrase is not None or identity_text is not None:
            recover = run_recover or functools.partial(_recover_subprocess, lang=lang)
            recovered = recover(reader.dest, Path(tmp) / "home", passphrase,
                                identity_text=identity_text)
            theirs = recovered.get("documents_sha256", {})
            # The disk's own snapshot names the version the disk holds.
            ours = {d.agenda: version.sha256 for d, (_p, version) in docs}
            mismatched = sorted(a for a in ours if theirs.get(a) != ours[a])
    ok = (fixity.ok and not missing and not damaged and not mismatched
          and (recovered is None or bool(recovered.get("ok"))))
    report = DrillReport(dest=str(reader.dest), ok=ok, verify=fixity.as_dict(),
                         restored=restored, missing=missing, damaged=damaged,
                         recovered={k: v for k, v in recovered.items()
                                    if k != "documents_sha256"} if recovered else None,
                         mismatched=mismatched,
                         older=[f"{d.agenda}: data/{p}" for d, (p, v) in docs if not v.current])
    report.verify["medium"] = None
    check = _drill_record(report, fixity, actor=actor, medium=medium, started=started,
                          recovered=recovered)
    healthhook.after_use(medium=medium, dest=reader.dest, actor=actor, source="drill",  # s17 E
                         check=check)
    return report


def _drill_restore(reader: BagReader, docs: list[tuple[Document, tuple[str, Version]]],
                   into: Path) -> tuple[int, list[str]]:
    """Copy every document found on the disk into ``into``, each checked against the
    register's hash (of the version found); returns how many came back whole and the
    agendas that did not."""
    restored = 0
    damaged: list[str] = []
    for doc, (on_disk, version) in docs:
        try:
            digest = reader.copy_out(on_disk, into.joinpath(*version.path.split("/")))
        except BrankasError:
            damaged.append(doc.agenda)
            continue
        if digest != version.sha256:
            damaged.append(doc.agenda)
        else:
            restored += 1
    return restored, damaged


def _drill_record(report: DrillReport, fixity: VerifyReport, *, actor: User,
                  medium: Medium | None, started: Any,
                  recovered: dict[str, Any] | None) -> MediumCheck:
    """The drill as the disk's last check, and its audit entry."""
    ok = report.ok
    with transaction.atomic():
        check = MediumCheck(
            medium=medium, kind=MediumCheck.DRILL,
            mode="full+recover" if recovered else "full",
            actor=actor, dest=report.dest[:500], started_at=started,
            finished_at=timezone.now(), ok=ok, files_checked=fixity.files_hashed,
            bytes_checked=fixity.bytes_hashed,
            problems={} if ok else {**problems_record(fixity),
                                    "drill_missing": report.missing[:PROBLEMS_KEPT],
                                    "drill_damaged": report.damaged[:PROBLEMS_KEPT],
                                    "mismatched": report.mismatched[:PROBLEMS_KEPT]})
        check_record(check, shown_mode="drill")
        audit_record(actor=actor.username, action="backup.drill",
                     target=medium.label if medium else report.dest,
                     outcome="ok" if ok else "problems",
                     detail={"restored": report.restored, "missing": len(report.missing),
                             "damaged": len(report.damaged),
                             "recovered": recovered is not None,
                             "mismatched": len(report.mismatched)})
    return check


def _recover_subprocess(dest: Path, home: Path, passphrase: str | None, *,
                        identity_text: str | None = None,
                        lang: str | None = None) -> dict[str, Any]:
    """The instance service's recover in its own process (its own database), as an office
    would run it. The office key's fingerprint is given as the paper would give it: the
    drill checks that the disk's seals are this office's."""
    from brankas.instance import recover_in_child
    from brankas.web.keys.services import office_key

    return recover_in_child(dest=dest, home=home, passphrase=passphrase,
                            identity_text=identity_text, fingerprint=office_key().fingerprint,
                            lang=lang)
