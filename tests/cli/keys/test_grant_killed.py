"""A ``brankas key grant`` of 200 documents killed (SIGKILL) at random points: afterwards
every document, and every sealed register value (re-encrypted in batches between the
files), opens for kabid1 or kabid2 and for the recovery key, no value half-written, the
hashes on record match the files, a re-run completes, and no plaintext marker is left
anywhere under BRANKAS_HOME or the temporary folders."""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from brankas.core import crypto, sealing
from tests.cli.keys.newholder import KABID2_PASSPHRASE, add_kabid2
from tests.conftest import cli_env, make_pdf
from tests.hostile_disk import forkcli, harness
from tests.identities import identity_from_key_file, opens
from tests.leakscan import SHARED_TEMP, scan_for

pytestmark = [pytest.mark.skipif(not forkcli.available(), reason="SIGKILL and fork are POSIX"),
              pytest.mark.slow]

DOCS = 200




def _versions(archive: Path) -> int:
    return sum(name.endswith(".v2.pdf.age")
               for _, _, files in os.walk(archive) for name in files)


def _sealed(home: Path) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    con = sqlite3.connect(home / "brankas.sqlite3")
    try:
        rows = con.execute("select agenda, sealed from documents_document order by id")
        return [(agenda, json.loads(sealed)) for agenda, sealed in rows.fetchall()]
    finally:
        con.close()


def _docs(home: Path) -> list[tuple[str, str, str, str, str]]:
    con = sqlite3.connect(home / "brankas.sqlite3")
    try:
        return con.execute("select agenda, stored_path, stored_sha256, content_sha256,"
                           " recipients from documents_document order by id").fetchall()
    finally:
        con.close()


def _opens_value(entry: dict, ident, plain: str) -> bool:  # type: ignore[no-untyped-def,type-arg]
    try:
        return sealing.open_value(entry, [ident]) == plain
    except Exception:  # noqa: BLE001 - pyrage: no identity matched
        return False


def test_a_grant_killed_at_random_points_leaves_every_document_openable(
        run_cli, cli_office, cli_home: Path, tmp_path: Path) -> None:
    marker = "BRANKAS-GRANT-MARKER-" + secrets.token_hex(12)
    source = tmp_path / "source"
    folder = source / "dikecualikan" / "penerimaan" / "2025"
    folder.mkdir(parents=True)
    for i in range(DOCS):
        make_pdf(folder / f"surat_{i:03d}.pdf", text=f"{marker} {i}")
    assert marker.encode() in (folder / "surat_000.pdf").read_bytes()
    started = time.time() - 1
    r = run_cli("import", str(source), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    assert r.json()["imported"] == DOCS
    add_kabid2(run_cli, tmp_path)

    env = cli_env(cli_home, tmp_path, user="kabid")
    args = ["key", "grant", "--to", "kabid2",
            "--passphrase-file", str(cli_office.secrets / "kabid.pp"), "--json"]
    archive = cli_home / "arsip"
    rng = random.Random()
    kills = 0
    for _attempt in range(4):
        before = _versions(archive)
        if before >= DOCS - 10:
            break
        # The real command in a process of its own (a child of the fork server,
        # tests/hostile_disk/forkcli.py: no interpreter and Django start-up to wait
        # through), killed once a random number of further files are re-encrypted, plus a
        # random instant inside the next file's step (staging, publishing, commit, unlink).
        target = before + rng.randint(1, max(1, (DOCS - before) // 3))
        code, _, err = harness._commands().run_killed(
            args, env, tmp_path, reached=lambda target=target: _versions(archive) >= target,
            delay=rng.uniform(0, 0.02), timeout=120)
        assert code in (0, -signal.SIGKILL), err[-3000:]
        kills += code == -signal.SIGKILL
    assert kills >= 2, f"only {kills} grants could be killed"

    kabid1 = identity_from_key_file(cli_home, "kabid",
                                    (cli_office.secrets / "kabid.pp").read_text().strip())
    kabid2 = identity_from_key_file(cli_home, "kabid2", KABID2_PASSPHRASE)
    recovery = crypto.parse_identity(cli_office.recovery_identity)

    def check_every_document(after_rerun: bool) -> None:
        for agenda, path, stored_sha, content_sha, _recipients in _docs(cli_home):
            data = (cli_home / path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == stored_sha, agenda
            assert hashlib.sha256(crypto.decrypt_bytes(data, [recovery])).hexdigest() \
                == content_sha, agenda
            holders = [who for who, ident in (("kabid", kabid1), ("kabid2", kabid2))
                       if opens(data, ident)]
            assert holders, agenda
            if after_rerun:
                assert holders == ["kabid", "kabid2"], agenda
        values = 0
        for agenda, sealed in _sealed(cli_home):
            for name, entry in sealed.items():
                plain = sealing.open_value(entry, [recovery])  # whole, not half-written
                who = [w for w, ident in (("kabid", kabid1), ("kabid2", kabid2))
                       if _opens_value(entry, ident, plain)]
                assert who, (agenda, name)
                if after_rerun:
                    assert who == ["kabid", "kabid2"], (agenda, name)
                values += 1
        assert values >= DOCS  # each imported document's subject at least

    check_every_document(after_rerun=False)
    # A re-run completes (in this process: the kills above are the process boundary).
    done = run_cli(*args, user="kabid")
    assert done.returncode == 0, done.stderr
    check_every_document(after_rerun=True)
    files = [name for _, _, names in os.walk(archive) for name in names]
    assert len(files) == DOCS  # no superseded file and no stray version left
    assert _versions(archive) == DOCS
    r = run_cli("audit", "verify", "--json", user="admin")
    assert r.returncode == 0, r.stdout
    # each grant killed is in the audit log as cut short (found by the next run)
    con = sqlite3.connect(cli_home / "brankas.sqlite3")
    try:
        cut = con.execute("select count(*) from audit_auditevent where action = 'key.grant'"
                          " and outcome = 'failed' and detail like '%interrupted%'"
                          ).fetchone()[0]
    finally:
        con.close()
    assert cut == kills
    hits = scan_for(marker.encode(), [cli_home, tmp_path / "tmp"], exclude=(source,))
    hits += scan_for(marker.encode(), SHARED_TEMP, since=started, exclude=(source,))
    assert hits == []
    print(f"{kills} kills")
