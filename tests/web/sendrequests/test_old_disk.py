"""A backup disk written before the ``dispatch`` app was renamed ``sendrequests`` (issue 12)
still recovers, with its requests to send a message. The app keeps the label ``dispatch``,
so the snapshot's model names (``dispatch.sendrequest``), the table names and the migration
history on disks already in the safes stay what they were.

The disk in ``tests/fixtures/disk-before-sendrequests/`` was made once through the real
command with the code before the rename (``make.py`` there records how); it is recovered
here through the real ``brankas recover`` with that office's recovery identity."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from django.apps import apps

from tests.conftest import CliResult, cli

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "disk-before-sendrequests"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
# What a request is, independent of when the test runs or how the output grew since.
KEPT = ("request", "state", "subject", "classification", "urgency", "addressee",
        "requester_unit", "requester_name", "assignee", "created_by", "letter", "agenda",
        "channel", "reference", "letter_sha256")
STEP_KEPT = ("kind", "from", "to", "actor", "assignee", "note")


def _as(home: Path, scratch: Path, user: str, *args: str) -> CliResult:
    password = EXPECTED["passwords"][user]
    return cli(home, scratch, *args, env={"BRANKAS_USER": user, "BRANKAS_PASSWORD": password})


def _request(shown: dict[str, Any]) -> dict[str, Any]:
    kept = {k: shown.get(k) for k in KEPT}
    kept["steps"] = [{k: s.get(k) for k in STEP_KEPT} for s in shown["steps"]]
    return kept


def test_the_app_keeps_its_label_and_tables() -> None:
    config = apps.get_app_config("dispatch")
    assert config.name == "brankas.web.sendrequests"
    assert {m._meta.db_table for m in config.get_models()} == {
        "dispatch_sendrequest", "dispatch_requeststep"}


def test_a_disk_from_before_the_rename_recovers_with_its_requests(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    shutil.copytree(FIXTURE / "disk", disk)
    new = tmp_path / "rumah-baru"
    r = cli(new, tmp_path, "recover", str(disk), "--home", str(new), "--identity",
            str(FIXTURE / "recovery-identity.txt"), "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["ok"] is True and out["audit_ok"] is True, out
    assert out["users"] == 5 and out["documents"] == out["restored"] == 1
    assert out["letters"] == 1

    # The rows are in the tables of the label, recorded as the label's migrations.
    with sqlite3.connect(new / "brankas.sqlite3") as db:
        counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: S608
                  for t in ("dispatch_sendrequest", "dispatch_requeststep")}
        migrated = {name for (name,) in db.execute(
            "SELECT name FROM django_migrations WHERE app = 'dispatch'")}
    wanted = EXPECTED["requests"]
    assert counts == {"dispatch_sendrequest": len(wanted),
                      "dispatch_requeststep": sum(len(x["steps"]) for x in wanted)}
    assert {"0001_initial", "0002_exempted_letter_names"} <= migrated

    # Every request, its state, holder and history read back through the renamed code.
    r = _as(new, tmp_path, "kadis", "request", "list", "--json")
    assert r.returncode == 0, r.stderr
    assert sorted(x["request"] for x in r.json()) == sorted(x["request"] for x in wanted)
    for before in wanted:
        r = _as(new, tmp_path, "kadis", "request", "show", str(before["request"]), "--json")
        assert r.returncode == 0, r.stderr
        assert _request(r.json()) == _request(before)
    r = _as(new, tmp_path, "kasi", "request", "list", "--mine", "--json")
    assert [x["request"] for x in r.json()] == [
        x["request"] for x in wanted if x["assignee"] == "kasi"]

    # The sent request's letter came back, and its registered document with it.
    done = next(x for x in wanted if x["state"] == "terkirim")
    letter = tmp_path / "surat.pdf"
    r = _as(new, tmp_path, "operator", "request", "open", str(done["request"]),
            "--out", str(letter))
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(letter.read_bytes()).hexdigest() == done["letter_sha256"]
    (document,) = EXPECTED["documents"]
    assert document["agenda"] == done["agenda"]
    r = _as(new, tmp_path, "kasi", "show", done["agenda"], "--json")
    assert r.returncode == 0, r.stderr
    on_disk = hashlib.sha256((disk / "data" / document["stored_path"]).read_bytes()).hexdigest()
    assert r.json()["stored_sha256"] == out["documents_sha256"][done["agenda"]] == on_disk
    assert (new / document["stored_path"]).read_bytes() == (
        disk / "data" / document["stored_path"]).read_bytes()
