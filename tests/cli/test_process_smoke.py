"""The ``brankas`` command as a real process (``python -m brankas``), one command of each
group (or more where a group's commands start differently: ``init`` migrates with the job
queue's apps, ``recover`` builds a new instance, a refusal and a usage error end with
their own status): the rest of the suite runs the same command in-process
(tests/clirun.py), so these prove what only a process shows: the entry point, the start-up
of Django from the environment, the exit status and the two output streams as the shell
sees them. What a test only sets up or reads back around its process runs in-process
(``office.cli``): a process each would prove again what the group's process proved.

Killed, signalled and concurrent runs, and the hostile-disk corpus's attacked operations,
are real processes in their own tests; ``python -m brankas serve`` answering, naming its
data folder and running a queued job: tests/cli/backup/test_worker_jobs.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.backup.conftest import Office, validate
from tests.conftest import PASSWORDS, CliResult, cli

pytestmark = pytest.mark.slow


@pytest.fixture
def office(backed_up_template: Office, tmp_path: Path) -> Office:
    """A private copy of the backed-up CLI office (tests/cli/backup/conftest.py) and its disk."""
    return backed_up_template.private_copy(tmp_path)


def run(office: Office, *args: str, user: str | None = None,
        env: dict[str, str] | None = None) -> CliResult:
    return cli(office.home, office.base, *args, user=user, env=env, process=True)


def test_init_and_user_in_a_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    pw = tmp_path / "admin.pw"
    pw.write_text(PASSWORDS["admin"] + "\n")
    r = cli(home, tmp_path, "init", "--office", "Dinas Kominfo", "--admin", "admin",
            "--password-file", str(pw), "--json", process=True)
    assert r.returncode == 0, r.stderr
    assert r.json()["home"] == str(home) and r.json()["recovery_identity"].startswith(
        "AGE-SECRET-KEY-1")
    assert (home / "brankas.sqlite3").is_file()
    r = cli(home, tmp_path, "user", "list", "--json", user="admin", process=True)
    assert r.returncode == 0, r.stderr
    assert [u["username"] for u in r.json()] == ["admin"]
    # A refusal: status 1, the message on stderr, nothing on stdout.
    r = cli(home, tmp_path, "user", "add", "x", "--role", "kasi", user="admin",
            env={"BRANKAS_PASSWORD": "salah-sandi-123"}, process=True)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "brankas: wrong username or password\n"


def test_document_commands_in_a_process(office: Office) -> None:
    agenda = next(a for a, d in office.docs.items() if d.exempted)
    r = office.cli("list", "--json", user="kasi")
    assert r.returncode == 0, r.stderr
    assert sorted(d["agenda"] for d in r.json()) == sorted(office.docs)
    r = office.cli("show", agenda, "--json", user="kabid")
    assert r.returncode == 0 and r.json()["agenda"] == agenda, r.stderr
    out = office.base / "dibuka.pdf"
    r = run(office, "open", agenda, "--out", str(out), "--passphrase-file",
            office.secret("kabid.pp"), user="kabid")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == office.docs[agenda].original
    pdf = office.base / "baru.pdf"
    pdf.write_bytes(office.docs[agenda].original.replace(b"page 1", b"page 9"))
    r = run(office, "register", str(pdf), "--direction", "penerimaan", "--classification",
            "rahasia", "--subject", "Surat baru", "--number", "9/2026", "--date", "2026-11-21",
            "--correspondent", "Sekda", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    assert r.json()["stored_path"].endswith(f"/{r.json()['agenda']}.pdf.age")


def test_key_commands_in_a_process(office: Office) -> None:
    r = run(office, "key", "list", "--json", user="admin")
    assert r.returncode == 0, r.stderr
    assert "kabid" in r.stdout


def test_backup_and_verify_in_a_process(office: Office) -> None:
    office.register("pengiriman", "biasa", "Surat sesudah back up pertama")
    r = run(office, "backup", str(office.disk), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    assert r.json()["run"] == 2 and len(r.json()["agendas"]) == 1
    validate(office.disk)
    r = office.cli("backup", "list", "--json", user="kadis")
    assert [x["run"] for x in r.json()] == [2, 1], r.stderr
    r = office.cli("verify", str(office.disk), "--json", user="operator")
    assert r.returncode == 0 and r.json()["ok"] is True, r.stdout + r.stderr
    # verify's documented status: 1 when problems are found.
    stored = next(iter(office.docs.values())).stored_path
    (office.disk / "data" / stored).write_bytes(b"rusak")
    r = run(office, "verify", str(office.disk), "--json", user="operator")
    assert r.returncode == 1 and r.json()["ok"] is False


def test_restore_drill_and_recover_in_a_process(office: Office) -> None:
    to = office.base / "pulih"
    r = office.cli("restore", str(office.disk), "--to", str(to), "--json", user="kadis")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in to.rglob("*") if p.is_file()) == sorted(
        Path(d.stored_path).name for d in office.docs.values())
    r = run(office, "drill", str(office.disk), "--json", user="kabid")
    assert r.returncode == 0 and r.json()["ok"] is True, r.stdout + r.stderr
    new = office.base / "rumah-baru"
    r = run(office, "recover", str(office.disk), "--home", str(new), "--identity",
            str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["ok"] is True and r.json()["documents"] == len(office.docs)
    assert (new / "brankas.sqlite3").is_file()


def test_custody_commands_in_a_process(office: Office) -> None:
    label = office.first_run["medium"]["label"]
    combination = office.base / "kombinasi.txt"
    combination.write_text("12-34-56\n")
    r = run(office, "safe", "add", "Brankas-A", "--location", "Ruang Sandi",
            "--combination-file", str(combination), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    r = office.cli("media", "checkin", label, "--safe", "Brankas-A", user="operator")
    assert r.returncode == 0, r.stderr
    r = office.cli("media", "list", "--json", user="kadis")
    assert [(d["label"], d["state"], d["safe"]) for d in r.json()] == [
        (label, "in_safe", "Brankas-A")]


def test_report_and_request_commands_in_a_process(office: Office) -> None:
    r = run(office, "report", "create", "messages", "--period", "2026-11", "--json",
            user="operator")
    assert r.returncode == 0 and r.json()["state"] == "draft", r.stderr
    r = run(office, "request", "create", "--subject", "Kirim berita", "--classification",
            "biasa", "--addressee", "Gubernur", "--json", user="kadis")
    assert r.returncode == 0, r.stderr
    r = office.cli("request", "show", str(r.json()["request"]), "--json", user="kadis")
    assert r.returncode == 0 and r.json()["subject"] == "Kirim berita", r.stderr


def test_audit_commands_in_a_process(office: Office) -> None:
    r = run(office, "audit", "verify", "--json", user="admin")
    assert r.returncode == 0 and r.json()["ok"] is True, r.stdout + r.stderr
    r = office.cli("audit", "list", "--json", user="admin")
    assert r.returncode == 0 and any(e["action"] == "backup.run" for e in r.json())


def test_usage_errors_and_help_in_a_process(tmp_path: Path) -> None:
    r = cli(tmp_path / "home", tmp_path, "register", process=True)
    assert r.returncode == 2 and r.stdout == ""
    # Worded as every other error (issue 14): brankas: ..., then where help is.
    assert r.stderr == ("brankas: FILES is required\n"
                        "Help: python -m brankas register --help\n")
    r = cli(tmp_path / "home", tmp_path, "--version", process=True)
    assert (r.returncode, r.stdout) == (0, "brankas, version 0.1.0\n")
    # Not set up: a clean refusal, no traceback.
    r = cli(tmp_path / "home", tmp_path, "list", user="admin", process=True)
    assert r.returncode == 1 and r.stderr.startswith("brankas: ")
    assert "Traceback" not in r.stderr
