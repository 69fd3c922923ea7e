"""Registering, importing, listing, showing and opening documents."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.outfile import out_file
from brankas.cli.runtime import emit, emit_json, emit_rows, handles_errors, read_secret_file
from brankas.cli.usage import Usage
from brankas.core.terms import Classification, Direction


def document_dict(doc: Any, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "agenda": doc.agenda,
        "direction": doc.direction,
        "classification": doc.classification,
        "category": doc.category,
        "number": doc.number,
        "date": doc.doc_date.isoformat(),
        # A sealed field is "tersegel" unless revealed (``--passphrase-file``, issue 16).
        "subject": doc.shown("subject"),
        "correspondent": doc.shown("correspondent"),
        "pages": doc.pages,
        "stored_path": doc.stored_path,
        "registered_at": doc.registered_at.isoformat(),
        "registered_by": doc.registered_by.username,
    }
    if full:
        data.update(
            {
                "attachments": doc.shown("attachments"),
                "notes": doc.shown("notes"),
                "sealed": sorted(doc.sealed),
                "form_opened_at": doc.form_opened_at.isoformat(),
                "source": doc.source,
                "originals": doc.originals,
                "content_sha256": doc.content_sha256,
                "content_size": doc.content_size,
                "stored_sha256": doc.stored_sha256,
                "stored_size": doc.stored_size,
                "suite": doc.suite or None,
                "recipients": doc.recipients,
                "duplicate_of": doc.duplicate_of.agenda if doc.duplicate_of else None,
            }
        )
    return data


F = TypeVar("F", bound=Callable[..., Any])


def form_options(fn: F) -> F:
    """The data-input form's optional fields, shared by ``register`` and ``request register``."""
    for option in reversed([
        click.option("--pages", default=None, type=int,
                     help="Pages (counted from the file if omitted)."),
        click.option("--attachments", default="", help="Attachments (lampiran)."),
        click.option("--notes", default="", help="Notes (catatan)."),
        click.option("--allow-duplicate", is_flag=True,
                     help="Register even if the same file exists."),
    ]):
        fn = option(fn)
    return fn


def open_options(whose: str) -> Callable[[F], F]:
    """``--out`` and ``--passphrase-file`` of a command that writes a stored PDF, shared by
    ``open`` and ``request open`` (``whose``: what the passphrase opens)."""
    def add(fn: F) -> F:
        fn = click.option("--passphrase-file", type=click.Path(dir_okay=False),
                          help=f"Your key passphrase ({whose}), or BRANKAS_PASSPHRASE.")(fn)
        return click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
                            help="Where to write the PDF (must not exist).")(fn)

    return add


STDIN_DASH = "-"  # ``--passphrase-file -``: take BRANKAS_PASSPHRASE


def sealed_key(actor: Any, passphrase_file: str | None) -> Any:
    """With ``--passphrase-file`` (or BRANKAS_PASSPHRASE when the option is given as ``-``),
    the holder's key unlocked for this command only: ``list`` and ``show`` then show the
    sealed fields it opens (issue 16). Without it, None: sealed fields are "tersegel"."""
    if not passphrase_file:
        return None
    from brankas.web.documents.sealing import key_for_passphrase

    passphrase = read_secret_file(None if passphrase_file == STDIN_DASH else passphrase_file,
                                  "BRANKAS_PASSPHRASE", "Frasa sandi kunci / Key passphrase")
    if not passphrase:
        from brankas.core.errors import CryptoFailure

        raise CryptoFailure("passphrase_missing")
    return key_for_passphrase(actor=actor, passphrase=passphrase, via="cli")


def sealed_option(fn: F) -> F:
    return click.option(
        "--passphrase-file", type=click.Path(dir_okay=False),
        help="A key holder's passphrase: show (and search) the sealed fields it opens "
             "('-': BRANKAS_PASSPHRASE).")(fn)


def write_opened(out: str, passphrase_file: str | None, *, encrypted: Callable[[], bool],
                 open_: Callable[[BinaryIO, str | None], object]) -> None:
    """Write a stored PDF to ``--out`` (``open`` and ``request open``): the key passphrase
    is asked for only when ``encrypted()`` (opening itself checks the role); the path is
    printed on stderr."""
    with out_file(out) as fh:
        passphrase = None
        if encrypted():
            passphrase = read_secret_file(passphrase_file, "BRANKAS_PASSPHRASE",
                                          "Frasa sandi kunci / Key passphrase")
        open_(fh, passphrase)
    click.echo(str(Path(out)), err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--direction", required=True, type=click.Choice([d.value for d in Direction]))
@click.option("--classification", required=True,
              type=click.Choice([c.value for c in Classification]))
@click.option("--number", required=True, help="The document's own number (nomor surat).")
@click.option("--date", "doc_date", required=True, metavar="YYYY-MM-DD",
              help="The document's date.")
@click.option("--subject", required=True, help="Subject (perihal).")
@click.option("--correspondent", required=True,
              help="Sender (penerimaan) or addressee (pengiriman).")
@form_options
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def register(actor, files: tuple[str, ...], direction: str, classification: str, number: str,  # type: ignore[no-untyped-def]
             doc_date: str, subject: str, correspondent: str, pages: int | None,
             attachments: str, notes: str, allow_duplicate: bool, as_json: bool) -> None:
    """Register a scanned document (one PDF, or JPEG/PNG/TIFF pages) and file it into its
    SOP folder; exempted classifications are encrypted first."""
    from django.utils import timezone

    from brankas.core.register import intake, metadata
    from brankas.web.documents.services import document_register

    opened = timezone.now()
    meta = metadata.build(direction=direction, classification=classification, number=number,
                          doc_date=doc_date, subject=subject, correspondent=correspondent,
                          attachments=attachments, notes=notes, pages=pages)
    inputs = [intake.InputFile.from_path(Path(f)) for f in files]
    doc = document_register(actor=actor, meta=meta, files=inputs, form_opened_at=opened,
                            source="cli", allow_duplicate=allow_duplicate)
    if doc.duplicate_of:
        click.echo(f"brankas: peringatan: berkas yang sama sudah terdaftar sebagai "
                   f"{doc.duplicate_of.agenda} / warning: the same file is already registered "
                   f"as {doc.duplicate_of.agenda}", err=True)
    emit(document_dict(doc, full=True), as_json, f"{doc.agenda}  {doc.stored_path}")


@main.command("import")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--exempted-classification", default=Classification.RAHASIA.value,
              show_default=True,
              type=click.Choice([c.value for c in Classification if c != Classification.BIASA]),
              help="Classification given to files found under dikecualikan/.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def import_(actor, folder: str, exempted_classification: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Import an existing four-folder tree (biasa|dikecualikan/pengiriman|penerimaan/...).
    Already registered files are skipped, so an interrupted import resumes when run again."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from brankas.web.documents.importer import run_import

    progress = Progress(TextColumn("[bold]impor[/]"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[name]}"), TimeRemainingColumn(),
                        transient=True, disable=as_json or not os.isatty(2))
    with progress:
        task = progress.add_task("import", total=None, name="")

        def on_start(cands: list[Any]) -> None:
            progress.update(task, total=len(cands))

        def on_progress(cand: Any, outcome: str) -> None:
            progress.update(task, advance=1, name=cand.relative[-50:])

        summary = run_import(actor=actor, folder=Path(folder),
                             exempted_classification=Classification(exempted_classification),
                             on_start=on_start, on_progress=on_progress)
    if as_json:
        emit_json(summary.as_dict())
        return
    click.echo(f"diimpor / imported: {len(summary.imported)}")
    click.echo(f"dilewati (sudah terdaftar) / skipped (already registered): {len(summary.skipped)}")
    click.echo(f"ditolak / refused: {len(summary.refused)}")
    for name, reason in summary.refused:
        click.echo(f"  {name}: {reason}")


@main.command("list")
@click.option("--direction", type=click.Choice([d.value for d in Direction]))
@click.option("--classification", type=click.Choice([c.value for c in Classification]))
@click.option("--year", type=int)
@click.option("--query", default=None,
              help="Search agenda, number, subject, correspondent and the documents' text "
                   "(every word; docs/search.md). Results ranked: field matches first, "
                   "then text matches, best first.")
@click.option("--limit", default=0, type=int, help="At most this many rows (0: all).")
@sealed_option
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def list_(actor, direction: str | None, classification: str | None, year: int | None,  # type: ignore[no-untyped-def]
          query: str | None, limit: int, passphrase_file: str | None, as_json: bool) -> None:
    """List the register, newest first; with --query, the search's results, ranked (a text
    match's row carries a snippet of the text, each match between « and »)."""
    from brankas.web.documents.selectors import document_list
    from brankas.web.text.fts import MAX_QUERY, snippet_text
    from brankas.web.text.selectors import document_search

    if query and (len(query) > MAX_QUERY or any("\ud800" <= c <= "\udfff" for c in query)):
        # a byte that is no UTF-8 (a lone surrogate, as Python passes it) or a query longer
        # than the page's box (SQLite: "LIKE pattern too complex"): refused, not a traceback
        raise Usage("search_query_invalid", limit=MAX_QUERY)
    key = sealed_key(actor, passphrase_file)
    docs: list[Any]
    if query and query.replace("\x00", "").strip():
        results = document_search(actor=actor, via="cli", direction=direction,
                                  classification=classification, year=year, query=query,
                                  unlocked=key)
        docs = list(results[:limit] if limit else results[0:None])
    else:
        qs = document_list(actor=actor, via="cli", direction=direction,
                           classification=classification, year=year, unlocked=key)
        docs = list(qs[:limit] if limit else qs)
    if key is not None:
        from brankas.web.documents.sealing import reveal

        reveal(docs, key)
    rows = []
    for d in docs:
        row = document_dict(d)
        if getattr(d, "snippet", None):
            row["snippet"] = snippet_text(d.snippet)
        rows.append(row)
    emit_rows(rows, as_json,
              lambda r: f"{r['agenda']:<16} {r['date']}  {r['classification']:<14} "
                        f"{r['direction']:<10} {r['subject'][:60]}"
                        + (f"\n{'':<16} {r['snippet']}" if r.get("snippet") else ""))
    from brankas.core import startup

    startup.finished_cleanly()  # a read: nothing left open (core/startup.py, s22)


@main.command()
@click.argument("agenda")
@sealed_option
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def show(actor, agenda: str, passphrase_file: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Show one register entry."""
    from brankas.web.documents.services import document_view

    key = sealed_key(actor, passphrase_file)
    doc = document_view(actor=actor, agenda=agenda, via="cli")
    if key is not None:
        from brankas.web.documents.sealing import reveal

        reveal([doc], key)
    data = document_dict(doc, full=True)
    emit(data, as_json, "\n".join(f"{k:<16} {v}" for k, v in data.items()))


@main.command("open")
@click.argument("agenda")
@open_options("exempted documents")
@handles_errors
@acting_user
def open_(actor, agenda: str, out: str, passphrase_file: str | None) -> None:  # type: ignore[no-untyped-def]
    """Write a document's PDF to --out. Exempted documents are decrypted with your own key;
    the file appears only once the whole document has been authenticated."""
    from brankas.web.documents.selectors import document_lookup
    from brankas.web.documents.services import document_open

    write_opened(out, passphrase_file, encrypted=lambda: document_lookup(agenda).exempted,
                 open_=lambda fh, passphrase: document_open(
                     actor=actor, agenda=agenda, dst=fh, passphrase=passphrase, via="cli"))

