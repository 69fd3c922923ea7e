"""``brankas key coverage`` through the real command: the Kabid (the CLI office's only
holder) opens a rahasia document; once the Kabid's key is revoked the document is the
recovery key's alone, and the table, the totals, ``--recovery-only`` and ``--json`` say so."""

from __future__ import annotations

import sqlite3

from tests.conftest import make_pdf


def _register(run_cli, tmp_path, classification: str) -> str:  # type: ignore[no-untyped-def]
    pdf = tmp_path / f"{classification}.pdf"
    make_pdf(pdf, text=f"cakupan {classification}")
    r = run_cli("register", str(pdf), "--direction", "penerimaan", "--classification",
                classification, "--number", "1", "--date", "2026-11-20", "--subject", "Cakupan",
                "--correspondent", "Uji", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    return r.json()["agenda"]


def test_coverage_lists_the_holders_then_the_recovery_key_alone(run_cli, cli_office, cli_home,
                                                               tmp_path) -> None:
    secret = _register(run_cli, tmp_path, "rahasia")
    _register(run_cli, tmp_path, "biasa")  # not encrypted: not listed
    r = run_cli("key", "coverage", "--json", user="kasi")  # a holder's role, without a key
    assert r.returncode == 0, r.stderr
    (row,) = r.json()
    assert (row["kind"], row["label"], row["classification"], row["recovery_only"],
            row["recovery"]) == ("document", secret, "rahasia", False, True)
    assert [h["username"] for h in row["holders"]] == ["kabid"]
    assert row["holders"][0]["current"] is True
    with sqlite3.connect(cli_home / "brankas.sqlite3") as db:  # revoked (the service is C's)
        db.execute("update keys_holderkey set revoked_at = '2026-12-01 10:00:00'")
    r = run_cli("key", "coverage", user="admin")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1].split()[:2] == [secret, "rahasia"]
    assert "HANYA KUNCI PEMULIHAN / recovery key only" in lines[1]
    assert lines[-1] == ("1 naskah / documents, 0 surat permintaan / request letters; "
                         "1 hanya kunci pemulihan / recovery key only")
    r = run_cli("key", "coverage", "--recovery-only", "--json", user="kadis")
    assert [x["label"] for x in r.json()] == [secret]
    with sqlite3.connect(cli_home / "brankas.sqlite3") as db:
        entries = db.execute("select actor, detail from audit_auditevent "
                             "where action = 'key.coverage' order by seq").fetchall()
    assert [a for a, _d in entries] == ["kasi", "admin", "kadis"]
    assert '"via": "cli"' in entries[0][1] and '"recovery_only": true' in entries[2][1]


def test_a_sandiman_is_refused(run_cli, cli_office) -> None:
    r = run_cli("key", "coverage", user="operator")
    assert r.returncode == 1
    assert "the role sandiman may not view the key coverage" in r.stderr
    assert r.stdout == ""
