"""``brankas audit list`` and ``audit export`` through the real command."""

from __future__ import annotations

import csv
import io


def test_list_filters_and_export(run_cli, cli_office, tmp_path):
    r = run_cli("drill", str(tmp_path / "tidak-ada"), user="admin")
    assert r.returncode == 1 and "may not run restore drills" in r.stderr
    r = run_cli("audit", "list", "--json", "--outcome", "denied", user="kabid")
    assert r.returncode == 0, r.stderr
    (entry,) = r.json()
    assert (entry["actor"], entry["action"], entry["detail"]["action"]) == (
        "admin", "access.denied", "drill")
    assert len(entry["hash"]) == 64
    r = run_cli("audit", "list", "--json", "--action", "auth.", "--actor", "kabid",
                "--limit", "1", user="kabid")
    assert [(e["actor"], e["action"]) for e in r.json()] == [("kabid", "auth.login")]
    r = run_cli("audit", "list", "--query", "tidak-ada", user="kasi")
    assert r.returncode == 0 and "access.denied" in r.stdout

    out = tmp_path / "log.csv"
    r = run_cli("audit", "export", "--out", str(out), "--since", "2020-01-01", user="admin")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "No." and [int(row[0]) for row in rows[1:]] == sorted(
        int(row[0]) for row in rows[1:])
    r = run_cli("audit", "export", "--out", str(out), user="admin")
    assert r.returncode == 1 and "already exists" in r.stderr
    r = run_cli("audit", "list", "--json", "--action", "audit.export", user="admin")
    assert len(r.json()) == 1


def test_the_operator_and_the_kadis_may_not_read_the_log(run_cli, cli_office, tmp_path):
    for user in ("operator", "kadis"):
        r = run_cli("audit", "list", user=user)
        assert r.returncode == 1 and "may not view the audit log" in r.stderr
        r = run_cli("audit", "export", "--out", str(tmp_path / f"{user}.csv"), user=user)
        assert r.returncode == 1 and not (tmp_path / f"{user}.csv").exists()
