"""Review of issue 13: ``recovery split`` records the split (and the dashboard then counts
the office as having shares) only when its share files were written. An --out-dir that
cannot be made is refused before the split is recorded."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import cli


def test_a_split_whose_files_cannot_be_written_is_not_recorded(cli_office, cli_home: Path,
                                                                tmp_path: Path) -> None:
    def run(*args: str, user: str | None = "admin"):  # type: ignore[no-untyped-def]
        return cli(cli_home, tmp_path, *args, user=user)

    identity = tmp_path / "pemulihan.txt"
    identity.write_text(cli_office.recovery_identity + "\n")
    blocker = tmp_path / "laporan.txt"
    blocker.write_text("not a folder\n")
    out = blocker / "bagian"  # its parent is a file: the folder cannot be made
    r = run("recovery", "split", "--shares", "3", "--threshold", "2", "--out-dir", str(out),
            "--identity-file", str(identity))
    assert r.returncode != 0
    r = run("audit", "list", "--json")
    done = [e for e in r.json() if e["action"] == "recovery.split" and e["outcome"] == "ok"]
    assert done == [], done
