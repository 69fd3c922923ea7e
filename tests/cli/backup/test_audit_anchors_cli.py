"""The audit log's tail is anchored, through the real ``brankas`` command: the office backs
up to a disk, a report is approved and exported, it backs up again; then an insider cuts
or rewrites the log with ``sqlite3`` (and the code), and ``brankas audit verify`` names it,
alone (the counter) or ``--against`` the disk and the report's PDF."""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from tests.cli.backup.conftest import Office
from tests.conftest import make_pdf, quick_key_making

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow  # an approved report signed through the CLI: key derivations


@pytest.fixture(scope="session")
def anchored_template(backed_up_template: Office, tmp_path_factory) -> Office:  # type: ignore[no-untyped-def]
    """The backed-up office, then an approved report exported to a file, then a second
    backup: the disk holds two heads, the PDF one between them."""
    t = backed_up_template
    base = tmp_path_factory.mktemp("anchored-office")
    shutil.copytree(t.home, base / "home")
    shutil.copytree(t.disk, base / "disk")
    office = Office(base=base, home=base / "home", disk=base / "disk", secrets=t.secrets,
                    recovery_file=t.recovery_file, docs=dict(t.docs), first_run=t.first_run)
    signing = base / "signing"
    signing.mkdir()
    for name in ("operator", "kasi", "kabid"):
        (signing / name).write_text(f"frasa tanda tangan {name} 2026\n")
    (base / "ringkasan.txt").write_text("Semua disk utuh.\n")
    r = office.cli("report", "create", "backup", "--period", "2026-11", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    n = str(r.json()["report"])
    for args, user in ((("submit", n), "operator"),
                       (("forward", n, "--summary-file", str(base / "ringkasan.txt")), "kasi"),
                       (("approve", n), "kabid")):
        with quick_key_making():  # signers' keys made at a small scrypt work factor
            r = office.cli("report", *args, "--passphrase-file", str(signing / user),
                           user=user)
        assert r.returncode == 0, r.stderr
    r = office.cli("report", "export", n, "--format", "pdf", "--out", str(base / "laporan.pdf"),
                   user="kabid")
    assert r.returncode == 0, r.stderr
    r = office.backup()
    assert r.returncode == 0, r.stderr
    return office


@pytest.fixture
def office(anchored_template: Office, tmp_path: Path) -> Office:
    t = anchored_template
    base = tmp_path / "o"
    base.mkdir()
    shutil.copytree(t.home, base / "home")
    shutil.copytree(t.disk, base / "disk")
    shutil.copy2(t.base / "laporan.pdf", base / "laporan.pdf")
    return Office(base=base, home=base / "home", disk=base / "disk", secrets=t.secrets,
                  recovery_file=t.recovery_file, docs=dict(t.docs), first_run=t.first_run)


def write(office: Office, query: str, *params: object) -> None:
    """The insider's own ``sqlite3`` session on the database."""
    con = sqlite3.connect(office.home / "brankas.sqlite3")
    try:
        with con:
            con.execute(query, params)
    finally:
        con.close()


def disk_heads(office: Office) -> list[int]:
    """The heads the disk's control lists recorded, oldest run first (read directly)."""
    return [json.loads(p.read_text())["audit_head"]["seq"]
            for p in sorted((office.disk / "data" / "backup").glob("*/daftar-kontrol.json"))]


def report_head(office: Office) -> tuple[int, str]:
    ((seq, digest),) = office.sql("select audit_seq, audit_hash from reports_report")
    return seq, digest


def last(office: Office) -> int:
    return office.sql("select max(seq) from audit_auditevent")[0][0]


def verify(office: Office, *against: Path):  # type: ignore[no-untyped-def]
    args = [a for path in against for a in ("--against", str(path))]
    return office.cli("audit", "verify", *args, "--json", user="admin")


def problems(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["problem"]["message"] for r in result.json()["anchors"] if r["problem"]]


def forge(office: Office, *commands: str) -> None:
    """An insider with the code and the database: ``tests.auditforge``, in its own process."""
    r = subprocess.run([sys.executable, "-m", "tests.auditforge", str(office.home), *commands],
                       cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_a_consistent_log_holds_against_the_disk_and_the_pdf(office: Office) -> None:
    pdf = office.base / "laporan.pdf"
    first, second = disk_heads(office)
    seq, _ = report_head(office)
    assert first < seq < second
    r = verify(office, office.disk, pdf)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.json()
    assert out["ok"] and out["counted_to"] == out["last"] == last(office)
    assert [(a["kind"], a["seq"], a["ok"]) for a in out["anchors"]] == [
        ("report", seq, True), ("disk", second, True), ("disk", first, True),
        ("report", seq, True)]
    assert out["anchors"][1]["source"] == "disk DISK-01, backup 2"
    r = office.cli("audit", "verify", "--against", str(office.disk), user="kadis")
    assert r.returncode == 0 and "disk DISK-01, backup 1" in r.stdout
    assert r.stdout.strip().endswith("utuh / intact")


def test_a_cut_tail_is_named_by_the_counter_and_its_numbers_are_not_given_again(
        office: Office) -> None:
    end = last(office)
    write(office, "delete from audit_auditevent where seq > ?", end - 3)
    r = office.cli("audit", "verify", user="admin")
    assert r.returncode == 1
    assert r.stderr.startswith("brankas: the audit log has problems (1 found); the first: "
                               f"entries #{end - 2}–#{end} are missing")
    assert f"entries #{end - 2}–#{end} are missing" in r.stdout
    # The command's own sign-in took the next number, not a deleted one.
    assert office.sql("select seq, action from audit_auditevent where seq > ?", end - 3) == [
        (end + 1, "auth.login")]
    r = office.cli("audit", "verify", "--json", user="admin",
                   env={"BRANKAS_LANG": "id"})
    out = r.json()
    assert r.returncode == 1 and not out["ok"] and out["first_bad"] == end - 2
    assert out["chain"]["message"] == f"entri #{end - 2}–#{end} hilang"
    assert office.sql("select last from audit_auditsequence") == [(end + 2,)]


def cut_and_reset(office: Office, keep: int) -> None:
    """The insider's cut with ``sqlite3``: the tail, the counter, the reports' heads."""
    write(office, "delete from audit_auditevent where seq > ?", keep)
    write(office, "update audit_auditsequence set last = ?", keep)
    ((digest,),) = office.sql("select hash from audit_auditevent where seq = ?", keep)
    write(office, "update reports_report set audit_seq = ?, audit_hash = ?", keep, digest)


def test_an_insider_cut_passes_alone_but_not_against_the_disk_or_the_pdf(office: Office) -> None:
    pdf = office.base / "laporan.pdf"
    first, second = disk_heads(office)
    printed, _ = report_head(office)
    keep = first - 8  # room for the sign-ins of the commands below
    cut_and_reset(office, keep)
    r = office.cli("audit", "verify", "--json", user="admin")
    assert r.returncode == 0 and r.json()["ok"], r.stdout  # nothing left to tell
    r = verify(office, office.disk)
    assert r.returncode == 1
    end = r.json()["last"]
    assert end < first
    assert problems(r) == [
        f"entries after #{end} are missing; disk DISK-01, backup 2 recorded #{second}",
        f"entries after #{end} are missing; disk DISK-01, backup 1 recorded #{first}"]
    assert r.stderr.startswith("brankas: the audit log has problems (2 found)")
    r = verify(office, pdf)
    assert r.returncode == 1
    end = r.json()["last"]
    assert problems(r) == [
        f"entries after #{end} are missing; PDF laporan.pdf recorded #{printed}"]
    r = office.cli("audit", "verify", "--against", str(pdf), user="admin")
    assert r.returncode == 1 and "MASALAH / PROBLEM" in r.stdout
    assert f"PDF laporan.pdf recorded #{printed}" in r.stderr


def test_a_consistently_rewritten_chain_is_caught_against_the_disk_and_the_pdf(
        office: Office) -> None:
    pdf = office.base / "laporan.pdf"
    first, second = disk_heads(office)
    printed, original = report_head(office)
    forge(office, "rewrite", "5", "cover-reports")
    assert report_head(office) != (printed, original)  # the database agrees with the forgery
    r = office.cli("audit", "verify", "--json", user="admin")
    assert r.returncode == 0 and r.json()["ok"], r.stdout
    r = verify(office, office.disk, pdf)
    assert r.returncode == 1
    assert problems(r) == [
        f"entry #{second} is not the one disk DISK-01, backup 2 recorded: the log was "
        f"rewritten up to #{second}",
        f"entry #{first} is not the one disk DISK-01, backup 1 recorded: the log was "
        f"rewritten up to #{first}",
        f"entry #{printed} is not the one PDF laporan.pdf recorded: the log was rewritten "
        f"up to #{printed}"]
    assert [(a["kind"], a["ok"]) for a in r.json()["anchors"]] == [
        ("report", True), ("disk", False), ("disk", False), ("report", True), ("pdf", False)]


def test_a_report_pdf_approved_before_the_keywords_is_read_from_its_text(
        office: Office) -> None:
    """An older approved PDF carries the head only in its printed verification block;
    the insider also deleted the report from the database."""
    pdf = office.base / "laporan.pdf"
    with pikepdf.open(pdf) as doc:
        del doc.docinfo["/Keywords"]
        out = io.BytesIO()
        doc.save(out)
    older = office.base / "laporan-lama.pdf"
    older.write_bytes(out.getvalue())
    printed, _ = report_head(office)
    r = verify(office, older)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [(a["kind"], a["seq"]) for a in r.json()["anchors"]] == [
        ("report", printed), ("pdf", printed)]
    cut_and_reset(office, printed - 6)
    write(office, "delete from reports_reportstep")
    write(office, "delete from reports_report")
    r = verify(office, older)
    assert r.returncode == 1
    assert re.fullmatch(rf"entries after #\d+ are missing; PDF laporan-lama.pdf recorded "
                        rf"#{printed}", problems(r)[0])


def test_against_what_carries_no_head_is_a_clear_error(office: Office) -> None:
    scan = office.base / "scan-0.pdf"
    make_pdf(scan)
    r = office.cli("audit", "verify", "--against", str(scan), user="admin")
    assert r.returncode == 1
    assert r.stderr == ("brankas: scan-0.pdf carries no audit-chain head (not an approved "
                        "Brankas report?)\n")
    r = office.cli("audit", "verify", "--against", str(office.base / "tidak-ada"), user="admin")
    assert r.returncode == 1 and "tidak-ada not found" in r.stderr
    r = office.cli("audit", "verify", "--against", str(office.base), user="admin")
    assert r.returncode == 1 and r.stderr.startswith("brankas: ") and r.stdout == ""
