"""``brankas key coverage``: which active key holders can open each exempted document and
encrypted request letter (the recovery key left out; a file only it opens is marked)."""

from __future__ import annotations

from typing import Any

import click

from brankas.cli.auth import acting_user
from brankas.cli.runtime import emit_json, handles_errors
from brankas.cli.users import key

RECOVERY_ONLY = "HANYA KUNCI PEMULIHAN / recovery key only"


def coverage_dict(row: Any) -> dict[str, Any]:
    return {"kind": row.kind, "label": row.label, "classification": row.classification,
            "holders": [{"username": h.username, "full_name": h.full_name, "role": h.role,
                         "current": h.current} for h in row.holders],
            "recovery_only": row.recovery_only, "recovery": row.recovery}


def coverage_line(row: Any) -> str:
    holders = ", ".join(h.username + ("" if h.current else " (kunci lama / earlier key)")
                        for h in row.holders) or RECOVERY_ONLY
    return f"{row.label:<22} {row.classification:<15} {holders}"


@key.command("coverage")
@click.option("--recovery-only", is_flag=True,
              help="Only the files no active holder can open (the recovery key alone).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def key_coverage(actor, recovery_only: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Which active key holders can open each exempted document and request letter."""
    from brankas.web.keys.coverage import key_coverage_view

    coverage = key_coverage_view(actor=actor, via="cli", recovery_only=recovery_only)
    if as_json:
        emit_json([coverage_dict(r) for r in coverage])
        return
    counts = {"document": 0, "letter": 0}
    alone = 0
    click.echo(f"{'AGENDA / PERMINTAAN':<22} {'KLASIFIKASI':<15} PEMEGANG KUNCI / HOLDERS")
    for row in coverage:
        counts[row.kind] += 1
        alone += row.recovery_only
        click.echo(coverage_line(row))
    click.echo(f"{counts['document']} naskah / documents, {counts['letter']} surat permintaan / "
               f"request letters; {alone} hanya kunci pemulihan / recovery key only")
