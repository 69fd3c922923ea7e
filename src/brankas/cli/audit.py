"""``brankas audit list`` and ``brankas audit export``: the audit log for Kasi, Kabid and
admin (``view-audit``); ``audit verify`` lives beside the group in ``app.py``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from brankas.cli.app import audit
from brankas.cli.auth import acting_user
from brankas.cli.outfile import out_file
from brankas.cli.runtime import emit_rows, handles_errors, local_time, setup_django
from brankas.web.audit.outcomes import OUTCOMES

DATE = click.DateTime(formats=["%Y-%m-%d"])


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--actor", "by", default="", help="Only entries of this username."),
        click.option("--action", default="",
                     help="Only this action (document.open), or a prefix ending in '.' "
                          "(document.)."),
        click.option("--outcome", type=click.Choice(["", *OUTCOMES]), default="",
                     help="Only this outcome: ok, denied (the role may not), refused (not "
                          "possible in this state) or failed."),
        click.option("--since", type=DATE, help="From this date (YYYY-MM-DD, included)."),
        click.option("--until", type=DATE, help="Up to this date (YYYY-MM-DD, included)."),
        click.option("--query", default="", help="Text in the user, action, target or outcome."),
    ]):
        fn = option(fn)
    return fn


def make_filter(by: str, action: str, outcome: str, since: dt.datetime | None,
                until: dt.datetime | None, query: str):  # type: ignore[no-untyped-def]
    from brankas.web.audit.selectors import AuditFilter

    return AuditFilter(actor=by.strip(), action=action.strip(), outcome=outcome,
                       since=since.date() if since else None,
                       until=until.date() if until else None, text=query.strip())


@audit.command("list")
@filter_options
@click.option("--limit", default=100, show_default=True, type=int,
              help="At most this many entries, newest first (0: all).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def audit_list(actor, limit: int, as_json: bool, **filters: Any) -> None:  # type: ignore[no-untyped-def]
    """List audit entries, newest first (Kasi, Kabid, admin)."""
    setup_django()
    from brankas.web.audit.selectors import audit_list as select
    from brankas.web.audit.selectors import event_dict

    qs = select(actor=actor, filters=make_filter(**filters), via="cli")
    if limit:
        qs = qs[:limit]
    emit_rows([event_dict(e) for e in qs], as_json,
              lambda r: f"{r['seq']:>7}  {local_time(r['at'])}  {r['actor']:<12} {r['action']:<22} "
                        f"{r['outcome']:<7} {r['target']}")


@audit.command("export")
@filter_options
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="The CSV file to write (must not exist).")
@handles_errors
@acting_user
def audit_export(actor, out: str, **filters: Any) -> None:  # type: ignore[no-untyped-def]
    """Export the matching audit entries, oldest first, as CSV (formula-safe cells)."""
    setup_django()
    from brankas.web.audit.selectors import audit_export_stream as export

    with out_file(out) as fh:  # an existing file is refused before the export is audited
        for chunk in export(actor=actor, filters=make_filter(**filters), via="cli"):
            fh.write(chunk)
    click.echo(str(Path(out)))
