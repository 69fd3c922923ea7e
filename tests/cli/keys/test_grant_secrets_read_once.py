"""Review of s16 D: ``brankas key grant`` reads its passphrase once. The unlock begun at
the command's first step (``cli/keygrant.unlocks_ahead``) must not read
``--passphrase-file`` a second time: a file that gives its text once (a pipe:
``--passphrase-file /dev/stdin``, ``<(...)``) grants with the passphrase it gave, as
before (read twice, the grant got an empty passphrase and was refused)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.keys.newholder import add_kabid2
from tests.conftest import cli_env, make_pdf


def test_a_grant_with_a_passphrase_given_once(run_cli, cli_office, cli_home: Path,  # type: ignore[no-untyped-def]
                                              tmp_path: Path) -> None:
    folder = tmp_path / "source" / "dikecualikan" / "penerimaan" / "2025"
    folder.mkdir(parents=True)
    make_pdf(folder / "surat_001.pdf", text="satu")
    r = run_cli("import", str(tmp_path / "source"), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    add_kabid2(run_cli, tmp_path)
    passphrase = (cli_office.secrets / "kabid.pp").read_text().splitlines()[0]
    r2 = subprocess.run([sys.executable, "-m", "brankas", "key", "grant", "--to", "kabid2",
                         "--passphrase-file", "/dev/stdin", "--json"],
                        env=cli_env(cli_home, tmp_path, user="kabid"), cwd=tmp_path,
                        text=True, input=passphrase + "\n", capture_output=True, timeout=300)
    assert r2.returncode == 0, r2.stderr
    assert '"files": 1' in r2.stdout, r2.stdout
