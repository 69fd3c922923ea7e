"""``brankas verify DEST``: names each changed, truncated, missing and unexpected file;
exit 0 intact, 1 problems; ``--fast`` and ``--sample``; the result is recorded."""

from __future__ import annotations

from tests.cli.backup.conftest import Office


def _verify(office: Office, *mode: str):  # type: ignore[no-untyped-def]
    return office.cli("verify", str(office.disk), *mode, "--json", user="operator")


def _checks(office: Office) -> list[tuple]:
    return office.sql("select c.kind, c.mode, c.ok, c.problems, u.username, m.label"
                      " from backup_mediumcheck c join accounts_user u on u.id = c.actor_id"
                      " left join backup_medium m on m.id = c.medium_id order by c.id")


def test_an_intact_disk_passes_in_every_mode(office: Office) -> None:
    for mode in ([], ["--fast"], ["--sample", "100"], ["--sample", "10"]):
        r = _verify(office, *mode)
        assert r.returncode == 0, (mode, r.stdout, r.stderr)
        out = r.json()
        assert out["ok"] is True and out["missing"] == out["changed"] == out["unexpected"] == []
        assert out["medium"]["label"] == "DISK-01"
    out = _verify(office).json()
    assert out["files_hashed"] == out["files_total"] == office.first_run["files"]
    assert _verify(office, "--fast").json()["files_hashed"] == 0
    checks = _checks(office)
    assert [(k, m, ok) for k, m, ok, *_ in checks] == [
        ("verify", "full", 1), ("verify", "fast", 1), ("verify", "sample", 1),
        ("verify", "sample", 1), ("verify", "full", 1), ("verify", "fast", 1)]
    assert {(u, label) for *_, u, label in checks} == {("operator", "DISK-01")}
    (ok, mode) = office.sql("select last_verify_ok, last_verify_mode from backup_medium")[0]
    assert (ok, mode) == (1, "fast")
    r = office.cli("verify", str(office.disk), user="operator")  # the human report
    assert r.returncode == 0 and "intact" in r.stdout


def test_each_damaged_missing_and_extra_file_is_named(office: Office) -> None:
    biasa = [d for d in office.docs.values() if not d.exempted]
    exempted = [d for d in office.docs.values() if d.exempted]
    flipped, deleted = biasa
    truncated = exempted[0]
    data = office.disk / "data"
    raw = bytearray((data / flipped.stored_path).read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one bit, the size unchanged
    (data / flipped.stored_path).write_bytes(bytes(raw))
    path = data / truncated.stored_path
    path.write_bytes(path.read_bytes()[:-100])
    (data / deleted.stored_path).unlink()
    extra = "arsip/biasa/penerimaan/2026/surat-selundupan.pdf"
    (data / extra).parent.mkdir(parents=True, exist_ok=True)
    (data / extra).write_bytes(b"%PDF-1.4 not from brankas")

    r = _verify(office)
    assert r.returncode == 1, r.stderr
    full = r.json()
    assert full["ok"] is False
    assert full["missing"] == [deleted.stored_path]
    assert sorted(c["path"] for c in full["changed"]) == sorted(
        [flipped.stored_path, truncated.stored_path])
    assert full["unexpected"] == [extra]

    r = _verify(office, "--sample", "100")
    assert r.returncode == 1
    sample = r.json()
    for key in ("missing", "unexpected"):
        assert sample[key] == full[key], key
    assert sorted(c["path"] for c in sample["changed"]) == sorted(
        c["path"] for c in full["changed"])

    r = _verify(office, "--fast")
    assert r.returncode == 1
    fast = r.json()
    assert fast["missing"] == [deleted.stored_path]
    assert [c["path"] for c in fast["changed"]] == [truncated.stored_path]  # no hashing
    assert fast["unexpected"] == [extra]

    r = office.cli("verify", str(office.disk), user="operator")
    assert r.returncode == 1
    for p in (deleted.stored_path, flipped.stored_path, truncated.stored_path, extra):
        assert f"data/{p}" in r.stdout

    checks = _checks(office)
    assert [(k, m, ok) for k, m, ok, *_ in checks] == [
        ("verify", "full", 0), ("verify", "sample", 0), ("verify", "fast", 0),
        ("verify", "full", 0)]
    import json

    problems = json.loads(checks[0][3])
    assert problems["missing"] == [deleted.stored_path]
    assert problems["unexpected"] == [extra]
    assert office.sql("select last_verify_ok from backup_medium") == [(0,)]


def test_a_folder_that_is_no_bag_is_an_error(office: Office) -> None:
    empty = office.base / "kosong"
    empty.mkdir()
    r = office.cli("verify", str(empty), "--json", user="operator")
    assert r.returncode != 0 and r.stdout == ""
    assert r.stderr.startswith("brankas: ") and "not a Brankas backup disk" in r.stderr
    assert not any(empty.iterdir())  # verify writes nothing
    assert office.sql("select count(*) from backup_mediumcheck") == [(0,)]


def test_an_edited_tag_file_is_a_problem(office: Office) -> None:
    info = office.disk / "bag-info.txt"
    info.write_text(info.read_text(encoding="utf-8").replace("Dinas", "Dinos"),
                    encoding="utf-8")
    r = _verify(office)
    assert r.returncode == 1, r.stderr
    out = r.json()
    assert out["missing"] == out["changed"] == out["unexpected"] == []
    assert any("bag-info.txt" in p for p in out["tag_problems"]), out["tag_problems"]
