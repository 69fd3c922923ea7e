"""Eight processes registering at once never produce a duplicate agenda number, nor a
duplicate or skipped audit entry number.

Each process runs the real ``brankas register`` command four times one after the other
(click's runner, as a long-lived process such as the server's would: its own Django, its own
database connection, a password check and a transaction per registration); the eight run
at once. Four commands in one process rather than four processes each: the processes
contend without a second of interpreter start-up between registrations. The eight are
forked from one launcher that set Django up as the command does (``instance.start``, no
database connection opened: each child opens its own, as a preloading server's workers
do), so its start-up is paid once rather than eight times; they start together (a pipe
they all wait on)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSWORDS, cli, make_pdf

ROOT = Path(__file__).resolve().parents[2]  # the launcher imports tests.forklaunch from there
PROCESSES = 8
PER_PROCESS = 4

SCRIPT = """
import json, os, sys, traceback
from click.testing import CliRunner
from brankas import instance
from brankas.cli import main
from tests.forklaunch import run_together
instance.start(queue=False, web=False)  # as the register command sets Django up
from django.db import connections
connections.close_all()  # none open: each child its own
direction, out_dir, groups = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])

def work(n, paths):
    out = []
    for path in paths:
        r = CliRunner().invoke(main, ["register", path,
            "--direction", direction,
            "--classification", "biasa" if len(out) % 2 else "rahasia",
            "--number", "1", "--date", "2026-11-20", "--subject", "Serentak",
            "--correspondent", "Uji", "--json"], catch_exceptions=True)
        crash = (r.exception if not isinstance(r.exception, (SystemExit, type(None)))
                 else None)
        out.append({"rc": 1 if crash else r.exit_code, "stdout": r.stdout,
                    "stderr": r.stderr + ("".join(traceback.format_exception(crash))
                                          if crash else "")})
    with open(os.path.join(out_dir, f"p{n}.json"), "w") as f:
        json.dump(out, f)

print(json.dumps(run_together(groups, work)))
"""


@pytest.mark.slow
def test_concurrent_registration_gives_unique_sequential_agendas(cli_office, cli_home, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(cli_home), "BRANKAS_USER": "operator",
                "BRANKAS_PASSWORD": PASSWORDS["operator"], "BRANKAS_LANG": "en"})
    groups = []
    for p in range(PROCESSES):
        files = []
        for i in range(PER_PROCESS):
            path = tmp_path / f"p{p}-{i}.pdf"
            make_pdf(path, text=f"process {p} document {i}")
            files.append(str(path))
        groups.append(files)
    out_dir = tmp_path / "results"
    out_dir.mkdir()
    launcher = subprocess.run(
        [sys.executable, "-c", SCRIPT, "penerimaan", str(out_dir), json.dumps(groups)],
        capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    assert launcher.returncode == 0, launcher.stderr
    assert json.loads(launcher.stdout) == [0] * PROCESSES, launcher.stderr
    results = []
    for p in range(PROCESSES):
        results.extend(json.loads((out_dir / f"p{p}.json").read_text()))
    failures = [r["stderr"] for r in results if r["rc"] != 0]
    assert failures == []
    agendas = [json.loads(r["stdout"])["agenda"] for r in results]
    total = PROCESSES * PER_PROCESS
    assert len(set(agendas)) == total
    seqs = sorted(int(a.rsplit("-", 1)[1]) for a in agendas)
    assert seqs == list(range(1, total + 1))  # no gap, no reuse
    con = sqlite3.connect(cli_home / "brankas.sqlite3")
    (rows,) = con.execute("select count(*) from documents_document").fetchone()
    (last,) = con.execute(
        "select last from documents_agendacounter where direction='penerimaan'").fetchone()
    seqs = [s for (s,) in con.execute("select seq from audit_auditevent order by seq")]
    (counted,) = con.execute("select last from audit_auditsequence").fetchone()
    con.close()
    assert rows == total and last == total
    # The audit entries of every process: numbered 1, 2, 3 ... with the counter at the last.
    assert seqs == list(range(1, len(seqs) + 1)) and counted == seqs[-1]
    r = cli(cli_home, tmp_path, "audit", "verify", "--json", user="operator")
    assert r.returncode == 0 and r.json()["ok"], r.stdout + r.stderr
    stored = [p for p in (cli_home / "arsip").rglob("*") if p.is_file()]
    assert len(stored) == total
