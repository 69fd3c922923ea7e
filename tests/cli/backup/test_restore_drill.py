"""``brankas restore`` and ``brankas drill``: documents come back from the disk, each
checked; exempted ones stay encrypted unless their key holder decrypts them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.cli.backup.conftest import Office


def _restore(office: Office, to: Path, *args: str, user: str = "operator"):  # type: ignore[no-untyped-def]
    return office.cli("restore", str(office.disk), "--to", str(to), *args, "--json", user=user)


def _out(to: Path, stored_path: str, *, decrypted: bool = False) -> Path:
    rel = stored_path.removeprefix("arsip/")
    return to / (rel.removesuffix(".age") if decrypted else rel)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_restore_everything_exempted_stay_encrypted(office: Office) -> None:
    to = office.base / "pulih"
    r = _restore(office, to)
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["ok"] is True and sorted(out["restored"]) == sorted(office.docs)
    assert out["decrypted"] == out["missing"] == out["damaged"] == []
    expected = []
    for doc in office.docs.values():
        path = _out(to, doc.stored_path)
        expected.append(path.relative_to(to).as_posix())
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == doc.stored_sha256
        if doc.exempted:
            assert path.name.endswith(".pdf.age") and doc.original not in data
        else:
            assert data == doc.original
    assert _files(to) == sorted(expected)
    assert {p.split("/")[0] for p in expected} == {"biasa", "dikecualikan"}


@pytest.mark.slow
def test_restore_chosen_documents_and_decrypt_as_a_key_holder(office: Office) -> None:
    biasa = next(d for d in office.docs.values() if not d.exempted)
    exempted = [d for d in office.docs.values() if d.exempted]
    to = office.base / "pilihan"
    r = _restore(office, to, biasa.agenda, user="kasi")
    assert r.returncode == 0, r.stderr
    assert r.json()["restored"] == [biasa.agenda]
    assert _files(to) == [_out(to, biasa.stored_path).relative_to(to).as_posix()]

    to = office.base / "dekripsi"
    r = _restore(office, to, *(d.agenda for d in exempted), "--decrypt", "--passphrase-file",
                 office.secret("kabid.pp"), user="kabid")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert sorted(out["decrypted"]) == sorted(out["restored"]) == sorted(
        d.agenda for d in exempted)
    for doc in exempted:
        assert _out(to, doc.stored_path, decrypted=True).read_bytes() == doc.original
    assert not list(to.rglob("*.age"))
    opened = office.sql("select target, detail from audit_auditevent where action = ?"
                        " and actor = ? order by seq", "document.open", "kabid")
    assert sorted(t for t, _ in opened) == sorted(d.agenda for d in exempted)
    assert all('"restore"' in detail for _, detail in opened)

    # A wrong passphrase decrypts nothing and writes nothing.
    wrong = office.base / "salah.pp"
    wrong.write_text("frasa yang keliru sama sekali\n")
    to = office.base / "salah"
    r = _restore(office, to, "--decrypt", "--passphrase-file", str(wrong), user="kabid")
    assert r.returncode != 0 and r.stderr.startswith("brankas: ")
    assert not to.exists() or not any(to.iterdir())
    # An unknown agenda is refused by name.
    r = _restore(office, office.base / "x", "M-1999-9999")
    assert r.returncode != 0 and "M-1999-9999" in r.stderr


def test_restore_refuses_a_non_empty_folder_and_reports_a_damaged_file(office: Office) -> None:
    to = office.base / "terisi"
    to.mkdir()
    (to / "milik-orang.txt").write_text("x")
    r = _restore(office, to)
    assert r.returncode != 0 and r.stderr.startswith("brankas: ") and str(to) in r.stderr
    assert _files(to) == ["milik-orang.txt"]

    damaged = next(d for d in office.docs.values() if d.exempted)
    path = office.disk / "data" / damaged.stored_path
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    path.write_bytes(bytes(raw))
    to = office.base / "rusak"
    r = _restore(office, to)
    assert r.returncode == 1, r.stderr
    out = r.json()
    assert out["ok"] is False and out["damaged"] == [damaged.agenda]
    assert sorted(out["restored"]) == sorted(a for a in office.docs if a != damaged.agenda)
    assert not _out(to, damaged.stored_path).exists()  # no damaged copy left behind
    r = office.cli("restore", str(office.disk), "--to", str(office.base / "rusak2"),
                   user="operator")
    assert r.returncode == 1 and damaged.agenda in r.stdout


def _drills(office: Office) -> list[tuple]:
    return office.sql("select c.mode, c.ok, u.username, c.problems from backup_mediumcheck c"
                      " join accounts_user u on u.id = c.actor_id where c.kind = 'drill'"
                      " order by c.id")


@pytest.mark.slow
@pytest.mark.usefixtures("quick_rebuilds")  # the drill's rebuild (conftest.py)
def test_a_drill_passes_on_an_intact_disk_and_fails_after_an_alteration(
        office: Office) -> None:
    r = office.cli("drill", str(office.disk), "--json", user="kasi")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.json()
    assert out["ok"] is True and out["restored"] == len(office.docs)
    # With a key holder's passphrase, the drill also rebuilds a whole instance.
    r = office.cli("drill", str(office.disk), "--passphrase-file", office.secret("kabid.pp"),
                   "--json", user="kabid")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.json()
    assert out["ok"] is True and out["recovered"]["ok"] is True and out["mismatched"] == []
    assert [(m, ok, u) for m, ok, u, _ in _drills(office)] == [
        ("full", 1, "kasi"), ("full+recover", 1, "kabid")]
    assert office.sql("select last_verify_ok, last_verify_mode from backup_medium") == [
        (1, "drill")]

    doc = next(d for d in office.docs.values() if not d.exempted)
    path = office.disk / "data" / doc.stored_path
    path.write_bytes(path.read_bytes().replace(b"Undangan", b"Undangon"))
    r = office.cli("drill", str(office.disk), "--json", user="kadis")
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.json()
    assert out["ok"] is False and out["damaged"] == [doc.agenda]
    assert [c["path"] for c in out["verify"]["changed"]] == [doc.stored_path]
    mode, ok, user, problems = _drills(office)[-1]
    assert (mode, ok, user) == ("full", 0, "kadis") and doc.agenda in problems
    assert office.sql("select last_verify_ok from backup_medium") == [(0,)]


def test_a_file_deleted_from_the_disk_is_named_and_the_rest_restored(office: Office) -> None:
    gone = next(d for d in office.docs.values() if not d.exempted)
    (office.disk / "data" / gone.stored_path).unlink()
    to = office.base / "sebagian"
    r = _restore(office, to)
    assert r.returncode == 1, r.stderr
    out = r.json()
    assert out["ok"] is False
    assert out["missing"] + out["damaged"] == [gone.agenda]
    assert sorted(out["restored"]) == sorted(a for a in office.docs if a != gone.agenda)
    assert not _out(to, gone.stored_path).exists()
    r = office.cli("drill", str(office.disk), "--json", user="kasi")
    assert r.returncode == 1
    assert r.json()["missing"] + r.json()["damaged"] == [gone.agenda]
