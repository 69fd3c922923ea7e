"""The disk is usable with standard tools only: ``sha256sum``, ``age``, a CSV reader."""

from __future__ import annotations

import base64
import csv
import io
import json
import shlex
import shutil
import subprocess

from tests.cli.backup.conftest import EXEMPT_MARKERS, Office
from tests.leakscan import scan_for


def test_sha256sum_checks_the_manifest(office: Office) -> None:
    # The standard tools are part of the test: a machine without them fails, it does not skip.
    assert shutil.which("sha256sum"), "sha256sum (coreutils) is needed: make test installs it"
    r = subprocess.run(["sha256sum", "--strict", "-c", "manifest-sha256.txt"],
                       cwd=office.disk, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(": OK") == office.first_run["files"]
    r = subprocess.run(["sha256sum", "--strict", "-c", "tagmanifest-sha256.txt"],
                       cwd=office.disk, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # A control: sha256sum does notice a changed file.
    doc = next(d for d in office.docs.values() if not d.exempted)
    (office.disk / "data" / doc.stored_path).write_bytes(b"%PDF-1.4 tampered")
    r = subprocess.run(["sha256sum", "-c", "manifest-sha256.txt"], cwd=office.disk,
                       capture_output=True, text=True)
    assert r.returncode != 0 and doc.stored_path in r.stdout


def test_an_exempted_file_decrypts_with_the_age_tool(office: Office) -> None:
    assert shutil.which("age"), "the age command is needed: make test installs it (apt age)"
    exempted = [d for d in office.docs.values() if d.exempted]
    assert exempted
    for doc in exempted:
        r = subprocess.run(["age", "-d", "-i", str(office.recovery_file),
                            str(office.disk / "data" / doc.stored_path)], capture_output=True)
        assert r.returncode == 0, r.stderr
        assert r.stdout == doc.original
    # The register and the database snapshot open the same way.
    folder = office.disk / "data" / "backup" / office.first_run["folder"]
    r = subprocess.run(["age", "-d", "-i", str(office.recovery_file),
                        str(folder / "register-lengkap.csv.age")], capture_output=True)
    assert r.returncode == 0, r.stderr
    full = r.stdout.decode("utf-8-sig")
    for doc in office.docs.values():
        # An exempted subject is sealed (issue 16): "tersegel" in the register ...
        assert doc.agenda in full and (doc.subject in full) is (not doc.exempted)
    assert "tersegel" in full
    # ... and its value opens with standard tools too: the snapshot (age -d), then the
    # field's age file (base64 -d | age -d).
    r = subprocess.run(["age", "-d", "-i", str(office.recovery_file),
                        str(folder / "database.json.age")], capture_output=True)
    assert r.returncode == 0, r.stderr
    rows = {row["fields"]["agenda"]: row["fields"] for row in json.loads(r.stdout)
            if row["model"] == "documents.document"}
    # The guides' line for a sealed value, run as written (sh, base64, age).
    text = (office.disk / "RESTORE-GUIDE.txt").read_text(encoding="utf-8")
    line = next(t.strip() for t in text.splitlines() if "| base64 -d | age -d" in t)
    for doc in exempted:
        sealed = base64.b64decode(rows[doc.agenda]["sealed"]["subject"]["age"])
        r = subprocess.run(["age", "-d", "-i", str(office.recovery_file)], input=sealed,
                           capture_output=True)
        assert r.returncode == 0 and r.stdout.decode() == doc.subject, r.stderr
        value = rows[doc.agenda]["sealed"]["subject"]["age"]
        command = line.replace("'<the text after \"age\": without the quotes>'", f"'{value}'")
        command = command.replace("recovery.txt", shlex.quote(str(office.recovery_file)))
        assert value in command
        r = subprocess.run(["sh", "-c", command], capture_output=True)
        assert r.returncode == 0 and r.stdout.decode() == doc.subject, r.stderr
    # The guide explains recovery with these standard tools.
    guides = list(office.disk.glob("*.txt"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in guides)
    assert "sha256sum" in text and "age -d" in text


def test_the_biasa_register_is_plain_csv_and_no_exempted_subject_is_in_clear(
        office: Office) -> None:
    folder = office.disk / "data" / "backup" / office.first_run["folder"]
    text = (folder / "register-biasa.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    agenda_col, subject_col = header.index("No. Agenda"), header.index("Perihal")
    biasa = {d.agenda: d.subject for d in office.docs.values() if not d.exempted}
    assert {r[agenda_col]: r[subject_col] for r in body} == biasa
    # Neither the exempted subjects nor the text of their PDFs (which carries the
    # subject) are in clear in any file on the disk. (Their file names carry the
    # agenda and a lower-case slug of the subject, as DESIGN.md's store layout says.)
    exempted = [d for d in office.docs.values() if d.exempted]
    for doc in exempted:
        for marker in (doc.subject, *EXEMPT_MARKERS):
            assert scan_for(marker.encode(), [office.disk]) == [], marker
    # A control: the scan finds a biasa subject, which is in clear by design.
    some = next(iter(biasa.values()))
    assert scan_for(some.encode(), [office.disk])
