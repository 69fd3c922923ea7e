"""The report chain through the real ``brankas`` command: JSON output, role rules, and
``report verify`` on the exported approved PDF and on a copy with one byte changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import quick_key_making


@pytest.mark.slow
def test_report_chain_through_the_cli(cli_office, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    secrets = tmp_path / "s"
    secrets.mkdir()
    for name in ("operator", "kasi", "kabid", "kadis"):
        (secrets / name).write_text(f"frasa tanda tangan {name} 2026\n")

    def signed(*args: str, user: str):  # type: ignore[no-untyped-def]
        # The signer's key is made at the first signature: at a small scrypt work factor
        # here (the product's is tested in tests/web/reports).
        with quick_key_making():
            return run_cli("report", *args, "--passphrase-file", str(secrets / user),
                           user=user)

    r = run_cli("report", "create", "messages", "--period", "2026-Q4", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    number = str(r.json()["report"])
    assert r.json()["state"] == "draft"
    r = run_cli("report", "create", "messages", "--period", "2026-Q5", user="operator")
    assert r.returncode == 1 and "period 2026-Q5 is invalid" in r.stderr
    r = run_cli("report", "create", "backup", "--period", "2026-11", user="kadis")
    assert r.returncode == 1 and r.stderr.startswith("brankas: ")
    assert signed("submit", number, user="operator").returncode == 0
    r = run_cli("report", "return", number, "--note", "Tambahkan data November", user="kasi")
    assert r.returncode == 0, r.stderr
    r = run_cli("report", "list", "--json", user="operator")
    assert [(x["report"], x["state"], x["return_note"]) for x in r.json()] == [
        (int(number), "draft", "Tambahkan data November")]
    r = run_cli("report", "refresh", number, user="operator")  # the figures gathered again
    assert r.returncode == 0 and "figures gathered again" in r.stdout, r.stderr
    r = run_cli("report", "refresh", number, user="kasi")
    assert r.returncode == 1 and r.stderr.startswith("brankas: ")
    with quick_key_making():  # the reply to the return, kept with the step
        r = run_cli("report", "submit", number, "--note", "Data November ditambahkan",
                    "--passphrase-file", str(secrets / "operator"), user="operator")
    assert r.returncode == 0, r.stderr
    r = run_cli("report", "show", number, user="operator")
    assert "001/LAP-BRT/2026-Q4" in r.stdout and "Data November ditambahkan" in r.stdout
    summary = tmp_path / "ringkasan.txt"
    summary.write_text("Tidak ada berita pada triwulan ini.\n", encoding="utf-8")
    with quick_key_making():
        r = run_cli("report", "forward", number, "--summary-file", str(summary),
                    "--passphrase-file", str(secrets / "kasi"), user="kasi")
    assert r.returncode == 0, r.stderr
    r = signed("approve", number, user="operator")  # a Sandiman cannot approve
    assert r.returncode == 1 and "may not approve reports" in r.stderr
    assert signed("approve", number, user="kabid").returncode == 0
    assert signed("acknowledge", number, user="kadis").returncode == 0
    r = run_cli("report", "show", number, "--json", user="kadis")
    shown = r.json()
    assert shown["state"] == "acknowledged"
    assert [s["step"] for s in shown["steps"]] == ["submit", "return", "submit", "forward",
                                                   "approve", "acknowledge"]

    pdf = tmp_path / "laporan.pdf"
    r = run_cli("report", "export", number, "--format", "pdf", "--out", str(pdf), user="kadis")
    assert r.returncode == 0, r.stderr
    r = run_cli("report", "verify", str(pdf), "--json", user="kadis")
    assert r.returncode == 0, r.stderr
    assert r.json()["ok"] and r.json()["sha256"] == shown["final_sha256"]
    assert [s["signer"] for s in r.json()["signatures"]] == ["operator", "operator", "kasi",
                                                              "kabid", "kadis"]
    # the text lines give the signing times in the office's time zone, not UTC's ISO
    r = run_cli("report", "verify", str(pdf), user="kadis",
                env={"BRANKAS_TIME_ZONE": "Asia/Jayapura"})
    assert r.returncode == 0 and "+00:00" not in r.stdout, r.stdout
    data = bytearray(pdf.read_bytes())
    data[-100] ^= 0x20
    changed = tmp_path / "diubah.pdf"
    changed.write_bytes(bytes(data))
    r = run_cli("report", "verify", str(changed), user="kadis")
    assert r.returncode == 1 and "not an approved report, or altered" in r.stderr
    r = run_cli("report", "export", number, "--format", "xlsx", "--out",
                str(tmp_path / "t.xlsx"), user="operator")
    assert r.returncode == 0 and (tmp_path / "t.xlsx").read_bytes()[:2] == b"PK"
