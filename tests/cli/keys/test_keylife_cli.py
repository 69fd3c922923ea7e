"""``brankas key passphrase`` and ``brankas key check`` through the real command."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import quick_key_making

NEW = "gunung biru menyimpan rahasia lama"


def _secret(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text + "\n")
    return str(path)


def test_passphrase_change_then_check(cli_office, cli_home: Path, run_cli, tmp_path: Path) -> None:
    old = str(cli_office.secrets / "kabid.pp")
    new = _secret(tmp_path, "new.pp", NEW)
    r = run_cli("key", "check", "--holder", "kabid", "--passphrase-file", old, "--json",
                user="kabid")
    assert r.returncode == 0, r.stderr
    fingerprint = r.json()["fingerprint"]
    assert r.json()["ok"] is True and r.json()["checked_at"]

    with quick_key_making():
        r = run_cli("key", "passphrase", "--holder", "kabid", "--passphrase-file", old,
                    "--new-passphrase-file", new, "--json", user="kabid")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["protection"] == 2 and out["fingerprint"] == fingerprint
    assert out["key_file"] == f"keys/kabid-p2-{fingerprint}.age"
    assert "old passphrase still opens" in out["note"]
    files = sorted(p.name for p in (cli_home / "keys").glob("kabid-*.age"))
    assert files == [f"kabid-p2-{fingerprint}.age"]

    r = run_cli("key", "check", "--holder", "kabid", "--passphrase-file", new, user="kabid")
    assert r.returncode == 0, r.stderr
    assert fingerprint in r.stdout
    r = run_cli("key", "check", "--holder", "kabid", "--passphrase-file", old, user="kabid")
    assert r.returncode == 1 and "wrong passphrase" in r.stderr


def test_text_output_says_what_the_old_passphrase_still_opens(cli_office, run_cli,
                                                              tmp_path: Path) -> None:
    with quick_key_making():
        r = run_cli("key", "passphrase", "--holder", "kabid", "--passphrase-file",
                    str(cli_office.secrets / "kabid.pp"), "--new-passphrase-file",
                    _secret(tmp_path, "new.pp", NEW), user="kabid")
    assert r.returncode == 0, r.stderr
    assert "frasa sandi lama" in r.stdout and "old passphrase still opens" in r.stdout


def test_only_ones_own_key(cli_office, run_cli, tmp_path: Path) -> None:
    pp = str(cli_office.secrets / "kabid.pp")
    r = run_cli("key", "passphrase", "--holder", "kabid", "--passphrase-file", pp,
                "--new-passphrase-file", _secret(tmp_path, "new.pp", NEW), user="kadis")
    assert r.returncode == 1 and "only on your own key" in r.stderr
    r = run_cli("key", "check", "--holder", "kabid", "--passphrase-file", pp, user="kadis")
    assert r.returncode == 1 and "only on your own key" in r.stderr
    r = run_cli("key", "check", "--holder", "kabid", "--passphrase-file", pp, user="operator")
    assert r.returncode == 1


def test_same_and_missing_passphrases_are_refused(cli_office, run_cli) -> None:
    pp = str(cli_office.secrets / "kabid.pp")
    r = run_cli("key", "passphrase", "--holder", "kabid", "--passphrase-file", pp,
                "--new-passphrase-file", pp, user="kabid")
    assert r.returncode == 1 and "same as the old one" in r.stderr
    r = run_cli("key", "passphrase", "--holder", "kabid", "--passphrase-file", pp,
                user="kabid")
    assert r.returncode == 2 and "a new passphrase is needed" in r.stderr
    r = run_cli("key", "passphrase", "--holder", "kabid", user="kabid")
    assert r.returncode == 1 and "a passphrase is needed" in r.stderr
    r = run_cli("key", "check", "--holder", "kabid", user="kabid")
    assert r.returncode == 1 and "a passphrase is needed" in r.stderr


def test_key_check_s_line_gives_the_time_in_the_office_s_time_zone(
        cli_office, run_cli) -> None:  # type: ignore[no-untyped-def]
    """Two zones 25 hours apart: the same moment is on two different dates."""
    old = str(cli_office.secrets / "kabid.pp")
    seen = []
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        r = run_cli("key", "check", "--holder", "kabid", "--passphrase-file", old,
                    user="kabid", env={"BRANKAS_TIME_ZONE": zone})
        assert r.returncode == 0, r.stderr
        assert "+00:00" not in r.stdout and "T" not in r.stdout.split("(")[-1], r.stdout
        seen.append(r.stdout.split("(")[-1][:10])
    assert seen[0] != seen[1], seen
