"""Every action attempted as every role, through the services, the real CLI and the web,
must be refused exactly where ``MATRIX`` (and docs/access.md) says, and each refusal must
be in the audit log.

One row per ``Action`` in ``ATTEMPTS``: how to attempt it through each interface (``None``
where that interface has no such action, with the reason). An action added to the matrix
without a row fails ``test_every_action_has_a_row``: add its row.

An attempt by an allowed role may still fail for another reason (a missing disk, a weak
passphrase, an empty form): the attempts are chosen to stop right after the role check,
so only a role refusal counts as "refused".
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from brankas.core.access import MATRIX, Action
from brankas.core.errors import BrankasError
from brankas.core.terms import Role
from tests.conftest import cli, make_pdf, office_once

USER_OF = {Role.SANDIMAN: "operator", Role.KASI: "kasi", Role.KABID: "kabid",
           Role.KADIS: "kadis", Role.ADMIN: "admin"}
WEAK = "pendek"  # refused by the passphrase policy, after the role check
TODAY = dt.date.today().isoformat()


def other_holder(username: str) -> str:
    return "kabid" if username == "kasi" else "kasi"


# ---------------------------------------------------------------- the services

def svc_register(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.core.register import metadata
    from brankas.web.documents.services import document_register

    meta = metadata.build(direction="penerimaan", classification="biasa", number="1",
                          doc_date=TODAY, subject="Matriks", correspondent="Uji")
    document_register(actor=user, meta=meta, files=[])


def svc_import(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.documents.importer import run_import

    run_import(actor=user, folder=ctx.empty)


def svc_list(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.documents.selectors import document_list

    document_list(actor=user)


def svc_view(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.documents.services import document_view

    document_view(actor=user, agenda=ctx.biasa, via="test")


def svc_open(agenda_key: str) -> Callable[[SimpleNamespace, Any], None]:
    def attempt(ctx: SimpleNamespace, user: Any) -> None:
        from brankas.web.documents.services import document_open

        document_open(actor=user, agenda=getattr(ctx, agenda_key), dst=io.BytesIO())

    return attempt


def svc_user_create(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.accounts.services import user_create

    user_create(actor=user, username="matriks", role="raja", password="x")


def svc_key(own: bool) -> Callable[[SimpleNamespace, Any], None]:
    def attempt(ctx: SimpleNamespace, user: Any) -> None:
        from brankas.web.keys.services import key_create

        holder = user.username if own else other_holder(user.username)
        key_create(actor=user, holder_username=holder, passphrase=WEAK)

    return attempt


def svc_key_coverage(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.keys.coverage import key_coverage_view

    key_coverage_view(actor=user, via="test")


def svc_passphrase(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.keys.lifecycle import key_passphrase_change

    key_passphrase_change(actor=user, holder=user, old=WEAK, new=WEAK)  # passphrase_same


def svc_key_check(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.keys.lifecycle import key_check

    key_check(actor=user, holder=user, passphrase=WEAK)


def svc_office_update(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.accounts.office import office_update

    office_update(actor=user, changes={"place": f"Kota {user.username}"})


def svc_backup(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.backup.services import backup_run

    backup_run(actor=user, dest=ctx.not_a_disk)


def svc_verify(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.backup.services import medium_verify

    medium_verify(actor=user, dest=ctx.missing)


def svc_restore(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.backup.restore import backup_restore

    backup_restore(actor=user, dest=ctx.missing, to=ctx.empty)


def svc_drill(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.backup.restore import backup_drill

    backup_drill(actor=user, dest=ctx.missing)


def svc_view_backups(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.backup.selectors import run_list

    run_list(actor=user)


def svc_view_audit(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.audit.selectors import audit_list

    audit_list(actor=user)


def svc_safe_add(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.custody.services import safe_add

    safe_add(actor=user, name="", location="", combination="")


def svc_combinations(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.custody.services import safe_combinations_read

    safe_combinations_read(actor=user, passphrase=WEAK)


def svc_move_media(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.custody.services import medium_move

    medium_move(actor=user, medium="TIDAK-ADA", move="checkout", reason="matriks")


def svc_view_custody(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.custody.selectors import media_with_custody

    media_with_custody(actor=user)


def svc_request(step: str) -> Callable[[SimpleNamespace, Any], None]:
    """One step of the request chain, on a request in the state that step needs; an
    allowed role is stopped right after the role check (no such assignee, no note...)."""

    def attempt(ctx: SimpleNamespace, user: Any) -> None:
        from brankas.web.sendrequests import services as req

        n = ctx.requests
        if step == "create":
            req.request_create(actor=user, subject="", classification="biasa", addressee="")
        elif step == "view":
            req.request_letter_open(actor=user, number=n["submitted"], dst=io.BytesIO())
        elif step.startswith("assign-"):
            req.request_assign(actor=user, number=n[step], assignee_username="tidak-ada")
        elif step == "return":
            req.request_return(actor=user, number=n["submitted"], note="")
        elif step == "receive":
            req.request_receive(actor=user, number=n["submitted"])
        else:
            req.request_send(actor=user, number=n["submitted"], channel="", reference="")

    return attempt


def svc_recovery_split(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.keys.recovery import recovery_split

    recovery_split(actor=user, identity_text="", shares=3, threshold=2)


def svc_recovery_check(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.keys.recovery import recovery_check

    recovery_check(actor=user, shares=[("kosong.txt", "")])


def service_requests(office: Any) -> dict[str, int]:
    """Requests waiting for the Kadis, for the Kabid and for the Kasi."""
    from brankas.web.sendrequests.services import request_assign, request_create

    out = {}
    for key, chain in (("submitted", []), ("assign-kasi", [("kadis", "kabid")]),
                       ("assign-sandiman", [("kadis", "kabid"), ("kabid", "kasi")])):
        r = request_create(actor=office.users["kadis"], subject=f"Matriks {key}",
                           classification="biasa", addressee="Uji")
        for actor, to in chain:
            request_assign(actor=office.users[actor], number=r.pk, assignee_username=to)
        out[key] = r.pk
    out["assign-kabid"] = out["submitted"]
    return out


REPORT_STATES = {"review": "submitted", "validate": "forwarded", "acknowledge": "approved"}


def reports_waiting(office: Any) -> dict[str, int]:
    """A report in each state a step of the chain needs (made as a draft, then put in that
    state directly: the role check of a step depends on the state only, and signing every
    step here would cost a key derivation), once for the module; each pair's attempt on it
    is rolled back with the pair's savepoint."""
    from brankas.web.reports.models import Report
    from brankas.web.reports.services import report_create

    out = {}
    for state in REPORT_STATES.values():
        report = report_create(actor=office.users["operator"], kind="messages",
                               period=TODAY[:7])
        Report.objects.filter(pk=report.pk).update(state=state)
        out[state] = report.number
    return out


def svc_report(step: str) -> Callable[[SimpleNamespace, Any], None]:
    def attempt(ctx: SimpleNamespace, user: Any) -> None:
        from brankas.web.reports import services as rep
        from brankas.web.reports.selectors import report_list

        if step == "view":
            report_list(actor=user)
        elif step == "draft":
            rep.report_create(actor=user, kind="messages", period="2026-13")
        elif step == "review":
            rep.report_return(actor=user, number=ctx.reports["submitted"], note="")
        elif step == "validate":
            rep.report_return(actor=user, number=ctx.reports["forwarded"], note="")
        else:
            rep.report_acknowledge(actor=user, number=ctx.reports["approved"], passphrase="")

    return attempt


# ---------------------------------------------------------------- the CLI (argument lists)

Cli = Callable[[SimpleNamespace, str], list[str]]


def cli_register(ctx: SimpleNamespace, u: str) -> list[str]:
    return ["register", str(ctx.pdf), "--direction", "penerimaan", "--classification", "biasa",
            "--number", "1", "--date", TODAY, "--subject", "Matriks", "--correspondent", "Uji",
            "--allow-duplicate"]


def cli_key(own: bool) -> Cli:
    return lambda ctx, u: ["key", "new", "--holder", u if own else other_holder(u),
                           "--passphrase-file", str(ctx.weak)]


def cli_request(step: str) -> Cli:
    def args(ctx: SimpleNamespace, u: str) -> list[str]:
        n = ctx.requests
        return {
            "create": ["request", "create", "--subject", "", "--classification", "biasa",
                       "--addressee", ""],
            "view": ["request", "list", "--json"],
            "assign-kabid": ["request", "assign", n["assign-kabid"], "--to", "tidak-ada"],
            "assign-kasi": ["request", "assign", n["assign-kasi"], "--to", "tidak-ada"],
            "assign-sandiman": ["request", "assign", n["assign-sandiman"], "--to", "tidak-ada"],
            "return": ["request", "return", n["submitted"], "--note", ""],
            "receive": ["request", "receive", n["submitted"]],
            "send": ["request", "sent", n["submitted"], "--channel", "", "--reference", ""],
        }[step]

    return args


def cli_report(step: str) -> Cli:
    def args(ctx: SimpleNamespace, u: str) -> list[str]:
        n = ctx.reports
        return {
            "view": ["report", "list", "--json"],
            "draft": ["report", "create", "messages", "--period", "2026-13"],
            "review": ["report", "return", n["submitted"], "--note", ""],
            "validate": ["report", "return", n["forwarded"], "--note", ""],
            "acknowledge": ["report", "acknowledge", n["approved"]],
        }[step]

    return args


def web_report(step: str) -> Web:
    def attempt(c: Any, ctx: SimpleNamespace, u: str) -> Any:
        if step == "view":
            return c.get("/reports/")
        if step == "draft":
            return c.post("/reports/", {})
        url = "acknowledge" if step == "acknowledge" else "return"
        return c.post(f"/reports/{ctx.reports[REPORT_STATES[step]]}/{url}", {})

    return attempt


# ---------------------------------------------------------------- the web (client calls)

Web = Callable[[Any, SimpleNamespace, str], Any]


def web_key(own: bool) -> Web:
    def attempt(client: Any, ctx: SimpleNamespace, u: str) -> Any:
        prefix = "own" if own else "holder"
        data = {"form": prefix, f"{prefix}-passphrase1": WEAK, f"{prefix}-passphrase2": WEAK}
        if not own:
            data[f"{prefix}-holder"] = other_holder(u)
        return client.post("/keys/", data)

    return attempt


def svc_grant(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.keys.grants import key_grant

    key_grant(actor=user, to="tidak-ada", passphrase=WEAK)


def svc_grant_with_shares(ctx: SimpleNamespace, user: Any) -> None:
    from pyrage import x25519

    from brankas.web.keys.grants import key_grant

    key_grant(actor=user, to="tidak-ada", recovery=x25519.Identity.generate())


def svc_revoke(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.keys.revocation import key_revoke

    key_revoke(actor=user, holder="tidak-ada")


def svc_unseal(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.documents.sealing import key_for_passphrase

    key_for_passphrase(actor=user, passphrase=WEAK, via="test")


def svc_seal_fields(ctx: SimpleNamespace, user: Any) -> None:
    from brankas.web.documents.sealmigrate import seal_existing

    seal_existing(actor=user, passphrase=WEAK, vacuum=False)



def svc_record_equipment(ctx: SimpleNamespace, user: Any) -> None:  # s17 E
    from brankas.web.equipment.services import equipment_add

    equipment_add(actor=user, kind="lainnya", name="")  # refused for its name, after the role


def svc_view_equipment(ctx: SimpleNamespace, user: Any) -> None:  # s17 E
    from brankas.web.equipment.selectors import equipment_items

    equipment_items(actor=user, via="test")


def svc_read_text(ctx: SimpleNamespace, user: Any) -> None:  # s19: issue 19
    from brankas.web.text.services import text_request

    text_request(actor=user, agendas=["TIDAK-ADA"], via="test")  # not found after the check


# s18 OB: offsite copies (issue 18): a remote that does not exist (or a name refused)
# stops an allowed role right after the role check
def svc_offsite(step: str) -> Callable[[SimpleNamespace, Any], None]:
    def attempt(ctx: SimpleNamespace, user: Any) -> None:
        from brankas.web.offsite import services

        if step == "add":
            services.remote_add(actor=user, name="bukan nama", endpoint="http://127.0.0.1:9",
                                bucket="tidak-ada")
        elif step == "push":
            services.offsite_push(actor=user, name="tidak-ada")
        elif step == "verify":
            services.offsite_verify(actor=user, name="tidak-ada")
        else:
            services.offsite_restore(actor=user, name="tidak-ada", to=ctx.empty,
                                     passphrase=WEAK)
    return attempt


def cli_offsite(step: str) -> Cli:
    def args(ctx: SimpleNamespace, u: str) -> list[str]:
        if step == "add":
            return ["offsite", "add", "bukan nama", "--endpoint", "http://127.0.0.1:9",
                    "--bucket", "tidak-ada"]
        if step == "restore":
            return ["offsite", "restore", "tidak-ada", "--to", str(ctx.out / f"offsite-{u}"),
                    "--passphrase-file", str(ctx.weak)]
        return ["offsite", step, "tidak-ada"]
    return args


@dataclass(frozen=True)
class Attempt:
    service: Callable[[SimpleNamespace, Any], None] | None
    cli: Cli | None
    web: Web | None
    why_not: str = ""  # why an interface is None



ATTEMPTS: dict[Action, Attempt] = {
    Action.REGISTER: Attempt(svc_register, cli_register,
                             lambda c, ctx, u: c.post("/documents/new/", {})),
    Action.IMPORT: Attempt(svc_import, lambda ctx, u: ["import", str(ctx.empty)], None,
                           "no web import page"),
    Action.LIST: Attempt(svc_list, lambda ctx, u: ["list", "--json"],
                         lambda c, ctx, u: c.get("/documents/")),
    Action.VIEW: Attempt(svc_view, lambda ctx, u: ["show", ctx.biasa],
                         lambda c, ctx, u: c.get(f"/documents/{ctx.biasa}/")),
    Action.OPEN_REGULAR: Attempt(svc_open("biasa"),
                                 lambda ctx, u: ["open", ctx.biasa, "--out",
                                                 str(ctx.out / f"{u}-biasa.pdf")],
                                 lambda c, ctx, u: c.get(f"/documents/{ctx.biasa}/pdf")),
    Action.OPEN_EXEMPTED: Attempt(svc_open("secret"),
                                  lambda ctx, u: ["open", ctx.secret, "--out",
                                                  str(ctx.out / f"{u}-secret.pdf")],
                                  lambda c, ctx, u: c.post(f"/documents/{ctx.secret}/open", {})),
    Action.MANAGE_USERS: Attempt(svc_user_create, lambda ctx, u: ["user", "list"],
                                 lambda c, ctx, u: c.get("/users/")),
    Action.MANAGE_KEYS: Attempt(svc_key(own=False), cli_key(own=False), web_key(own=False)),
    Action.OWN_KEY: Attempt(svc_key(own=True), cli_key(own=True), web_key(own=True)),
    Action.VIEW_KEY_COVERAGE: Attempt(svc_key_coverage,
                                      lambda ctx, u: ["key", "coverage", "--json"],
                                      lambda c, ctx, u: c.get("/keys/coverage/")),
    Action.CHANGE_PASSPHRASE: Attempt(
        svc_passphrase,
        lambda ctx, u: ["key", "passphrase", "--holder", u, "--passphrase-file", str(ctx.weak),
                        "--new-passphrase-file", str(ctx.weak)],
        lambda c, ctx, u: c.post("/keys/passphrase/", {"old": WEAK, "new1": WEAK,
                                                       "new2": WEAK})),
    Action.CHECK_KEY: Attempt(
        svc_key_check,
        lambda ctx, u: ["key", "check", "--holder", u, "--passphrase-file", str(ctx.weak)],
        lambda c, ctx, u: c.post("/keys/check/", {"passphrase": WEAK})),
    Action.GRANT_KEY: Attempt(svc_grant, lambda ctx, u: ["key", "grant", "--to", "tidak-ada",
                                                         "--passphrase-file", str(ctx.weak)],
                              lambda c, ctx, u: c.post("/keys/grant/", {"mode": "passphrase"})),
    Action.GRANT_KEY_WITH_SHARES: Attempt(
        svc_grant_with_shares,
        lambda ctx, u: ["key", "grant", "--to", "tidak-ada", "--shares", str(ctx.weak)],
        lambda c, ctx, u: c.post("/keys/grant/", {"mode": "shares"})),
    Action.REVOKE_KEY: Attempt(svc_revoke, lambda ctx, u: ["key", "revoke", "--holder",
                                                           "tidak-ada"],
                               lambda c, ctx, u: c.post("/keys/revoke/", {})),
    Action.OFFICE_SETTINGS: Attempt(svc_office_update,
                                    lambda ctx, u: ["office", "set", "--place", f"Kota {u}"],
                                    lambda c, ctx, u: c.post("/office/", {})),
    Action.BACKUP: Attempt(svc_backup, lambda ctx, u: ["backup", str(ctx.out / f"disk-{u}")],
                           lambda c, ctx, u: c.post("/backup/", {})),
    Action.VERIFY_DISK: Attempt(svc_verify, lambda ctx, u: ["verify", str(ctx.missing)],
                                lambda c, ctx, u: c.post("/backup/verify/", {})),
    Action.RESTORE: Attempt(svc_restore, lambda ctx, u: ["restore", str(ctx.missing), "--to",
                                                         str(ctx.out / f"restore-{u}")],
                            None, "no web restore page"),
    Action.DRILL: Attempt(svc_drill, lambda ctx, u: ["drill", str(ctx.missing)], None,
                          "no web drill page"),
    Action.VIEW_BACKUPS: Attempt(svc_view_backups, lambda ctx, u: ["backup", "list", "--json"],
                                 lambda c, ctx, u: c.get("/backup/runs/")),
    Action.VIEW_AUDIT: Attempt(svc_view_audit, lambda ctx, u: ["audit", "list", "--json"],
                               lambda c, ctx, u: c.get("/audit/")),
    **{action: Attempt(svc_report(step), cli_report(step), web_report(step))
       for action, step in ((Action.VIEW_REPORTS, "view"), (Action.REPORT_DRAFT, "draft"),
                            (Action.REPORT_REVIEW, "review"),
                            (Action.REPORT_VALIDATE, "validate"),
                            (Action.REPORT_ACKNOWLEDGE, "acknowledge"))},
    Action.MANAGE_SAFES: Attempt(svc_safe_add,
                                 lambda ctx, u: ["safe", "add", f"M-{u}", "--location", "x",
                                                 "--combination-file", str(ctx.weak)],
                                 lambda c, ctx, u: c.post("/safes/", {})),
    Action.VIEW_COMBINATION: Attempt(svc_combinations,
                                     lambda ctx, u: ["safe", "print", "--out",
                                                     str(ctx.out / f"{u}-kombinasi.pdf"),
                                                     "--passphrase-file", str(ctx.weak)],
                                     lambda c, ctx, u: c.post("/safes/print",
                                                              {"print-passphrase": WEAK})),
    Action.MOVE_MEDIA: Attempt(svc_move_media,
                               lambda ctx, u: ["media", "checkout", "TIDAK-ADA", "--reason", "m"],
                               lambda c, ctx, u: c.post("/backup/media/TIDAK-ADA/", {})),
    Action.VIEW_CUSTODY: Attempt(svc_view_custody, lambda ctx, u: ["media", "list", "--json"],
                                 lambda c, ctx, u: c.get("/safes/")),
    Action.REQUEST_CREATE: Attempt(svc_request("create"), cli_request("create"),
                                   lambda c, ctx, u: c.post("/requests/new/", {})),
    Action.REQUEST_VIEW: Attempt(svc_request("view"), cli_request("view"),
                                 lambda c, ctx, u: c.get("/requests/")),
    **{action: Attempt(svc_request(step), cli_request(step),
                       lambda c, ctx, u, step=step: c.post(
                           f"/requests/{ctx.requests[step]}/assign", {}))
       for action, step in ((Action.REQUEST_ASSIGN_KABID, "assign-kabid"),
                            (Action.REQUEST_ASSIGN_KASI, "assign-kasi"),
                            (Action.REQUEST_ASSIGN_SANDIMAN, "assign-sandiman"))},
    **{action: Attempt(svc_request(step), cli_request(step),
                       lambda c, ctx, u, url=url: c.post(
                           f"/requests/{ctx.requests['submitted']}/{url}", {}))
       for action, step, url in ((Action.REQUEST_RETURN, "return", "return"),
                                 (Action.REQUEST_RECEIVE, "receive", "receive"),
                                 (Action.REQUEST_SEND, "send", "sent"))},
    Action.RECOVERY_SPLIT: Attempt(svc_recovery_split,
                                   lambda ctx, u: ["recovery", "split", "--shares", "3",
                                                   "--threshold", "2", "--out-dir",
                                                   str(ctx.out / f"shares-{u}"),
                                                   "--identity-file", str(ctx.weak)],
                                   lambda c, ctx, u: c.post("/keys/recovery/split", {})),
    Action.RECOVERY_CHECK: Attempt(svc_recovery_check,
                                   lambda ctx, u: ["recovery", "check", str(ctx.weak)],
                                   lambda c, ctx, u: c.post("/keys/recovery/check", {})),
    # issue 16: a wrong passphrase stops an allowed role right after the role check
    Action.UNSEAL: Attempt(
        svc_unseal,
        lambda ctx, u: ["show", ctx.secret, "--passphrase-file", str(ctx.weak)],
        lambda c, ctx, u: c.post("/sealed/unlock", {"passphrase": WEAK})),
    Action.SEAL_FIELDS: Attempt(
        svc_seal_fields, lambda ctx, u: ["seal-fields", "--passphrase-file", str(ctx.weak)],
        None, why_not="a one-off command-line migration (docs/cli.md), no page"),
    # s17 E: the equipment register (issue 17)
    Action.RECORD_EQUIPMENT: Attempt(
        svc_record_equipment, lambda ctx, u: ["equipment", "add", "--kind", "lainnya"],
        lambda c, ctx, u: c.post("/equipment/", {})),
    Action.VIEW_EQUIPMENT: Attempt(
        svc_view_equipment, lambda ctx, u: ["equipment", "list"],
        lambda c, ctx, u: c.get("/equipment/")),
    # s19: the text of biasa documents (issue 19): an unknown agenda stops an allowed role
    Action.READ_TEXT: Attempt(
        svc_read_text, lambda ctx, u: ["ocr", "TIDAK-ADA"],
        lambda c, ctx, u: c.post("/documents/TIDAK-ADA/text", {})),
    # s18 OB: offsite copies (issue 18); their pages come later
    **{action: Attempt(svc_offsite(step), cli_offsite(step), None,
                       why_not="no offsite page yet (issue 18: CLI first)")
       for action, step in ((Action.OFFSITE_ADD, "add"), (Action.OFFSITE_PUSH, "push"),
                            (Action.OFFSITE_VERIFY, "verify"),
                            (Action.OFFSITE_RESTORE, "restore"))},
}

PAIRS = list(itertools.product(Action, Role))


def ids(pair: tuple[Action, Role]) -> str:
    return f"{pair[0].value}-{pair[1].value}"


def actions_through(interface: str) -> list[Any]:
    """Each ``Action`` for ``interface`` ("service", "web"), all its roles tried in one test
    (``each_role``); an action that interface lacks is skipped with the reason."""
    return [pytest.param(action, id=action.value,
                         marks=() if getattr(ATTEMPTS[action], interface) is not None
                         else pytest.mark.skip(reason=ATTEMPTS[action].why_not))
            for action in Action]


def each_role(action: Action, attempt: Callable[[tuple[Action, Role]], None]) -> None:
    """``attempt((action, role))`` for every role, each on the office as it was built (its
    database writes rolled back after it: no role sees another's); every role's mismatch
    named, not only the first."""
    from django.db import transaction

    failures = []
    for role in Role:
        try:
            with transaction.atomic():
                attempt((action, role))
                transaction.set_rollback(True)
        except AssertionError as exc:
            failures.append(f"{ids((action, role))}: {exc}")
    assert not failures, "\n".join(failures)


def test_every_action_has_a_row() -> None:
    assert set(ATTEMPTS) == set(Action), "add a row to ATTEMPTS for each new Action"
    for action, attempt in ATTEMPTS.items():
        if None in (attempt.service, attempt.cli, attempt.web):
            assert attempt.why_not, f"{action}: say why an interface has no attempt"


def audited_refusal(username: str, action: Action, events: list[dict[str, Any]]) -> bool:
    """An ``access.denied`` entry of this user for this action (a refused opening is
    audited by the service as ``document.open``, outcome denied)."""
    for e in events:
        if e["actor"] != username or e["outcome"] != "denied":
            continue
        if e["action"] == "access.denied" and e["detail"].get("action") == action.value:
            return True
        if e["action"] == "document.open" and action in {Action.OPEN_REGULAR,
                                                         Action.OPEN_EXEMPTED}:
            return True
    return False


# ---------------------------------------------------------------- through the services

def _documents_and_requests(office: Any, base: Path) -> dict[str, Any]:
    from tests.web.ui.conftest import register_directly

    return {
        "biasa": register_directly(office, subject="Biasa").agenda,
        "secret": register_directly(office, subject="Rahasia", classification="rahasia").agenda,
        "requests": service_requests(office),
        "reports": reports_waiting(office),
    }


@pytest.fixture(scope="module")
def matrix_office(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The office with a biasa and a secret document and requests waiting at each step,
    built once for this module; every pair works on its own copy."""
    with office_once(django_db_blocker, tmp_path_factory, _documents_and_requests) as template:
        yield template


@pytest.fixture
def office(matrix_office, db, settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    return matrix_office.copy_for(settings, tmp_path)


@pytest.fixture
def service_ctx(office, matrix_office, tmp_path: Path) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    empty = tmp_path / "kosong"
    empty.mkdir()
    not_a_disk = tmp_path / "bukan-disk.txt"
    not_a_disk.write_text("x")
    made = matrix_office.extra
    return SimpleNamespace(
        office=office, empty=empty, not_a_disk=not_a_disk, missing=tmp_path / "tidak-ada",
        biasa=made["biasa"], secret=made["secret"], requests=dict(made["requests"]),
        reports=dict(made["reports"]),
    )


def service_refuses_exactly_the_matrix(service_ctx, pair) -> None:  # type: ignore[no-untyped-def]
    """``pair``'s action attempted through its service as ``pair``'s role: refused (and
    the refusal audited) exactly where ``MATRIX`` says."""
    from brankas.web.audit.models import AuditEvent

    action, role = pair
    attempt = ATTEMPTS[action].service
    if attempt is None:
        pytest.skip(ATTEMPTS[action].why_not)
    user = service_ctx.office.users[USER_OF[role]]
    start = AuditEvent.objects.order_by("-seq").first().seq
    code = None
    try:
        attempt(service_ctx, user)
    except BrankasError as exc:
        code = exc.code
    refused = code == "permission_denied"
    assert refused is (role not in MATRIX[action]), code
    if code == "permission_denied":
        events = list(AuditEvent.objects.filter(seq__gt=start).values(
            "actor", "action", "outcome", "detail"))
        assert audited_refusal(user.username, action, events), events


@pytest.mark.parametrize("action", actions_through("service"))
def test_the_services_refuse_exactly_the_matrix(service_ctx, action: Action) -> None:  # type: ignore[no-untyped-def]
    each_role(action, lambda pair: service_refuses_exactly_the_matrix(service_ctx, pair))


# ---------------------------------------------------------------- through the real CLI

@pytest.fixture(scope="module")
def cli_outcomes(cli_office_template, tmp_path_factory) -> dict[tuple[Action, Role], Any]:
    """Every pair run once through the real ``brankas`` command (in-process, one after the
    other, against one data folder; tests/clirun.py)."""
    base = tmp_path_factory.mktemp("matrix-cli")
    home = base / "home"
    shutil.copytree(cli_office_template.home, home)
    pdf = base / "surat.pdf"
    make_pdf(pdf, text="matriks")
    ctx = SimpleNamespace(pdf=pdf, empty=base / "kosong", missing=base / "tidak-ada",
                          out=base / "out", weak=base / "weak.pp")
    ctx.empty.mkdir()
    ctx.out.mkdir()
    ctx.weak.write_text(WEAK + "\n")
    agendas = {}
    for cls in ("biasa", "rahasia"):
        source = base / f"{cls}.pdf"
        make_pdf(source, text=cls)
        r = cli(home, base, "register", str(source), "--direction", "penerimaan",
                "--classification", cls, "--number", "2", "--date", TODAY, "--subject", cls,
                "--correspondent", "Uji", "--json", user="operator")
        assert r.returncode == 0, r.stderr
        agendas[cls] = r.json()["agenda"]
    ctx.biasa, ctx.secret = agendas["biasa"], agendas["rahasia"]
    ctx.requests = {}
    for key, chain in (("submitted", []), ("assign-kasi", [("kadis", "kabid")]),
                       ("assign-sandiman", [("kadis", "kabid"), ("kabid", "kasi")])):
        r = cli(home, base, "request", "create", "--subject", f"Matriks {key}",
                "--classification", "biasa", "--addressee", "Uji", "--json", user="kadis")
        assert r.returncode == 0, r.stderr
        n = str(r.json()["request"])
        for actor, to in chain:
            r = cli(home, base, "request", "assign", n, "--to", to, user=actor)
            assert r.returncode == 0, r.stderr
        ctx.requests[key] = n
    ctx.requests["assign-kabid"] = ctx.requests["submitted"]
    ctx.reports = {}
    for state in ("submitted", "forwarded", "approved"):
        r = cli(home, base, "report", "create", "messages", "--period", TODAY[:7], "--json",
                user="operator")
        assert r.returncode == 0, r.stderr
        number = r.json()["report"]
        with sqlite3.connect(home / "brankas.sqlite3") as db:  # the state only (reports_waiting)
            db.execute("update reports_report set state = ? where number = ?", (state, number))
        ctx.reports[state] = str(number)
    start = _max_seq(home)

    def run(pair: tuple[Action, Role]) -> Any:
        action, role = pair
        make = ATTEMPTS[action].cli
        if make is None:
            return None
        username = USER_OF[role]
        # No passphrase anywhere (and no terminal): an opening stops before any scrypt work.
        return cli(home, base / "scratch" / ids(pair), *make(ctx, username), user=username,
                   input="")

    results = {pair: run(pair) for pair in CLI_PAIRS}
    results["events"] = _events(home, start)  # type: ignore[index]
    return results


def _max_seq(home: Path) -> int:
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        return db.execute("select max(seq) from audit_auditevent").fetchone()[0]


def _events(home: Path, since: int) -> list[dict[str, Any]]:
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        rows = db.execute("select actor, action, outcome, detail from audit_auditevent "
                          "where seq > ?", (since,)).fetchall()
    return [{"actor": a, "action": b, "outcome": c, "detail": json.loads(d)}
            for a, b, c, d in rows]


def cli_pairs() -> list[tuple[Action, Role]]:
    """Every pair, as the issue asks (a few seconds: the commands run in-process).
    BRANKAS_TEST_QUICK_MATRIX=1 tries each action as one role it allows and one it refuses
    instead, for a quick local run."""
    if os.environ.get("BRANKAS_TEST_QUICK_MATRIX") != "1":
        return PAIRS
    return quick_pairs()


def quick_pairs() -> list[tuple[Action, Role]]:
    """Each action tried as one role it allows and one it refuses, every role somewhere
    (the PostgreSQL copy of the matrix, tests/test_access_matrix_pg.py)."""
    chosen = []
    for action in Action:
        allowed = [r for r in Role if r in MATRIX[action]]
        refused = [r for r in Role if r not in MATRIX[action]]
        # rotate through the roles so every role is exercised somewhere
        shift = list(Action).index(action)
        for group in (allowed, refused):
            if group:
                chosen.append((action, group[shift % len(group)]))
    return chosen


CLI_PAIRS = cli_pairs()


@pytest.mark.slow
@pytest.mark.parametrize("pair", CLI_PAIRS, ids=ids)
def test_the_cli_refuses_exactly_the_matrix(cli_outcomes, pair) -> None:
    action, role = pair
    result = cli_outcomes[pair]
    if result is None:
        pytest.skip(ATTEMPTS[action].why_not)
    assert "Traceback" not in result.stderr
    refused = "may not" in result.stderr
    assert refused is (role not in MATRIX[action]), result.stderr
    if refused:
        assert result.returncode == 1 and result.stderr.startswith("brankas: ")
        assert audited_refusal(USER_OF[role], action, cli_outcomes["events"])


# ---------------------------------------------------------------- through the web

def web_refuses_exactly_the_matrix(client, service_ctx, pair) -> None:  # type: ignore[no-untyped-def]
    """``pair``'s action attempted through its page as ``pair``'s role: refused (403, and
    the refusal audited) exactly where ``MATRIX`` says."""
    from brankas.web.audit.models import AuditEvent

    action, role = pair
    attempt = ATTEMPTS[action].web
    if attempt is None:
        pytest.skip(ATTEMPTS[action].why_not)
    username = USER_OF[role]
    client.force_login(service_ctx.office.users[username])
    start = AuditEvent.objects.order_by("-seq").first().seq
    response = attempt(client, service_ctx, username)
    assert response.status_code < 500
    refused = response.status_code == 403
    assert refused is (role not in MATRIX[action]), response.status_code
    if response.status_code == 403:
        events = list(AuditEvent.objects.filter(seq__gt=start).values(
            "actor", "action", "outcome", "detail"))
        assert audited_refusal(username, action, events), events


@pytest.mark.parametrize("action", actions_through("web"))
def test_the_web_refuses_exactly_the_matrix(client, service_ctx, action: Action) -> None:  # type: ignore[no-untyped-def]
    each_role(action, lambda pair: web_refuses_exactly_the_matrix(client, service_ctx, pair))
