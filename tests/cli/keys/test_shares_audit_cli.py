"""Review of issue 13: every use of the recovery shares is audited with the person who used
them and what for; through ``key grant`` and ``key revoke`` too (the CLI). A share file far
too large is refused unread there as everywhere else."""

from __future__ import annotations

from pathlib import Path

from tests.cli.keys.newholder import add_kabid2
from tests.conftest import cli, make_pdf


def _setup(cli_office, cli_home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(*args: str, user: str | None = "admin", **kw):  # type: ignore[no-untyped-def]
        return cli(cli_home, tmp_path, *args, user=user, **kw)

    identity = tmp_path / "pemulihan.txt"
    identity.write_text(cli_office.recovery_identity + "\n")
    out = tmp_path / "bagian"
    r = run("recovery", "split", "--shares", "5", "--threshold", "3", "--out-dir", str(out),
            "--identity-file", str(identity))
    assert r.returncode == 0, r.stderr
    add_kabid2(run, tmp_path)
    pdf = tmp_path / "rahasia.pdf"
    make_pdf(pdf, text="Operasi Senyap")
    r = run("register", str(pdf), "--direction", "penerimaan", "--classification",
            "rahasia", "--subject", "Operasi Senyap", "--number", "1/2026", "--date",
            "2026-11-20", "--correspondent", "Sekda", user="operator")
    assert r.returncode == 0, r.stderr
    shares = [str(out / f"share-{i}-of-5.txt") for i in (1, 3, 5)]
    return run, shares


def test_shares_used_for_a_grant_or_a_rekey_are_audited_with_who_and_why(
        cli_office, cli_home: Path, tmp_path: Path) -> None:
    run, shares = _setup(cli_office, cli_home, tmp_path)
    r = run("key", "grant", "--to", "kabid2", "--shares", *shares, "--quiet")
    assert r.returncode == 0, r.stderr
    r = run("key", "revoke", "--holder", "kabid", "--rekey", "--shares", *shares, "--quiet")
    assert r.returncode == 0, r.stderr
    r = run("key", "grant", "--to", "kabid2", "--shares", shares[0], "--quiet")
    assert r.returncode == 1  # too few: refused, and audited too
    r = run("audit", "list", "--json")
    used = [e for e in r.json() if e["action"] == "recovery.shares_used"]
    assert len(used) == 3
    for entry in used:
        assert entry["actor"] == "admin", entry
        assert entry["target"], entry


def test_a_huge_share_file_is_refused_unread_by_key_grant(cli_office, cli_home: Path,
                                                          tmp_path: Path) -> None:
    run, shares = _setup(cli_office, cli_home, tmp_path)
    big = tmp_path / "laporan.txt"
    big.write_text("acid " * 20000)
    r = run("key", "grant", "--to", "kabid2", "--shares", shares[0], shares[1], str(big),
            "--quiet")
    assert r.returncode == 1 and "too large for a share" in r.stderr, r.stderr
