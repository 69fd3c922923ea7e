"""The work of each kind of job: a thin call to the service that does it, its progress to
the job's row (``services.JobRun``), its result as JSON for the job's page.

``params`` are the job's stored arguments (never a secret); ``secrets`` the passphrase, the
shares or the recovery identity a local job was handed in memory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from brankas.web.jobs.models import Job
from brankas.web.jobs.services import JobRun

BACKUP, VERIFY = "backup", "verify"
GRANT = "grant"  # a key grant, or a revocation's rekey (params["revoke"] names the holder)
IMPORT, RESTORE, DRILL, RECOVER = "import", "restore", "drill", "recover"
AUDIT_VERIFY = "audit-verify"
# s18 OC: offsite copies (issue 18). Not the office's one long job: a push on a slow link
# runs in the background beside a disk backup (both hold the archive lock shared); one
# push or verify per remote at a time (``lock_of``).
OFFSITE_PUSH, OFFSITE_VERIFY, OFFSITE_RESTORE = "offsite-push", "offsite-verify", \
    "offsite-restore"
OFFSITE = frozenset({OFFSITE_PUSH, OFFSITE_VERIFY, OFFSITE_RESTORE})
# s18 review: except for a grant or rekey, which re-encrypts the archive under its lock
# taken exclusively, while a push reads it (the lock shared): refused as busy at once,
# naming the push, rather than queued to fail saying "a backup" runs.


# s19 (issue 19): reading the text of biasa documents (OCR). Never the office's one long
# job: it reads the archive's biasa files and writes the text rows only, so registration,
# a backup or an import go on beside it; its own queue and worker lane (``worker.Lane``),
# so hours of OCR after an import never keep a backup queued behind them.
OCR = "ocr"
OCR_QUEUE = "ocr"
# The kinds that hold no office slot: running beside every other job.
BESIDE = OFFSITE | {OCR}


# s18 review: a worker runs its tasks one at a time: a push of hours on a slow link held the
# disk backup queued behind it. The offsite push and verify have a queue of their own, run
# by a worker thread of its own beside the office's (worker.OffsiteLane).
OFFSITE_QUEUE = "offsite"


def queue_of(kind: str) -> str:
    """The django-tasks queue of a job of ``kind`` (``default``: the office's)."""
    if kind == OCR:
        return OCR_QUEUE
    return OFFSITE_QUEUE if kind in (OFFSITE_PUSH, OFFSITE_VERIFY) else "default"


def beside(kind: str) -> frozenset[str]:
    """The active jobs' kinds that do not keep a job of ``kind`` waiting."""
    return (OFFSITE - {OFFSITE_PUSH} if kind == GRANT else OFFSITE) | {OCR}

Runner = Callable[[JobRun, Job, dict[str, Any]], Any]

# A re-run goes on from where the interrupted one stopped (the backup copies what the disk
# lacks; a grant or rekey re-encrypts what is still missing): the record says so.
RESUMABLE = frozenset({BACKUP, GRANT, OFFSITE_PUSH, OCR})
# Always local (they need a secret): never queued for another process's worker.
LOCAL_ONLY = frozenset({GRANT})


def lock_of(kind: str, params: dict[str, Any]) -> str | None:
    """What no two active jobs may share: a backup's disk, by its folder resolved; an
    offsite remote's push or verify, by the remote's name."""
    if kind in (OFFSITE_PUSH, OFFSITE_VERIFY):
        return "offsite:" + str(params.get("remote", ""))
    if kind != BACKUP:
        return None
    dest = Path(str(params.get("dest", ""))).expanduser()
    try:
        dest = dest.resolve()
    except OSError:
        dest = dest.absolute()
    return "disk:" + os.path.normcase(str(dest))


def _backup(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.web.backup.services import backup_run
    from brankas.web.custody.selectors import return_reminder

    def started(backup: Any) -> None:
        run.note(run_number=backup.number, medium_label=backup.medium.label)

    outcome = backup_run(actor=job.user, dest=job.params["dest"],  # type: ignore[arg-type]
                         label=job.params.get("label") or None, on_progress=run.progress,
                         on_start=started)
    run.note(medium_label=outcome.medium.label, run_number=outcome.run.number)
    result = outcome.as_dict()
    result["reminder"] = return_reminder(outcome.medium)
    return result


def _verify(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.web.backup.services import medium_verify

    report, medium = medium_verify(actor=job.user, dest=job.params["dest"],  # type: ignore[arg-type]
                                   mode=job.params.get("mode", "full"),
                                   sample_percent=job.params.get("sample_percent") or 10,
                                   on_progress=run.progress)
    run.note(medium_label=medium.label if medium else "")
    return report.as_dict()


def _import(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.core.terms import Classification
    from brankas.web.documents.importer import run_import

    sizes: dict[Path, int] = {}

    def on_start(candidates: list[Any]) -> None:
        for cand in candidates:
            try:
                sizes[cand.path] = cand.path.stat().st_size
            except OSError:
                sizes[cand.path] = 0
        run.progress(0, len(candidates), 0, sum(sizes.values()))

    def on_progress(cand: Any, outcome: str) -> None:
        run.advance(1, sizes.get(cand.path, 0))

    summary = run_import(actor=job.user,  # type: ignore[arg-type]
                         folder=Path(job.params["folder"]),
                         exempted_classification=Classification(
                             job.params["exempted_classification"]),
                         on_start=on_start, on_progress=on_progress, lang=job.lang or None)
    return summary.as_dict(kept=True)  # kept in the database: no exempted file named (s16)


def _restore(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.web.backup.restore import backup_restore

    report = backup_restore(actor=job.user, dest=Path(job.params["dest"]),  # type: ignore[arg-type]
                            to=Path(job.params["to"]), agendas=job.params.get("agendas") or None,
                            passphrase=secrets.get("passphrase"), on_progress=run.progress)
    return report.as_dict()


def _drill(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.web.backup.restore import backup_drill

    report = backup_drill(actor=job.user, dest=Path(job.params["dest"]),  # type: ignore[arg-type]
                          passphrase=secrets.get("passphrase"), shares=secrets.get("shares"),
                          on_progress=run.progress, lang=job.lang or None)
    return report.as_dict()


def _grant(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.web.keys.rewrap import RewrapProgress

    def progress(p: RewrapProgress) -> None:
        run.note(rewrap_job_id=p.job_id or None)
        run.progress(p.files_done, p.files_total, p.bytes_done, p.bytes_total)

    holder = job.params.get("revoke")
    if holder:
        from brankas.web.keys.revocation import key_revoke

        revoked = key_revoke(actor=job.user, holder=holder, rekey=True,  # type: ignore[arg-type]
                             recovery=secrets.get("recovery"), on_progress=progress)
        result: dict[str, Any] = {"revoke": exposure(revoked)}
        if revoked.rekey is not None:
            run.note(rewrap_job_id=revoked.rekey.job_id)
            result["grant"] = revoked.rekey.as_dict()
        return result
    from brankas.web.keys.grants import key_grant

    summary = key_grant(actor=job.user, to=job.params["to"],  # type: ignore[arg-type]
                        passphrase=secrets.get("passphrase"), recovery=secrets.get("recovery"),
                        on_progress=progress)
    run.note(rewrap_job_id=summary.job_id)
    return {"grant": summary.as_dict()}


def exposure(result: Any) -> dict[str, Any]:
    """What a revocation leaves readable (``RevokeResult``) as the pages show it."""
    return {"holder": result.holder, "fingerprints": result.fingerprints,
            "still_opens": [vars(e) for e in result.still_opens],
            "rekey": result.rekey.as_dict() if result.rekey else None,
            "recovery_only": result.recovery_only}


def _audit_verify(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.core.errors import NotFound
    from brankas.web.audit.anchors import audit_verify_anchors, disk_anchors

    disks = list(job.params.get("disks") or [])
    found = [anchor_from_dict(a) for a in job.params.get("anchors") or []]
    run.progress(0, len(disks), 0, 0)
    for folder in disks:
        heads = disk_anchors(Path(folder))
        if not heads:
            raise NotFound("audit_anchor_disk_no_head", path=folder)
        found += heads
        run.advance()
    return {"report": chain_report_dict(audit_verify_anchors(anchors=found))}


# -- the audit check's report as JSON, and back ------------------------------------------------

def anchor_dict(anchor: Any) -> dict[str, Any]:
    source = anchor.source
    return {"source": list(source) if isinstance(source, tuple) else source,
            "seq": anchor.seq, "hash": anchor.hash, "kind": anchor.kind, "ref": anchor.ref}


def anchor_from_dict(data: dict[str, Any]) -> Any:
    from brankas.core.audit.hashchain import Anchor

    source = data["source"]
    return Anchor(source=tuple(source) if isinstance(source, list) else source,
                  seq=data["seq"], hash=data["hash"], kind=data.get("kind", ""),
                  ref=data.get("ref", ""))


def _finding_dict(finding: Any) -> dict[str, Any] | None:
    if finding is None:
        return None
    return {"seq": finding.seq, "code": finding.code, "params": finding.params}


def chain_report_dict(report: Any) -> dict[str, Any]:
    return {"entries": report.entries, "last_seq": report.last_seq,
            "last_hash": report.last_hash, "counted_to": report.counted_to,
            "chain": _finding_dict(report.chain), "counter": _finding_dict(report.counter),
            "anchors": [{"anchor": anchor_dict(r.anchor), "problem": _finding_dict(r.problem)}
                        for r in report.anchors]}


def chain_report_from_dict(data: dict[str, Any]) -> Any:
    from brankas.core.audit.hashchain import AnchorResult, ChainReport, Finding

    def finding(d: dict[str, Any] | None) -> Finding | None:
        return None if d is None else Finding(seq=d["seq"], code=d["code"],
                                              params=d.get("params") or {})

    return ChainReport(
        entries=data["entries"], last_seq=data["last_seq"], last_hash=data["last_hash"],
        counted_to=data["counted_to"], chain=finding(data["chain"]),
        counter=finding(data["counter"]),
        anchors=tuple(AnchorResult(anchor=anchor_from_dict(r["anchor"]),
                                   problem=finding(r["problem"])) for r in data["anchors"]))


# -- s18 OC: offsite copies (web/offsite/services: the same calls as ``brankas offsite``) ---

def _offsite_push(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.web.offsite.services import offsite_push

    def started(push: Any) -> None:
        run.note(run_number=push.number)

    outcome = offsite_push(actor=job.user, name=job.params["remote"],  # type: ignore[arg-type]
                           bwlimit=job.params.get("bwlimit") or None,
                           on_progress=run.progress, on_start=started)
    result = outcome.as_dict()
    result["ok"] = outcome.ok
    if job.params.get("scheduled"):
        result["scheduled"] = job.params["scheduled"]
    return result


def _offsite_verify(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.web.offsite.services import offsite_verify

    report = offsite_verify(actor=job.user, name=job.params["remote"],  # type: ignore[arg-type]
                            sample=float(job.params.get("sample", 5.0)),
                            on_progress=run.progress)
    return report.as_dict()


def _offsite_restore(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.web.offsite.services import offsite_restore

    report = offsite_restore(actor=job.user, name=job.params["remote"],  # type: ignore[arg-type]
                             to=Path(job.params["to"]),
                             passphrase=secrets.get("passphrase") or "",
                             agendas=job.params.get("agendas") or None,
                             decrypt=bool(job.params.get("decrypt")),
                             on_progress=run.progress)
    return report.as_dict()


# -- s19: the text of biasa documents (web/text/services: the same call as ``brankas ocr``) --

def _ocr(run: JobRun, job: Job, secrets: dict[str, Any]) -> dict[str, Any]:
    from brankas.web.text.services import text_job_run

    summary = text_job_run(actor=job.user, params=job.params,  # type: ignore[arg-type]
                           job_id=job.id, on_progress=run.progress)
    return summary.as_dict()


RUNNERS: dict[str, Runner] = {
    BACKUP: _backup,
    VERIFY: _verify,
    IMPORT: _import,
    RESTORE: _restore,
    DRILL: _drill,
    GRANT: _grant,
    AUDIT_VERIFY: _audit_verify,
    OFFSITE_PUSH: _offsite_push,
    OFFSITE_VERIFY: _offsite_verify,
    OFFSITE_RESTORE: _offsite_restore,
    OCR: _ocr,
}
