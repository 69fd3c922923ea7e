"""Reading reports, and gathering the figures each report prints (as plain JSON data).

The figures are gathered once per submission and stored with the report, so what the
Kasi, the Kabid and the Kadis see is what the Sandiman submitted, and an approved report
prints the same figures forever, whatever happens to the records afterwards.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from brankas.core.access import Action
from brankas.core.chains.custody import STATE_WORDS, MediumState
from brankas.core.chains.report import REPORT, State
from brankas.core.chains.request import number_text as request_number_text
from brankas.core.reports.periods import Kind, Period, mutu_baku
from brankas.core.sealing import SEALED_LABEL
from brankas.core.terms import Category, Classification, Direction, category_of
from brankas.web.accounts.models import User
from brankas.web.audit.guard import require_audited
from brankas.web.backup.models import BackupRun, Medium, MediumCheck
from brankas.web.backup.selectors import backup_status
from brankas.web.custody.models import CustodyMove
from brankas.web.documents.models import Document
from brankas.web.equipment.selectors import equipment_counts, equipment_figures
from brankas.web.reports.models import Report, ReportStep
from brankas.web.runtime import brankas_settings, get_or_not_found


def report_list(*, actor: User, via: str = "", target: str = "") -> QuerySet[Report]:
    """Every report, newest first (view-reports; ``via`` and ``target`` describe a refusal
    in the audit log)."""
    require_audited(actor, Action.VIEW_REPORTS, target=target, via=via)
    return Report.objects.select_related("created_by", "corrects").order_by("-number")


def report_get(*, actor: User, number: int, via: str = "", target: str = "") -> Report:
    require_audited(actor, Action.VIEW_REPORTS, target=target, via=via)
    return report_lookup(number)


def report_lookup(number: int) -> Report:
    """A report by number, without a role check: for the services that check the role of
    the step itself (every role that may take a step may also read the report)."""
    return get_or_not_found(Report.objects.select_related("created_by", "corrects"),
                            "report_not_found", number=number)


def report_inbox(*, actor: User, via: str = "", target: str = "") -> QuerySet[Report]:
    """The reports waiting for this user's role (the dashboard's inbox)."""
    require_audited(actor, Action.VIEW_REPORTS, target=target, via=via)
    states = REPORT.waiting_states(actor.role)
    if not states:
        return Report.objects.none()
    return (Report.objects.filter(state__in=sorted(s.value for s in states))
            .select_related("created_by").order_by("number"))  # the table shows the maker


def report_steps(report: Report) -> list[ReportStep]:
    return list(report.steps.select_related("actor").order_by("at", "id"))


# -- time ranges -------------------------------------------------------------------------

def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _range(period: Period) -> tuple[datetime, datetime]:
    return _aware(period.start), _aware(period.end)


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "-"


# -- the messages report ---------------------------------------------------------------

def _message_rows(docs: QuerySet[Document]) -> list[list[str]]:
    """The list: for an exempted document only the fields the office allows."""
    allowed = brankas_settings().report_exempted_fields
    hidden = "(dikecualikan)"
    rows = []
    for d in docs.order_by("registered_at", "direction", "seq").values_list(
            "agenda", "registered_at", "doc_date", "direction", "classification", "number",
            "subject", "correspondent", "sealed"):
        agenda, registered, doc_date, direction, classification, number, subject, corr, sealed = d
        exempted = category_of(classification) is Category.EXEMPTED

        def show(field: str, value: str, exempted: bool = exempted,
                 sealed: dict[str, object] = sealed or {}) -> str:
            if exempted and field not in allowed:
                return hidden
            return SEALED_LABEL if field in sealed else value  # issue 16

        rows.append([show("agenda", agenda),
                     show("date", timezone.localtime(registered).strftime("%Y-%m-%d")),
                     direction, show("classification", classification),
                     show("number", number or "-"), show("subject", subject),
                     show("correspondent", corr), doc_date.isoformat()])
    return rows


def _counts(docs: QuerySet[Document]) -> dict[str, dict[str, int]]:
    counter = Counter(docs.values_list("direction", "classification"))
    return {d.value: {c.value: counter.get((d.value, c.value), 0) for c in Classification}
            for d in Direction}


def message_requests(period: Period) -> list[dict[str, Any]]:
    """The requests to send a message recorded in the period, with the minutes each step
    of the chain took (``sendrequests.selectors.request_turnaround``). No subject: a request's
    subject may be exempted, and the report prints it for no request."""
    from brankas.core.terms import URGENCY_LABELS, Urgency
    from brankas.web.sendrequests.selectors import request_turnaround

    low, high = _range(period)

    def minutes(value: Any) -> str:
        return "-" if value is None else str(round(value.total_seconds() / 60))

    return [{
        "request": request_number_text(t.number), "classification": t.classification,
        "urgency": URGENCY_LABELS.get(Urgency(t.urgency), t.urgency), "state": t.state,
        "agenda": t.agenda or "-",
        "steps": [minutes(t.took[key]) for key in ("kabid_assigned", "kasi_assigned",
                                                   "sandiman_assigned", "received",
                                                   "registered", "sent")],
        "total": minutes(t.total), "returns": t.returns,
    } for t in request_turnaround(start=low, end=high)]


def messages_figures(period: Period) -> dict[str, Any]:
    low, high = _range(period)
    docs = Document.objects.filter(registered_at__gte=low, registered_at__lt=high)
    prev_low, prev_high = _range(period.previous())
    previous = Document.objects.filter(registered_at__gte=prev_low, registered_at__lt=prev_high)
    counts = _counts(docs)
    prev_counts = _counts(previous)
    return {
        "counts": counts,
        "total": sum(sum(v.values()) for v in counts.values()),
        "previous": {"period": period.previous().text,
                     "counts": prev_counts,
                     "total": sum(sum(v.values()) for v in prev_counts.values())},
        "exempted_fields": sorted(brankas_settings().report_exempted_fields),
        "entries": _message_rows(docs),
        "requests": message_requests(period),
    }


# -- the backup report -------------------------------------------------------------------

def _medium_where(medium: Medium) -> str:
    custody = getattr(medium, "custody", None)
    if custody is None:
        return "-"
    text = STATE_WORDS[MediumState(custody.state)][0]
    if custody.safe is not None:
        text += f": {custody.safe.name} ({custody.safe.location})"
    elif custody.location:
        text += f": {custody.location}"
    return text


def _verify_text(medium: Medium) -> str:
    if medium.last_verify_ok is None:
        return "belum diperiksa"
    result = "utuh" if medium.last_verify_ok else "BERMASALAH"
    return f"{result} ({medium.last_verify_mode}, {_when(medium.last_verified_at)})"


def backup_figures(period: Period, runs: list[int] | None = None) -> dict[str, Any]:
    low, high = _range(period)
    chosen = BackupRun.objects.select_related("medium", "operator")
    if runs:
        chosen = chosen.filter(number__in=runs)
    else:
        chosen = chosen.filter(started_at__gte=low, started_at__lt=high)
    chosen_runs = list(chosen.order_by("number"))
    per_category: dict[str, dict[str, int]] = {}
    run_rows, control = [], []
    agendas = {a for r in chosen_runs for a in r.agendas}
    folders = {a: f"{category_of(c).value}/{d}" for a, c, d in Document.objects.filter(
        agenda__in=agendas).values_list("agenda", "classification", "direction")}
    for run in chosen_runs:
        for folder, figures in sorted((run.categories or {}).items()):
            slot = per_category.setdefault(folder, {"files": 0, "bytes": 0})
            slot["files"] += int(figures.get("files", 0))
            slot["bytes"] += int(figures.get("bytes", 0))
        run_rows.append([str(run.number), _when(run.started_at), _when(run.finished_at),
                         run.operator.username, run.medium.label, run.status,
                         {True: "cocok", False: "TIDAK COCOK", None: "-"}[run.verified],
                         str(run.files_added), str(run.bytes_added)])
        control += [[str(run.number), timezone.localtime(run.started_at).strftime("%Y-%m-%d"),
                     agenda, folders.get(agenda, "-"), run.medium.label]
                    for agenda in run.agendas]
    media_ids = {r.medium_id for r in chosen_runs}
    media = list(Medium.objects.filter(pk__in=media_ids).select_related(
        "custody", "custody__safe").order_by("label"))
    checks = MediumCheck.objects.filter(started_at__gte=low, started_at__lt=high) \
        .select_related("medium", "actor").order_by("started_at")
    return {
        "runs": run_rows,
        "run_numbers": [r.number for r in chosen_runs],
        "per_category": per_category,
        "media": [[m.label, m.medium_id[:8], _medium_where(m), _verify_text(m)] for m in media],
        "checks": [[_when(c.started_at), c.medium.label if c.medium else "-", c.kind, c.mode,
                    "utuh" if c.ok else "BERMASALAH", str(c.files_checked)] for c in checks],
        "control_list": [[str(i), *row] for i, row in enumerate(control, start=1)],
        "equipment": equipment_figures(low, high),  # s17 E
        "offsite": _offsite_figures(),  # s18 OC
    }


def _offsite_figures() -> list[list[str]]:  # s18 OC: the offsite copies as gathered
    from brankas.web.offsite.warnings import offsite_figures

    return offsite_figures()


# -- the executive summary's key figures and the SOP standard times ------------------

def sop_durations(period: Period) -> dict[int, list[float]]:
    """Seconds per SOP step, from Brankas's own timestamps within the period."""
    low, high = _range(period)
    out: dict[int, list[float]] = {}
    docs = Document.objects.filter(registered_at__gte=low, registered_at__lt=high) \
        .exclude(source="import").values_list("form_opened_at", "registered_at")
    out[1] = [(b - a).total_seconds() for a, b in docs]
    runs = list(BackupRun.objects.filter(started_at__gte=low, started_at__lt=high,
                                         status=BackupRun.COMPLETED,
                                         finished_at__isnull=False))
    out[6] = [(r.finished_at - r.started_at).total_seconds() for r in runs]  # type: ignore[operator]
    stored = []
    for r in runs:
        move = CustodyMove.objects.filter(medium_id=r.medium_id, move="checkin",
                                          at__gte=r.finished_at).order_by("at").first()
        if move is not None:
            stored.append((move.at - r.finished_at).total_seconds())  # type: ignore[operator]
    out[7] = stored
    for number, (before, after) in {8: ("", "submit"), 9: ("submit", "forward"),
                                    10: ("forward", "approve")}.items():
        spans = []
        for step in ReportStep.objects.filter(step=after, at__gte=low, at__lt=high) \
                .select_related("report"):
            if before:
                prior = ReportStep.objects.filter(report=step.report_id, step=before,
                                                  at__lte=step.at).order_by("-at").first()
                start = prior.at if prior else None
            else:
                start = step.report.created_at
            if start is not None:
                spans.append((step.at - start).total_seconds())
        out[number] = spans
    return out


def key_figures(period: Period) -> dict[str, Any]:
    """The executive summary's generated figures: totals and change, backups, disks, SOP."""
    low, high = _range(period)
    prev_low, prev_high = _range(period.previous())
    counts = _counts(Document.objects.filter(registered_at__gte=low, registered_at__lt=high))
    prev_counts = _counts(Document.objects.filter(registered_at__gte=prev_low,
                                                  registered_at__lt=prev_high))
    runs = BackupRun.objects.filter(started_at__gte=low, started_at__lt=high)
    status = backup_status()
    media = list(Medium.objects.select_related("custody"))
    states = Counter(getattr(m, "custody", None) and m.custody.state or "-" for m in media)
    verify_age = timedelta(days=30 * brankas_settings().verify_max_age_months)
    now = timezone.now()
    stale = sum(1 for m in media if m.last_verified_at is None
                or now - m.last_verified_at > verify_age)
    steps = mutu_baku(sop_durations(period))
    return {
        "total": sum(sum(v.values()) for v in counts.values()),
        "previous_total": sum(sum(v.values()) for v in prev_counts.values()),
        "by_direction": {d: sum(v.values()) for d, v in counts.items()},
        "previous_by_direction": {d: sum(v.values()) for d, v in prev_counts.items()},
        "exempted": sum(n for v in counts.values()
                        for c, n in v.items() if c != Classification.BIASA.value),
        "backups_done": runs.filter(status=BackupRun.COMPLETED).count(),
        "backups_failed": runs.filter(status=BackupRun.FAILED).count(),
        "backups_previous": BackupRun.objects.filter(
            started_at__gte=prev_low, started_at__lt=prev_high,
            status=BackupRun.COMPLETED).count(),
        "backup_overdue": status.overdue,
        "last_backup": _when(status.last_backup_at),
        "on_no_disk": status.on_no_disk,
        "disks": len(media),
        "disk_states": {STATE_WORDS[MediumState(s)][0] if s != "-" else "-": n
                        for s, n in sorted(states.items())},
        "disks_verify_ok": sum(1 for m in media if m.last_verify_ok is True),
        "disks_verify_problem": sum(1 for m in media if m.last_verify_ok is False),
        "disks_verify_stale": stale,
        "mutu_baku": [[s.step.number, s.step.name, s.step.standard_minutes, s.count,
                       s.median_minutes, s.worst_minutes, s.over, s.automatic]
                      for s in steps],
        **equipment_counts(low, high),  # s17 E
    }


def report_figures(kind: Kind, period: Period, runs: list[int] | None = None) -> dict[str, Any]:
    figures = (backup_figures(period, runs) if kind is Kind.BACKUP
               else messages_figures(period))
    figures["key"] = key_figures(period)
    figures["gathered_at"] = _when(timezone.now())
    return figures


def report_waiting(state: State) -> int:
    return Report.objects.filter(state=state.value).count()


def report_number_text(report: Report) -> str:
    """The report's number as its paper prints it (``001/LAP-BRT/2026-05``): the pages and
    the command line show the same (the paper code owns the format)."""
    from brankas.web.reports.services import _number_text

    return _number_text(report)
