"""Requests to send a secret message and their assignment chain (``brankas request ...``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from brankas.cli.app import main
from brankas.cli.auth import acting_user
from brankas.cli.documents import (
    form_options,
    open_options,
    sealed_key,
    sealed_option,
    write_opened,
)
from brankas.cli.runtime import emit, emit_json, emit_rows, handles_errors, local_time
from brankas.core.chains.request import REQUEST, State, Step
from brankas.core.terms import Classification, Urgency


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def request_dict(req: Any, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "request": req.pk,
        "state": req.state,
        "subject": req.shown("subject"),  # "tersegel" when sealed (issue 16)
        "classification": req.classification,
        "urgency": req.urgency,
        "addressee": req.shown("correspondent"),
        "requester_unit": req.requester_unit,
        "requester_name": req.requester_name,
        "assignee": req.assignee.username if req.assignee else None,
        "created_at": _iso(req.created_at),
        "created_by": req.created_by.username,
        "letter": req.letter_path or None,
        "agenda": req.document.agenda if req.document else None,
        "closed_at": _iso(req.closed_at),
    }
    if full:
        data.update({
            "notes": req.shown("notes"),
            "sealed": sorted(req.sealed),
            "requested_at": _iso(req.requested_at),
            "state_since": _iso(req.state_since),
            "letter_sha256": req.letter_sha256 or None,
            "letter_stored_sha256": req.letter_stored_sha256 or None,
            "letter_suite": req.letter_suite or None,
            "letter_recipients": req.letter_recipients,
            "received_at": _iso(req.received_at),
            "sent_at": _iso(req.sent_at),
            "channel": req.channel,
            "reference": req.reference,
            "steps": [
                {"kind": s.kind, "from": s.from_state, "to": s.to_state,
                 "actor": s.actor.username,
                 "assignee": s.assignee.username if s.assignee else None,
                 "note": s.note, "at": _iso(s.at)}
                for s in req.steps.select_related("actor", "assignee")
            ],
        })
    return data


def _inputs(files: tuple[str, ...]) -> list[Any] | None:
    from brankas.core.register import intake

    return [intake.InputFile.from_path(Path(f)) for f in files] or None


@main.group()
def request() -> None:
    """Requests to send a secret message (permintaan pengiriman berita) and their chain:
    Kadis → Kabid → Kasi → Sandiman, receiving the letter, registering it, sending."""


@request.command("create")
@click.option("--subject", required=True, help="Subject (perihal).")
@click.option("--classification", required=True,
              type=click.Choice([c.value for c in Classification]))
@click.option("--addressee", required=True, help="To whom the message goes.")
@click.option("--urgency", default=Urgency.BIASA.value, show_default=True,
              type=click.Choice([u.value for u in Urgency]),
              help="Derajat kecepatan: biasa, segera, sangat-segera, kilat.")
@click.option("--unit", "requester_unit", default="",
              help="The unit that asks (default: the office).")
@click.option("--requester", "requester_name", default="",
              help="The person who asks (default: the acting user).")
@click.option("--notes", default="", help="Notes (catatan).")
@click.option("--attach", "attach", multiple=True, type=click.Path(dir_okay=False),
              help="The letter: one PDF, or JPEG/PNG/TIFF pages (repeat the option).")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def create(actor, subject: str, classification: str, addressee: str, urgency: str,  # type: ignore[no-untyped-def]
           requester_unit: str, requester_name: str, notes: str, attach: tuple[str, ...],
           as_json: bool) -> None:
    """Record a request to the Kadis to send a letter or message (record 1). An exempted
    letter is encrypted at once, as at registration."""
    from brankas.web.sendrequests.services import request_create

    req = request_create(actor=actor, subject=subject, classification=classification,
                         addressee=addressee, urgency=urgency, requester_unit=requester_unit,
                         requester_name=requester_name, notes=notes, files=_inputs(attach))
    emit(request_dict(req, full=True), as_json,
         f"{req.pk}  {req.state}  {req.letter_path}".rstrip())


@request.command("list")
@click.option("--state", default=None, type=click.Choice([s.value for s in State]),
              help="Only requests in this state.")
@click.option("--open", "open_only", is_flag=True, help="Only requests not yet closed.")
@click.option("--mine", is_flag=True, help="Only what waits for me.")
@sealed_option
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def list_(actor, state: str | None, open_only: bool, mine: bool, passphrase_file: str | None,  # type: ignore[no-untyped-def]
          as_json: bool) -> None:
    """List requests, newest first."""
    from brankas.web.sendrequests.selectors import request_inbox, request_list

    key = sealed_key(actor, passphrase_file)
    qs = (request_inbox(actor, via="cli") if mine else
          request_list(actor=actor, via="cli", state=state, open_only=open_only))
    if mine and state:
        qs = qs.filter(state=state)
    rows = list(qs)
    if key is not None:
        from brankas.web.documents.sealing import reveal

        reveal(rows, key)
    emit_rows([request_dict(r) for r in rows], as_json,
              lambda r: f"{r['request']:>5}  {r['state']:<20} {r['urgency']:<13} "
                        f"{r['classification']:<14} {r['assignee'] or '-':<12} "
                        f"{r['subject'][:50]}")


@request.command("show")
@click.argument("number", type=int)
@sealed_option
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def show(actor, number: int, passphrase_file: str | None, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """One request with its history (who, when, note)."""
    from brankas.web.sendrequests.selectors import request_get

    key = sealed_key(actor, passphrase_file)
    req = request_get(actor=actor, number=number, via="cli")
    if key is not None:
        from brankas.web.documents.sealing import reveal

        reveal([req], key)
    data = request_dict(req, full=True)
    if as_json:
        emit_json(data)
        return
    steps = data.pop("steps")
    for k, v in data.items():
        if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\S+[+-]\d\d:\d\d", v):
            v = local_time(v)  # a moment: in the office's time zone, as on the pages
        click.echo(f"{k:<22} {v if v is not None else '-'}")
    for s in steps:
        to = f" → {s['assignee']}" if s["assignee"] else ""
        note = f"  ({s['note']})" if s["note"] else ""
        click.echo(f"  {local_time(s['at'])}  {s['kind']:<8} {s['actor']}{to}: {s['to']}{note}")


@request.command("assign")
@click.argument("number", type=int)
@click.option("--to", "to", required=True, metavar="USERNAME",
              help="The Kabid (by the Kadis), the Kasi (by the Kabid), a Sandiman (by the Kasi).")
@click.option("--note", default="", help="A note for the assignee.")
@handles_errors
@acting_user
def assign(actor, number: int, to: str, note: str) -> None:  # type: ignore[no-untyped-def]
    """Assign the next in the chain (records 2-4)."""
    from brankas.web.sendrequests.services import request_assign

    req = request_assign(actor=actor, number=number, assignee_username=to, note=note)
    click.echo(f"{req.pk}  {req.state}  {req.assignee.username if req.assignee else ''}")


@request.command("return")
@click.argument("number", type=int)
@click.option("--note", required=REQUEST.needs_reason(Step.RETURN),
              help="Why it goes back (shown to the previous holder).")
@handles_errors
@acting_user
def return_(actor, number: int, note: str) -> None:  # type: ignore[no-untyped-def]
    """Give the request back to the previous holder with a reason (the Kadis: to the
    requester, which closes it)."""
    from brankas.web.sendrequests.services import request_return

    req = request_return(actor=actor, number=number, note=note)
    click.echo(f"{req.pk}  {req.state}  {req.assignee.username if req.assignee else ''}".rstrip())


@request.command("receive")
@click.argument("number", type=int)
@click.option("--attach", "attach", multiple=True, type=click.Path(dir_okay=False),
              help="The letter's scan, if the request came without one.")
@click.option("--note", default="", help="A note.")
@handles_errors
@acting_user
def receive(actor, number: int, attach: tuple[str, ...], note: str) -> None:  # type: ignore[no-untyped-def]
    """The Sandiman records receiving the letter to be sent (record 5)."""
    from brankas.web.sendrequests.services import request_receive

    req = request_receive(actor=actor, number=number, files=_inputs(attach), note=note)
    click.echo(f"{req.pk}  {req.state}  {req.letter_path}".rstrip())


@request.command("register")
@click.argument("number", type=int)
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--number", "doc_number", required=True, help="The letter's own number.")
@click.option("--date", "doc_date", default=None, metavar="YYYY-MM-DD",
              help="The letter's date (default: today).")
@click.option("--correspondent", default=None, help="Addressee (default: the request's).")
@form_options
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def register(actor, number: int, files: tuple[str, ...], doc_number: str,  # type: ignore[no-untyped-def]
             doc_date: str | None, correspondent: str | None, pages: int | None,
             attachments: str, notes: str, allow_duplicate: bool, as_json: bool) -> None:
    """Register the request's letter as an outgoing document and link the two. Without
    FILES the letter attached to the request is registered as stored (still encrypted when
    exempted); FILES register a new scan instead (e.g. the signed letter)."""
    import datetime as dt

    from django.utils import timezone

    from brankas.cli.documents import document_dict
    from brankas.web.sendrequests.services import request_register

    opened = timezone.now()
    doc = request_register(actor=actor, number=number, doc_number=doc_number,
                           doc_date=doc_date or dt.date.today(), correspondent=correspondent,
                           pages=pages, attachments=attachments, notes=notes,
                           files=_inputs(files), form_opened_at=opened,
                           allow_duplicate=allow_duplicate)
    emit({**document_dict(doc, full=True), "request": number}, as_json,
         f"{doc.agenda}  {doc.stored_path}")


@request.command("sent")
@click.argument("number", type=int)
@click.option("--channel", required=True, help="Through what it went (e.g. JKS, aplikasi).")
@click.option("--reference", required=True, help="The message's reference number.")
@click.option("--note", default="", help="A note.")
@click.option("--json", "as_json", is_flag=True)
@handles_errors
@acting_user
def sent(actor, number: int, channel: str, reference: str, note: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Record that the message was sent, through what and with what reference; the request
    is closed."""
    from brankas.web.sendrequests.services import request_send

    req = request_send(actor=actor, number=number, channel=channel, reference=reference,
                       note=note)
    emit(request_dict(req, full=True), as_json,
         f"{req.pk}  {req.state}  {local_time(_iso(req.sent_at))}")


@request.command("open")
@click.argument("number", type=int)
@open_options("exempted letters")
@handles_errors
@acting_user
def open_(actor, number: int, out: str, passphrase_file: str | None) -> None:  # type: ignore[no-untyped-def]
    """Write the request's letter to --out; an exempted letter needs your own key."""
    from brankas.web.sendrequests.selectors import request_lookup
    from brankas.web.sendrequests.services import request_letter_open

    write_opened(out, passphrase_file,
                 encrypted=lambda: bool(request_lookup(number).letter_encrypted),
                 open_=lambda fh, passphrase: request_letter_open(
                     actor=actor, number=number, dst=fh, passphrase=passphrase, via="cli"))
