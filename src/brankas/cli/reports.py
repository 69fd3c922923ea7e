"""Reports and their sign-off chain (report ...): SOP steps 8-10."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.outfile import out_file
from brankas.cli.runtime import (
    emit,
    emit_json,
    emit_rows,
    fail,
    handles_errors,
    local_time,
    read_secret_file,
)
from brankas.cli.usage import Usage
from brankas.core.chains.report import REPORT, Step


def _passphrase(path: str | None) -> str:
    """The signing passphrase; when none is given the service refuses (after the role
    check, so a role that may not sign hears that first)."""
    secret = read_secret_file(path, "BRANKAS_PASSPHRASE",
                              "Frasa sandi kunci tanda tangan / Signing key passphrase")
    return secret or ""


def _report_dict(report: Any, *, steps: bool = False) -> dict[str, Any]:
    from brankas.web.reports.selectors import report_number_text, report_steps

    out: dict[str, Any] = {
        "report": report.number, "number_text": report_number_text(report),
        "kind": report.kind, "period": report.period,
        "version": report.version,
        "corrects": report.corrects.number if report.corrects else None,
        "state": report.state, "created_by": report.created_by.username,
        "created_at": report.created_at.isoformat(), "return_note": report.return_note,
        "data_sha256": report.data_sha256, "final_sha256": report.final_sha256 or None,
    }
    if steps:
        out["summary"] = report.summary
        out["steps"] = [{"step": s.step, "from": s.from_state, "to": s.to_state,
                         "by": s.actor.username, "at": s.at.isoformat(), "note": s.note,
                         "pdf_sha256": s.pdf_sha256 or None}
                        for s in report_steps(report)]
    return out


@main.group()
def report() -> None:
    """Reports (backup result, sent/received messages) and their sign-off chain."""


@report.command("create")
@click.argument("kind", type=click.Choice(["backup", "messages"]))
@click.option("--period", required=True, help="YYYY-MM, YYYY-Qn or YYYY.")
@click.option("--runs", default="", help="Backup report: these run numbers (e.g. 3,4,5).")
@click.option("--corrects", type=int, help="A corrected version of this approved report.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def report_create_cmd(actor, kind: str, period: str, runs: str, corrects: int | None,  # type: ignore[no-untyped-def]
                      as_json: bool) -> None:
    """Draft a report with its figures gathered from the records now (Sandiman)."""
    from brankas.web.reports.services import report_create

    try:
        numbers = [int(x) for x in runs.split(",") if x.strip()]
    except ValueError:
        raise Usage("usage_runs") from None
    record = report_create(actor=actor, kind=kind, period=period, runs=numbers,
                           corrects=corrects)
    emit(_report_dict(record), as_json,
         f"laporan / report {record.number} ({record.kind} {record.period}) dibuat / "
         "drafted")


@report.command("list")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def report_list_cmd(actor, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Every report with its state."""
    from brankas.web.reports.selectors import report_list

    emit_rows([_report_dict(r) for r in report_list(actor=actor, via="cli")], as_json,
              lambda r: f"{r['report']:>4}  {r['kind']:<9} {r['period']:<8} v{r['version']}  "
                        f"{r['state']}")


@report.command("show")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def report_show_cmd(actor, number: int, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """One report: its state, its figures' hash and every step of its chain."""
    from brankas.web.reports.selectors import report_get

    out = _report_dict(report_get(actor=actor, number=number, via="cli"),
                       steps=True)
    if as_json:
        emit_json(out)
        return
    click.echo(f"laporan / report {out['report']} ({out['number_text']}): {out['kind']} "
               f"{out['period']} "
               f"v{out['version']} - {out['state']}")
    if out["return_note"]:
        click.echo(f"dikembalikan / returned: {out['return_note']}")
    for s in out["steps"]:
        click.echo(f"  {local_time(s['at'])}  {s['step']:<11} {s['by']:<12} {s['note']}")


def _done(record: Any, what: str) -> None:
    click.echo(f"laporan / report {record.number}: {what} -> {record.state}")


@report.command("submit")
@click.argument("number", type=int)
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="Your signing key passphrase (the first signing makes the key with it).")
@click.option("--note", default="",
              help="A reply to the note it was returned with (kept in the history).")
@handles_errors
@acting_user
def report_submit_cmd(actor, number: int, passphrase_file: str | None, note: str) -> None:  # type: ignore[no-untyped-def]
    """Submit a draft to the Kasi, signed (Sandiman)."""
    from brankas.web.reports.services import report_submit

    _done(report_submit(actor=actor, number=number, passphrase=_passphrase(passphrase_file),
                        note=note), "diajukan / submitted")


@report.command("refresh")
@click.argument("number", type=int)
@handles_errors
@acting_user
def report_refresh_cmd(actor, number: int) -> None:  # type: ignore[no-untyped-def]
    """Gather a draft's figures again, e.g. after a return when the records changed
    (Sandiman); submitting gathers them too."""
    from brankas.web.reports.services import report_refresh

    record = report_refresh(actor=actor, number=number)
    click.echo(f"laporan / report {record.number}: angka dikumpulkan ulang / figures gathered "
               f"again (data {record.data_sha256[:16]})")


@report.command("return")
@click.argument("number", type=int)
@click.option("--note", required=REPORT.needs_reason(Step.RETURN),
              help="Why it goes back (shown to the one who gets it).")
@handles_errors
@acting_user
def report_return_cmd(actor, number: int, note: str) -> None:  # type: ignore[no-untyped-def]
    """Return a report one step down with a note (Kasi to the Sandiman, Kabid to the Kasi)."""
    from brankas.web.reports.services import report_return

    _done(report_return(actor=actor, number=number, note=note), "dikembalikan / returned")


@report.command("forward")
@click.argument("number", type=int)
@click.option("--summary-file", required=True, type=click.Path(dir_okay=False, exists=True),
              help="The executive summary text (UTF-8).")
@click.option("--passphrase-file", type=click.Path(dir_okay=False))
@handles_errors
@acting_user
def report_forward_cmd(actor, number: int, summary_file: str,  # type: ignore[no-untyped-def]
                       passphrase_file: str | None) -> None:
    """Write the executive summary and forward to the Kabid, signed (Kasi)."""
    from brankas.web.reports.services import report_forward

    summary = Path(summary_file).read_text(encoding="utf-8")
    _done(report_forward(actor=actor, number=number, summary=summary,
                         passphrase=_passphrase(passphrase_file)), "diteruskan / forwarded")


@report.command("approve")
@click.argument("number", type=int)
@click.option("--passphrase-file", type=click.Path(dir_okay=False))
@handles_errors
@acting_user
def report_approve_cmd(actor, number: int, passphrase_file: str | None) -> None:  # type: ignore[no-untyped-def]
    """Validate (pengesahan) and forward to the Kadis, signed; the report is frozen (Kabid)."""
    from brankas.web.reports.services import report_approve

    _done(report_approve(actor=actor, number=number, passphrase=_passphrase(passphrase_file)),
          "disahkan / approved")


@report.command("acknowledge")
@click.argument("number", type=int)
@click.option("--passphrase-file", type=click.Path(dir_okay=False))
@handles_errors
@acting_user
def report_acknowledge_cmd(actor, number: int, passphrase_file: str | None) -> None:  # type: ignore[no-untyped-def]
    """Acknowledge an approved report, signed (Kadis)."""
    from brankas.web.reports.services import report_acknowledge

    _done(report_acknowledge(actor=actor, number=number,
                             passphrase=_passphrase(passphrase_file)), "diterima / acknowledged")


@report.command("export")
@click.argument("number", type=int)
@click.option("--format", "fmt", type=click.Choice(["pdf", "xlsx"]), default="pdf",
              show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@handles_errors
@acting_user
def report_export_cmd(actor, number: int, fmt: str, out: str) -> None:  # type: ignore[no-untyped-def]
    """Write the report as PDF (the approved bytes once approved) or XLSX (its tables)."""
    from brankas.web.reports.services import report_export

    with out_file(out) as fh:
        fh.write(report_export(actor=actor, number=number, fmt=fmt, via="cli"))
    click.echo(f"{out}")


@report.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def report_verify_cmd(actor, file: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Whether FILE is an unaltered approved report, and who signed it when (exit 1 if not)."""
    from brankas.web.reports.services import report_verify

    result = report_verify(actor=actor, pdf=Path(file).read_bytes())
    if as_json:
        emit_json(result.as_dict())
    elif result.ok:
        click.echo(f"ASLI / authentic: laporan / report {result.number} ({result.state})")
        click.echo(f"SHA-256 {result.sha256}")
        for s in result.signatures:
            click.echo(f"  {s.step:<11} {s.name} ({s.signer})  {local_time(s.at)}  key {s.key}  "
                       "signature ok")
        if result.superseded_by:
            click.echo("dikoreksi oleh / corrected by: "
                       + ", ".join(str(n) for n in result.superseded_by))
    if not result.ok:
        if result.reason == "signature_invalid":
            fail(f"{file}: tanda tangan tidak sah / a recorded signature does not check "
                 f"(report {result.number})")
        fail(f"{file}: bukan laporan yang disahkan atau telah diubah / not an approved "
             f"report, or altered (SHA-256 {result.sha256})")
