"""Sealed register fields through the real ``brankas`` command (issue 16): a marker typed
into the subject, notes and attachments of a rahasia document and request is in no byte of
the data folder (database, WAL, shm, archive), the temporary folders or a backup disk; a key
holder sees it with ``--passphrase-file``; everyone else sees "tersegel". The control: with
``BRANKAS_SEALED_FIELDS=none`` the same scan finds the marker."""

from __future__ import annotations

import functools
import shutil
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import cli, make_pdf
from tests.leakscan import SHARED_TEMP, scan_for

MARKER = "ZQXSEGELCLI"
# The control office (sealing off) types its own marker: its database, which holds it by
# design, is then no hit of the sealed office's scan of the shared temporary folders
# (under TMPDIR=/dev/shm the control's folder is one of them).
CONTROL = "ZQXKONTROLCLI"
REGISTER = ["--number", "005/12/2026", "--date", "2026-11-20", "--correspondent", "Kapolres",
            "--direction", "penerimaan", "--json"]


def _build(template: SimpleNamespace, base: Path, *, env: dict[str, str],
           marker: str = MARKER) -> SimpleNamespace:
    home = base / "home"
    shutil.copytree(template.home, home)
    run = functools.partial(cli, home, base, env=env)
    started = time.time()
    scan = base / "scan.pdf"
    make_pdf(scan, text="isi surat rahasia")
    r = run("register", str(scan), "--classification", "rahasia",
            "--subject", f"Perihal {marker}-S", "--notes", f"Catatan {marker}-N",
            "--attachments", f"Lampiran {marker}-A", *REGISTER, user="operator")
    assert r.returncode == 0, r.stderr
    doc = r.json()
    make_pdf(scan, text="isi surat biasa")
    r = run("register", str(scan), "--classification", "biasa", "--subject", "Undangan rapat",
            *REGISTER, user="operator")
    assert r.returncode == 0, r.stderr
    make_pdf(scan, text="surat permintaan")
    r = run("request", "create", "--subject", f"Permintaan {marker}-R", "--classification",
            "rahasia", "--addressee", "Gubernur", "--notes", f"Catatan {marker}-RN",
            "--attach", str(scan), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    req = r.json()
    disk = base / "disk"
    disk.mkdir()
    r = run("backup", str(disk), "--label", "DISK-S", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    return SimpleNamespace(home=home, base=base, run=run, doc=doc, req=req, disk=disk,
                           started=started, secrets=template.secrets, marker=marker)


@pytest.fixture(scope="module")
def sealed_office(cli_office_template, tmp_path_factory) -> SimpleNamespace:
    return _build(cli_office_template, tmp_path_factory.mktemp("sealed-cli"), env={})


@pytest.fixture(scope="module")
def unsealed_office(cli_office_template, tmp_path_factory) -> SimpleNamespace:
    return _build(cli_office_template, tmp_path_factory.mktemp("unsealed-cli"),
                  env={"BRANKAS_SEALED_FIELDS": "none"}, marker=CONTROL)


def _scan(o: SimpleNamespace, *, shared: bool = True) -> list[Path]:
    # The database, and its WAL and shm files when a command left them; the data folder,
    # the backup disk, the commands' temporary folder and (slow) the shared ones.
    roots = [o.home, o.disk, o.base / "tmp", *(SHARED_TEMP if shared else ())]
    return scan_for(o.marker.encode(), roots, since=o.started - 1,
                    exclude=(Path(__file__).resolve().parent,))


def test_the_marker_is_not_in_the_data_folder_or_on_the_disk(sealed_office) -> None:
    assert _scan(sealed_office, shared=False) == []


@pytest.mark.slow  # walks the shared temporary folders
def test_the_marker_is_nowhere_on_disk(sealed_office) -> None:
    assert _scan(sealed_office) == []


def test_control_without_sealing_the_scan_finds_it(unsealed_office) -> None:
    found = {p.name for p in _scan(unsealed_office, shared=False)}
    assert found & {"brankas.sqlite3", "brankas.sqlite3-wal"}, found


def test_other_roles_see_tersegel(sealed_office) -> None:
    o = sealed_office
    assert o.doc["subject"] == "tersegel" and o.doc["notes"] == "tersegel"
    assert o.doc["sealed"] == ["attachments", "notes", "subject"]
    for user in ("operator", "admin", "kabid"):
        shown = o.run("show", o.doc["agenda"], "--json", user=user).json()
        assert (shown["subject"], shown["notes"], shown["attachments"]) == ("tersegel",) * 3
        assert shown["correspondent"] == "Kapolres"  # readable unless configured
        rows = o.run("list", "--json", user=user).json()
        assert {r["subject"] for r in rows} == {"tersegel", "Undangan rapat"}
    rows = o.run("request", "list", "--json", user="kabid").json()
    assert [r["subject"] for r in rows] == ["tersegel"]


def test_a_holder_sees_them_with_the_passphrase(sealed_office) -> None:
    o = sealed_office
    pp = str(o.secrets / "kabid.pp")
    shown = o.run("show", o.doc["agenda"], "--passphrase-file", pp, "--json", user="kabid").json()
    assert shown["subject"] == f"Perihal {MARKER}-S"
    assert shown["notes"] == f"Catatan {MARKER}-N"
    assert shown["attachments"] == f"Lampiran {MARKER}-A"
    req = o.run("request", "show", str(o.req["request"]), "--passphrase-file", pp, "--json",
                user="kabid").json()
    assert (req["subject"], req["notes"]) == (f"Permintaan {MARKER}-R", f"Catatan {MARKER}-RN")
    rows = o.run("request", "list", "--passphrase-file", pp, "--json", user="kabid").json()
    assert [r["subject"] for r in rows] == [f"Permintaan {MARKER}-R"]
    rows = o.run("list", "--query", f"{MARKER.lower()}-s", "--passphrase-file", pp, "--json",
                 user="kabid").json()
    assert [r["agenda"] for r in rows] == [o.doc["agenda"]]
    assert rows[0]["subject"] == f"Perihal {MARKER}-S"
    # Without the passphrase, the search does not reach sealed values.
    assert o.run("list", "--query", MARKER, "--json", user="kabid").json() == []
    # A wrong passphrase: refused, audited.
    bad = o.base / "bad.pp"
    bad.write_text("bukan frasa sandinya sama sekali\n")
    r = o.run("show", o.doc["agenda"], "--passphrase-file", str(bad), user="kabid")
    assert r.returncode != 0 and MARKER not in r.stdout
    # Not a key holder: refused by the matrix (unseal).
    r = o.run("show", o.doc["agenda"], "--passphrase-file", pp, user="admin")
    assert r.returncode != 0
    with closing(sqlite3.connect(o.home / "brankas.sqlite3")) as db:
        outcomes = db.execute("SELECT actor, outcome FROM audit_auditevent "
                              "WHERE action = 'sealed.unlock'").fetchall()
    assert ("kabid", "ok") in outcomes and ("kabid", "denied") in outcomes


# ------------------------------------------------------------------ seal-fields (migration)

def test_seal_fields_seals_an_older_instance_and_leaves_no_old_value(unsealed_office,
                                                                     tmp_path) -> None:
    """An instance whose exempted entries were registered before sealing (here: with
    sealing off) is sealed by a key holder; afterwards the marker is in no byte of the
    database, its WAL or shm; the holder still reads the values; a second run seals
    nothing more (resumable)."""
    home = tmp_path / "home"
    shutil.copytree(unsealed_office.home, home)
    run = functools.partial(cli, home, tmp_path)
    db = home / "brankas.sqlite3"
    assert CONTROL.encode() in db.read_bytes()  # the old, unsealed values
    pp = str(unsealed_office.secrets / "kabid.pp")
    r = run("seal-fields", "--json", user="operator")  # a Sandiman holds no key: refused
    assert r.returncode != 0
    r = run("seal-fields", "--passphrase-file", pp, "--json", user="kabid")
    assert r.returncode == 0, r.stderr
    done = r.json()
    assert (done["documents"], done["requests"], done["already"]) == (1, 1, 0)
    assert done["checkpoint"][0] == 0  # not busy: the log was emptied
    assert scan_for(CONTROL.encode(), [home]) == []
    doc = unsealed_office.doc
    shown = run("show", doc["agenda"], "--passphrase-file", pp, "--json", user="kabid").json()
    assert (shown["subject"], shown["notes"]) == (f"Perihal {CONTROL}-S", f"Catatan {CONTROL}-N")
    assert run("show", doc["agenda"], "--json", user="admin").json()["subject"] == "tersegel"
    again = run("seal-fields", "--passphrase-file", pp, "--json", user="kabid").json()
    assert (again["documents"], again["requests"], again["already"]) == (0, 0, 2)
    with closing(sqlite3.connect(db)) as conn:
        actions = conn.execute("SELECT actor, detail FROM audit_auditevent "
                               "WHERE action = 'sealed.seal_fields'").fetchall()
    assert len(actions) == 4 and {a for a, _d in actions} == {"kabid"}
    assert all(CONTROL not in d for _a, d in actions)


def test_recover_restores_sealed_values_as_they_are(sealed_office, tmp_path) -> None:
    o = sealed_office
    new_home = tmp_path / "recovered"
    pp = str(o.secrets / "kabid.pp")
    r = cli(tmp_path / "unused", tmp_path, "recover", str(o.disk), "--home", str(new_home),
            "--passphrase-file", pp, "--json")
    assert r.returncode == 0, r.stderr
    run = functools.partial(cli, new_home, tmp_path)
    assert run("show", o.doc["agenda"], "--json", user="admin").json()["subject"] == "tersegel"
    shown = run("show", o.doc["agenda"], "--passphrase-file", pp, "--json", user="kabid").json()
    assert shown["subject"] == f"Perihal {MARKER}-S"
    assert scan_for(MARKER.encode(), [new_home]) == []


def test_the_full_register_on_the_disk_says_tersegel(sealed_office, cli_office_template) -> None:
    """The full register (encrypted, opened with ``age -d`` alone in the restore guide)
    keeps working: the sealed cells say "tersegel" (the backup runs without a key)."""
    from brankas.core import crypto

    found = list(sealed_office.disk.rglob("register-lengkap.csv.age"))
    assert found
    identity = crypto.parse_identity(cli_office_template.recovery_identity)
    text = crypto.decrypt_bytes(found[-1].read_bytes(), [identity]).decode("utf-8-sig")
    row = next(line for line in text.splitlines() if sealed_office.doc["agenda"] in line)
    assert row.count("tersegel") == 3 and MARKER not in text and "Kapolres" in row
    assert "Undangan rapat" in text  # the biasa row as it is
