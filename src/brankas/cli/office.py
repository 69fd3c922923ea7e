"""The office profile: ``brankas office show`` and ``brankas office set`` (admin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.runtime import emit, handles_errors
from brankas.cli.usage import Usage

# option name -> the profile's field
TEXT_OPTIONS = {
    "name": "name", "government": "government", "department": "department",
    "division": "division", "letterhead_extra": "letterhead_extra", "address": "address",
    "city": "city", "place": "place", "phone": "phone", "email": "email",
    "sop_number": "sop_number", "sop_approved_by": "sop_approved_by",
    "sop_made_on": "sop_made_on", "sop_revised_on": "sop_revised_on",
    "sop_effective_on": "sop_effective_on",
}


def _text(profile: dict[str, Any]) -> str:
    from brankas.core.errors import current_language
    from brankas.web.accounts.office import DATE_FIELDS, TEXT_FIELDS

    index = 1 if current_language() == "en" else 0  # the labels in BRANKAS_LANG
    labels = {**TEXT_FIELDS, **DATE_FIELDS}
    lines = [f"{labels[k][index]:<24} {profile[k] or '-'}" for k in labels]
    logo = profile["logo"]
    unit = ("bita", "bytes")[index]
    lines.append(f"{'logo':<24} " + (f"{logo['type']}, {logo['bytes']} {unit}, "
                                     f"sha256 {logo['sha256'][:16]}" if logo else "-"))
    return "\n".join(lines)


@main.group()
def office() -> None:
    """The office profile printed on every paper (letterhead, place, logo, the SOP)."""


@office.command("show")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def office_show(actor, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show the office profile."""
    from brankas.web.accounts.office import office_as_dict, office_profile

    profile = office_as_dict(office_profile())
    emit(profile, as_json, _text(profile))


@office.command("set")
@click.option("--name", default=None, help="Office name (nama instansi).")
@click.option("--government", default=None, help="Letterhead: Pemerintah Kabupaten/Kota ...")
@click.option("--department", default=None, help="Letterhead: Dinas ...")
@click.option("--division", default=None, help="Letterhead: Bidang ...")
@click.option("--letterhead-extra", default=None, help="An extra small letterhead line.")
@click.option("--address", default=None)
@click.option("--city", default=None)
@click.option("--place", default=None, help="Place name before the date at signatures.")
@click.option("--phone", default=None)
@click.option("--email", default=None)
@click.option("--logo", "logo_file", type=click.Path(exists=True, dir_okay=False,
                                                     path_type=Path),
              help="A PNG or JPEG logo (checked, stored as PNG).")
@click.option("--no-logo", is_flag=True, help="Remove the logo.")
@click.option("--sop-number", default=None, help="The SOP sheet's NOMOR SOP.")
@click.option("--sop-made-on", default=None, metavar="YYYY-MM-DD")
@click.option("--sop-revised-on", default=None, metavar="YYYY-MM-DD")
@click.option("--sop-effective-on", default=None, metavar="YYYY-MM-DD")
@click.option("--sop-approved-by", default=None, help="The SOP's DISAHKAN OLEH.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def office_set(actor, logo_file: Path | None, no_logo: bool, as_json: bool,  # type: ignore[no-untyped-def]
               **values: str | None) -> None:
    """Change the office profile (admin only; audited). Give only what changes; an empty
    value ("") clears a line."""
    from brankas.web.accounts.office import office_as_dict, office_update

    if logo_file is not None and no_logo:
        raise Usage("usage_not_both", first="--logo", second="--no-logo")
    changes = {TEXT_OPTIONS[k]: v for k, v in values.items() if v is not None}
    logo = None
    if logo_file is not None:
        try:
            logo = logo_file.read_bytes()
        except OSError as exc:
            raise Usage("usage_read_file", path=str(logo_file),
                        detail=exc.strerror or "") from None
    updated = office_update(actor=actor, changes=changes, logo=logo, remove_logo=no_logo)
    profile = office_as_dict(updated)
    emit(profile, as_json, _text(profile))
