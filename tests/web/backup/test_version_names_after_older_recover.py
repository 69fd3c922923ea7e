"""Review of issue 13: an instance recovered from a snapshot written before a grant (a
damaged newest snapshot, --allow-older; or the older of two disks) grants again later. Its
next version must not take a name the disk already holds with other bytes: backup disks
are append-only, so every later backup to that disk is refused (backup_path_conflict)."""

from __future__ import annotations

from pathlib import Path

import pytest

from brankas.core.disk.format import read_payload_manifest
from tests.conftest import PASSWORDS, cli, make_pdf, quick_key_making

pytestmark = pytest.mark.slow
KABID2_PASSPHRASE = "elang putih terbang di atas danau toba"


def _join_kabid2(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pw = tmp_path / "kabid2.pw"
    pw.write_text(PASSWORDS["kabid"] + "\n")
    r = run("user", "add", "kabid2", "--role", "kabid", "--full-name", "Kabid Baru",
            "--password-file", str(pw), user="admin")
    assert r.returncode == 0, r.stderr
    pp2 = tmp_path / "kabid2.pp"
    pp2.write_text(KABID2_PASSPHRASE + "\n")
    with quick_key_making():
        r = run("key", "new", "--holder", "kabid2", "--passphrase-file", str(pp2),
                env={"BRANKAS_USER": "kabid2", "BRANKAS_PASSWORD": PASSWORDS["kabid"]})
    assert r.returncode == 0, r.stderr


def test_a_grant_after_an_older_recover_still_backs_up_to_the_disk(
        run_cli, cli_office, cli_home: Path, tmp_path: Path) -> None:
    kabid_pp = str(cli_office.secrets / "kabid.pp")
    pdf = tmp_path / "rahasia.pdf"
    make_pdf(pdf, text="Operasi Senyap")
    r = run_cli("register", str(pdf), "--direction", "penerimaan", "--classification",
                "rahasia", "--subject", "Operasi Senyap", "--number", "1/2026", "--date",
                "2026-11-20", "--correspondent", "Sekda", user="operator")
    assert r.returncode == 0, r.stderr
    disk = tmp_path / "disk"
    r = run_cli("backup", "run", str(disk), "--label", "A", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    _join_kabid2(run_cli, tmp_path)
    r = run_cli("key", "grant", "--to", "kabid2", "--passphrase-file", kabid_pp, "--quiet",
                user="kabid")
    assert r.returncode == 0, r.stderr
    r = run_cli("backup", "run", str(disk), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    newest = disk / "data" / "backup" / r.json()["folder"] / "database.json.age"
    assert any(p.endswith(".v2.pdf.age") for p in read_payload_manifest(disk))
    # The newest snapshot unreadable: recover takes the one from before the grant.
    data = newest.read_bytes()
    broken = bytearray(data)
    broken[len(broken) // 2] ^= 0xFF
    newest.write_bytes(bytes(broken))
    home = tmp_path / "pulih"
    key = tmp_path / "recovery.txt"
    key.write_text(cli_office.recovery_identity + "\n")
    r = cli(home, tmp_path, "recover", str(disk), "--home", str(home), "--identity", str(key),
            "--allow-older", "--json")
    assert r.returncode in (0, 1), r.stderr
    assert r.json()["newer_versions"], r.json()
    key.unlink()
    newest.write_bytes(data)  # the disk mended (or: the other disk, written after)

    def run(*args: str, user: str | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        return cli(home, tmp_path, *args, user=user, env=env)

    # The new Kabid joins again in the recovered instance and receives the archive.
    (tmp_path / "again").mkdir()
    _join_kabid2(run, tmp_path / "again")
    r = run("key", "grant", "--to", "kabid2", "--passphrase-file", kabid_pp, "--quiet",
            user="kabid")
    assert r.returncode == 0, r.stderr
    r = run("backup", "run", str(disk), "--json", user="operator")
    assert r.returncode == 0, r.stderr + r.stdout
