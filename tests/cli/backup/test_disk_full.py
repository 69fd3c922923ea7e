"""A backup disk that fills up: a clear error, a bag that still validates, a failed run
that records only what the manifest lists; a bigger disk, or more room, completes it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.backup.conftest import Office, big_pdf, manifest, recorded_on, validate
from tests.tmpfs import mount_tmpfs


@pytest.mark.slow
def test_a_full_disk_fails_cleanly_and_a_later_run_with_room_completes(
        office: Office, tmp_path: Path) -> None:
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt, "2m")
    try:
        tree = office.base / "tree" / "biasa" / "pengiriman" / "2024"
        tree.mkdir(parents=True)
        for i in range(6):
            (tree / f"pindai-besar-{i}.pdf").write_bytes(big_pdf(450_000, 100 + i))
        r = office.cli("import", str(office.base / "tree"), "--json", user="operator")
        assert r.returncode == 0 and r.json()["imported"] == 6, r.stderr
        docs = {f"data/{p}": h for p, h in office.sql(
            "select stored_path, stored_sha256 from documents_document")}

        dest = mnt / "brankas"
        r = office.backup(dest, "--label", "KECIL")
        assert r.returncode != 0, r.stdout
        assert r.stdout == ""
        assert r.stderr.startswith("brankas: ")
        assert "full" in r.stderr.lower() and str(dest) in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
        validate(dest)
        listed = manifest(dest)
        assert all(docs[p] == h for p, h in listed.items() if p in docs)
        assert not set(docs) <= set(listed)

        runs = office.cli("backup", "list", "--json", user="kasi").json()
        failed = runs[0]
        assert failed["medium"]["label"] == "KECIL"
        assert failed["status"] == "failed" and failed["error"], failed
        medium_id = failed["medium"]["medium_id"]
        on_medium = recorded_on(office, medium_id)
        assert on_medium <= set(listed)
        carried = {f"data/{p}" for (a, p) in office.sql(
            "select agenda, stored_path from documents_document") if a in failed["agendas"]}
        assert carried == on_medium  # the failed run's list names what it left on the disk

        # Another, bigger disk takes everything.
        r = office.backup(office.base / "disk-besar", "--label", "BESAR")
        assert r.returncode == 0, r.stderr
        validate(office.base / "disk-besar")
        assert set(docs) <= set(manifest(office.base / "disk-besar"))

        # The same small disk, given more room, is completed by the next run.
        subprocess.run(["mount", "-o", "remount,size=64m", str(mnt)], check=True)
        r = office.backup(dest)
        assert r.returncode == 0, r.stderr
        out = r.json()
        assert out["medium"]["medium_id"] == medium_id and out["status"] == "completed"
        validate(dest)
        listed_after = manifest(dest)
        assert {p: listed_after[p] for p in docs} == docs
        assert set(out["agendas"]).isdisjoint(failed["agendas"])
        assert recorded_on(office, medium_id) == set(docs)
        r = office.cli("verify", str(dest), "--json", user="operator")
        assert r.returncode == 0, r.stdout
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
