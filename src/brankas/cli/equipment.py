"""The equipment register (issue 17): equipment add, list, show, log, retire.

The Sandiman records (``record-equipment``); the Sandiman, the Kasi and the Kabid read
(``view-equipment``). Disks and safes Brankas already knows are listed as ``disk:LABEL``
and ``brankas:NAME`` without being entered again."""

from __future__ import annotations

from typing import Any

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.runtime import emit, emit_json, emit_rows, handles_errors, local_time


@main.group()
def equipment() -> None:
    """The unit's equipment (SOP: PERALATAN/PERLENGKAPAN), its checks and the disks' health."""


def _line(row: dict[str, Any]) -> str:
    health = row["health"]["status"] if row.get("health") else ""
    due = row["next_check_due"] or "-"
    return (f"{row['ref']:<16}  {row['kind']:<20}  {row['name'][:28]:<28}  "
            f"{row['condition'] or 'belum dicatat':<13}  cek {due:<10}"
            + (f"  SMART {health}" if health else ""))


@equipment.command("add")
@click.argument("name", required=False, default="")
@click.option("--kind", default="", help="komputer-laptop, pemindai, aplikasi-berita, "
              "peralatan-enkripsi, hard-disk-eksternal, brankas, kunci-pin-berkas, lainnya.")
@click.option("--serial", default="", help="Serial number.")
@click.option("--location", default="", help="Where it is kept.")
@click.option("--responsible", default=None, help="The official responsible (a user name).")
@click.option("--acquired", default=None, help="Date acquired (YYYY-MM-DD).")
@click.option("--condition", default="baik", show_default=True,
              help="baik, rusak-ringan, rusak-berat or tidak-aktif.")
@click.option("--next-check", default=None, help="Next check due (YYYY-MM-DD).")
@click.option("--notes", default="", help="Anything else worth knowing.")
@click.option("--disk", default=None, help="Link a backup disk Brankas knows (label or id).")
@click.option("--safe", default=None, help="Link a safe Brankas knows (its name).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def equipment_add_cmd(actor, name: str, kind: str, serial: str, location: str,  # type: ignore[no-untyped-def]
                      responsible: str | None, acquired: str | None, condition: str,
                      next_check: str | None, notes: str, disk: str | None,
                      safe: str | None, as_json: bool) -> None:
    """Record an item of equipment (the Sandiman)."""
    from brankas.web.equipment.services import equipment_add

    row = equipment_add(actor=actor, kind=kind, name=name, serial=serial, location=location,
                        responsible=responsible, acquired=acquired, condition=condition,
                        next_check_due=next_check, notes=notes, disk=disk, safe=safe)
    emit({"ref": str(row.pk), "kind": row.kind, "name": row.name,
          "condition": row.condition}, as_json,
         f"peralatan {row.pk} dicatat / recorded: {row.name} ({row.kind}, {row.condition})")


@equipment.command("list")
@click.option("--active", is_flag=True, help="Only items in service.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def equipment_list_cmd(actor, active: bool, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Every item, with the disks and safes Brankas knows, their condition and next check."""
    from brankas.web.equipment.selectors import equipment_items

    rows = [i.as_dict() for i in equipment_items(actor=actor, via="cli",
                                                 include_retired=not active)]
    emit_rows(rows, as_json, _line)


@equipment.command("show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def equipment_show_cmd(actor, ref: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """One item: its record, its maintenance log and (a disk) its health readings."""
    from brankas.web.equipment.selectors import (
        equipment_item,
        equipment_warnings,
        health_as_dict,
        item_health,
        item_log,
    )

    item = equipment_item(actor=actor, ref=ref, via="cli")
    out = item.as_dict()
    out["log"] = [{"on": e.on.isoformat(), "by": e.actor.username, "work": e.work,
                   "condition_after": e.condition_after} for e in item_log(item)]
    out["health_history"] = [health_as_dict(h) for h in item_health(item)]
    out["warnings"] = [{"code": w.code, "id": w.text("id"), "en": w.text("en")}
                       for w in equipment_warnings([item])]
    if as_json:
        emit_json(out)
        return
    click.echo(f"{out['ref']}: {out['name']} ({out['kind']})")
    for label, key in (("nomor seri / serial", "serial"), ("lokasi / location", "location"),
                       ("penanggung jawab / responsible", "responsible"),
                       ("diperoleh / acquired", "acquired"), ("kondisi / condition", "condition"),
                       ("cek berikut / next check", "next_check_due"),
                       ("tidak aktif / retired", "retired_at")):
        click.echo(f"  {label:<32} {out[key] or '-'}")
    for h in out["health_history"][:5]:
        click.echo(f"  SMART {local_time(h['at'])}  {h['source']:<6}  {h['status']:<7}  "
                   f"jam {h['power_on_hours'] or '-'}  suhu {h['temperature'] or '-'}  "
                   f"realokasi {h['reallocated'] if h['reallocated'] is not None else '-'}  "
                   f"tertunda {h['pending'] if h['pending'] is not None else '-'}  "
                   f"sisa {h['runs_left'] if h['runs_left'] is not None else '-'} back up"
                   + (f"  ({h['reason']})" if h["reason"] else ""))
    for e in out["log"]:
        click.echo(f"  {e['on']}  {e['by']:<12}  {e['condition_after']:<13}  {e['work']}")
    for w in out["warnings"]:
        click.echo(f"  ! {w['id']}")


@equipment.command("log")
@click.argument("ref")
@click.option("--work", required=True, help="What was checked or repaired.")
@click.option("--condition", required=True,
              help="Condition after: baik, rusak-ringan, rusak-berat or tidak-aktif.")
@click.option("--date", "on", default=None, help="When (YYYY-MM-DD; today if not given).")
@click.option("--next-check", default=None, help="Next check due (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def equipment_log_cmd(actor, ref: str, work: str, condition: str, on: str | None,  # type: ignore[no-untyped-def]
                      next_check: str | None, as_json: bool) -> None:
    """Log a check or repair of an item and its condition after (the Sandiman)."""
    from brankas.web.equipment.services import equipment_log

    entry = equipment_log(actor=actor, ref=ref, work=work, condition=condition, on=on,
                          next_check_due=next_check)
    row = entry.equipment
    emit({"ref": str(row.pk), "on": entry.on.isoformat(), "condition": entry.condition_after,
          "next_check_due": row.next_check_due.isoformat() if row.next_check_due else None},
         as_json, f"peralatan {row.pk} ({row.name}): {entry.condition_after} "
                  f"({entry.on.isoformat()}) dicatat / recorded")


@equipment.command("retire")
@click.argument("ref")
@click.option("--reason", required=True, help="Why it is taken out of service.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def equipment_retire_cmd(actor, ref: str, reason: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Take an item out of service (tidak aktif); its log stays (the Sandiman)."""
    from brankas.web.equipment.services import equipment_retire

    row = equipment_retire(actor=actor, ref=ref, reason=reason)
    emit({"ref": str(row.pk), "condition": row.condition,
          "retired_at": row.retired_at.isoformat() if row.retired_at else None}, as_json,
         f"peralatan {row.pk} ({row.name}) tidak aktif / retired")
