"""``brankas request ...`` through the real command: the chain with a return, the role
rules, the link to the register, and an exempted letter never in plaintext on disk."""

from __future__ import annotations

import hashlib
import secrets
import time

import pytest

from tests.conftest import make_pdf
from tests.leakscan import SHARED_TEMP, scan_for


def test_the_chain_through_the_cli(run_cli, cli_office, cli_home, tmp_path):
    letter = tmp_path / "surat.pdf"
    make_pdf(letter, text="surat untuk dikirim")
    r = run_cli("request", "create", "--subject", "Laporan bencana", "--classification",
                "biasa", "--addressee", "BNPB", "--urgency", "kilat", "--unit", "BPBD",
                "--requester", "Kepala BPBD", "--attach", str(letter), "--json", user="kasi")
    assert r.returncode == 0, r.stderr
    req = r.json()
    n = str(req["request"])
    assert req["state"] == "diajukan" and req["urgency"] == "kilat"
    assert req["letter"].startswith("permintaan/")
    assert (cli_home / req["letter"]).read_bytes() == letter.read_bytes()

    # Only the Kadis assigns the Kabid; the Kabid cannot take it himself.
    r = run_cli("request", "assign", n, "--to", "kabid", user="kabid")
    assert r.returncode == 1 and r.stderr.startswith("brankas: ")
    assert "assign the Kabid" in r.stderr
    assert run_cli("request", "assign", n, "--to", "kabid", user="kadis").returncode == 0
    # The Kabid may not skip the Kasi.
    r = run_cli("request", "assign", n, "--to", "operator", user="kabid")
    assert r.returncode == 1 and "kasi" in r.stderr
    assert run_cli("request", "assign", n, "--to", "kasi", user="kabid").returncode == 0
    r = run_cli("request", "return", n, "--note", "Lampiran kurang", user="kasi")
    assert r.returncode == 0, r.stderr

    r = run_cli("request", "list", "--mine", "--json", user="kabid")
    assert [x["request"] for x in r.json()] == [req["request"]]
    assert run_cli("request", "list", "--mine", "--json", user="kasi").json() == []
    shown = run_cli("request", "show", n, "--json", user="kabid").json()
    assert shown["state"] == "ditugaskan-kabid" and shown["assignee"] == "kabid"
    assert shown["steps"][-1]["kind"] == "return"
    assert shown["steps"][-1]["note"] == "Lampiran kurang"

    for args, user in [(("assign", n, "--to", "kasi"), "kabid"),
                       (("assign", n, "--to", "operator"), "kasi"),
                       (("receive", n), "operator")]:
        r = run_cli("request", *args, user=user)
        assert r.returncode == 0, r.stderr
    r = run_cli("request", "sent", n, "--channel", "JKS", "--reference", "1", user="operator")
    assert r.returncode == 1 and f"brankas request register {n}" in r.stderr

    r = run_cli("request", "register", n, "--number", "360/11/2026", "--date", "2026-11-24",
                "--json", user="operator")
    assert r.returncode == 0, r.stderr
    doc = r.json()
    assert doc["request"] == req["request"] and doc["direction"] == "pengiriman"
    assert doc["correspondent"] == "BNPB" and doc["number"] == "360/11/2026"
    assert (cli_home / doc["stored_path"]).read_bytes() == letter.read_bytes()
    shown = run_cli("request", "show", n, "--json", user="operator").json()
    assert shown["agenda"] == doc["agenda"]
    # the text lines give times in the office's time zone, not UTC's ISO (issue 14)
    r = run_cli("request", "show", n, user="operator", env={"BRANKAS_TIME_ZONE": "Asia/Jayapura"})
    assert r.returncode == 0 and "+00:00" not in r.stdout and "T0" not in r.stdout, r.stdout
    r = run_cli("show", doc["agenda"], "--json", user="kadis")
    assert r.json()["subject"] == "Laporan bencana"

    r = run_cli("request", "sent", n, "--channel", "JKS", "--reference", "B-7/2026", "--json",
                user="operator")
    assert r.returncode == 0, r.stderr
    done = r.json()
    assert done["state"] == "terkirim" and done["reference"] == "B-7/2026"
    assert done["channel"] == "JKS" and done["closed_at"]
    listing = run_cli("request", "list", "--open", "--json", user="kadis").json()
    assert listing == []
    assert run_cli("audit", "verify", user="admin").returncode == 0


@pytest.mark.slow
def test_exempted_letter_never_in_plaintext_on_disk(run_cli, cli_office, cli_home, tmp_path):
    marker = ("BRANKAS-REQ-MARKER-" + secrets.token_hex(16)).encode()
    src_dir = tmp_path / "source"
    src_dir.mkdir()
    letter = src_dir / "rahasia.pdf"
    make_pdf(letter, text=marker.decode())
    assert marker in letter.read_bytes()  # the scanner below would see it
    started = time.time() - 1
    r = run_cli("request", "create", "--subject", "Berita rahasia", "--classification",
                "sangat-rahasia", "--addressee", "Pangdam", "--attach", str(letter), "--json",
                user="kadis")
    assert r.returncode == 0, r.stderr
    req = r.json()
    n = str(req["request"])
    stored = (cli_home / req["letter"]).read_bytes()
    assert req["letter"].endswith(".pdf.age") and stored.startswith(b"age-encryption.org/v1\n")
    for args, user in [(("assign", n, "--to", "kabid"), "kadis"),
                       (("assign", n, "--to", "kasi"), "kabid"),
                       (("assign", n, "--to", "operator"), "kasi"),
                       (("receive", n), "operator"),
                       (("register", n, "--number", "R/1"), "operator")]:
        r = run_cli("request", *args, user=user)
        assert r.returncode == 0, r.stderr
    agenda = r.stdout.split()[0]
    shown = run_cli("show", agenda, "--json", user="kabid").json()
    assert shown["stored_path"].startswith("arsip/dikecualikan/pengiriman/")
    assert hashlib.sha256(stored).hexdigest() == shown["stored_sha256"]
    # The Kabid opens the registered letter with the key it was encrypted to.
    out = tmp_path / "out" / "dibuka.pdf"
    out.parent.mkdir()
    r = run_cli("open", agenda, "--out", str(out), "--passphrase-file",
                str(cli_office.secrets / "kabid.pp"), user="kabid")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == letter.read_bytes()
    out.unlink()
    hits = scan_for(marker, [cli_home, tmp_path / "tmp"], exclude=(src_dir,))
    hits += scan_for(marker, SHARED_TEMP, since=started, exclude=(src_dir,))
    assert hits == []
    # A control: the scanner does find the marker where it is.
    assert scan_for(marker, [src_dir]) == [letter]
