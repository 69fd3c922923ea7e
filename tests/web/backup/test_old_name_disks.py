"""A disk written before exempted files were named by their agenda number alone still
holds them as ``<agenda>-<subject slug>.pdf.age`` (append-only). After the rename,
restore, the drill and verify find each document there by its SHA-256 in the same folder,
and the next backup adds the new name beside the old one."""

from __future__ import annotations

from pathlib import Path

from brankas.core.disk.format import read_payload_manifest
from brankas.web.backup.restore import backup_drill, backup_restore
from brankas.web.backup.services import backup_run, medium_verify
from brankas.web.documents.models import Document
from brankas.web.documents.renames import documents_rename
from tests.web.documents.test_renames import make_old, register


def test_a_disk_with_old_names_still_restores_drills_and_verifies(office, tmp_path: Path):
    docs = [register(office, s) for s in ("Operasi Senyap Gunung", "Sandi Pelabuhan Bitung")]
    old = {d.agenda: make_old(office.home, d) for d in docs}
    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk, label="LAMA")
    assert {f"{p}" for p in old.values()} <= set(read_payload_manifest(disk))
    documents_rename(home=office.home, document_model=Document)  # the upgrade
    renamed = {d.agenda: d.stored_path for d in Document.objects.all()}
    assert all(renamed[a] != old[a] for a in old)

    report, _ = medium_verify(actor=office.users["operator"], dest=disk)
    assert report.ok, (report.register_problems, report.seal_problems)
    restored = backup_restore(actor=office.users["operator"], dest=disk, to=tmp_path / "out")
    assert restored.ok and sorted(restored.restored) == sorted(old)
    assert all((tmp_path / "out" / Path(renamed[a]).relative_to("arsip")).is_file()
               for a in old)
    drill = backup_drill(actor=office.users["operator"], dest=disk)
    assert drill.ok and drill.restored == len(old) and drill.missing == []

    backup_run(actor=office.users["operator"], dest=disk)
    listed = set(read_payload_manifest(disk))
    assert set(old.values()) <= listed and set(renamed.values()) <= listed
