"""The CLI contract, end to end through the real ``brankas`` command."""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path

import pytest

from tests.conftest import make_jpeg, make_pdf
from tests.leakscan import SHARED_TEMP, scan_for

REGISTER = ["--number", "005/12/2026", "--date", "2026-11-20", "--correspondent", "Bupati"]


def register(run_cli, path: Path, classification: str, direction: str = "penerimaan",
             subject: str = "Undangan rapat", *extra: str):
    return run_cli("register", str(path), "--direction", direction, "--classification",
                   classification, "--subject", subject, *REGISTER, *extra, "--json",
                   user="operator")


@pytest.mark.parametrize(
    ("classification", "category", "encrypted"),
    [("biasa", "biasa", False), ("terbatas", "dikecualikan", True),
     ("rahasia", "dikecualikan", True), ("sangat-rahasia", "dikecualikan", True)],
)
def test_each_classification_files_into_its_folder(
    run_cli, cli_office, cli_home, tmp_path, classification, category, encrypted
):
    pdf = tmp_path / "scan.pdf"
    make_pdf(pdf, text=f"doc {classification}")
    r = register(run_cli, pdf, classification, "pengiriman")
    assert r.returncode == 0, r.stderr
    doc = r.json()
    assert doc["agenda"] == "K-2026-0001" or doc["agenda"].startswith("K-")
    stored = cli_home / doc["stored_path"]
    assert stored.is_file()
    assert doc["stored_path"].startswith(f"arsip/{category}/pengiriman/")
    assert stored.name.endswith(".pdf.age" if encrypted else ".pdf")
    data = stored.read_bytes()
    assert hashlib.sha256(data).hexdigest() == doc["stored_sha256"]
    original = pdf.read_bytes()
    assert doc["content_sha256"] == hashlib.sha256(original).hexdigest()
    assert doc["originals"][0]["sha256"] == hashlib.sha256(original).hexdigest()
    if encrypted:
        assert data.startswith(b"age-encryption.org/v1\n")
        assert original not in data
        assert len(doc["recipients"]) == 2  # the Kabid and the office recovery key
    else:
        assert data == original


def test_init_creates_the_four_folders(run_cli, cli_office, cli_home):
    for cat in ("biasa", "dikecualikan"):
        for direction in ("pengiriman", "penerimaan"):
            assert (cli_home / "arsip" / cat / direction).is_dir()


def test_init_twice_is_refused(run_cli, cli_office):
    r = run_cli("init", "--office", "X", "--admin", "admin2", "--password-file",
                str(cli_office.secrets / "admin.pw"))
    assert r.returncode == 1
    assert r.stderr.startswith("brankas: ")
    assert "already set up" in r.stderr


def test_agenda_numbers_are_sequential_per_direction(run_cli, cli_office, tmp_path):
    agendas = []
    for i, direction in enumerate(["penerimaan", "penerimaan", "pengiriman", "penerimaan"]):
        pdf = tmp_path / f"s{i}.pdf"
        make_pdf(pdf, text=f"sequence {i}")
        r = register(run_cli, pdf, "biasa", direction)
        assert r.returncode == 0, r.stderr
        agendas.append(r.json()["agenda"])
    year = agendas[0].split("-")[1]
    assert agendas == [f"M-{year}-0001", f"M-{year}-0002", f"K-{year}-0001", f"M-{year}-0003"]


def test_images_become_one_pdf_with_original_hashes(run_cli, cli_office, cli_home, tmp_path):
    import pikepdf

    pages = [tmp_path / f"hal{i}.jpg" for i in range(3)]
    for i, p in enumerate(pages):
        make_jpeg(p, color=["white", "gray", "black"][i])
    r = run_cli("register", *map(str, pages), "--direction", "penerimaan", "--classification",
                "biasa", "--subject", "Tiga halaman", *REGISTER, "--json", user="operator")
    assert r.returncode == 0, r.stderr
    doc = r.json()
    assert doc["pages"] == 3
    assert [o["sha256"] for o in doc["originals"]] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in pages
    ]
    with pikepdf.open(cli_home / doc["stored_path"]) as pdf:
        assert len(pdf.pages) == 3


def test_duplicate_is_refused_with_pointer_then_allowed(run_cli, cli_office, sample_pdf):
    first = register(run_cli, sample_pdf, "biasa")
    assert first.returncode == 0, first.stderr
    agenda = first.json()["agenda"]
    again = register(run_cli, sample_pdf, "biasa")
    assert again.returncode == 1
    assert agenda in again.stderr and "already registered" in again.stderr
    forced = register(run_cli, sample_pdf, "biasa", "penerimaan", "Undangan", "--allow-duplicate")
    assert forced.returncode == 0, forced.stderr
    assert forced.json()["duplicate_of"] == agenda
    assert agenda in forced.stderr  # the warning still names the earlier entry


@pytest.mark.parametrize(
    ("content", "name", "needle"),
    [
        (b"", "kosong.pdf", "is empty"),
        (b"just some text, not a scan", "catatan.pdf", "is not a PDF"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "terpotong.pdf", "truncated"),
        (None, "foto.pdf", "contains JPEG"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    run_cli, cli_office, cli_home, tmp_path, content, name, needle
):
    path = tmp_path / name
    path.write_bytes(make_jpeg() if content is None else content)
    r = register(run_cli, path, "rahasia")
    assert r.returncode == 1
    assert r.stderr.startswith("brankas: ") and needle in r.stderr, r.stderr
    assert not [p for p in (cli_home / "arsip").rglob("*") if p.is_file()]
    assert not list((cli_home / "tmp").iterdir())
    listing = run_cli("list", "--json", user="operator")
    assert listing.json() == []


def test_messages_are_indonesian_by_default(run_cli, cli_office, tmp_path):
    path = tmp_path / "kosong.pdf"
    path.write_bytes(b"")
    r = run_cli("register", str(path), "--direction", "penerimaan", "--classification", "biasa",
                "--subject", "x", *REGISTER, user="operator", env={"BRANKAS_LANG": "id"})
    assert r.returncode == 1
    assert "brankas: berkas kosong.pdf kosong" in r.stderr


def test_exempted_without_key_holder_is_refused(run_cli, tmp_path, sample_pdf):
    pw = tmp_path / "a.pw"
    pw.write_text("Admin-Pass-2026!\n")
    assert run_cli("init", "--office", "X", "--admin", "admin", "--password-file",
                   str(pw)).returncode == 0
    op = tmp_path / "o.pw"
    op.write_text("Sandiman-Pass-2026!\n")
    r = run_cli("user", "add", "operator", "--role", "sandiman", "--password-file", str(op),
                user="admin")
    assert r.returncode == 0, r.stderr
    r = register(run_cli, sample_pdf, "rahasia")
    assert r.returncode == 1
    assert "no active key holder" in r.stderr
    r = register(run_cli, sample_pdf, "biasa")
    assert r.returncode == 0, r.stderr


@pytest.mark.slow
def test_open_exempted_by_key_holder_and_refusals(run_cli, cli_office, tmp_path):
    pdf = tmp_path / "rahasia.pdf"
    original = make_pdf(pdf, text="isi rahasia")
    agenda = register(run_cli, pdf, "rahasia").json()["agenda"]
    out = tmp_path / "out.pdf"
    pp = str(cli_office.secrets / "kabid.pp")
    r = run_cli("open", agenda, "--out", str(out), "--passphrase-file", pp, user="kabid")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == original
    # The output file must not exist yet.
    again = run_cli("open", agenda, "--out", str(out), "--passphrase-file", pp, user="kabid")
    assert again.returncode == 1 and "already exists" in again.stderr
    # Wrong passphrase: refused, nothing written.
    bad = tmp_path / "bad.pp"
    bad.write_text("not the passphrase at all\n")
    out2 = tmp_path / "out2.pdf"
    r = run_cli("open", agenda, "--out", str(out2), "--passphrase-file", str(bad), user="kabid")
    assert r.returncode == 1 and "wrong passphrase" in r.stderr
    assert not out2.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    # Roles that hold no key for it.
    for user, needle in [("operator", "may not open exempted"),
                         ("kasi", "not among the recipients"),
                         ("admin", "may not open exempted")]:
        r = run_cli("open", agenda, "--out", str(tmp_path / f"{user}.pdf"),
                    "--passphrase-file", pp, user=user)
        assert r.returncode == 1 and needle in r.stderr, (user, r.stderr)
        assert not (tmp_path / f"{user}.pdf").exists()


@pytest.mark.slow
def test_open_detects_a_tampered_exempted_file(run_cli, cli_office, cli_home, tmp_path):
    pdf = tmp_path / "rahasia.pdf"
    make_pdf(pdf, text="akan diubah")
    doc = register(run_cli, pdf, "rahasia").json()
    stored = cli_home / doc["stored_path"]
    data = bytearray(stored.read_bytes())
    data[-40] ^= 0x01
    stored.write_bytes(bytes(data))
    out = tmp_path / "out.pdf"
    r = run_cli("open", doc["agenda"], "--out", str(out), "--passphrase-file",
                str(cli_office.secrets / "kabid.pp"), user="kabid")
    assert r.returncode == 1 and "cannot be decrypted" in r.stderr
    assert not out.exists()


def test_biasa_opens_for_every_role(run_cli, cli_office, tmp_path, sample_pdf):
    agenda = register(run_cli, sample_pdf, "biasa").json()["agenda"]
    for user in ("operator", "kasi", "kabid", "kadis", "admin"):
        out = tmp_path / f"{user}.pdf"
        r = run_cli("open", agenda, "--out", str(out), user=user)
        assert r.returncode == 0, r.stderr
        assert out.read_bytes() == sample_pdf.read_bytes()


def test_authentication_is_required_and_checked(run_cli, cli_office):
    r = run_cli("list")
    assert r.returncode == 1 and "sign in first" in r.stderr
    r = run_cli("list", env={"BRANKAS_USER": "operator", "BRANKAS_PASSWORD": "wrong"})
    assert r.returncode == 1 and "wrong username or password" in r.stderr
    r = run_cli("list", "--user", "operator", "--password-file",
                str(cli_office.secrets / "operator.pw"), "--json")
    assert r.returncode == 0 and r.json() == []


def test_lockout_after_repeated_failures(run_cli, cli_office):
    for _ in range(5):
        run_cli("list", env={"BRANKAS_USER": "kadis", "BRANKAS_PASSWORD": "wrong"})
    r = run_cli("list", user="kadis")  # now even the right password is refused
    assert r.returncode == 1 and "locked" in r.stderr


@pytest.mark.parametrize(
    ("user", "args", "needle"),
    [
        ("kadis", ["register"], "may not register"),
        ("kasi", ["register"], "may not register"),
        ("admin", ["register"], "may not register"),
        ("operator", ["user", "add", "x", "--role", "kasi"], "may not manage users"),
        ("kabid", ["user", "add", "x", "--role", "kasi"], "may not manage users"),
        ("operator", ["key", "new", "--holder", "kasi"], "may not manage keys"),
        ("kasi", ["key", "new", "--holder", "kabid"], "may not manage keys"),
        ("kadis", ["import"], "may not import"),
    ],
)
def test_role_rules_on_the_cli(run_cli, cli_office, tmp_path, sample_pdf, user, args, needle):
    if args == ["register"]:
        args = ["register", str(sample_pdf), "--direction", "penerimaan", "--classification",
                "biasa", "--subject", "x", *REGISTER]
    elif args == ["import"]:
        folder = tmp_path / "old"
        (folder / "biasa" / "penerimaan").mkdir(parents=True)
        args = ["import", str(folder)]
    env = {}
    if args[0] == "user":
        pw = tmp_path / "new.pw"
        pw.write_text("Some-New-Pass-2026!\n")
        args = [*args, "--password-file", str(pw)]
    if args[0] == "key":
        env = {"BRANKAS_PASSPHRASE": "lembah sunyi menara biru pagi"}
    r = run_cli(*args, user=user, env=env)
    assert r.returncode == 1, r.stdout
    assert needle in r.stderr, r.stderr


def test_list_filters_and_show(run_cli, cli_office, tmp_path):
    for i, (cls, direction, subject) in enumerate(
        [("biasa", "penerimaan", "Laporan keuangan"), ("rahasia", "pengiriman", "Sandi baru"),
         ("biasa", "pengiriman", "Undangan upacara")]
    ):
        pdf = tmp_path / f"d{i}.pdf"
        make_pdf(pdf, text=subject)
        assert register(run_cli, pdf, cls, direction, subject).returncode == 0
    # The rahasia document's subject is sealed (issue 16): "tersegel" for everyone here.
    rows = run_cli("list", "--direction", "pengiriman", "--json", user="kadis").json()
    assert {r["subject"] for r in rows} == {"tersegel", "Undangan upacara"}
    rows = run_cli("list", "--classification", "rahasia", "--json", user="kadis").json()
    assert [r["subject"] for r in rows] == ["tersegel"]
    rows = run_cli("list", "--query", "upacara", "--json", user="kadis").json()
    assert [r["subject"] for r in rows] == ["Undangan upacara"]
    shown = run_cli("show", rows[0]["agenda"], "--json", user="kadis").json()
    assert shown["correspondent"] == "Bupati" and shown["number"] == "005/12/2026"
    missing = run_cli("show", "M-1999-9999", user="kadis")
    assert missing.returncode == 1 and "not found" in missing.stderr


@pytest.mark.slow
def test_audit_records_who_opened_what(run_cli, cli_office, cli_home, tmp_path, sample_pdf):
    import sqlite3

    agenda = register(run_cli, sample_pdf, "rahasia").json()["agenda"]
    run_cli("open", agenda, "--out", str(tmp_path / "o.pdf"), "--passphrase-file",
            str(cli_office.secrets / "kabid.pp"), user="kabid")
    run_cli("open", agenda, "--out", str(tmp_path / "p.pdf"), user="operator")
    r = run_cli("audit", "verify", "--json", user="admin")
    assert r.returncode == 0 and r.json()["ok"] is True
    con = sqlite3.connect(cli_home / "brankas.sqlite3")
    rows = con.execute(
        "select actor, action, target, outcome from audit_auditevent"
        " where action like 'document.%' order by seq"
    ).fetchall()
    con.close()
    assert ("operator", "document.register", agenda, "ok") in rows
    assert ("kabid", "document.open", agenda, "ok") in rows
    assert ("operator", "document.open", agenda, "denied") in rows


@pytest.mark.slow  # walks the temporary folders for the plaintext
def test_plaintext_of_exempted_never_touches_disk_via_cli(run_cli, cli_office, cli_home, tmp_path):
    marker = ("BRANKAS-MARKER-" + secrets.token_hex(16)).encode()
    src_dir = tmp_path / "source"
    src_dir.mkdir()
    pdf = src_dir / "rahasia.pdf"
    make_pdf(pdf, text=marker.decode())
    assert marker in pdf.read_bytes()  # the scanner below would see it
    started = time.time() - 1
    r = register(run_cli, pdf, "sangat-rahasia")
    assert r.returncode == 0, r.stderr
    r = run_cli("show", r.json()["agenda"], "--json", user="kabid")
    assert r.returncode == 0
    hits = scan_for(marker, [cli_home, tmp_path / "tmp"], exclude=(src_dir,))
    hits += scan_for(marker, SHARED_TEMP, since=started, exclude=(src_dir,))
    assert hits == []


def test_scanner_finds_a_planted_marker(tmp_path):
    marker = b"PLANTED-" + secrets.token_hex(8).encode()
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.bin").write_bytes(b"xx" + marker + b"yy")
    assert scan_for(marker, [tmp_path]) == [tmp_path / "a" / "b" / "f.bin"]
