"""``brankas equipment add|list|show|log|retire`` through the real command (in-process,
tests/clirun.py), with a backup disk the office already knows listed once, and the disk's
health read from a recorded smartctl output (``BRANKAS_SMART_JSON``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_pdf

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "smartctl"


@pytest.mark.slow  # a backup and a dozen commands: about 3.5 s
def test_equipment_through_the_cli(cli_office, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    smart = {"BRANKAS_SMART_JSON": str(RECORDED / "sata-failing.json")}
    pdf = tmp_path / "surat.pdf"
    make_pdf(pdf, text="alat")
    r = run_cli("register", str(pdf), "--direction", "penerimaan", "--classification",
                "biasa", "--number", "1", "--date", "2026-11-02", "--subject", "Alat",
                "--correspondent", "Uji", user="operator")
    assert r.returncode == 0, r.stderr
    r = run_cli("backup", str(tmp_path / "disk"), "--label", "DISK-CLI", user="operator",
                env=smart)
    assert r.returncode == 0, r.stderr

    r = run_cli("equipment", "add", "Laptop Sandi", "--kind", "komputer-laptop", "--serial",
                "LN-1", "--responsible", "operator", "--next-check", "2026-01-31", "--json",
                user="operator")
    assert r.returncode == 0, r.stderr
    ref = r.json()["ref"]
    r = run_cli("equipment", "add", "Lagi", "--kind", "mesin-tik", user="operator")
    assert r.returncode == 1 and "unknown kind of equipment mesin-tik" in r.stderr
    r = run_cli("equipment", "add", "X", "--kind", "lainnya", user="kasi")
    assert r.returncode == 1 and "may not record equipment" in r.stderr

    r = run_cli("equipment", "list", "--json", user="kabid")
    assert r.returncode == 0, r.stderr
    rows = {row["ref"]: row for row in r.json()}
    assert rows[ref]["kind"] == "komputer-laptop" and rows[ref]["responsible"] == "operator"
    disk = rows["disk:DISK-CLI"]  # the disk Brankas knows, not entered again
    assert disk["recorded"] is False and disk["health"]["status"] == "failed"
    assert disk["health"]["reallocated"] == 1975
    r = run_cli("equipment", "list", user="kadis")
    assert r.returncode == 1 and "may not view the equipment register" in r.stderr

    r = run_cli("equipment", "show", "disk:DISK-CLI", "--json", user="kasi")
    assert r.returncode == 0, r.stderr
    shown = r.json()
    assert [w["code"] for w in shown["warnings"]] == ["smart_failed"]
    assert "brankas media retire DISK-CLI" in shown["warnings"][0]["en"]
    assert shown["health_history"][0]["source"] == "backup"

    r = run_cli("equipment", "log", ref, "--work", "Baterai diganti", "--condition",
                "baik", "--date", "2026-11-03", "--next-check", "2027-05-01", user="operator")
    assert r.returncode == 0, r.stderr
    r = run_cli("equipment", "show", ref, user="kasi")
    assert r.returncode == 0, r.stderr
    assert "2026-11-03" in r.stdout and "Baterai diganti" in r.stdout
    assert "2027-05-01" in r.stdout
    r = run_cli("equipment", "retire", ref, "--reason", "rusak", "--json", user="operator")
    assert r.returncode == 0 and r.json()["condition"] == "tidak-aktif", r.stderr
    r = run_cli("equipment", "list", "--active", "--json", user="operator")
    assert ref not in {row["ref"] for row in r.json()}
    r = run_cli("equipment", "show", "99", user="operator")
    assert r.returncode != 0 and "equipment 99 not found" in r.stderr


def test_the_cli_refuses_what_the_pages_refuse(cli_office, run_cli) -> None:  # type: ignore[no-untyped-def]
    """Review: a date not yet come, a disk and a safe at once, the same serial twice, an
    odd reference: refused with the services' message (as the pages refuse them)."""
    import datetime as dt

    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    r = run_cli("equipment", "add", "Pemindai", "--kind", "pemindai", "--acquired", tomorrow,
                user="operator")
    assert r.returncode == 1 and "has not happened yet" in r.stderr, r.stderr
    r = run_cli("equipment", "add", "X", "--disk", "D", "--safe", "S", user="operator")
    assert r.returncode == 1 and "not both" in r.stderr, r.stderr
    r = run_cli("equipment", "add", "Pemindai", "--kind", "pemindai", "--serial", "S-1",
                "--json", user="operator")
    assert r.returncode == 0, r.stderr
    ref = r.json()["ref"]
    r = run_cli("equipment", "add", "Pemindai 2", "--kind", "pemindai", "--serial", "S-1",
                user="operator")
    assert r.returncode == 1 and f"already recorded as equipment {ref}" in r.stderr, r.stderr
    r = run_cli("equipment", "log", ref, "--work", "Dicek", "--condition", "baik",
                "--date", tomorrow, user="operator")
    assert r.returncode == 1 and "has not happened yet" in r.stderr, r.stderr
    r = run_cli("equipment", "show", "²", user="kasi")
    assert r.returncode == 1 and "not found" in r.stderr, r.stderr
