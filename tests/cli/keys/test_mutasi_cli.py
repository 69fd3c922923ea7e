"""The mutasi scenario through the real ``brankas`` command: kabid1 holds the key; three
rahasia documents, a request letter and a safe combination exist; kabid2 joins and makes
a key; kabid1 grants; kabid1 is revoked; kabid2 opens all of them; ``age -d -i`` opens a
stored file with kabid2's identity; a new registration goes to kabid2 and the recovery
key only."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyrage

from brankas.core import crypto
from tests.cli.keys.newholder import KABID2_PASSPHRASE, add_kabid2
from tests.clirun import call_in_process
from tests.conftest import cli_env, make_pdf


def register(run_cli, tmp_path: Path, subject: str) -> dict:  # type: ignore[no-untyped-def]
    pdf = tmp_path / f"{subject}.pdf"
    make_pdf(pdf, text=subject)
    r = run_cli("register", str(pdf), "--direction", "penerimaan", "--classification",
                "rahasia", "--subject", subject, "--number", "1/2026", "--date",
                "2026-11-20", "--correspondent", "Sekda", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    return {**r.json(), "plain": pdf.read_bytes()}


def _upgrade() -> str:
    from brankas import instance

    return str(instance.upgrade())


def test_mutasi_through_the_cli(run_cli, cli_office, cli_home: Path, tmp_path: Path):
    secrets = cli_office.secrets
    kabid_pp = str(secrets / "kabid.pp")
    docs = [register(run_cli, tmp_path, f"Operasi Senyap {i}") for i in range(3)]
    letter = tmp_path / "surat.pdf"
    make_pdf(letter, text="surat rahasia untuk dikirim")
    r = run_cli("request", "create", "--subject", "Berita rahasia", "--classification",
                "rahasia", "--addressee", "Pangdam", "--attach", str(letter), "--json",
                user="kadis")
    assert r.returncode == 0, r.stderr
    request = str(r.json()["request"])
    combination = tmp_path / "combination.txt"
    combination.write_text("12-34-56\n")
    r = run_cli("safe", "add", "Brankas-A", "--location", "Ruang Sandi", "--combination-file",
                str(combination), user="operator")
    assert r.returncode == 0, r.stderr

    # kabid2 joins and makes a key.
    kabid2 = add_kabid2(run_cli, tmp_path)
    pp2, env2 = kabid2.passphrase_file, kabid2.env
    out = tmp_path / "before.pdf"
    r = run_cli("open", docs[0]["agenda"], "--out", str(out), "--passphrase-file", str(pp2),
                env=env2)
    assert r.returncode == 1 and not out.exists()

    # kabid1 grants.
    r = run_cli("key", "grant", "--to", "kabid2", "--passphrase-file", kabid_pp, "--json",
                user="kabid")
    assert r.returncode == 0, r.stderr
    summary = r.json()
    assert (summary["documents"], summary["letters"], summary["combinations"]) == (3, 1, 1)
    assert summary["failed"] == []
    r = run_cli("key", "grant", "--to", "kabid2", "--passphrase-file", kabid_pp, user="kabid")
    assert r.returncode == 0, r.stderr
    assert "already readable: 4" in r.stdout

    # kabid1 is revoked (by the admin only).
    r = run_cli("key", "revoke", "--holder", "kabid", user="kabid")
    assert r.returncode == 1 and "may not" in r.stderr
    r = run_cli("key", "revoke", "--holder", "kabid", "--rekey", user="admin")
    assert r.returncode == 2 and "--shares" in r.stderr
    r = run_cli("key", "revoke", "--holder", "kabid", "--json", user="admin")
    assert r.returncode == 0, r.stderr
    revoked = r.json()
    assert revoked["holder"] == "kabid" and len(revoked["newly_revoked"]) == 1
    assert revoked["still_opens"] == []  # no backup yet: nothing on a disk
    r = run_cli("open", docs[0]["agenda"], "--out", str(tmp_path / "k1.pdf"),
                "--passphrase-file", kabid_pp, user="kabid")
    assert r.returncode == 1 and "revoked" in r.stderr

    # kabid2 opens all of them.
    for doc in docs:
        out = tmp_path / f"{doc['agenda'].replace('/', '_')}.pdf"
        r = run_cli("open", doc["agenda"], "--out", str(out), "--passphrase-file", str(pp2),
                    env=env2)
        assert r.returncode == 0, r.stderr
        assert out.read_bytes() == doc["plain"]
    out = tmp_path / "letter-out.pdf"
    r = run_cli("request", "open", request, "--out", str(out), "--passphrase-file", str(pp2),
                env=env2)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == letter.read_bytes()
    r = run_cli("safe", "combination", "Brankas-A", "--passphrase-file", str(pp2), env=env2)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "12-34-56"

    # The standard age tool opens a stored file with kabid2's identity (its key file,
    # unlocked with the passphrase, as `age -d` itself would ask for it).
    fingerprint = crypto.recipient_fingerprint(kabid2.recipient)
    key_file = cli_home / "keys" / f"kabid2-{fingerprint}.age"
    identity = pyrage.passphrase.decrypt(key_file.read_bytes(), KABID2_PASSPHRASE)
    plain_identity = tmp_path / "kabid2.identity"
    plain_identity.write_bytes(identity)
    r = run_cli("show", docs[1]["agenda"], "--json", user="kadis")
    assert r.returncode == 0, r.stderr
    stored = r.json()["stored_path"]
    assert stored.endswith(".v2.pdf.age")
    opened = subprocess.run(["age", "-d", "-i", str(plain_identity), str(cli_home / stored)],
                            capture_output=True, check=True).stdout
    assert opened == docs[1]["plain"]

    # A new registration goes to kabid2 and the recovery key only.
    new = register(run_cli, tmp_path, "Sesudah Mutasi")
    r = run_cli("show", new["agenda"], "--json", user="kadis")
    recipients = set(r.json()["recipients"])
    office_recovery = str(crypto.parse_identity(cli_office.recovery_identity).to_public())
    assert recipients == {fingerprint, crypto.recipient_fingerprint(office_recovery)}
    kabid_fp = crypto.recipient_fingerprint(cli_office.kabid_recipient)
    assert kabid_fp not in recipients
    # What `brankas serve` runs at every start (instance.upgrade: the renaming of exempted
    # files still named under the old rule) leaves the versioned names as they are.
    # (In this process, as a process of its own would run it: tests/clirun.py
    # ``call_in_process``.)
    upgraded = call_in_process(_upgrade, env=cli_env(cli_home, tmp_path), cwd=tmp_path,
                               set_up=False)
    assert "renamed=[]" in upgraded, upgraded
    r = run_cli("show", docs[1]["agenda"], "--json", user="kadis")
    assert r.json()["stored_path"] == stored and (cli_home / stored).is_file()
    r = run_cli("audit", "verify", "--json", user="admin")
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["ok"]
