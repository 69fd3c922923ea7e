"""The office recovery key rebuilt from paper shares, through the real command: three of
five shares rebuild an instance from a backup disk and open its documents; two shares,
or one word changed, are refused by name; a drill with shares rebuilds and test-opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.backup.conftest import Office
from tests.cli.backup.test_recover import _check_rebuilt


def _split(office: Office, n: int = 5, k: int = 3) -> list[Path]:
    out = office.base / f"bagian-{n}-{k}"
    r = office.cli("recovery", "split", "--shares", str(n), "--threshold", str(k),
                   "--out-dir", str(out), "--identity-file", str(office.recovery_file),
                   "--json", user="admin")
    assert r.returncode == 0, r.stderr
    return [out / f"share-{i}-of-{n}.txt" for i in range(1, n + 1)]


@pytest.mark.slow
def test_three_of_five_shares_rebuild_the_instance_and_open_its_documents(
        office: Office) -> None:
    files = _split(office)
    new = office.base / "rumah-bagian"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--shares",
                   str(files[4]), str(files[0]), str(files[2]), "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["unlocked_with"] == "recovery shares"
    assert sorted(out["exempted_opened"]) == sorted(
        a for a, d in office.docs.items() if d.exempted)
    _check_rebuilt(office, new, out, full=False)  # opens every exempted document, too
    # The identity was rebuilt in memory only: it is in no file of the new home.
    identity = office.recovery_file.read_text().strip().encode()
    for path in new.rglob("*"):
        if path.is_file():
            assert identity not in path.read_bytes(), path


def test_two_shares_are_refused_and_nothing_is_built(office: Office) -> None:
    files = _split(office)
    new = office.base / "rumah-dua"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--shares",
                   str(files[1]), str(files[3]), "--json")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("brankas: ") and "Traceback" not in r.stderr
    assert "3 are needed, 2 given" in r.stderr
    assert not new.exists() or not any(new.iterdir())


def test_one_word_changed_is_refused_naming_the_file(office: Office) -> None:
    files = _split(office)
    words = files[2].read_text().split()
    words[12] = "acid" if words[12] != "acid" else "acne"
    typed = office.base / "bagian-bu-sari.txt"
    typed.write_text(" ".join(words) + "\n")
    new = office.base / "rumah-salah"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--shares",
                   str(files[0]), str(typed), str(files[4]), "--json")
    assert r.returncode == 1 and r.stderr.startswith("brankas: ")
    assert str(typed) in r.stderr and "checksum" in r.stderr
    assert not new.exists() or not any(new.iterdir())


def test_shares_of_two_splits_are_refused(office: Office) -> None:
    first, second = _split(office), _split(office, 3, 2)
    r = office.cli("recover", str(office.disk), "--home", str(office.base / "r"),
                   "--shares", str(first[0]), str(second[1]), "--json")
    assert r.returncode == 1 and "two different splits" in r.stderr
    assert str(first[0]) in r.stderr and str(second[1]) in r.stderr


def test_one_secret_at_a_time(office: Office) -> None:
    files = _split(office)
    r = office.cli("recover", str(office.disk), "--home", str(office.base / "r"),
                   "--identity", str(office.recovery_file), "--shares", *map(str, files[:3]))
    assert r.returncode == 2 and "one of" in r.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("quick_rebuilds")  # the drill's rebuild (conftest.py)
def test_a_drill_with_shares_rebuilds_the_instance_in_a_child(office: Office) -> None:
    files = _split(office)
    r = office.cli("drill", str(office.disk), "--shares", *map(str, files[1:4]), "--json",
                   user="kabid")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.json()
    assert out["ok"] is True and out["mismatched"] == []
    assert out["recovered"]["ok"] is True
    assert out["recovered"]["unlocked_with"] == "recovery identity"
    assert sorted(out["recovered"]["exempted_opened"]) == sorted(
        a for a, d in office.docs.items() if d.exempted)
    used = office.sql("select actor, target, outcome from audit_auditevent "
                      "where action = 'recovery.shares_used'")
    assert used == [("kabid", "drill", "ok")]
    # Too few shares: refused before anything runs.
    r = office.cli("drill", str(office.disk), "--shares", str(files[0]), "--json",
                   user="kabid")
    assert r.returncode == 1 and "3 are needed, 1 given" in r.stderr
