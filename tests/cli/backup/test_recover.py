"""``brankas recover DEST --home NEW_HOME``: a whole instance rebuilt from one disk with a
key holder's passphrase or the office recovery identity."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.cli.backup.conftest import Office, manifest, validate
from tests.conftest import CliResult, cli, make_pdf


def _in(home: Path, office: Office, *args: str, user: str | None = None) -> CliResult:
    return cli(home, office.base, *args, user=user)


def _check_rebuilt(office: Office, new: Path, out: dict, *, full: bool) -> None:
    assert out["ok"] is True and out["audit_ok"] is True, out
    assert out["documents"] == out["restored"] == len(office.docs)
    assert out["missing"] == out["damaged"] == out["unregistered"] == []
    assert out["users"] == 5 and out["keys"] == 1
    # Every document file in the new archive matches its register SHA-256.
    r = _in(new, office, "list", "--json", user="kasi")
    assert r.returncode == 0, r.stderr
    listed = {d["agenda"]: d for d in r.json()}
    assert sorted(listed) == sorted(office.docs)
    files = {p.relative_to(new).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in (new / "arsip").rglob("*") if p.is_file()}
    assert sorted(files) == sorted(d["stored_path"] for d in listed.values())
    for agenda, doc in office.docs.items():
        if full:
            r = _in(new, office, "show", agenda, "--json", user="kasi")
            assert r.returncode == 0, r.stderr
            register_sha = r.json()["stored_sha256"]
        else:
            register_sha = doc.stored_sha256
        assert files[listed[agenda]["stored_path"]] == register_sha == doc.stored_sha256
    # Exempted documents open with the holder's key, identical to the original PDF.
    for doc in [d for d in office.docs.values() if d.exempted]:
        target = office.base / f"open-{new.name}-{doc.agenda}.pdf"
        r = _in(new, office, "open", doc.agenda, "--out", str(target), "--passphrase-file",
                office.secret("kabid.pp"), user="kabid")
        assert r.returncode == 0, r.stderr
        assert target.read_bytes() == doc.original
    r = _in(new, office, "audit", "verify", "--json", user="admin")
    assert r.returncode == 0 and r.json()["ok"] is True, r.stdout + r.stderr
    r = _in(new, office, "backup", "list", "--json", user="kadis")
    assert r.returncode == 0, r.stderr
    runs = r.json()
    assert [(x["run"], x["status"]) for x in runs] == [(1, "completed")]
    assert sorted(runs[0]["agendas"]) == sorted(office.docs)


@pytest.mark.slow
def test_recover_with_a_key_holders_passphrase(office: Office) -> None:
    new = office.base / "rumah-baru"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--passphrase-file",
                   office.secret("kabid.pp"), "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["unlocked_with"] != "recovery identity"
    assert sorted(out["exempted_opened"]) == sorted(
        a for a, d in office.docs.items() if d.exempted)
    _check_rebuilt(office, new, out, full=True)
    # The rebuilt instance carries on: it can back up to the same disk.
    r = cli(new, office.base, "backup", str(office.disk), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    assert r.json()["agendas"] == [] and r.json()["run"] == 2


@pytest.mark.slow
def test_recover_with_the_recovery_identity(office: Office) -> None:
    new = office.base / "rumah-identitas"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["unlocked_with"] == "recovery identity"
    _check_rebuilt(office, new, out, full=False)


@pytest.mark.slow
def test_a_wrong_passphrase_fails_cleanly_and_leaves_no_home(office: Office) -> None:
    wrong = office.base / "salah.pp"
    wrong.write_text("bukan frasa sandi yang benar\n")
    new = office.base / "rumah-gagal"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--passphrase-file",
                   str(wrong), "--json")
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr.startswith("brankas: ") and "Traceback" not in r.stderr
    assert not new.exists() or not any(new.iterdir())
    # Given an existing empty folder, it stays empty.
    new.mkdir(exist_ok=True)
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(wrong), "--json")
    assert r.returncode != 0 and r.stderr.startswith("brankas: ")
    assert new.is_dir() and not any(new.iterdir())


def test_recovering_into_a_non_empty_folder_is_refused(office: Office) -> None:
    new = office.base / "rumah-terisi"
    new.mkdir()
    (new / "catatan.txt").write_text("jangan ditimpa")
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode != 0 and r.stderr.startswith("brankas: ")
    assert str(new) in r.stderr
    assert [p.name for p in new.iterdir()] == ["catatan.txt"]
    assert (new / "catatan.txt").read_text() == "jangan ditimpa"
    # The office's own home is no place to recover into either.
    r = office.cli("recover", str(office.disk), "--home", str(office.home), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode != 0 and r.stderr.startswith("brankas: ")


def test_a_file_deleted_from_the_disk_is_named_and_the_rest_recovered(office: Office) -> None:
    gone = next(d for d in office.docs.values() if d.exempted)
    (office.disk / "data" / gone.stored_path).unlink()
    new = office.base / "rumah-sebagian"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 1, r.stderr
    out = r.json()
    assert out["ok"] is False and out["missing"] + out["damaged"] == [gone.agenda]
    assert out["restored"] == len(office.docs) - 1
    for doc in office.docs.values():  # the rest is there, each file as registered
        path = new / doc.stored_path
        if doc is gone:
            assert not path.exists()
        else:
            assert hashlib.sha256(path.read_bytes()).hexdigest() == doc.stored_sha256
    r = _in(new, office, "audit", "verify", "--json", user="admin")
    assert r.returncode == 0, r.stderr


def test_a_request_letter_not_yet_registered_goes_to_the_disk_and_comes_back(
        office: Office) -> None:
    letter = office.base / "surat-permintaan.pdf"
    letter.write_bytes(make_pdf(text="Permintaan pengiriman berita rahasia"))
    r = office.cli("request", "create", "--subject", "Berita untuk Pangdam", "--classification",
                   "rahasia", "--addressee", "Pangdam", "--attach", str(letter), "--json",
                   user="kadis")
    assert r.returncode == 0, r.stderr
    stored = r.json()["letter"]
    assert stored.startswith("permintaan/") and stored.endswith(".pdf.age")
    digest = hashlib.sha256((office.home / stored).read_bytes()).hexdigest()
    assert office.backup().returncode == 0
    assert manifest(office.disk)[f"data/{stored}"] == digest
    validate(office.disk)

    new = office.base / "baru"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["letters"] == 1 and out["unregistered"] == []
    assert hashlib.sha256((new / stored).read_bytes()).hexdigest() == digest
