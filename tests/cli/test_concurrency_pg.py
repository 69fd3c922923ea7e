"""On PostgreSQL (issue 15: "duplicate key value violates unique constraint ... Key
(seq)=(18)" with eight registrations at once): eight processes registering at once give
unique, gapless agenda numbers and audit entry numbers; a backup that runs while documents
are being registered copies exactly the documents its snapshot and its register hold (the
snapshot's read is one view of the database: web/consistency.py, REPEATABLE READ).

The processes start Django once each, register through the service and look at what they
registered (an audit entry written outside the agenda counter's lock, as a sign-in or a view
is: the audit chain's own numbering is under test there) (the CLI's own path
to it is tested on SQLite in test_concurrency.py), to keep the PostgreSQL part cheap."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import pg
from tests.clirun import call_in_process
from tests.conftest import PASSWORDS, cli, make_pdf, quick_key_making

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]  # the launcher imports tests.forklaunch from there
PROCESSES = 8
PER_PROCESS = 2

CHILD = """
import json, sys
from pathlib import Path
from brankas import instance
instance.start()
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.accounts.models import User
from brankas.web.documents.services import document_register, document_view
direction, paths = sys.argv[1], sys.argv[2:]
user = User.objects.get(username="operator")
out = []
for n, path in enumerate(paths):
    meta = metadata.build(direction=direction, classification="rahasia" if n % 2 else "biasa",
                          number=str(n + 1), doc_date="2026-11-20", subject="Serentak",
                          correspondent="Uji")
    doc = document_register(actor=user, meta=meta, files=[InputFile.from_path(Path(path))])
    out.append(doc.agenda)
    # An audit entry outside the agenda counter's lock (the old bug: two entries, one seq).
    document_view(actor=user, agenda=doc.agenda, via="test")
print(json.dumps(out))
"""

# The eight of the first test: forked from one launcher that set Django up and imported the
# services (no database connection opened: each child opens its own, as a preloading
# server's workers do), so the start-up is paid once rather than eight times; released
# together by a pipe they all wait on.
LAUNCHER = """
import json, os, sys, traceback
from pathlib import Path
from brankas import instance
instance.start()
from brankas.core.register import metadata
from brankas.core.register.intake import InputFile
from brankas.web.accounts.models import User
from brankas.web.documents.services import document_register, document_view
from django.db import connections
from tests.forklaunch import run_together
connections.close_all()  # none open: each child its own
direction, out_dir, groups = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])

def work(child, paths):
    user = User.objects.get(username="operator")
    out = []
    for n, path in enumerate(paths):
        meta = metadata.build(direction=direction,
                              classification="rahasia" if n % 2 else "biasa",
                              number=str(n + 1), doc_date="2026-11-20",
                              subject="Serentak", correspondent="Uji")
        doc = document_register(actor=user, meta=meta,
                                files=[InputFile.from_path(Path(path))])
        out.append(doc.agenda)
        document_view(actor=user, agenda=doc.agenda, via="test")
    Path(out_dir, f"p{child}.json").write_text(json.dumps(out))

print(json.dumps(run_together(groups, work)))
"""


@pytest.fixture(scope="module")
def pg_office(tmp_path_factory) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """An office made by ``brankas init`` on a PostgreSQL database of its own (users: admin,
    operator; a key for the Kabid)."""
    url = pg.new_database("concurrency")
    base = tmp_path_factory.mktemp("pg-office")
    home = base / "home"
    env = {"BRANKAS_DATABASE_URL": url}
    pw = base / "pw"
    pw.write_text(PASSWORDS["admin"] + "\n")
    r = cli(home, base, "init", "--office", "Dinas Kominfo", "--admin", "admin",
            "--password-file", str(pw), "--json", env=env)
    assert r.returncode == 0, r.stderr
    recovery = base / "recovery.txt"
    recovery.write_text(r.json()["recovery_identity"] + "\n")
    for name, role in (("operator", "sandiman"), ("kabid", "kabid")):
        pw.write_text(PASSWORDS[name] + "\n")
        r = cli(home, base, "user", "add", name, "--role", role, "--full-name", name.title(),
                "--password-file", str(pw), user="admin", env=env)
        assert r.returncode == 0, r.stderr
    pp = base / "kabid.pp"
    pp.write_text("kuda merah berlari di sawah hijau\n")
    with quick_key_making():
        r = cli(home, base, "key", "new", "--holder", "kabid", "--passphrase-file", str(pp),
                user="kabid", env=env)
    assert r.returncode == 0, r.stderr
    return SimpleNamespace(url=url, home=home, base=base, env=env, recovery=recovery)


def _child_env(office: SimpleNamespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update(BRANKAS_HOME=str(office.home), BRANKAS_DATABASE_URL=office.url,
               BRANKAS_LANG="en")
    return env


def _registering(office: SimpleNamespace, direction: str, label: str, count: int,
                 scratch: Path) -> subprocess.Popen[str]:
    files = []
    for i in range(count):
        path = scratch / f"{label}-{i}.pdf"
        make_pdf(path, text=f"{direction} {label} {i}")
        files.append(str(path))
    return subprocess.Popen([sys.executable, "-c", CHILD, direction, *files],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_child_env(office))


def _registered_here(office: SimpleNamespace, direction: str, label: str, count: int,
                     scratch: Path) -> list[str]:
    """``CHILD``'s registrations in this process, as a process of its own would run them
    (tests/clirun.py ``call_in_process``): the documents there before the processes start."""
    files = []
    for i in range(count):
        path = scratch / f"{label}-{i}.pdf"
        make_pdf(path, text=f"{direction} {label} {i}")
        files.append(path)

    def register() -> list[str]:
        from brankas.core.register import metadata
        from brankas.core.register.intake import InputFile
        from brankas.web.accounts.models import User
        from brankas.web.documents.services import document_register, document_view

        user = User.objects.get(username="operator")
        out = []
        for n, path in enumerate(files):
            meta = metadata.build(direction=direction,
                                  classification="rahasia" if n % 2 else "biasa",
                                  number=str(n + 1), doc_date="2026-11-20", subject="Serentak",
                                  correspondent="Uji")
            doc = document_register(actor=user, meta=meta, files=[InputFile.from_path(path)])
            out.append(doc.agenda)
            document_view(actor=user, agenda=doc.agenda, via="test")
        return out

    return call_in_process(register, env=_child_env(office), cwd=scratch)


def _sql(url: str, query: str, *params: object) -> list[tuple]:  # type: ignore[type-arg]
    import psycopg

    with psycopg.connect(url) as con:
        return con.execute(query, params).fetchall()


def _agendas(procs: list[subprocess.Popen[str]]) -> list[str]:
    agendas: list[str] = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        agendas += json.loads(stdout)
    return agendas


def test_eight_processes_number_agendas_without_duplicate_or_gap(pg_office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    groups = []
    for p in range(PROCESSES):
        groups.append([])
        for i in range(PER_PROCESS):
            path = tmp_path / f"p{p}-{i}.pdf"
            make_pdf(path, text=f"pengiriman p{p} {i}")
            groups[-1].append(str(path))
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    launcher = subprocess.run([sys.executable, "-c", LAUNCHER, "pengiriman", str(out_dir),
                               json.dumps(groups)], capture_output=True, text=True,
                              env=_child_env(pg_office), timeout=600, cwd=ROOT)
    assert launcher.returncode == 0, launcher.stderr
    assert json.loads(launcher.stdout) == [0] * PROCESSES, launcher.stderr
    agendas = [a for p in range(PROCESSES)
               for a in json.loads((out_dir / f"p{p}.json").read_text())]
    total = PROCESSES * PER_PROCESS
    assert len(set(agendas)) == total
    assert sorted(int(a.rsplit("-", 1)[1]) for a in agendas) == list(range(1, total + 1))
    [(last,)] = _sql(pg_office.url, "select last from documents_agendacounter "
                     "where direction = 'pengiriman'")
    assert last == total
    seqs = [s for (s,) in _sql(pg_office.url, "select seq from audit_auditevent order by seq")]
    [(counted,)] = _sql(pg_office.url, "select last from audit_auditsequence")
    assert seqs == list(range(1, len(seqs) + 1)) and counted == seqs[-1]
    r = cli(pg_office.home, tmp_path, "audit", "verify", "--json", user="admin",
            env=pg_office.env)
    assert r.returncode == 0 and r.json()["ok"], r.stdout + r.stderr


def _decrypt(office: SimpleNamespace, path: Path) -> bytes:
    r = subprocess.run(["age", "-d", "-i", str(office.recovery), str(path)],
                       capture_output=True, check=True)
    return r.stdout


def test_a_backup_while_registering_copies_what_its_snapshot_holds(pg_office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Documents before, and registrations going on while the backup runs.
    before = _registered_here(pg_office, "penerimaan", "before", 2, tmp_path)
    assert len(before) == 2
    disk = tmp_path / "disk"
    backup = subprocess.Popen(
        [sys.executable, "-m", "brankas", "backup", str(disk), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(_child_env(pg_office), BRANKAS_USER="operator",
                 BRANKAS_PASSWORD=PASSWORDS["operator"]))
    during = [_registering(pg_office, "penerimaan", f"during{p}", 3, tmp_path)
              for p in range(2)]
    stdout, stderr = backup.communicate(timeout=600)
    assert backup.returncode == 0, stderr
    _agendas(during)
    run = json.loads(stdout)
    folder = disk / "data" / "backup" / run["folder"]
    snapshot = json.loads(_decrypt(pg_office, folder / "database.json.age"))
    in_snapshot = {o["fields"]["agenda"]: o["fields"]["stored_path"] for o in snapshot
                   if o["model"] == "documents.document"}
    assert len(in_snapshot) >= 2 and set(before) <= set(in_snapshot)
    # The files copied: exactly the snapshot's documents.
    copied = {line.split(maxsplit=1)[1].removeprefix("data/")
              for line in (disk / "manifest-sha256.txt").read_text().splitlines()}
    copied = {p for p in copied if p.startswith("arsip/")}
    assert copied == set(in_snapshot.values())
    # The full register on the disk: exactly the snapshot's agendas.
    text = _decrypt(pg_office, folder / "register-lengkap.csv.age").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    column = rows[0].index("No. Agenda")
    assert {r[column] for r in rows[1:]} == set(in_snapshot)
    # And the database records exactly those as on the disk.
    recorded = {a for (a,) in _sql(
        pg_office.url, "select d.agenda from backup_backupcopy c join documents_document d "
        "on d.id = c.document_id")}
    assert recorded == set(in_snapshot)
