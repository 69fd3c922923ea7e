"""Recover: a whole instance rebuilt from one disk, when the laptop is lost.

The disk is untrusted input. Only what the office sealed (``core.disk.seal``) is believed,
and the office's key is believed only through an anchor the disk cannot forge: the
fingerprint printed at set-up, or an anchor file whose tag checks with the identity that
unlocked the disk (a key holder's, through the passphrase, or the recovery identity).
The snapshot used is the one the newest sealed run names; if it cannot be used, nothing
is recovered unless the operator asks for an older one (``allow_older``), having been
told what would be lost. Every path from the disk (the manifest's, the register's) is
checked before anything is written, and nothing is written outside the new home.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from brankas.core import crypto
from brankas.core.disk import format as fmt
from brankas.core.disk import seal as diskseal
from brankas.core.disk import segments as segs
from brankas.core.disk.layout import (
    ARCHIVE_DIR,
    CONTROL_JSON,
    KEYS_DIR,
    RUNS_DIR,
    SNAPSHOT,
)
from brankas.core.disk.reader import DAMAGED, BagReader, locate, same_folder_index
from brankas.core.errors import BrankasError, CryptoFailure, InvalidInput, SetupError
from brankas.core.terms import REQUESTS_DIR
from brankas.web.accounts.models import User
from brankas.web.audit.services import audit_record, audit_verify
from brankas.web.backup import journal, sealing
from brankas.web.backup import segments as auditsegments
from brankas.web.backup.models import BackupCopy, BackupRun, Medium
from brankas.web.backup.services import Progress, medium_sync
from brankas.web.backup.snapshot import snapshot_load
from brankas.web.backup.versions import superseded_hashes, unversioned
from brankas.web.databases import refresh_statistics
from brankas.web.documents.models import Document
from brankas.web.keys.models import HolderKey
from brankas.web.sendrequests.selectors import request_letters

UNREGISTERED_DIR = "dipulihkan-tanpa-register"  # files on the disk no register names
CONTROL_LIMIT = 256 << 20
SNAPSHOT_LIMIT = 4 << 30
# Where a register entry may keep its file: the four folders, or a request's letter.
_STORED = re.compile(
    rf"(?:{ARCHIVE_DIR}/(?:biasa|dikecualikan)/(?:pengiriman|penerimaan)/\d{{4}}"
    rf"|{REQUESTS_DIR}/\d{{4}})/[^/]+")


def stored_path_problem(path: str) -> str | None:
    """Why a stored path from a snapshot cannot be used (it decides where a file is
    written in the new home), or None."""
    if _STORED.fullmatch(path) is None:
        return "not a path of the four folders or of a request's letter"
    return fmt.check_payload_path(path)


# -- what the disk can prove ----------------------------------------------------------

@dataclass
class DiskTrust:
    keys: set[str] = field(default_factory=set)  # office public keys believed
    by: list[str] = field(default_factory=list)  # what made each believed


def disk_trust(reader: BagReader, *, secrets: list[tuple[str, str]],
               fingerprint: str | None) -> DiskTrust:
    """The office keys this disk's seals may be checked with. ``secrets``: (label, age
    identity) that unlocked the disk; each anchor on the disk whose tag checks with one of
    them names the office key. ``fingerprint``: typed from the paper of set-up."""
    trust = DiskTrust()
    prefix = f"{KEYS_DIR}/{diskseal.ANCHORS_DIR}/"
    for payload in sorted(p for p in reader.entries if p.startswith(prefix)):
        try:
            data = reader.read_bytes(payload, limit=diskseal.ANCHOR_LIMIT)
        except BrankasError:
            continue
        for label, secret in secrets:
            statement = diskseal.anchor_open(data, secret)
            if statement is not None and statement["office_key"] not in trust.keys:
                trust.keys.add(statement["office_key"])
                trust.by.append(f"anchor ({label}): "
                                f"{diskseal.fingerprint(statement['office_key'])}")
    if fingerprint is not None:
        wanted = diskseal.normalize_fingerprint(fingerprint)
        if wanted is None:
            raise InvalidInput("field_invalid", field="--fingerprint",
                               detail=("32 angka heksadesimal, seperti dicetak saat penyiapan",
                                       "32 hexadecimal digits, as printed at set-up"))
        seen = diskseal.read_disk_seals(reader.dest, reader.entries, trusted=set(),
                                        medium_id=reader.medium.medium_id, runs_dir=RUNS_DIR)
        for run in seen.runs:
            if run.seal is not None and run.seal.valid and run.seal.fingerprint == wanted:
                trust.keys.add(run.seal.key)
                trust.by.append(f"fingerprint on paper: {wanted}")
                break
        else:
            raise CryptoFailure("recover_fingerprint_unknown", fingerprint=wanted)
    return trust


# -- which snapshot ---------------------------------------------------------------------

@dataclass
class SnapshotChoice:
    folder: str
    data: bytes | list[dict[str, Any]]  # a snapshot's JSON, or a base and its journal composed
    sealed: bool  # authenticated by the office's seal
    newest_sealed: str | None = None  # the newest run the office sealed on the disk
    passed_over: list[str] = field(default_factory=list)  # newer runs not used, and why


def _lost_after(reader: BagReader, seals: diskseal.SealReport, number: int) -> str:
    """What an older snapshot would lose: the sealed runs after it and the documents their
    control lists carried."""
    runs = [r for r in seals.runs if r.signed and r.number > number]
    agendas: list[str] = []
    for run in runs:
        path = f"{RUNS_DIR}/{run.folder}/{CONTROL_JSON}"
        if (run.statement("files") or {}).get(path) != reader.entries.get(path):
            continue
        try:
            control = fmt.json_from_disk(reader.read_bytes(path, limit=CONTROL_LIMIT))
            agendas += [str(d["agenda"])[:40] for d in control["documents"]]
        except (BrankasError, ValueError, KeyError, TypeError):
            continue
    shown = ", ".join(agendas[:20]) + (f" (+{len(agendas) - 20})" if len(agendas) > 20 else "")
    return (f"runs {', '.join(r.folder for r in runs)}"
            + (f"; documents {shown}" if agendas else "; the documents they registered"))


def _open_snapshot(reader: BagReader, run: diskseal.RunSeal, identities: list[Any]) -> bytes:
    """A sealed run's snapshot, decrypted in memory; refused unless it is whole, the bytes
    the office sealed, and opens with the identities."""
    if run.problems:
        raise SetupError("backup_bag_invalid", path=str(reader.dest),
                         detail="; ".join(run.problems[:3]))
    path = f"{RUNS_DIR}/{run.folder}/{SNAPSHOT}"
    sealed = (run.statement("files") or {}).get(path)
    if path not in reader.entries or sealed != reader.entries[path]:
        raise SetupError("backup_bag_invalid", path=str(reader.dest),
                         detail=f"data/{path} is missing or not what the office sealed")
    data = reader.read_bytes(path, limit=SNAPSHOT_LIMIT)
    try:
        return crypto.decrypt_bytes(data, identities)
    except Exception:  # pyrage: damaged, or not encrypted to these identities
        raise CryptoFailure("recover_snapshot_unopened", run=run.folder) from None


def _open_chain(reader: BagReader, seals: diskseal.SealReport, base_run: diskseal.RunSeal,
                chain: tuple[journal.Ref, tuple[journal.Ref, ...]],
                identities: list[Any]) -> list[dict[str, Any]]:
    """A sealed base snapshot and its journal parts (each in its run's folder, listed with
    its SHA-256 by the newest seal, its own run sealed by the office without a problem),
    decrypted and composed (``journal.compose``): the database as of the last part."""
    from brankas.web.backup.snapshot import DISK_MODELS

    base, parts = chain
    if base_run.statement("files", {}).get(f"{RUNS_DIR}/{base.folder}/{SNAPSHOT}") \
            != base.sha256:
        raise SetupError("backup_bag_invalid", path=str(reader.dest),
                         detail=f"the snapshot of run {base.folder} is not the one the "
                                "journal was sealed on")
    for part in parts:  # every part where the seals say, before anything is read
        run = seals.run(part.folder)
        path = f"{RUNS_DIR}/{part.folder}/{journal.JOURNAL}"
        if run is None or not run.signed or run.problems:
            raise SetupError("backup_bag_invalid", path=str(reader.dest), detail=(
                f"the journal part of run {part.folder} is not in a run the office sealed"
                + (f": {run.problems[0]}" if run and run.problems else "")))
        if reader.entries.get(path) != part.sha256 \
                or (run.statement("files") or {}).get(path) != part.sha256:
            raise SetupError("backup_bag_invalid", path=str(reader.dest),
                             detail=f"data/{path} is missing or not what the office sealed")

    def opened() -> Iterator[tuple[journal.Ref, bytes]]:
        """Each part read and decrypted as ``compose`` comes to it: one part in memory at
        a time (a part that replaces the register is about as large as the base)."""
        for part in parts:
            data = reader.read_bytes(f"{RUNS_DIR}/{part.folder}/{journal.JOURNAL}",
                                     limit=SNAPSHOT_LIMIT)
            try:
                plain = crypto.decrypt_bytes(data, identities)
            except Exception:  # pyrage: damaged, or not encrypted to these identities
                raise CryptoFailure("recover_snapshot_unopened", run=part.folder) from None
            del data
            yield part, plain
            del plain
    try:
        objects = json.loads(_open_snapshot(reader, base_run, identities).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SetupError("recover_snapshot_invalid", detail=str(exc)[:300]) from None
    if not isinstance(objects, list):
        raise SetupError("recover_snapshot_invalid", detail="the base is not a list of records")
    return journal.compose(objects, opened(), base_ref=base,
                           medium_id=reader.medium.medium_id, allowed=DISK_MODELS)


def choose_snapshot(reader: BagReader, seals: diskseal.SealReport, identities: list[Any], *,
                    allow_older: bool) -> SnapshotChoice:
    """The snapshot the newest sealed run names, authenticated by its seal. Refused when it
    cannot be used (damaged, altered, not openable), naming what an older one would lose;
    with ``allow_older``, the newest older sealed snapshot that can be used."""
    signed = [r for r in seals.runs if r.signed]
    if not signed:
        raise SetupError("recover_not_sealed", path=str(reader.dest))
    newest = signed[-1]
    named = newest.statement("snapshot") or {}
    current_folder = named.get("folder") if isinstance(named, dict) else None
    # A journal (``web.backup.journal``): the base snapshot and the parts after it.
    chain = (sealing.chain_from_statement(named)
             if isinstance(named, dict) and "journal" in named else None)
    base_folder = chain[0].folder if chain else current_folder
    with_snapshot = [r for r in reversed(signed)
                     if f"{RUNS_DIR}/{r.folder}/{SNAPSHOT}" in (r.statement("files") or {})]
    current = next((r for r in with_snapshot if r.folder == base_folder), None)
    older = [r for r in with_snapshot if r is not current]
    unsealed = [r for r in seals.runs if r.number > newest.number and not r.signed]
    passed_over = [f"{r.folder}: not sealed by the office, not used" for r in unsealed]
    try:
        if unsealed:
            raise SetupError("backup_bag_invalid", path=str(reader.dest), detail=(
                f"the newest run on the disk, {unsealed[-1].folder}, is not sealed by the "
                "office (a run that was cut short, or a disk that was changed)"))
        if newest.problems:
            raise SetupError("backup_bag_invalid", path=str(reader.dest),
                             detail="; ".join(newest.problems[:3]))
        if isinstance(named, dict) and "journal" in named and chain is None:
            raise SetupError("backup_bag_invalid", path=str(reader.dest), detail=(
                f"the seal of run {newest.folder} names a snapshot journal that is malformed"))
        if current is None:
            raise SetupError("backup_bag_invalid", path=str(reader.dest),
                             detail=f"the snapshot of run {base_folder} is not on the disk")
        if chain is not None:
            return SnapshotChoice(chain[1][-1].folder,
                                  _open_chain(reader, seals, current, chain, identities),
                                  True, newest.folder, passed_over)
        return SnapshotChoice(current.folder, _open_snapshot(reader, current, identities),
                              True, newest.folder, passed_over)
    except BrankasError as exc:
        problem = exc.message()[:500]
    if chain is not None and current is not None and not current.problems:
        older = [current, *older]  # the base alone: the state of its own run
    # An older run that wrote a journal part names its own chain (the base and the parts
    # up to its own): a state newer than its base, tried in its place among the older.
    chains = {r.folder: c for r in signed[:-1] if not r.problems
              and (c := _own_chain(r)) is not None}
    older = sorted([*older, *(r for r in signed[:-1] if r.folder in chains)],
                   key=lambda r: -r.number) if chains else older
    if not allow_older:
        fallback = max((r for r in [current, *older] if r and not r.problems
                        and not (r is current and newest.problems)),
                       key=lambda r: r.number, default=None)
        lost = (_lost_after(reader, seals, fallback.number) if fallback
                else "everything: no older sealed snapshot is usable either")
        if unsealed:
            lost += "; and what the unsealed runs " + ", ".join(
                r.folder for r in unsealed) + " carried"
        raise SetupError("recover_newest_unusable",
                         run=unsealed[-1].folder if unsealed else newest.folder,
                         detail=problem, lost=lost)
    passed_over.append(f"{(unsealed[-1] if unsealed else newest).folder}: {problem}")
    if unsealed and current is not None and not newest.problems:
        older = [current, *older]
        if chain is not None:  # the newest sealed run's own chain first
            chains[newest.folder] = chain
            older = [newest, *older]
    for run in older:
        try:
            if run.folder in chains:
                base, parts = chains[run.folder]
                base_run = next((r for r in with_snapshot if r.folder == base.folder), None)
                if base_run is None:
                    raise SetupError("backup_bag_invalid", path=str(reader.dest),
                                     detail=f"the snapshot of run {base.folder} is not on "
                                            "the disk")
                data: bytes | list[dict[str, Any]] = _open_chain(
                    reader, seals, base_run, (base, parts), identities)
            else:
                data = _open_snapshot(reader, run, identities)
        except BrankasError as exc:
            passed_over.append(f"{run.folder}: {exc.message()[:300]}")
            continue
        folder = chains[run.folder][1][-1].folder if run.folder in chains else run.folder
        return SnapshotChoice(folder, data, True, newest.folder, passed_over)
    raise SetupError("recover_no_snapshot", path=str(reader.dest))


def _own_chain(run: diskseal.RunSeal) -> tuple[journal.Ref, tuple[journal.Ref, ...]] | None:
    """The base and journal parts a sealed run names when it wrote the last part itself."""
    named = run.statement("snapshot")
    if not isinstance(named, dict) or "journal" not in named:
        return None
    chain = sealing.chain_from_statement(named)
    return chain if chain is not None and chain[1][-1].folder == run.folder else None


def choose_unsealed(reader: BagReader, identities: list[Any]) -> SnapshotChoice:
    """Without any anchor (``--allow-unsigned``, for disks written before backups were
    sealed): the newest snapshot the identities open, as before seals existed."""
    folders = reader.run_folders(RUNS_DIR, SNAPSHOT)
    if not folders:
        raise SetupError("recover_no_snapshot", path=str(reader.dest))
    passed_over: list[str] = []
    for payload in folders:
        try:
            data = crypto.decrypt_bytes(reader.read_bytes(payload, limit=SNAPSHOT_LIMIT),
                                        identities)
        except BrankasError as exc:
            if exc.code not in DAMAGED:
                raise
            passed_over.append(f"{payload.split('/')[1]}: {exc.message()[:300]}")
            continue
        except Exception:  # noqa: BLE001 - pyrage: not one of our recipients
            passed_over.append(f"{payload.split('/')[1]}: does not open with this key")
            continue
        return SnapshotChoice(payload.split("/")[1], data, False, None, passed_over)
    raise CryptoFailure("recover_cannot_unlock", what="-")


# -- the rebuild ------------------------------------------------------------------------

@dataclass
class RecoverReport:
    home: str
    dest: str
    snapshot_run: str
    unlocked_with: str
    authenticated: bool = False  # the snapshot carried the office's seal
    trusted_by: list[str] = field(default_factory=list)
    newest_sealed_run: str | None = None
    passed_over: list[str] = field(default_factory=list)  # newer runs not used
    users: int = 0
    keys: int = 0
    documents: int = 0
    restored: int = 0
    missing: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    unregistered: list[str] = field(default_factory=list)  # on the disk, named by no record
    unregistered_damaged: list[str] = field(default_factory=list)
    older_names: int = 0  # files the register names under a newer name (same bytes)
    # Versions re-encrypted since (grant, rekey): older ones the records know as
    # superseded, and newer ones this (older) snapshot does not know yet. Neither is an
    # unregistered file; neither is copied (the register's own version is).
    older_versions: int = 0
    newer_versions: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the disk's unsafe lines, seals
    letters: int = 0  # request letters (permintaan/) brought back
    runs: int = 0
    exempted_opened: list[str] = field(default_factory=list)
    audit_ok: bool = False
    documents_sha256: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whole and believed: nothing missing or damaged, no problem on the disk, the
        audit log intact, and the snapshot authenticated by the office's seal."""
        return (not (self.missing or self.damaged or self.problems
                     or self.unregistered_damaged) and self.audit_ok and self.authenticated)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok}


def instance_recover(*, dest: Any, identities: list[Any], unlocked_with: str,
                     secrets: list[tuple[str, str]], fingerprint: str | None = None,
                     allow_older: bool = False, allow_unsigned: bool = False,
                     on_progress: Progress | None = None) -> RecoverReport:
    """Rebuild the instance whose (new, empty, migrated) database Django is set up on,
    from one disk: register, users, keys, audit log, archive and control lists."""
    from brankas.web.keys.services import keys_write_files
    from brankas.web.runtime import brankas_settings

    settings = brankas_settings()
    reader = BagReader(dest)
    if Document.objects.exists() or User.objects.exists():
        raise SetupError("recover_home_not_empty", path=str(settings.home))
    trust = disk_trust(reader, secrets=secrets, fingerprint=fingerprint)
    seals = diskseal.read_disk_seals(reader.dest, reader.entries, trusted=trust.keys,
                                     medium_id=reader.medium.medium_id, runs_dir=RUNS_DIR)
    if trust.keys:
        choice = choose_snapshot(reader, seals, identities, allow_older=allow_older)
    elif allow_unsigned and not any(r.seal is not None or r.status != "unsealed"
                                    for r in seals.runs):
        choice = choose_unsealed(reader, identities)
    elif allow_unsigned:
        raise CryptoFailure("recover_unsigned_refused", path=str(reader.dest))
    else:
        raise CryptoFailure("recover_no_anchor", what=unlocked_with)
    segmented = _segments_run(seals, choice) if choice.sealed else None
    # With --allow-older, the older sealed lists of segments too, newest first: a
    # damaged newest segment costs the entries after the older run's head, not the office.
    lists = _older_lists(seals, segmented) if allow_older and segmented is not None else []
    lost: list[str] = []
    if segmented is not None:  # the log is in sealed segments: checked before any load
        segmented, segments = _usable_segments(reader, [segmented, *lists], lost)
    snapshot_load(choice.data)
    del choice.data
    tail_problem = None
    if segmented is not None:
        _load_segments(reader, segmented, segments, lists, identities, lost)
        sealing.raise_counter(max([h[1] for h in seals.audit_heads()], default=0))
    elif choice.sealed:  # a disk written before segments: the snapshot and its tail
        tail_problem = _replay_tail(reader, seals, choice.folder, identities)
    report = RecoverReport(home=str(settings.home), dest=str(reader.dest),
                           snapshot_run=choice.folder, unlocked_with=unlocked_with,
                           authenticated=choice.sealed, trusted_by=trust.by,
                           newest_sealed_run=choice.newest_sealed,
                           passed_over=choice.passed_over)
    segment_problems = segs.disk_problems(seals.authentic, reader.entries) if trust.keys else []
    for problem in reader.problems + (seals.problems if trust.keys else []) + segment_problems:
        fmt.note(report.problems, problem)
    for why in lost:  # --allow-older: the newer sealed logs that could not be used
        report.passed_over.append(why)
        fmt.note(report.problems, f"the audit log is only that of an older run: {why}")
    if tail_problem is not None:
        fmt.note(report.problems, tail_problem)
    docs = list(Document.objects.order_by("id"))
    _restore_documents(reader, docs, settings.home, report, on_progress)
    registered = {d.stored_path for d in docs}
    for path, _size, sha in request_letters():  # letters of requests not yet registered
        registered.add(path)
        _restore_letter(reader, path, sha, settings.home, report)
    _set_aside_unregistered(reader, registered, {d.stored_sha256 for d in docs},
                            settings.home, report)
    _reserve_newer_versions(report.newer_versions)
    _superseded_on_disk(reader, medium_sync(reader.dest, reader.medium.medium_id,
                                            reader.medium.label, reader.medium.created))
    _rename_old_names(settings.home)
    docs = list(Document.objects.order_by("id"))
    refresh_statistics()
    keys_write_files()
    _test_open(docs, identities, settings.home, report)
    sealed_runs = {r.folder for r in seals.authentic} if trust.keys else None
    report.runs = _import_control_lists(reader, docs, sealed_runs)
    report.users = User.objects.count()
    report.keys = HolderKey.objects.count()
    report.documents = len(docs)
    report.documents_sha256 = {d.agenda: d.stored_sha256 for d in docs}
    report.audit_ok = audit_verify() is None
    audit_record(actor="-", action="instance.recover", target=str(reader.dest),
                 outcome="ok" if report.ok else "problems",
                 detail={"medium": reader.medium.medium_id, "snapshot": choice.folder,
                         "authenticated": choice.sealed, "trusted_by": trust.by,
                         "unlocked_with": unlocked_with, "documents": report.documents,
                         "missing": report.missing[:100], "damaged": report.damaged[:100],
                         "unregistered": len(report.unregistered),
                         "passed_over": report.passed_over[:20]})
    return report


def _restore_documents(reader: BagReader, docs: list[Document], home: Any,
                       report: RecoverReport, on_progress: Progress | None) -> None:
    total = sum(d.stored_size for d in docs)
    done = 0
    for i, doc in enumerate(docs):
        if on_progress is not None:
            on_progress(i, len(docs), done, total)
        problem = stored_path_problem(doc.stored_path)
        if problem is not None:
            fmt.note(report.problems, f"{doc.agenda}: stored path "
                                      f"{fmt.shown(doc.stored_path)} refused: {problem}")
            report.damaged.append(doc.agenda)
            continue
        on_disk = reader.locate(doc.stored_path, doc.stored_sha256)
        if on_disk is None:
            report.missing.append(doc.agenda)
            continue
        target = home.joinpath(*doc.stored_path.split("/"))
        try:
            digest = reader.copy_out(on_disk, target)
        except BrankasError as exc:
            if exc.code not in DAMAGED:
                raise
            report.damaged.append(doc.agenda)
            continue
        if digest != doc.stored_sha256:
            target.unlink()
            report.damaged.append(doc.agenda)
            continue
        report.restored += 1
        done += doc.stored_size
    if on_progress is not None:
        on_progress(len(docs), len(docs), done, total)


def _segments_run(seals: diskseal.SealReport,
                  choice: SnapshotChoice) -> diskseal.RunSeal | None:
    """The sealed run whose audit segments a recover loads: the newest run the office
    sealed without a problem that names segments, when the snapshot chosen is one written
    with segments (it holds no audit entry); None for a snapshot of the older layout (the
    log is in it and in the audit tail of the newest run that relies on it)."""
    chosen = seals.run(choice.folder)
    if chosen is None or chosen.seal is None or (
            segs.STATEMENT_KEY not in chosen.seal.statement):
        return None
    return next((r for r in reversed(seals.runs) if r.signed and not r.problems
                 and r.seal is not None and segs.STATEMENT_KEY in r.seal.statement), chosen)


def _older_lists(seals: diskseal.SealReport,
                 newest: diskseal.RunSeal) -> list[diskseal.RunSeal]:
    """The sealed runs before ``newest`` that name segments (newest first), signed by the
    office and without a problem: the logs ``--allow-older`` may fall back to."""
    return [r for r in reversed(seals.runs) if r.number < newest.number and r.signed
            and not r.problems and r.seal is not None
            and segs.STATEMENT_KEY in r.seal.statement]


def _usable_segments(reader: BagReader, runs: list[diskseal.RunSeal],
                     lost: list[str]) -> tuple[diskseal.RunSeal, list[segs.Segment]]:
    """The first of ``runs`` (the newest; the older ones with ``--allow-older``) and the
    segments it names, refused (``recover_audit_unusable``) before anything is loaded when
    one is missing, altered, out of order, overlapping, or the list leaves a gap or does
    not end at the sealed head; a run passed over is named in ``lost``."""
    for n, run in enumerate(runs):
        segments, problems = auditsegments.recover_problems(reader, run)
        if not problems:
            return run, segments
        detail = f"run {run.folder}: " + "; ".join(problems[:3])
        if n + 1 == len(runs):
            raise SetupError("recover_audit_unusable", path=str(reader.dest), detail=detail)
        lost.append(f"{detail} (its audit log not used)")
    raise AssertionError("no run")  # pragma: no cover - runs is never empty


def _load_segments(reader: BagReader, run: diskseal.RunSeal, segments: list[segs.Segment],
                   lists: list[diskseal.RunSeal], identities: list[Any],
                   lost: list[str]) -> None:
    """Load the log ``run``'s segments make; with ``--allow-older`` (``lists``), when one
    of them turns out damaged as it is read, the log of the next older usable list (each
    try in its own transaction: nothing of a refused one stays)."""
    while True:
        try:
            auditsegments.segments_load(reader, segments, identities,
                                        run.statement("audit_head"))
            return
        except SetupError as exc:
            rest = [r for r in lists if r.number < run.number]
            if not rest:
                raise
            why = str(exc.params.get("detail", exc.code))[:300]
            lost.append(f"run {run.folder}: {why} (its audit log not used)")
            run, segments = _usable_segments(reader, rest, lost)


def _replay_tail(reader: BagReader, seals: diskseal.SealReport, folder: str,
                 identities: list[Any]) -> str | None:
    """Bring back the audit entries written after the snapshot (sign-ins, backups), from
    the newest sealed run that names that snapshot; raise the sequence counter to the
    newest head any sealed run recorded, so no number is given twice. Returns why the
    entries could not be brought back, or None."""
    signed = [r for r in seals.runs if r.signed]
    heads = [h[1] for h in seals.audit_heads()]
    relying = [r for r in signed if not r.problems
               and (r.statement("snapshot") or {}).get("folder") == folder]
    problem = None
    if relying:
        run = relying[-1]
        path = run.statement("audit_tail")
        if (isinstance(path, str) and path in reader.entries
                and (run.statement("files") or {}).get(path) == reader.entries[path]):
            try:
                why = sealing.replay(reader.read_bytes(path, limit=sealing.TAIL_LIMIT),
                                     identities, head=run.statement("audit_head"))
            except BrankasError as exc:
                why = exc.message()
        else:
            why = "it is not on the disk as the office sealed it"
        if why is not None:
            problem = (f"the audit entries after the snapshot of run {folder} (run "
                       f"{run.folder}) were not brought back: {why}")
    if heads:
        sealing.raise_counter(max(heads))
    return problem


def _rename_old_names(home: Any) -> None:
    """A snapshot from before exempted files were named by their number alone names them
    with their subject: rename them as the migration renames an archive (hashes kept)."""
    from brankas.web.documents.renames import documents_rename, letters_rename
    from brankas.web.sendrequests.models import SendRequest

    documents_rename(home=home, document_model=Document)
    letters_rename(home=home, request_model=SendRequest)


def _restore_letter(reader: BagReader, path: str, sha: str, home: Any,
                    report: RecoverReport) -> None:
    problem = stored_path_problem(path)
    if problem is not None:
        fmt.note(report.problems, f"letter {fmt.shown(path)} refused: {problem}")
        return
    if not reader.has(path):
        report.missing.append(path)
        return
    target = home.joinpath(*path.split("/"))
    try:
        if reader.copy_out(path, target) == sha:
            report.letters += 1
            return
        target.unlink()
    except BrankasError as exc:
        if exc.code not in DAMAGED:
            raise
    report.damaged.append(path)


def _set_aside_unregistered(reader: BagReader, registered: set[str], hashes: set[str],
                            home: Any, report: RecoverReport) -> None:
    """Files in the archive folders of the disk that no register entry names: a copy made
    by a run that died before its register, or a document kept under an older name (the
    same bytes as a registered document: counted, not copied). Each is copied aside, by
    its (checked) manifest path; a damaged one is listed, not fatal."""
    prefixes = (ARCHIVE_DIR + "/", REQUESTS_DIR + "/")
    superseded = superseded_hashes()
    versions = dict(unversioned(path) for path in registered)
    for payload in sorted(reader.entries):
        if not payload.startswith(prefixes) or payload in registered:
            continue
        if reader.entries[payload] in hashes:
            report.older_names += 1
            continue
        if reader.entries[payload] in superseded:
            report.older_versions += 1
            continue
        stem, number = unversioned(payload)
        if number > versions.get(stem, number):
            report.newer_versions.append(payload)
            continue
        target = home.joinpath(UNREGISTERED_DIR, *payload.split("/"))
        try:
            reader.copy_out(payload, target)
        except BrankasError as exc:
            if exc.code not in DAMAGED:
                raise
            report.unregistered_damaged.append(payload)
            continue
        report.unregistered.append(payload)


def _reserve_newer_versions(newer: list[str]) -> None:
    """Versions on the disk that this (older) snapshot does not know (a grant or rekey made
    after it) keep their numbers: the record's version moves up to the highest, so that the
    next grant or rekey names its file after them. A disk is append-only and refuses a name
    it holds with other bytes (``backup_path_conflict``)."""
    top: dict[str, int] = {}
    for payload in newer:
        stem, number = unversioned(payload)
        top[stem] = max(top.get(stem, 1), number)
    if not top:
        return
    from brankas.web.sendrequests.models import SendRequest

    with transaction.atomic():
        for doc in Document.objects.only("pk", "stored_path", "file_version"):
            number = top.get(unversioned(doc.stored_path)[0], 0)
            if number > doc.file_version:
                Document.objects.filter(pk=doc.pk).update(file_version=number)
        for req in SendRequest.objects.exclude(letter_path="").only("pk", "letter_path",
                                                                    "letter_version"):
            number = top.get(unversioned(req.letter_path)[0], 0)
            if number > req.letter_version:
                SendRequest.objects.filter(pk=req.pk).update(letter_version=number)


def _superseded_on_disk(reader: BagReader, medium: Medium) -> None:
    """Record the superseded versions this disk holds (the snapshot records those of the
    disks it knew then)."""
    from brankas.web.keys.models import SupersededCopy, SupersededFile

    index = same_folder_index(reader.entries)
    found = [row.pk for row in SupersededFile.objects.all()
             if (path := locate(reader.entries, index, row.path, row.sha256)) is not None
             and reader.entries[path] == row.sha256]
    SupersededCopy.objects.bulk_create(
        [SupersededCopy(superseded_id=pk, medium=medium) for pk in found],
        ignore_conflicts=True)


def _test_open(docs: list[Document], identities: list[Any], home: Any,
               report: RecoverReport) -> None:
    """Exempted documents open with the identities that opened the snapshot (three)."""
    bad = set(report.missing) | set(report.damaged)
    for doc in [d for d in docs if d.exempted and d.agenda not in bad][:3]:
        try:
            with open(home.joinpath(*doc.stored_path.split("/")), "rb") as fh:
                plain = crypto.decrypt_bytes(fh.read(), identities)
        except Exception:  # noqa: BLE001,S112 - reported as not opened
            continue
        if hashlib.sha256(plain).hexdigest() == doc.content_sha256:
            report.exempted_opened.append(doc.agenda)
        del plain


def _import_control_lists(reader: BagReader, docs: list[Document],
                          sealed_runs: set[str] | None) -> int:
    """Bring the runs the snapshot does not know (or knew as running) up to date from the
    control lists on the disk (only those the office sealed, when the disk is sealed);
    record which documents are on this disk."""
    medium = medium_sync(reader.dest, reader.medium.medium_id, reader.medium.label,
                         reader.medium.created)
    count = 0
    with transaction.atomic():
        for payload in reader.run_folders(RUNS_DIR, CONTROL_JSON):
            folder = payload.split("/")[1]
            if sealed_runs is not None and folder not in sealed_runs:
                continue
            try:
                control = fmt.json_from_disk(reader.read_bytes(payload, limit=CONTROL_LIMIT))
                fields, number, operator_name = _run_fields(control, medium)
            except (BrankasError, ValueError, KeyError, TypeError, AttributeError):
                continue
            if fields["folder"] != folder or diskseal.run_number(folder) != number:
                continue  # a control list speaks only for its own run
            run = BackupRun.objects.filter(number=number).first()
            if run is not None and run.status == BackupRun.COMPLETED:
                continue
            operator = User.objects.filter(username=operator_name).first()
            if operator is None:
                continue
            fields["operator"] = operator
            fields["sealed"] = sealed_runs is not None
            BackupRun.objects.update_or_create(number=number, defaults=fields)
            count += 1
        BackupRun.objects.filter(status=BackupRun.RUNNING).update(
            status=BackupRun.FAILED, error="interrupted", finished_at=timezone.now())
        on_disk = [d.id for d in docs if reader.locate(d.stored_path, d.stored_sha256)]
        BackupCopy.objects.bulk_create(
            [BackupCopy(document_id=i, medium=medium) for i in on_disk], ignore_conflicts=True)
    return count


def _run_fields(control: dict[str, Any], medium: Medium) -> tuple[dict[str, Any], int, str]:
    """A control list's run, as BackupRun fields; KeyError/TypeError/ValueError when the
    JSON does not have the shape Brankas writes."""
    number = int(control["run"])
    if not 0 < number < 10**9:
        raise ValueError(number)
    run_medium = Medium.objects.filter(
        medium_id=str(control["medium"]["medium_id"])[:36]).first() or medium
    started, finished = (parse_datetime(str(control["started_at"])),
                         parse_datetime(str(control["finished_at"])))
    if started is None or finished is None:
        raise ValueError("time")
    fields = {
        "medium": run_medium, "folder": str(control["folder"])[:100],
        "dest": str(control["dest"])[:500], "started_at": started, "finished_at": finished,
        "status": BackupRun.COMPLETED, "categories": dict(control["categories"]),
        "agendas": [str(d["agenda"])[:40] for d in control["documents"]],
        "files_added": int(control["files_added"]), "bytes_added": int(control["bytes_added"]),
        "files_skipped": int(control["files_skipped"]),
        "verified": bool(control["verified"]),
    }
    return fields, number, str(control["operator"]["username"])[:150]

