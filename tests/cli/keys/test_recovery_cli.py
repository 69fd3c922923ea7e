"""``brankas recovery split|check`` and ``init --recovery-shares``: share files written
whole and private into an empty folder, never over anything; a check names the key."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pypdf
import pytest

from brankas.core import crypto
from tests.conftest import PASSWORDS, cli
from tests.leakscan import scan_for


def _office_cli(cli_office, cli_home: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    identity = tmp_path / "pemulihan.txt"
    identity.write_text(cli_office.recovery_identity + "\n")

    def run(*args: str, user: str | None = "admin", **kw):  # type: ignore[no-untyped-def]
        return cli(cli_home, tmp_path, *args, user=user, **kw)

    return run, identity


def test_split_then_check(cli_office, cli_home: Path, tmp_path: Path) -> None:
    run, identity = _office_cli(cli_office, cli_home, tmp_path)
    out = tmp_path / "bagian"
    r = run("recovery", "split", "--shares", "5", "--threshold", "3", "--out-dir", str(out),
            "--identity-file", str(identity), "--json")
    assert r.returncode == 0, r.stderr
    made = r.json()
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"share-{i}-of-5.{ext}" for i in range(1, 6)
                            for ext in ("txt", "pdf")])
    assert sorted(Path(f).name for f in made["files"]) == names
    assert (made["shares"], made["threshold"]) == (5, 3) and made["identifier"] >= 0
    if os.name == "posix":
        for path in out.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # The text file holds the words and nothing else; the PDF is that share's sheet.
    words = (out / "share-2-of-5.txt").read_text().split()
    assert len(words) == 33 and all(w.isalpha() and w.islower() for w in words)
    pdf = pypdf.PdfReader(io.BytesIO((out / "share-2-of-5.pdf").read_bytes()))
    text = " ".join(" ".join(p.extract_text().split()) for p in pdf.pages)
    assert len(pdf.pages) == 1 and "Bagian 2 dari 5" in text and "Dinas Kominfo" in text
    assert cli_office.recovery_identity not in text
    # The identity is not printed.
    assert cli_office.recovery_identity not in r.stdout + r.stderr

    recipient = str(crypto.parse_identity(cli_office.recovery_identity).to_public())
    fingerprint = crypto.recipient_fingerprint(recipient)
    r = run("recovery", "check", *(str(out / f"share-{i}-of-5.txt") for i in (1, 3, 5)))
    assert r.returncode == 0, r.stderr
    assert fingerprint in r.stdout and "this office's recovery key" in r.stdout
    r = run("recovery", "check", str(out / "share-4-of-5.txt"), str(out / "share-2-of-5.txt"),
            "--json")
    assert r.returncode == 1 and "3 are needed, 2 given" in r.stderr
    # A word changed: refused by the file's name.
    typed = tmp_path / "diketik-ulang.txt"
    changed = (out / "share-3-of-5.txt").read_text().split()
    changed[20] = "acid" if changed[20] != "acid" else "acne"
    typed.write_text("\n".join(f"{i}. {w}" for i, w in enumerate(changed, 1)))
    r = run("recovery", "check", str(out / "share-1-of-5.txt"), str(typed),
            str(out / "share-5-of-5.txt"))
    assert r.returncode == 1 and str(typed) in r.stderr and "checksum" in r.stderr
    # A file far too large for a share (the wrong file named) is refused unread.
    big = tmp_path / "laporan.txt"
    big.write_text("acid " * 20000)
    r = run("recovery", "check", str(out / "share-1-of-5.txt"), str(big))
    assert r.returncode == 1 and str(big) in r.stderr and "too large for a share" in r.stderr
    # A word not in the list: by position.
    changed[20] = "merpati"
    typed.write_text(" ".join(changed))
    r = run("recovery", "check", str(out / "share-1-of-5.txt"), str(typed),
            str(out / "share-5-of-5.txt"))
    assert r.returncode == 1 and "word 21 (merpati)" in r.stderr
    r = run("audit", "list", "--json")
    actions = [(e["action"], e["outcome"]) for e in r.json()
               if e["action"].startswith("recovery.")]
    assert sorted(actions) == sorted([("recovery.split", "ok"), ("recovery.check", "ok"),
                                      ("recovery.check", "failed"), ("recovery.check", "failed"),
                                      ("recovery.check", "failed")])


def test_the_folder_must_be_empty_and_nothing_is_overwritten(cli_office, cli_home: Path,
                                                           tmp_path: Path) -> None:
    run, identity = _office_cli(cli_office, cli_home, tmp_path)
    out = tmp_path / "terisi"
    out.mkdir()
    (out / "share-1-of-3.txt").write_text("milik orang lain")
    r = run("recovery", "split", "--shares", "3", "--threshold", "2", "--out-dir", str(out),
            "--identity-file", str(identity))
    assert r.returncode == 1 and "not an empty folder" in r.stderr
    assert [p.name for p in out.iterdir()] == ["share-1-of-3.txt"]
    assert (out / "share-1-of-3.txt").read_text() == "milik orang lain"
    r = run("audit", "list", "--json")
    assert not [e for e in r.json() if e["action"] == "recovery.split"]


@pytest.mark.parametrize(("n", "k"), [("3", "4"), ("17", "2"), ("4", "1")])
def test_bad_numbers_are_refused_before_anything(cli_office, cli_home, tmp_path, n, k) -> None:
    run, identity = _office_cli(cli_office, cli_home, tmp_path)
    out = tmp_path / "bagian"
    r = run("recovery", "split", "--shares", n, "--threshold", k, "--out-dir", str(out),
            "--identity-file", str(identity))
    assert r.returncode == 1 and "cannot be split" in r.stderr
    assert not out.exists()


def test_without_a_terminal_or_file_the_identity_is_asked_for(cli_office, cli_home,
                                                              tmp_path) -> None:
    run, _ = _office_cli(cli_office, cli_home, tmp_path)
    r = run("recovery", "split", "--shares", "3", "--threshold", "2", "--out-dir",
            str(tmp_path / "b"), input="")
    assert r.returncode == 2 and "--identity-file" in r.stderr


def test_another_key_is_not_split(cli_office, cli_home, tmp_path) -> None:
    run, _ = _office_cli(cli_office, cli_home, tmp_path)
    other = tmp_path / "lain.txt"
    other.write_text(crypto.generate().identity + "\n")
    r = run("recovery", "split", "--shares", "3", "--threshold", "2", "--out-dir",
            str(tmp_path / "b"), "--identity-file", str(other))
    assert r.returncode == 1 and "not this office's recovery key" in r.stderr
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_a_holder_may_not_split_or_check(cli_office, cli_home, tmp_path) -> None:
    run, identity = _office_cli(cli_office, cli_home, tmp_path)
    r = run("recovery", "split", "--shares", "3", "--threshold", "2", "--out-dir",
            str(tmp_path / "b"), "--identity-file", str(identity), user="kabid")
    assert r.returncode == 1 and "may not" in r.stderr
    r = run("recovery", "check", str(identity), user="kabid")
    assert r.returncode == 1 and "may not" in r.stderr


@pytest.mark.slow
def test_init_splits_at_once_and_does_not_print_the_identity(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "bagian-awal"
    pw = tmp_path / "admin.pw"
    pw.write_text(PASSWORDS["admin"] + "\n")
    r = cli(home, tmp_path, "init", "--office", "Dinas Kominfo", "--admin", "admin",
            "--password-file", str(pw), "--recovery-shares", "3", "--recovery-threshold", "2",
            "--recovery-out-dir", str(out), "--json")
    assert r.returncode == 0, r.stderr
    made = r.json()
    assert made["recovery_identity"] is None and "AGE-SECRET-KEY" not in r.stdout
    assert made["recovery_shares"]["shares"] == 3 and made["recovery_split_error"] is None
    assert len(list(out.glob("share-*-of-3.txt"))) == 3
    fingerprint = crypto.recipient_fingerprint(made["recovery_recipient"])
    r = cli(home, tmp_path, "recovery", "check", str(out / "share-3-of-3.txt"),
            str(out / "share-1-of-3.txt"), "--json", user="admin")
    assert r.returncode == 0, r.stderr
    assert r.json()["fingerprint"] == fingerprint
    r = cli(home, tmp_path, "audit", "list", "--json", user="admin")
    split = [e for e in r.json() if e["action"] == "recovery.split"]
    assert len(split) == 1 and split[0]["actor"] == "admin"


def test_init_checks_the_split_before_setting_up(tmp_path: Path) -> None:
    home = tmp_path / "home"
    out = tmp_path / "terisi"
    out.mkdir()
    (out / "x").write_text("x")
    pw = tmp_path / "admin.pw"
    pw.write_text(PASSWORDS["admin"] + "\n")
    base = ["init", "--office", "Dinas Kominfo", "--admin", "admin", "--password-file", str(pw)]
    r = cli(home, tmp_path, *base, "--recovery-shares", "3", "--recovery-threshold", "2",
            "--recovery-out-dir", str(out))
    assert r.returncode == 1 and "not an empty folder" in r.stderr
    r = cli(home, tmp_path, *base, "--recovery-shares", "3")
    assert r.returncode == 2 and "go together" in r.stderr
    assert not (home / "brankas.sqlite3").exists()


def test_safe_rewrap_with_shares(cli_office, cli_home, tmp_path) -> None:
    run, identity = _office_cli(cli_office, cli_home, tmp_path)
    combination = tmp_path / "kombinasi.txt"
    combination.write_text("12-34-56\n")
    r = run("safe", "add", "Brankas A", "--location", "Ruang Sandi", "--combination-file",
            str(combination), user="kabid")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "bagian"
    r = run("recovery", "split", "--shares", "3", "--threshold", "2", "--out-dir", str(out),
            "--identity-file", str(identity))
    assert r.returncode == 0, r.stderr
    r = run("safe", "rewrap", "--shares", str(out / "share-1-of-3.txt"),
            str(out / "share-3-of-3.txt"), "--json", user="kabid")
    assert r.returncode == 0, r.stderr
    assert r.json() == {"combinations": 1}
    r = run("safe", "rewrap", "--identity", str(identity), "--shares",
            str(out / "share-1-of-3.txt"), user="kabid")
    assert r.returncode == 2 and "one of" in r.stderr
    r = run("safe", "rewrap", user="kabid")
    assert r.returncode == 2 and "one of" in r.stderr
    r = run("safe", "rewrap", "--shares", str(out / "share-2-of-3.txt"), user="kabid")
    assert r.returncode == 1 and "2 are needed, 1 given" in r.stderr


def test_the_words_and_the_identity_rest_only_in_the_share_folder(cli_office, cli_home,
                                                                  tmp_path) -> None:
    """Nothing of the split is left in the data folder or the temporary folders: the words
    are in the share files only, and the identity nowhere but the file it was read from."""
    run, identity = _office_cli(cli_office, cli_home, tmp_path)
    out = tmp_path / "bagian"
    r = run("recovery", "split", "--shares", "3", "--threshold", "2", "--out-dir", str(out),
            "--identity-file", str(identity))
    assert r.returncode == 0, r.stderr
    for i in (1, 2, 3):
        words = (out / f"share-{i}-of-3.txt").read_text().split()
        marker = " ".join(words[2:9]).encode()  # on the first line of the file
        assert scan_for(marker, [cli_home, tmp_path / "tmp"]) == []
        assert scan_for(marker, [out]) == [out / f"share-{i}-of-3.txt"]
    secret = cli_office.recovery_identity.encode()
    assert scan_for(secret, [cli_home, tmp_path / "tmp", out]) == []
    assert secret not in (r.stdout + r.stderr).encode()


def test_key_anchor_takes_the_shares_and_asks_the_role_first(cli_office, cli_home: Path,
                                                             tmp_path: Path) -> None:
    import sqlite3

    run, identity = _office_cli(cli_office, cli_home, tmp_path)
    out = tmp_path / "bagian"
    r = run("recovery", "split", "--shares", "3", "--threshold", "2", "--out-dir", str(out),
            "--identity-file", str(identity))
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(cli_home / "brankas.sqlite3") as db:  # as before seals existed
        db.execute("update keys_officekey set recovery_anchor = x''")
    shares = [str(out / f"share-{i}-of-3.txt") for i in (1, 3)]
    r = run("key", "anchor", "--shares", *shares, user="operator")  # no key, not the admin
    assert r.returncode == 1 and "may not" in r.stderr
    with sqlite3.connect(cli_home / "brankas.sqlite3") as db:
        used = db.execute("select count(*) from audit_auditevent "
                          "where action = 'recovery.shares_used'").fetchone()[0]
        assert used == 0  # refused before any share was read
    r = run("key", "anchor", "--shares", *shares)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("recovery: ")
    with sqlite3.connect(cli_home / "brankas.sqlite3") as db:
        assert db.execute("select length(recovery_anchor) from keys_officekey").fetchone()[0]
        assert db.execute("select count(*) from audit_auditevent where action = "
                          "'recovery.shares_used' and actor = 'admin'").fetchone()[0] == 1
