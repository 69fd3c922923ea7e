"""User administration (issue 14): extends the ``user`` group of ``cli/users.py`` with
deactivate, activate, role, reset-password, unlock, qualify, and one's own password."""

from __future__ import annotations

import os
from typing import Any

import click

from brankas.cli.auth import acting_user
from brankas.cli.runtime import (
    emit,
    emit_json,
    ensure_initialized,
    fail,
    handles_errors,
    read_secret_file,
)
from brankas.cli.users import user
from brankas.core.errors import AuthenticationFailed
from brankas.core.terms import Role


def _revoked_json(change: Any) -> dict[str, Any] | None:
    revoked = change.revoked
    if revoked is None:
        return None
    return {"fingerprints": revoked.newly_revoked,
            "still_opens": [vars(e) for e in revoked.still_opens],
            "recovery_only": revoked.recovery_only,
            "combinations_to_change": list(change.combinations)}


def _echo_revoked(change: Any) -> None:
    """What a revocation made by the change means for the admin: the disks that still
    hold copies the revoked keys open."""
    revoked = change.revoked
    if revoked is None:
        return
    click.echo(f"kunci dicabut / keys revoked: {', '.join(revoked.newly_revoked)}")
    if revoked.recovery_only:
        click.echo(f"PERINGATAN: {revoked.recovery_only} dokumen/surat kini hanya terbuka "
                   "dengan kunci pemulihan / WARNING: "
                   f"{revoked.recovery_only} documents/letters now open with the recovery "
                   "key only: grant a holder access (brankas key grant)", err=True)
    if change.combinations:
        click.echo("PERINGATAN: ganti kombinasi brankas ini, pengguna dapat membacanya / "
                   "WARNING: change the combination of these safes, the user could read it: "
                   f"{', '.join(change.combinations)}", err=True)
    for e in revoked.still_opens:
        click.echo(f"masih terbuka di disk / still opens on disk {e.medium_label} "
                   f"({e.medium_id}): {len(e.documents)} dokumen / documents, "
                   f"{len(e.letters)} surat / letters")
        for number in [*e.documents, *e.letters]:
            click.echo(f"  {number}")


def _new_password(path: str | None, username: str) -> str:
    password = read_secret_file(path, "BRANKAS_NEW_PASSWORD",
                                f"Kata sandi baru untuk {username} / New password for {username}",
                                confirm=True)
    if password is None:
        fail("kata sandi baru diperlukan / the new password: --new-password-file F", 2)
    return password or ""


@user.command("deactivate")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def user_deactivate(actor, username: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Deactivate a user (admin only): no more sign-in; history and signatures stay. A key
    holder's keys are revoked; prints the disks whose copies they still open."""
    from brankas.web.accounts.administration import user_deactivate as deactivate

    change = deactivate(actor=actor, username=username)
    if as_json:
        emit_json({"username": change.user.username, "active": False,
                   "revoked": _revoked_json(change)})
        return
    click.echo(f"dinonaktifkan / deactivated: {change.user.username}")
    _echo_revoked(change)


@user.command("activate")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def user_activate(actor, username: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Reactivate a user (admin only). A revoked key stays revoked."""
    from brankas.web.accounts.administration import user_activate as activate

    change = activate(actor=actor, username=username)
    emit({"username": change.user.username, "active": True}, as_json,
         f"diaktifkan / reactivated: {change.user.username}")


@user.command("role")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def user_role(actor, username: str, role: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Give a user another SOP role (admin only). A key holder moved to a role that holds
    no key has their keys revoked."""
    from brankas.web.accounts.administration import user_set_role

    change = user_set_role(actor=actor, username=username, role=role)
    if as_json:
        emit_json({"username": change.user.username, "role": change.user.role,
                   "old_role": change.old_role, "revoked": _revoked_json(change)})
        return
    click.echo(f"{change.user.username}: {change.old_role} -> {change.user.role}")
    _echo_revoked(change)


@user.command("reset-password")
@click.argument("username")
@click.option("--new-password-file", type=click.Path(dir_okay=False),
              help="File with the user's new password (or BRANKAS_NEW_PASSWORD).")
@handles_errors
@acting_user
def user_reset_password(actor, username: str, new_password_file: str | None) -> None:  # type: ignore[no-untyped-def]
    """Set a new password for another user (admin only); they must change it at their next
    sign-in."""
    from brankas.web.accounts.administration import password_reset

    password = _new_password(new_password_file, username)
    done = password_reset(actor=actor, username=username, new_password=password)
    click.echo(f"kata sandi diatur ulang / password reset: {done.username} (harus diganti saat "
               "masuk berikutnya / must be changed at the next sign-in)")


@user.command("unlock")
@click.argument("username")
@handles_errors
@acting_user
def user_unlock(actor, username: str) -> None:  # type: ignore[no-untyped-def]
    """Lift a user's lock-out after failed sign-ins, from every address (admin only)."""
    from brankas.web.accounts.administration import user_unlock as unlock

    unlock(actor=actor, username=username)
    click.echo(f"kuncian dibuka / unlocked: {username}")


@user.command("qualify")
@click.argument("username")
@click.option("--training", required=True, help="The training passed, e.g. Diklat Sandiman.")
@click.option("--certificate", default="", help="The certificate number.")
@click.option("--date", "passed_on", required=True, metavar="YYYY-MM-DD",
              help="The date the training was passed.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def user_qualify(actor, username: str, training: str, certificate: str, passed_on: str,  # type: ignore[no-untyped-def]
                 as_json: bool) -> None:
    """Record a user's qualification (KUALIFIKASI PELAKSANA; admin only)."""
    from brankas.web.accounts.administration import qualification_record

    record = qualification_record(actor=actor, username=username, training=training,
                                  certificate_number=certificate, passed_on=passed_on)
    emit({"username": username, "qualification": record.pk, "training": record.training,
          "certificate": record.certificate_number,
          "passed_on": record.passed_on.isoformat()}, as_json,
         f"{username}: {record.training} {record.certificate_number} "
         f"({record.passed_on.isoformat()})".replace("  ", " "))


@user.command("password")
@click.option("--user", "acting_username", metavar="USERNAME",
              help="Acting user (or BRANKAS_USER).")
@click.option("--password-file", type=click.Path(dir_okay=False),
              help="File whose first line is your current password (or BRANKAS_PASSWORD).")
@click.option("--new-password-file", type=click.Path(dir_okay=False),
              help="File with your new password (or BRANKAS_NEW_PASSWORD).")
@handles_errors
def user_password(acting_username: str | None, password_file: str | None,
                  new_password_file: str | None) -> None:
    """Change your own password (every role): the current one authenticates."""
    ensure_initialized()
    from brankas.web.accounts.administration import password_change

    name = acting_username or os.environ.get("BRANKAS_USER")
    current = read_secret_file(password_file, "BRANKAS_PASSWORD",
                               "Kata sandi sekarang / Current password")
    if not name or current is None:
        raise AuthenticationFailed("auth_required")
    new = _new_password(new_password_file, name)
    done = password_change(username=name, old_password=current, new_password=new,
                           totp_token=os.environ.get("BRANKAS_TOTP"), via="brankas-cli")
    click.echo(f"kata sandi diganti / password changed: {done.username}")
