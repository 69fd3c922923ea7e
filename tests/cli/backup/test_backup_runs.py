"""``brankas backup DEST``: the first run, incremental runs and the control list, each
checked with the Library of Congress ``bagit`` library."""

from __future__ import annotations

import csv
import io

from tests.cli.backup.conftest import Office, manifest, sha256, validate


def _run_files(out: dict, new: set[str]) -> set[str]:
    return {p for p in new if p.startswith(f"data/backup/{out['folder']}/")}


def test_the_first_run_is_a_valid_bag_holding_every_document(office: Office) -> None:
    validate(office.disk)
    first = office.first_run
    assert (first["run"], first["status"], first["verified"]) == (1, "completed", True)
    assert sorted(first["agendas"]) == sorted(office.docs)
    listed = manifest(office.disk)
    assert first["files"] == first["files_added"] == len(listed)
    assert first["skipped"] == 0
    for doc in office.docs.values():
        on_disk = office.disk / "data" / doc.stored_path
        assert listed[f"data/{doc.stored_path}"] == doc.stored_sha256 == sha256(on_disk)
        data = on_disk.read_bytes()
        if doc.exempted:
            assert on_disk.name.endswith(".pdf.age")
            assert data.startswith(b"age-encryption.org/v1\n") and doc.original not in data
        else:
            assert data == doc.original
    cats = first["categories"]
    assert cats["biasa/penerimaan"]["files"] == cats["biasa/pengiriman"]["files"] == 1
    assert cats["dikecualikan/penerimaan"]["files"] == 1
    assert cats["dikecualikan/pengiriman"]["files"] == 1
    assert (office.disk / "bagit.txt").read_text().startswith("BagIt-Version: 1.0\n")
    folder = f"data/backup/{first['folder']}"
    for name in ("register-biasa.csv", "register-lengkap.csv.age", "database.json.age",
                 "recipients.txt", "daftar-kontrol.csv", "daftar-kontrol.json"):
        assert f"{folder}/{name}" in listed, name
    # The whole audit log so far, in one segment starting at entry 1.
    (segment,) = [p for p in listed if p.startswith("data/audit/")]
    assert segment.startswith("data/audit/0000000001-") and segment.endswith(".jsonl.age")


def test_an_incremental_run_copies_only_the_new_documents(office: Office) -> None:
    before = manifest(office.disk)
    stats = {p: (office.disk / p).stat() for p in before}
    new = [office.register("penerimaan", "biasa", "Surat edaran jam kerja"),
           office.register("pengiriman", "sangat-rahasia", "Sandi SANGAT-ELANG-5512")]
    r = office.backup()
    assert r.returncode == 0, r.stderr
    out = r.json()
    validate(office.disk)
    after = manifest(office.disk)
    added = set(after) - set(before)
    assert set(before) <= set(after)
    segments = {p for p in added if p.startswith("data/audit/")}
    assert added - _run_files(out, added) - segments == {f"data/{d.stored_path}" for d in new}
    # The audit log: one new segment, of the entries after the first run's (only those).
    (first_segment,) = [p for p in before if p.startswith("data/audit/")]
    (segment,) = segments
    first_last = int(first_segment.rsplit("-", 1)[1].split(".")[0])
    assert int(segment.split("/")[-1].split("-")[0]) == first_last + 1, (first_segment, segment)
    assert (out["run"], out["status"]) == (2, "completed")
    assert sorted(out["agendas"]) == sorted(d.agenda for d in new)
    assert out["files_added"] == len(added)
    already = [p for p in before if p.startswith(("data/arsip/", "data/keys/"))]
    # four documents, the Kabid's key, and the office key's anchors (the Kabid's, recovery)
    assert out["skipped"] == len(already) == 7
    assert out["files"] == len(after)
    assert out["categories"]["biasa/penerimaan"]["files"] == 1
    assert out["categories"]["dikecualikan/pengiriman"]["files"] == 1
    assert out["categories"]["biasa/pengiriman"]["files"] == 0
    # Append-only: nothing that was on the disk was rewritten.
    for path, st in stats.items():
        now = (office.disk / path).stat()
        assert (now.st_ino, now.st_mtime_ns, now.st_size) == (
            st.st_ino, st.st_mtime_ns, st.st_size), path
        assert after[path] == before[path]

    # Nothing new: a run copies no document, only its own folder.
    r = office.backup()
    assert r.returncode == 0, r.stderr
    third = r.json()
    validate(office.disk)
    again = set(manifest(office.disk)) - set(after)
    # Its own folder, and the audit entries since the run before (sign-ins, bookkeeping).
    (segment,) = again - _run_files(third, again)
    assert segment.startswith("data/audit/") and _run_files(third, again)
    assert third["agendas"] == [] and third["files_added"] == len(again)
    assert third["skipped"] == len(already) + len(new)


def test_the_control_list_is_readable_by_every_role(office: Office) -> None:
    new = office.register("penerimaan", "biasa", "Permohonan data statistik")
    assert office.backup().returncode == 0
    for user in ("operator", "kasi", "kabid", "kadis", "admin"):
        r = office.cli("backup", "list", "--json", user=user)
        assert r.returncode == 0, (user, r.stderr)
        runs = r.json()
        assert [x["run"] for x in runs] == [2, 1]
        assert {x["status"] for x in runs} == {"completed"}
        assert runs[0]["agendas"] == [new.agenda]
        assert runs[0]["operator"] == "operator"
    r = office.cli("backup", "show", "1", "--json", user="kadis")
    assert r.returncode == 0, r.stderr
    assert sorted(r.json()["agendas"]) == sorted(a for a in office.docs if a != new.agenda)
    out = office.base / "kontrol.csv"
    r = office.cli("backup", "export", "2", "--format", "csv", "--out", str(out), user="kasi")
    assert r.returncode == 0, r.stderr
    text = out.read_bytes().decode("utf-8-sig")
    assert new.agenda in text
    assert not any(a in text for a in office.docs if a != new.agenda)
    assert list(csv.reader(io.StringIO(text)))
    r = office.cli("backup", "show", "99", "--json", user="kasi")
    assert r.returncode != 0 and r.stderr.startswith("brankas: ")
