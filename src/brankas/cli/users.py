"""Users and keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user, acting_user_with
from brankas.cli.runtime import (
    SharesOption,
    emit,
    emit_rows,
    fail,
    handles_errors,
    read_secret_file,
    read_text_file,
)
from brankas.cli.usage import Usage
from brankas.core.terms import Role


@main.group()
def user() -> None:
    """Users and their SOP roles."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--full-name", default="", help="Full name as printed under a signature.")
@click.option("--position", default="", help="Position (jabatan).")
@click.option("--nip", default="", help="Civil servant ID number (18 digits).")
@click.option("--password-file", "new_password_file", type=click.Path(dir_okay=False),
              help="File with the new user's password (or BRANKAS_NEW_PASSWORD).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user_with("--actor-password-file")
def user_add(actor, username: str, role: str, full_name: str, position: str, nip: str,  # type: ignore[no-untyped-def]
             new_password_file: str | None, as_json: bool) -> None:
    """Add a user (admin only)."""
    from brankas.web.accounts.services import user_create

    password = read_secret_file(new_password_file, "BRANKAS_NEW_PASSWORD",
                                f"Kata sandi untuk {username} / Password for {username}",
                                confirm=True)
    if password is None:
        fail("kata sandi pengguna baru diperlukan / new user's password: --password-file F", 2)
    created = user_create(actor=actor, username=username, role=role, password=password or "",
                          full_name=full_name, position=position, nip=nip)
    emit({"username": created.username, "role": created.role,
          "full_name": created.full_name, "position": created.position,
          "nip": created.nip}, as_json,
         f"{created.username} ({created.role})")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def user_list(actor, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List users (active or not, locked out now, qualifications in force)."""
    from brankas.web.accounts.selectors import user_states

    rows = [{"username": s.user.username, "role": s.user.role, "full_name": s.user.full_name,
             "position": s.user.position, "nip": s.user.nip, "active": s.user.is_active,
             "locked": s.locked, "must_change_password": s.user.must_change_password,
             "qualifications": [{"qualification": q.pk, "training": q.training,
                                 "certificate": q.certificate_number,
                                 "passed_on": q.passed_on.isoformat()}
                                for q in s.qualifications]}
            for s in user_states(actor=actor, via="cli")]
    emit_rows(rows, as_json, _user_line)


def _user_line(r: dict[str, Any]) -> str:
    state = ("aktif" if r["active"] else "nonaktif") + (" terkunci" if r["locked"] else "")
    return f"{r['username']:<20} {r['role']:<9} {state:<17} {r['full_name']}"


@main.group()
def key() -> None:
    """Key holders' decryption keys."""


@key.command("new")
@click.option("--holder", required=True, metavar="USERNAME")
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="File with the holder's passphrase (or BRANKAS_PASSPHRASE).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def key_new(actor, holder: str, passphrase_file: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Make an age key for a key holder; prints the public recipient (age1...)."""
    from brankas.core.errors import CryptoFailure
    from brankas.web.keys.services import key_create

    passphrase = read_secret_file(passphrase_file, "BRANKAS_PASSPHRASE",
                                  "Frasa sandi kunci / Key passphrase", confirm=True)
    if passphrase is None:
        raise CryptoFailure("passphrase_missing")
    created = key_create(actor=actor, holder_username=holder, passphrase=passphrase)
    emit({"holder": holder, "recipient": created.recipient,
          "fingerprint": created.fingerprint}, as_json,
         created.recipient)


@key.command("list")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def key_list(actor, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List keys (public parts only), and the office key that seals backups with its
    fingerprint (compare it with the paper of set-up)."""
    from brankas.web.accounts.selectors import office_get
    from brankas.web.keys.selectors import key_list as select_keys
    from brankas.web.keys.services import office_key

    office = office_get()
    signing = office_key() if office else None
    current = signing.fingerprint if signing else ""
    rows = [{"holder": k.holder.username, "role": k.holder.role, "recipient": k.recipient,
             "fingerprint": k.fingerprint, "created_at": k.created_at.isoformat(),
             "active": k.active,
             "anchor": bool(bytes(k.anchor)) and k.anchor_office_key == current}
            for k in select_keys()]
    if office and signing:
        rows.append({"holder": "recovery", "role": "", "recipient": office.recovery_recipient,
                     "fingerprint": "", "created_at": office.created_at.isoformat(),
                     "active": True, "anchor": bool(bytes(signing.recovery_anchor))})
        # The office key signs; it is no recipient: a script that encrypts to every
        # active row's recipient must not be handed a signing key.
        rows.append({"holder": "office-key", "role": "", "recipient": "",
                     "signing_key": signing.public, "fingerprint": signing.fingerprint,
                     "created_at": signing.created_at.isoformat(), "active": True,
                     "anchor": True})
    emit_rows(rows, as_json, _key_line)


def _key_line(r: dict[str, Any]) -> str:
    if r["holder"] == "office-key":
        return f"{'kunci kantor':<16} {'segel':<9} {r['fingerprint']}"
    state = "aktif" if r["active"] else "nonaktif"
    anchor = "" if r["anchor"] else "  (belum berjangkar / no anchor yet)"
    return f"{r['holder']:<16} {state:<9} {r['recipient']}{anchor}"


@key.command("anchor")
@click.option("--identity", "identity_file", type=click.Path(dir_okay=False),
              help="A file holding the office recovery identity (AGE-SECRET-KEY-1...).")
@click.option("--shares", cls=SharesOption,
              help="Instead of --identity: K recovery share files (one share each).")
@click.option("--passphrase-file", type=click.Path(dir_okay=False),
              help="Your key passphrase (or BRANKAS_PASSPHRASE), to anchor your own keys.")
@handles_errors
@acting_user
def key_anchor(actor, identity_file: str | None, shares: tuple[Path, ...],  # type: ignore[no-untyped-def]
               passphrase_file: str | None) -> None:
    """Anchor the office key (which seals every backup) with a secret the disks cannot
    forge: your own key (your passphrase), or the office recovery identity from the safe
    (or its shares). Offices set up before backups were sealed run this once; the next
    backup carries it."""
    from brankas.web.keys.services import key_anchor as anchor

    identity_text = None
    passphrase = None
    if identity_file and shares:
        raise Usage("usage_not_both", first="--identity", second="--shares")
    if identity_file:
        identity_text = read_text_file(identity_file)
    elif shares:
        from brankas.cli.recovery import read_share_files
        from brankas.web.keys.recovery import shares_identity
        from brankas.web.keys.services import anchor_with_recovery_allowed

        anchor_with_recovery_allowed(actor)  # before any share is read
        identity_text = str(shares_identity(read_share_files(shares), actor=actor,
                                            purpose="key anchor"))
    else:
        passphrase = read_secret_file(passphrase_file, "BRANKAS_PASSPHRASE",
                                      "Frasa sandi kunci / Key passphrase")
        if passphrase is None:
            raise Usage("usage_one_of", options="--identity FILE, --passphrase-file F")
    done = anchor(actor=actor, identity_text=identity_text, passphrase=passphrase)
    for line in done:
        click.echo(line)


from brankas.cli import useradmin  # noqa: E402,F401  (issue 14: extends the user group)
