"""``brankas ocr`` through the real command, and the plaintext-marker invariant on the OCR
path: an exempted document's text is nowhere under BRANKAS_HOME or the temp folders after
registrations and OCR runs, and no OCR workdir is left behind."""

from __future__ import annotations

import secrets
import sqlite3
import time
from pathlib import Path

from tests.leakscan import SHARED_TEMP, scan_for
from tests.web.text.test_pipeline import letter

REGISTER = ["--number", "1/2026", "--date", "2026-11-20", "--correspondent", "Bupati"]


def register(run_cli, path: Path, classification: str, subject: str = "Undangan"):  # type: ignore[no-untyped-def]
    r = run_cli("register", str(path), "--direction", "penerimaan", "--classification",
                classification, "--subject", subject, *REGISTER, "--json", user="operator")
    assert r.returncode == 0, r.stderr
    return r.json()


def text_rows(home: Path) -> dict[str, tuple[str, str]]:
    con = sqlite3.connect(home / "brankas.sqlite3")
    try:
        return {agenda: (status, body) for agenda, status, body in con.execute(
            "SELECT d.agenda, t.status, t.body FROM text_documenttext t "
            "JOIN documents_document d ON d.id = t.document_id")}
    finally:
        con.close()


def test_brankas_ocr_reads_biasa_only_and_no_exempted_text_lands_anywhere(
        run_cli, cli_office, cli_home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    started = time.time() - 1
    plain = f"SURATBIASA{secrets.token_hex(6)}"
    secret = f"RAHASIAOCR{secrets.token_hex(6)}"
    letter(plain, tmp_path / "biasa.pdf")
    letter(secret, tmp_path / "rahasia.pdf")
    biasa = register(run_cli, tmp_path / "biasa.pdf", "biasa")
    hidden = register(run_cli, tmp_path / "rahasia.pdf", "rahasia")
    (tmp_path / "rahasia.pdf").unlink()  # the test's own plaintext source

    r = run_cli("ocr", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    assert r.json()["read"] == 1 and r.json()["total"] == 1
    rows = text_rows(cli_home)
    assert list(rows) == [biasa["agenda"]]
    assert plain in rows[biasa["agenda"]][1]

    r = run_cli("ocr", "--all", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    assert (r.json()["scope"], r.json()["read"]) == ("all", 1)

    r = run_cli("ocr", hidden["agenda"], user="operator")
    assert r.returncode == 1
    assert "exempted" in r.stderr and hidden["agenda"] in r.stderr

    r = run_cli("ocr", biasa["agenda"], user="kasi")
    assert r.returncode == 1 and "read documents' text again" in r.stderr

    r = run_cli("ocr", "--queue", "--json", user="admin")
    assert r.returncode == 0, r.stderr
    assert len(r.json()["job"]) == 32

    r = run_cli("ocr", user="operator")  # the text form, nothing left to read
    assert r.returncode == 0 and "documents: 0" in r.stdout

    assert list(text_rows(cli_home)) == [biasa["agenda"]]
    assert not (cli_home / "tmp" / "ocr").exists()
    marker = secret.encode()
    assert scan_for(marker, [cli_home]) == []
    assert scan_for(marker, [tmp_path], exclude=(tmp_path / "rahasia.pdf",)) == []
    assert scan_for(marker, SHARED_TEMP, since=started) == []
    # (the control: the biasa text is where it belongs, so the scan would see it)
    assert scan_for(plain.encode(), [cli_home])
