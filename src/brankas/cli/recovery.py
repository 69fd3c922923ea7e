"""``brankas recovery``: the office recovery key on paper (split into shares, check a set of
shares), and reading share files for every command that takes ``--shares``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.outfile import out_file
from brankas.cli.runtime import emit, fail, handles_errors, read_text_file
from brankas.core import fsutil
from brankas.core.errors import InvalidInput, SetupError

MAX_SHARE_FILE = 64 * 1024  # 33 words typed with notes fit many times over


def read_share_files(paths: Sequence[Path | str]) -> list[tuple[str, str]]:
    """(name as given, text) of each share file (``--shares``), for
    ``web.keys.recovery.shares_identity(..., actor=, purpose=)``, which rebuilds the office
    recovery identity in memory and audits the use. A file far larger than a share (a
    wrong file named) is refused before it is read."""
    out = []
    for p in paths:
        try:
            size = Path(p).stat().st_size
        except OSError:
            size = 0  # read_text_file names the problem
        if size > MAX_SHARE_FILE:
            raise InvalidInput("share_invalid", name=str(p), detail=(
                f"berkas {size} byte, terlalu besar untuk sebuah bagian",
                f"a file of {size} bytes, too large for a share"))
        out.append((str(p), read_text_file(str(p))))
    return out


def check_out_dir(out_dir: str) -> Path:
    """The folder for the share files: absent, or an empty folder (nothing is replaced)."""
    target = Path(out_dir).expanduser().absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise SetupError("output_unwritable", path=out_dir, reason=(
            "bukan folder kosong", "not an empty folder"))
    try:  # made now, so a folder that cannot be made is refused before the split is recorded
        fsutil.make_private_dir(target)
    except OSError as exc:
        raise SetupError("output_unwritable", path=out_dir, reason=(
            f"folder tidak dapat dibuat ({exc.strerror})",
            f"the folder cannot be made ({exc.strerror})")) from None
    return target


def share_file_names(shares: int) -> list[tuple[str, str]]:
    return [(f"share-{i}-of-{shares}.txt", f"share-{i}-of-{shares}.pdf")
            for i in range(1, shares + 1)]


def write_share_files(out_dir: Path, result: Any, *, actor: Any) -> list[Path]:
    """Each share as its text file (the words alone) and its sheet (PDF), private files,
    never over an existing one."""
    from brankas.core.keyring.shares import share_text
    from brankas.core.keyring.sheets import sheets_pdf
    from brankas.web.keys.recovery import split_sheets

    sheets = split_sheets(result, actor=actor)
    written: list[Path] = []
    names = share_file_names(len(sheets))
    for sheet, (txt, pdf) in zip(sheets, names, strict=True):
        with out_file(out_dir / txt) as fh:
            fh.write(share_text(sheet.mnemonic).encode("utf-8"))
        written.append(out_dir / txt)
        with out_file(out_dir / pdf) as fh:
            fh.write(sheets_pdf([sheet]))
        written.append(out_dir / pdf)
    return written


def prompt_identity(identity_file: str | None) -> str:
    """The recovery identity from a file, or typed at a hidden prompt (never an
    environment variable or the command line)."""
    if identity_file:
        return read_text_file(identity_file)
    if sys.stdin.isatty():
        return str(click.prompt("Kunci pemulihan / Recovery identity (AGE-SECRET-KEY-1...)",
                                hide_input=True))
    fail("kunci pemulihan diperlukan: --identity-file F / recovery identity needed", 2)
    return ""


def split_dict(result: Any, files: list[Path]) -> dict[str, Any]:
    split = result.split
    return {"identifier": split.identifier, "shares": split.shares,
            "threshold": split.threshold, "recovery_fingerprint": split.recovery_fingerprint,
            "created_at": split.created_at.isoformat(), "files": [str(f) for f in files]}


@main.group()
def recovery() -> None:
    """The office recovery key on paper: SLIP-39 shares (split, check)."""


@recovery.command("split")
@click.option("--shares", "count", required=True, type=int,
              help="N: how many shares to make (1 to 16).")
@click.option("--threshold", required=True, type=int,
              help="K: how many shares rebuild the key (2 to N).")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False),
              help="An empty or new folder for the share files (.txt and .pdf).")
@click.option("--identity-file", type=click.Path(dir_okay=False),
              help="A file holding the recovery identity; else typed at a hidden prompt.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def split_cmd(actor, count: int, threshold: int, out_dir: str,  # type: ignore[no-untyped-def]
              identity_file: str | None, as_json: bool) -> None:
    """Split the office recovery identity into N shares, any K of which rebuild it: for
    each share a sheet to print (share-i-of-N.pdf) and its words (share-i-of-N.txt).
    Admin only; on the office laptop, offline. Splitting again does not end old shares."""
    from brankas.core.keyring.shares import check_numbers
    from brankas.web.keys.recovery import recovery_split, recovery_split_allowed

    recovery_split_allowed(actor=actor)
    check_numbers(count, threshold)
    target = check_out_dir(out_dir)
    identity = prompt_identity(identity_file)
    result = recovery_split(actor=actor, identity_text=identity, shares=count,
                            threshold=threshold)
    del identity
    files = write_share_files(target, result, actor=actor)
    split = result.split
    emit(split_dict(result, files), as_json,
         f"{split.shares} bagian, ambang {split.threshold} / {split.shares} shares, "
         f"threshold {split.threshold} (split {split.identifier}) in {target}\n"
         "Cetak setiap .pdf, serahkan kepada pejabat yang berbeda, lalu hapus folder ini. / "
         "Print every .pdf, hand them to different officials, then delete this folder.")


@recovery.command("check")
@click.argument("share_files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def check_cmd(actor, share_files: tuple[Path, ...], as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Do these shares rebuild the office recovery key? Prints its fingerprint; opens no
    document (audited; the split's check date is recorded)."""
    from brankas.web.keys.recovery import recovery_check

    fingerprint = recovery_check(actor=actor, shares=read_share_files(share_files))
    emit({"ok": True, "fingerprint": fingerprint, "office_recovery_key": True}, as_json,
         f"{fingerprint}: kunci pemulihan kantor ini / this office's recovery key")


