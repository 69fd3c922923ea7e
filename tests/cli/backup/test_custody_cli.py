"""Safes and disk custody through the real ``brankas`` command (SOP step 7): the
sequence rules around a real backup disk, the role rules, the printed PDFs, and a
combination that is never stored or logged in plaintext."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from tests.cli.backup.conftest import Office, validate
from tests.leakscan import scan_for

MARKER = "SANDI-BRANKAS-84-19-63"


def add_safe(office: Office, name: str = "Brankas-A", combination: str = MARKER,
             user: str = "operator"):  # type: ignore[no-untyped-def]
    path = office.base / f"combination-{name}.txt"
    path.write_text(combination + "\n")
    return office.cli("safe", "add", name, "--location", "Ruang Persandian lt. 2",
                      "--combination-file", str(path), "--json", user=user)


def pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_custody_round_trip_through_the_cli(office: Office) -> None:
    label = office.first_run["medium"]["label"]
    r = add_safe(office)
    assert r.returncode == 0, r.stderr
    assert r.json() == {"safe": "Brankas-A", "location": "Ruang Persandian lt. 2"}
    assert MARKER not in r.stdout + r.stderr

    r = office.cli("media", "list", "--json", user="kadis")  # everyone sees where disks are
    assert r.returncode == 0, r.stderr
    [disk] = r.json()
    assert (disk["label"], disk["state"], disk["safe"]) == (label, "out", None)

    r = office.cli("media", "checkin", label, "--safe", "Brankas-A", user="operator")
    assert r.returncode == 0, r.stderr
    r = office.cli("media", "checkin", label, "--safe", "Brankas-A", user="operator")
    assert r.returncode == 1 and "already in safe Brankas-A" in r.stderr

    before = sorted(p.relative_to(office.disk) for p in office.disk.rglob("*"))
    r = office.backup()
    assert r.returncode == 1
    assert f"brankas media checkout {label}" in r.stderr and r.stderr.startswith("brankas: ")
    assert sorted(p.relative_to(office.disk) for p in office.disk.rglob("*")) == before

    r = office.cli("media", "checkout", label, "--reason", "back up mingguan", user="operator")
    assert r.returncode == 0, r.stderr
    office.register("pengiriman", "biasa", "Surat baru setelah check-out")
    r = office.cli("backup", str(office.disk), user="operator")
    assert r.returncode == 0, r.stderr
    assert f'brankas media checkin "{label}" --safe "Brankas-A"' in r.stdout  # the reminder
    validate(office.disk)
    r = office.cli("media", "checkin", label, "--safe", "brankas-a", user="operator")
    assert r.returncode == 0, r.stderr

    r = office.cli("media", "show", label, "--json", user="kasi")
    assert r.returncode == 0, r.stderr
    shown = r.json()
    assert shown["state"] == "in_safe" and shown["safe"] == "Brankas-A"
    assert [m["move"] for m in shown["custody"]] == [
        "first_seen", "checkin", "checkout", "checkin"]
    assert shown["custody"][2]["reason"] == "back up mingguan"

    out = office.base / "custody.pdf"
    r = office.cli("media", "print", label, "--out", str(out), user="kadis")
    assert r.returncode == 0, r.stderr
    text = pdf_text(out)
    # A cell wraps between words ("back up" / "mingguan" since the first backup's row has
    # no reason of its own to widen the column): read as one line.
    flat = " ".join(text.split())
    assert "RIWAYAT PENYIMPANAN DISK BACK UP" in flat and "back up mingguan" in flat
    assert "DINAS KOMINFO" in text  # the letterhead and "Brankas-A" in text

    r = office.cli("media", "retire", label, "--reason", "sektor rusak", user="operator")
    assert r.returncode == 0, r.stderr
    r = office.backup()
    assert r.returncode == 1 and "retired" in r.stderr


@pytest.mark.slow
def test_the_combination_reaches_only_the_kabid_and_never_rests_in_plaintext(
        office: Office) -> None:
    assert add_safe(office).returncode == 0
    pp = office.secret("kabid.pp")
    r = office.cli("safe", "combination", "Brankas-A", "--passphrase-file", pp, user="kabid")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == MARKER
    for who in ("operator", "kasi", "kadis", "admin"):
        r = office.cli("safe", "combination", "Brankas-A", "--passphrase-file", pp, user=who)
        assert r.returncode == 1 and "may not" in r.stderr and MARKER not in r.stdout, who

    new = office.base / "new.txt"
    new.write_text("11-22-33\n")
    r = office.cli("safe", "set-combination", "Brankas-A", "--combination-file", str(new),
                   user="kabid")
    assert r.returncode == 0, r.stderr
    r = office.cli("safe", "combination", "Brankas-A", "--history", "--json",
                   "--passphrase-file", pp, user="kabid")
    assert [(e["combination"], e["current"]) for e in r.json()] == [
        ("11-22-33", True), (MARKER, False)]

    pdf = office.base / "kombinasi.pdf"
    r = office.cli("safe", "print", "--out", str(pdf), "--history", "--passphrase-file", pp,
                   user="kabid")
    assert r.returncode == 0, r.stderr
    text = "".join(pdf_text(pdf).split())  # a long combination wraps in its cell
    assert MARKER in text and "11-22-33" in text and "RAHASIA" in text
    r = office.cli("safe", "print", "--out", str(office.base / "x.pdf"), "--passphrase-file",
                   pp, user="operator")
    assert r.returncode == 1 and not (office.base / "x.pdf").exists()

    r = office.cli("safe", "rewrap", "--identity", str(office.recovery_file), "--json",
                   user="kabid")
    assert r.returncode == 0 and r.json() == {"combinations": 2}, r.stderr

    r = office.cli("safe", "list", "--json", user="kasi")
    assert r.returncode == 0 and MARKER not in r.stdout
    assert r.json()[0]["combinations"] == 2

    # Every reading and the printing are audited; the log and the database (with its WAL)
    # and everything else in the data folder never hold the number.
    actions = [a for (a,) in office.sql(
        "select action from audit_auditevent where action like 'safe.%' order by seq")]
    assert actions == ["safe.add", "safe.combination.view", "safe.combination.set",
                       "safe.combination.view", "safe.combination.print",
                       "safe.combination.rewrap"]
    assert office.cli("audit", "verify", user="admin").returncode == 0
    pdf.unlink()
    for secret in (MARKER, "11-22-33"):
        assert scan_for(secret.encode(), [office.home]) == []


def test_role_rules_for_moving_disks_and_managing_safes(office: Office) -> None:
    label = office.first_run["medium"]["label"]
    for who in ("kasi", "kadis", "admin"):
        r = add_safe(office, name=f"S-{who}", user=who)
        assert r.returncode == 1 and "may not manage safes" in r.stderr, who
    assert add_safe(office, user="kabid").returncode == 0
    for who in ("kasi", "kabid", "kadis", "admin"):
        r = office.cli("media", "checkin", label, "--safe", "Brankas-A", user=who)
        assert r.returncode == 1 and "may not move backup disks" in r.stderr, who
    r = office.cli("media", "show", "NO-SUCH-DISK", user="kasi")
    assert r.returncode == 1 and "not found" in r.stderr


def test_the_disk_list_gives_dates_in_the_office_s_time_zone(office: Office) -> None:
    """Two zones 25 hours apart: the same backup is on two different dates; the line shows
    the office's date, not UTC's."""
    seen = []
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        r = office.cli("media", "list", user="kadis", env={"BRANKAS_TIME_ZONE": zone})
        assert r.returncode == 0, r.stderr
        seen.append(r.stdout.split("back up:")[1].split()[0])
    assert seen[0] != seen[1], seen


def test_backup_list_and_a_disk_s_moves_give_the_office_s_dates(office: Office) -> None:
    label = office.first_run["medium"]["label"]
    assert add_safe(office).returncode == 0
    assert office.cli("media", "checkin", label, "--safe", "Brankas-A",
                      user="operator").returncode == 0
    seen: dict[str, list[str]] = {"backup": [], "media": []}
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        env = {"BRANKAS_TIME_ZONE": zone}
        r = office.cli("backup", "list", user="kadis", env=env)
        assert r.returncode == 0, r.stderr
        seen["backup"].append(r.stdout.split()[1])
        r = office.cli("media", "show", label, user="kadis", env=env)
        assert r.returncode == 0 and "+00:00" not in r.stdout, r.stdout
        seen["media"].append(r.stdout.splitlines()[1].split()[0])
    assert seen["backup"][0] != seen["backup"][1], seen
    assert seen["media"][0] != seen["media"][1], seen
