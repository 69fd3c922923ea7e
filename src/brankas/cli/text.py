"""``brankas ocr``: read the text of biasa documents again (issue 19; web/text/services)."""

from __future__ import annotations

import os
from typing import Any

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.runtime import emit_json, handles_errors


@main.command("ocr")
@click.argument("agendas", nargs=-1)
@click.option("--all", "every", is_flag=True,
              help="Read every biasa document's text again.")
@click.option("--queue", is_flag=True,
              help="Queue it as a job for the worker (brankas serve / brankas worker) "
                   "instead of running it here.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def ocr(actor, agendas: tuple[str, ...], every: bool, queue: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Read the text of biasa documents (their text layer, or OCR of scans): the documents
    AGENDA... again, every one with --all, or (neither) those still without text. An
    exempted document is never read."""
    from brankas.web.text.services import text_job_run, text_queue_request, text_request

    if every and agendas:
        raise click.UsageError("--all atau / or AGENDA..., tidak keduanya / not both")
    if queue:
        job = text_queue_request(actor=actor, agendas=agendas, every=every, via="cli")
        if as_json:
            emit_json({"job": job.id, "state": job.state})
        else:
            click.echo(f"antre sebagai tugas / queued as job {job.id}")
        return
    params = text_request(actor=actor, agendas=agendas, every=every, via="cli")
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("[bold]baca teks / read text[/]"), BarColumn(),
                   MofNCompleteColumn(), TimeRemainingColumn(), console=Console(stderr=True),
                   transient=True, disable=as_json or not os.isatty(2))
    with bar:
        task = bar.add_task("ocr", total=None)

        def on_progress(done: int, total: int, _b: int, _bt: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = text_job_run(actor=actor, params=params, job_id="cli",
                               on_progress=on_progress)
    out: dict[str, Any] = summary.as_dict()
    if as_json:
        emit_json(out)
        return
    click.echo(f"dokumen / documents: {out['total']}")
    click.echo(f"  ada teks / text read: {out['read']}")
    click.echo(f"  tidak terbaca / unreadable: {out['unreadable']}")
    if out["unavailable"]:
        click.echo(f"  menunggu OCR terpasang / waiting for OCR to be installed: "
                   f"{out['unavailable']} (docs/ocr.md)")
    click.echo(f"  gagal / failed: {out['failed']}")
    for item in out["failed_documents"]:
        click.echo(f"    {item['agenda']}: {item['error']}")
