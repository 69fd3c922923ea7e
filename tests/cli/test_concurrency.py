"""Eight processes registering at once never produce a duplicate agenda number, nor a
duplicate or skipped audit entry number.

Each process runs the real ``brankas register`` command four times one after the other
(click's runner, as a long-lived process such as the server's would: its own Django, its own
database connection, a password check and a transaction per registration); the eight run
at once. Four commands in one process rather than four processes each: the processes
contend without a second of interpreter start-up between registrations."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import PASSWORDS, cli, make_pdf

PROCESSES = 8
PER_PROCESS = 4

SCRIPT = """
import sys, json, traceback
from click.testing import CliRunner
from brankas.cli import main
out = []
for path in sys.argv[2:]:
    r = CliRunner().invoke(main, ["register", path,
        "--direction", sys.argv[1], "--classification", "biasa" if len(out) % 2 else "rahasia",
        "--number", "1", "--date", "2026-11-20", "--subject", "Serentak",
        "--correspondent", "Uji", "--json"], catch_exceptions=True)
    crash = r.exception if not isinstance(r.exception, (SystemExit, type(None))) else None
    out.append({"rc": 1 if crash else r.exit_code, "stdout": r.stdout,
                "stderr": r.stderr + ("".join(traceback.format_exception(crash)) if crash else "")})
print(json.dumps(out))
"""


@pytest.mark.slow
def test_concurrent_registration_gives_unique_sequential_agendas(cli_office, cli_home, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(cli_home), "BRANKAS_USER": "operator",
                "BRANKAS_PASSWORD": PASSWORDS["operator"], "BRANKAS_LANG": "en"})
    procs = []
    for p in range(PROCESSES):
        files = []
        for i in range(PER_PROCESS):
            path = tmp_path / f"p{p}-{i}.pdf"
            make_pdf(path, text=f"process {p} document {i}")
            files.append(str(path))
        procs.append(subprocess.Popen(
            [sys.executable, "-c", SCRIPT, "penerimaan", *files],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        ))
    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr
        results.extend(json.loads(stdout))
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
