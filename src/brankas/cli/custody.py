"""Safes and their combinations (safe ...), and the custody of backup disks (media ...)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.outfile import out_file
from brankas.cli.runtime import (
    SharesOption,
    emit,
    emit_json,
    emit_rows,
    fail,
    handles_errors,
    local_time,
    read_secret_file,
    read_text_file,
)
from brankas.cli.usage import Usage
from brankas.core.chains.custody import CUSTODY


def _combination(path: str | None) -> str:
    """The combination from a file (its first line), or typed at a hidden prompt. Never
    from an environment variable or the command line, where others could read it."""
    if path:
        text = Path(path).read_text(encoding="utf-8") if Path(path).is_file() else None
        if text is None:
            raise Usage("usage_read_file", path=path, detail=("bukan berkas", "not a file"))
        return text.splitlines()[0] if text else ""
    if sys.stdin.isatty():
        return str(click.prompt("Nomor kombinasi / combination", hide_input=True,
                                confirmation_prompt=True))
    fail("nomor kombinasi diperlukan: --combination-file F / combination needed", 2)
    return ""


def _passphrase(path: str | None) -> str:
    secret = read_secret_file(path, "BRANKAS_PASSPHRASE", "Frasa sandi kunci / Key passphrase")
    if secret is None:
        fail("frasa sandi kunci diperlukan: --passphrase-file F / key passphrase needed", 2)
    return secret or ""


def _safe_dict(safe: Any) -> dict[str, Any]:
    combos = list(safe.combinations.all())
    current = next((c for c in combos if c.current), None)
    return {
        "name": safe.name, "location": safe.location, "description": safe.description,
        "created_at": safe.created_at.isoformat(),
        "combination_set_at": current.set_at.isoformat() if current else None,
        "combinations": len(combos),
        "media": sorted(c.medium.label for c in safe.media.all() if c.state == "in_safe"),
    }


# -- safe ------------------------------------------------------------------------------

@main.group()
def safe() -> None:
    """Safes (brankas) and their combination lock numbers, stored only encrypted."""


@safe.command("add")
@click.argument("name")
@click.option("--location", required=True, help="Where the safe stands.")
@click.option("--combination-file", type=click.Path(dir_okay=False),
              help="File whose first line is the combination (else a hidden prompt).")
@click.option("--description", default="", help="Anything else worth knowing.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def safe_add_cmd(actor, name: str, location: str, combination_file: str | None,  # type: ignore[no-untyped-def]
                 description: str, as_json: bool) -> None:
    """Add a safe; its combination is encrypted at once to the holders allowed to read it."""
    from brankas.web.custody.services import safe_add

    record = safe_add(actor=actor, name=name, location=location, description=description,
                      combination=_combination(combination_file))
    emit({"safe": record.name, "location": record.location}, as_json,
         f"brankas {record.name} ({record.location}) dicatat / recorded; "
         "kombinasi disimpan terenkripsi / combination stored encrypted")


@safe.command("list")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def safe_list_cmd(actor, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Every safe, where it is and which disks are in it (never the combination)."""
    from brankas.web.custody.selectors import safe_list

    safes = [_safe_dict(s) for s in safe_list(actor=actor, via="cli")]
    if as_json:
        emit_json(safes)
        return
    for s in safes:
        disks = ", ".join(s["media"]) or "-"
        click.echo(f"{s['name']:<20}  {s['location']:<30}  disk: {disks}")


@safe.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def safe_show_cmd(actor, name: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """One safe: its place, its disks and when its combination was set (not the number)."""
    from brankas.web.custody.selectors import safe_get, safe_list

    wanted = safe_get(name)
    record = next(s for s in safe_list(actor=actor, via="cli") if s.pk == wanted.pk)
    out = _safe_dict(record)
    out["history"] = [{"set_at": c.set_at.isoformat(), "set_by": c.set_by.username,
                       "current": c.current} for c in record.combinations.all()]
    if as_json:
        emit_json(out)
        return
    click.echo(f"{out['name']}: {out['location']}")
    if out["description"]:
        click.echo(f"  {out['description']}")
    click.echo(f"  disk: {', '.join(out['media']) or '-'}")
    for h in out["history"]:
        click.echo(f"  kombinasi ditetapkan / combination set {local_time(h['set_at'])} "
                   f"oleh / by {h['set_by']}" + ("" if h["current"] else " (diganti / superseded)"))


@safe.command("combination")
@click.argument("name")
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="Your key's passphrase (or BRANKAS_PASSPHRASE).")
@click.option("--history", is_flag=True, help="Also the superseded combinations.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def safe_combination_cmd(actor, name: str, passphrase_file: str | None, history: bool,  # type: ignore[no-untyped-def]
                         as_json: bool) -> None:
    """Print a safe's combination to a holder allowed to read it (audited)."""
    from brankas.web.custody.services import safe_combinations_read

    entries = safe_combinations_read(actor=actor, name=name, history=history,
                                     passphrase=_passphrase(passphrase_file))
    if as_json:
        emit_json([{"safe": e.safe, "combination": e.combination, "current": e.current,
                    "set_at": e.set_at.isoformat(), "set_by": e.set_by} for e in entries])
        return
    for e in entries:
        if e.current and not history:
            click.echo(e.combination)
        else:
            state = "berlaku / current" if e.current else "diganti / superseded"
            click.echo(f"{e.combination}\t{local_time(e.set_at.isoformat())}\t{state}")


@safe.command("set-combination")
@click.argument("name")
@click.option("--combination-file", type=click.Path(dir_okay=False),
              help="File whose first line is the new combination (else a hidden prompt).")
@handles_errors
@acting_user
def safe_set_combination_cmd(actor, name: str, combination_file: str | None) -> None:  # type: ignore[no-untyped-def]
    """Record a new combination; the old one is kept, marked superseded."""
    from brankas.web.custody.services import safe_set_combination

    safe_set_combination(actor=actor, name=name, combination=_combination(combination_file))
    click.echo("kombinasi baru disimpan terenkripsi / new combination stored encrypted")


@safe.command("print")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="The PDF to write (keep it as secret as the safe).")
@click.option("--passphrase-file", type=click.Path(dir_okay=False))
@click.option("--history", is_flag=True, help="Also the superseded combinations.")
@handles_errors
@acting_user
def safe_print_cmd(actor, out: str, passphrase_file: str | None, history: bool) -> None:  # type: ignore[no-untyped-def]
    """The list of combination lock numbers as a PDF, for an allowed holder (audited)."""
    from brankas.web.custody.printing import combination_list_pdf

    with out_file(out) as fh:
        fh.write(combination_list_pdf(actor=actor, passphrase=_passphrase(passphrase_file),
                                      history=history))
    click.echo(f"{out}: daftar nomor kunci kombinasi / combination list (RAHASIA)")


@safe.command("rewrap")
@click.option("--identity", "identity_file", type=click.Path(dir_okay=False),
              help="File holding the office recovery identity (AGE-SECRET-KEY-1...).")
@click.option("--shares", cls=SharesOption,
              help="Recovery share files instead of --identity (rebuilt in memory).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def safe_rewrap_cmd(actor, identity_file: str | None, shares: tuple[Path, ...],  # type: ignore[no-untyped-def]
                    as_json: bool) -> None:
    """Re-encrypt every combination to today's readers with the office recovery identity
    (when no current reader can open them, e.g. a new Kabid). Shows no combination."""
    from brankas.cli.recovery import read_share_files
    from brankas.web.custody.services import safe_combinations_rewrap

    if bool(identity_file) == bool(shares):
        raise Usage("usage_one_of", options="--identity, --shares")
    if shares:
        count = safe_combinations_rewrap(actor=actor, shares=read_share_files(shares))
    else:
        count = safe_combinations_rewrap(actor=actor,
                                         recovery_identity=read_text_file(str(identity_file)))
    emit({"combinations": count}, as_json,
         f"{count} kombinasi dienkripsi ulang / combinations re-encrypted")


# -- media -----------------------------------------------------------------------------

@main.group()
def media() -> None:
    """Backup disks and their chain of custody (in a safe, out, offsite, retired, lost)."""


@media.command("list")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def media_list_cmd(actor, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Every disk: where it is, its last backup and verification."""
    from brankas.web.custody.selectors import media_with_custody, medium_as_dict

    emit_rows([medium_as_dict(m) for m in media_with_custody(actor=actor, via="cli")],
              as_json, _medium_line)


def _medium_line(r: dict[str, Any]) -> str:
    where = r["safe"] or r["location"] or ""
    # the office's dates (a backup at 02.00 WIB is the day before in UTC)
    verified = local_time(r["last_verified_at"])[:10]
    return (f"{r['label']:<14}  {r['state']:<8}  {where:<20}  "
            f"back up: {local_time(r['last_backup_at'])[:10]}  verify: {verified}")


@media.command("show")
@click.argument("label")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def media_show_cmd(actor, label: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """One disk and its chain of custody."""
    from brankas.web.custody.selectors import (
        custody_history,
        medium_as_dict,
        medium_get,
        move_as_dict,
    )

    record = medium_get(actor=actor, ref=label, via="cli")
    out = medium_as_dict(record)
    out["custody"] = [move_as_dict(m)
                      for m in custody_history(actor=actor, medium=record, via="cli")]
    if as_json:
        emit_json(out)
        return
    click.echo(f"{out['label']} ({out['medium_id']}): {out['state']}"
               + (f" - {out['safe']}" if out["safe"] else ""))
    for m in out["custody"]:
        to = m["to_safe"] or m["location"] or ""
        click.echo(f"  {local_time(m['at'])}  {m['move']:<10}  {m['from_state'] or '-'} -> "
                   f"{m['to_state']} {to}  {m['actor']}  {m['reason']}")


def _move(actor: Any, label: str, move: str, **kwargs: Any) -> None:
    from brankas.web.custody.services import medium_move

    entry = medium_move(actor=actor, medium=label, move=move, **kwargs)
    click.echo(f"disk {entry.medium.label}: {entry.from_state} -> {entry.to_state}"
               + (f" ({entry.to_safe.name})" if entry.to_safe else ""))


def _move_command(move: str, summary: str,
                  reason_help: str | None = "Why (kept in the custody log).", *,
                  to: tuple[str, str] | None = None) -> None:
    """``brankas media MOVE LABEL --reason TEXT``, and ``to`` (an option's name and help)
    where the move says where the disk goes: ``--safe NAME`` or ``--location PLACE``."""

    def command(actor, label: str, reason: str | None, **where: str) -> None:  # type: ignore[no-untyped-def]
        _move(actor, label, move, **where, reason=reason or "")

    command = click.option("--reason", required=CUSTODY.needs_reason(move),
                           help=reason_help)(acting_user(command))
    if to is not None:
        command = click.option(to[0], required=True, help=to[1])(command)
    media.command(move, help=summary)(click.argument("label")(handles_errors(command)))


_move_command("checkout", "Take a disk out of its safe (before a backup, a verification or a "
              "drill).", "Why it leaves the safe (e.g. backup).")
_move_command("retire", "Take a disk out of service; no backup is written to it again.")
_move_command("lost", "Report a disk missing (its copies stop counting; the event is audited).")
_move_command("found", "Record that a lost disk turned up (verify it before trusting it again).")
_move_command("checkin", "Lock a disk in a safe (SOP step 7).", "Optional note.",
              to=("--safe", "The safe it goes into."))
_move_command("offsite", "Record that a disk is kept at another site.", None,
              to=("--location", "Where it is kept."))


@media.command("print")
@click.argument("label")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The PDF to write.")
@handles_errors
@acting_user
def media_print_cmd(actor, label: str, out: str) -> None:  # type: ignore[no-untyped-def]
    """A disk's custody log as a PDF."""
    from brankas.web.custody.printing import custody_log_pdf
    from brankas.web.custody.selectors import medium_get

    with out_file(out) as fh:
        medium = medium_get(actor=actor, ref=label, via="cli")
        fh.write(custody_log_pdf(actor=actor, medium=medium))
    click.echo(f"{out}: riwayat penyimpanan disk / custody log")
