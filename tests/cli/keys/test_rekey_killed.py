"""Review of issue 13: ``brankas key revoke --rekey --shares`` killed (SIGKILL) at random
points, then run again: every document opens for the remaining holder and the recovery
key, none for the revoked key, the hashes on record match, nothing stray is left in the
archive, no re-encrypting helper outlives its run, and no plaintext marker anywhere."""

from __future__ import annotations

import hashlib
import os
import random
import secrets
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from brankas.core import crypto
from tests.cli.keys.newholder import KABID2_PASSPHRASE, add_kabid2
from tests.conftest import cli_env, make_pdf
from tests.hostile_disk import forkcli, harness
from tests.identities import identity_from_key_file, opens
from tests.leakscan import SHARED_TEMP, scan_for

pytestmark = [pytest.mark.skipif(not forkcli.available(), reason="SIGKILL and fork are POSIX"),
              pytest.mark.slow]

DOCS = 60




def _versions(archive: Path, v: str) -> int:
    return sum(name.endswith(f".{v}.pdf.age") for _, _, files in os.walk(archive)
               for name in files)


def _helpers(home: Path) -> list[int]:
    """Live re-encrypting helper processes started for this home."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            env = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if b"brankas.core.keyring.pool" in cmd and f"BRANKAS_HOME={home}".encode() in env:
            found.append(int(pid))
    return found


def test_a_rekey_killed_at_random_points_is_completed_by_a_rerun(
        run_cli, cli_office, cli_home: Path, tmp_path: Path) -> None:
    marker = "BRANKAS-REKEY-MARKER-" + secrets.token_hex(12)
    source = tmp_path / "source"
    folder = source / "dikecualikan" / "penerimaan" / "2025"
    folder.mkdir(parents=True)
    for i in range(DOCS):
        make_pdf(folder / f"surat_{i:03d}.pdf", text=f"{marker} {i}")
    started = time.time() - 1
    r = run_cli("import", str(source), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    add_kabid2(run_cli, tmp_path)
    r = run_cli("key", "grant", "--to", "kabid2", "--passphrase-file",
                str(cli_office.secrets / "kabid.pp"), "--quiet", user="kabid")
    assert r.returncode == 0, r.stderr
    identity = tmp_path / "pemulihan.txt"
    identity.write_text(cli_office.recovery_identity + "\n")
    shares_dir = tmp_path / "bagian"
    r = run_cli("recovery", "split", "--shares", "3", "--threshold", "2", "--out-dir",
                str(shares_dir), "--identity-file", str(identity), user="admin")
    assert r.returncode == 0, r.stderr
    identity.unlink()
    shares = [str(shares_dir / "share-1-of-3.txt"), str(shares_dir / "share-3-of-3.txt")]

    env = cli_env(cli_home, tmp_path, user="admin")
    args = ["key", "revoke", "--holder", "kabid", "--rekey", "--shares", *shares, "--json"]
    archive = cli_home / "arsip"
    rng = random.Random()
    kills = 0
    for _attempt in range(3):
        before = _versions(archive, "v3")
        if before >= DOCS - 5:
            break
        # The real command in a process of its own (a child of the fork server,
        # tests/hostile_disk/forkcli.py), killed alone (its helpers must end by themselves)
        # once a random number of further files are re-encrypted, plus a random instant.
        target = before + rng.randint(1, max(1, (DOCS - before) // 3))
        code, _, err = harness._commands().run_killed(
            args, env, tmp_path,
            reached=lambda target=target: _versions(archive, "v3") >= target,
            delay=rng.uniform(0, 0.02), timeout=120)
        assert code in (0, -signal.SIGKILL), err[-3000:]
        kills += code == -signal.SIGKILL
    assert kills >= 1
    # The helpers end with their run (their input closed), killed or not.
    deadline = time.monotonic() + 60
    while _helpers(cli_home) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _helpers(cli_home) == []

    # The re-run in this process (the kills above are the process boundary).
    done = run_cli(*args, user="admin")
    assert done.returncode == 0, done.stderr

    kabid1 = identity_from_key_file(cli_home, "kabid",
                                    (cli_office.secrets / "kabid.pp").read_text().strip())
    kabid2 = identity_from_key_file(cli_home, "kabid2", KABID2_PASSPHRASE)
    recovery = crypto.parse_identity(cli_office.recovery_identity)
    con = sqlite3.connect(cli_home / "brankas.sqlite3")
    rows = con.execute("select agenda, stored_path, stored_sha256, content_sha256"
                       " from documents_document where suite != ''").fetchall()
    con.close()
    assert len(rows) == DOCS
    for agenda, path, stored_sha, content_sha in rows:
        data = (cli_home / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == stored_sha, agenda
        assert hashlib.sha256(crypto.decrypt_bytes(data, [recovery])).hexdigest() \
            == content_sha, agenda
        assert opens(data, kabid2), agenda
        assert not opens(data, kabid1), agenda
    files = [name for _, _, names in os.walk(archive) for name in names]
    assert len(files) == DOCS, sorted(files)[:5]
    assert not list((tmp_path / "tmp").rglob("*.part"))
    hits = scan_for(marker.encode(), [cli_home, tmp_path / "tmp"], exclude=(source,))
    hits += scan_for(marker.encode(), SHARED_TEMP, since=started, exclude=(source,))
    assert hits == []
