"""Review of the grant's group recording (s19): ``brankas key grant`` killed (SIGKILL) at
points inside a group's recording, chosen rather than hit by chance: in the fsync threads
(a staged file's or a folder's fsync, before or after it), between the publications of
a group's files, inside its transaction (after a file's record, after the superseded
rows, after the audit entries) and between its commit and the old files' removal; with
the group's fsync in its own thread (beside the sealed values' steps) and without.
After each kill every document opens for the recovery key and for kabid or kabid2, its
hash on record matches its file; a re-run completes; nothing stray is left; no plaintext
marker anywhere (tests/cli/keys/killpoint.py kills the real command from inside; each
killed run a child of the fork server, tests/hostile_disk/forkcli.py, without a second of
interpreter and Django start-up)."""

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

DOCS = 40
REPO = Path(__file__).resolve().parents[3]

# (function, when, the highest N drawn): inside the first groups of a run (8 files each)
POINTS = [
    ("brankas.core.fsutil:_fsync_path", "before", 20),
    ("brankas.core.fsutil:_fsync_path", "after", 20),
    ("brankas.core.fsutil:publish", "after", 12),
    ("brankas.web.keys.rewrap:_record_row", "after", 12),
    ("brankas.web.keys.rewrap:_supersede", "after", 2),
    ("brankas.web.keys.rewrap:audit_record_many", "after", 3),
    ("brankas.web.keys.rewrap:_supersede", "commit", 2),
]


def _docs(home: Path) -> list[tuple[str, str, str, str]]:
    con = sqlite3.connect(home / "brankas.sqlite3")
    try:
        return con.execute("select agenda, stored_path, stored_sha256, content_sha256"
                           " from documents_document order by id").fetchall()
    finally:
        con.close()


def _versions(archive: Path) -> int:
    return sum(name.endswith(".v2.pdf.age") for _, _, files in os.walk(archive)
               for name in files)


def test_a_grant_killed_inside_its_group_recording_leaves_every_document_openable(
        run_cli, cli_office, cli_home: Path, tmp_path: Path) -> None:
    marker = "BRANKAS-GROUP-MARKER-" + secrets.token_hex(12)
    source = tmp_path / "source"
    folder = source / "dikecualikan" / "penerimaan" / "2025"
    folder.mkdir(parents=True)
    for i in range(DOCS):
        make_pdf(folder / f"surat_{i:03d}.pdf", text=f"{marker} {i}")
    started = time.time() - 1
    r = run_cli("import", str(source), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    add_kabid2(run_cli, tmp_path)
    kabid1 = identity_from_key_file(cli_home, "kabid",
                                    (cli_office.secrets / "kabid.pp").read_text().strip())
    kabid2 = identity_from_key_file(cli_home, "kabid2", KABID2_PASSPHRASE)
    recovery = crypto.parse_identity(cli_office.recovery_identity)
    archive = cli_home / "arsip"

    def check(after_rerun: bool) -> None:
        for agenda, path, stored_sha, content_sha in _docs(cli_home):
            data = (cli_home / path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == stored_sha, (agenda, spec)
            assert hashlib.sha256(crypto.decrypt_bytes(data, [recovery])).hexdigest() \
                == content_sha, (agenda, spec)
            holders = [who for who, ident in (("kabid", kabid1), ("kabid2", kabid2))
                       if opens(data, ident)]
            assert holders == ["kabid", "kabid2"] if after_rerun else holders, (agenda, spec)

    args = ["key", "grant", "--to", "kabid2",
            "--passphrase-file", str(cli_office.secrets / "kabid.pp"), "--json"]
    env = cli_env(cli_home, tmp_path, user="kabid")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    kills = []
    spec = ""
    import shutil

    fresh = tmp_path / "fresh-home"
    shutil.copytree(cli_home, fresh)
    for round_ in range(2):
        for point, when, most in POINTS:
            if _versions(archive) >= DOCS // 2:  # most done: again from the start
                shutil.rmtree(cli_home)
                shutil.copytree(fresh, cli_home)
            spec = f"{point}:{rng.randint(1, most)}:{when}"
            run_env = {**env, "BRANKAS_TEST_KILL": spec,
                       "BRANKAS_TEST_SEALED_ROWS": "1" if round_ == 0 else "100000"}
            # The real command in a process of its own: a child of the fork server
            # (tests/hostile_disk/forkcli.py), the kill point installed in it; the re-run
            # below runs in this process.
            code, _, err, hung = harness._commands().run(
                args, run_env, tmp_path, 300, on_hang=lambda: None)
            assert not hung and code in (0, -signal.SIGKILL), (spec, err)
            if code == -signal.SIGKILL:
                kills.append(spec)
            check(after_rerun=False)
    assert len(kills) == 2 * len(POINTS), (seed, kills)
    spec = "re-run"
    # In this process (the kills above are the process boundary; the environment without
    # a kill point: tests/clirun.py).
    done = run_cli(*args, user="kabid")
    assert done.returncode == 0, done.stderr
    check(after_rerun=True)
    files = [name for _, _, names in os.walk(archive) for name in names]
    assert len(files) == DOCS and _versions(archive) == DOCS, (seed, kills)
    r = run_cli("audit", "verify", "--json", user="admin")
    assert r.returncode == 0, r.stdout
    hits = scan_for(marker.encode(), [cli_home, tmp_path / "tmp"], exclude=(source,))
    hits += scan_for(marker.encode(), SHARED_TEMP, since=started, exclude=(source,))
    assert hits == []
    print(f"seed {seed}: {len(kills)} kills: {kills}")
