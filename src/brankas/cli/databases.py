"""Moving the instance's database: ``brankas migrate-db --to URL`` (admin)."""

from __future__ import annotations

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.runtime import emit, handles_errors


@main.command("migrate-db")
@click.option("--to", "target_url", required=True, metavar="URL",
              help="The empty target database: postgresql://USER@HOST:PORT/NAME (the "
                   "password from PGPASSWORD or ~/.pgpass) or sqlite:////PATH.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def migrate_db(actor, target_url: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Copy this instance's whole database into a new, empty database (SQLite to
    PostgreSQL or back), check every table's row count and content hash, and keep nothing
    if anything differs. Stop `brankas serve` and the workers first; afterwards point
    BRANKAS_DATABASE_URL at the new database (docs/server.md)."""
    from brankas.web.databases import database_migrate

    report = database_migrate(actor=actor, target_url=target_url,
                              on_table=None if as_json else _progress)
    lines = [f"{t.table:<36} {t.rows:>9}  sha256 {t.sha256[:16]}" for t in report.tables]
    lines.append(f"{report.rows} baris disalin dan dicocokkan / rows copied and matched: "
                 f"{report.source} -> {report.target_engine} ({report.target})")
    emit(report.as_dict(), as_json, "\n".join(lines))


def _progress(table: str) -> None:
    click.echo(f"menyalin / copying {table}", err=True)
