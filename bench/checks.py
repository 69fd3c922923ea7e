"""After the timings, not timed: is what Brankas stored right? Standard tools decide.

- every stored file has the SHA-256 its record says (``stored_sha256``);
- exempted files decrypt with the standard ``age`` tool and the office recovery key, to
  exactly the bytes the record names (``content_sha256``); regular files are the bytes;
- one record per input file, none refused, and ``brankas audit verify`` passes.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from pathlib import Path

from bench.instance import Instance

AGE_SAMPLE = 25  # exempted files of the import decrypted with age (all would take longer)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _age_plain_sha256(inst: Instance, path: Path) -> str:
    """Decrypt with the standard tool, hash what comes out (plaintext only in the pipe)."""
    assert inst.recovery_identity is not None
    with subprocess.Popen(["age", "-d", "-i", str(inst.recovery_identity), str(path)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        h = hashlib.sha256()
        while chunk := proc.stdout.read(1 << 20):
            h.update(chunk)
        err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"age -d failed on {path.name}: {err.strip()}")
    return h.hexdigest()


def registered(inst: Instance, doc: dict[str, object], source_sha256: str) -> list[str]:
    """The big registration: the stored file, decrypted with age, is the scan."""
    stored = inst.home / str(doc["stored_path"])
    problems = []
    if _sha256_file(stored) != doc["stored_sha256"]:
        problems.append(f"{doc['agenda']}: stored file does not match stored_sha256")
    if _age_plain_sha256(inst, stored) != source_sha256:
        problems.append(f"{doc['agenda']}: age -d does not give back the scan")
    if not stored.name.endswith(".pdf.age"):
        problems.append(f"{doc['agenda']}: exempted file not stored as .pdf.age")
    return problems


def imported(inst: Instance, expected_files: int) -> tuple[list[str], dict[str, int]]:
    """One finished import: every stored file against its record, a sample through age."""
    home = inst.home
    con = sqlite3.connect(home / "brankas.sqlite3")
    try:
        rows = con.execute(
            "select agenda, category, stored_path, stored_sha256, content_sha256"
            " from documents_document").fetchall()
    finally:
        con.close()
    problems = []
    if len(rows) != expected_files:
        problems.append(f"{len(rows)} records for {expected_files} files")
    on_disk = {p.relative_to(home).as_posix() for p in (home / "arsip").rglob("*") if p.is_file()}
    if on_disk != {r[2] for r in rows}:
        problems.append("the archive's files and the register's stored paths differ")
    decrypted = 0
    for agenda, category, stored_path, stored_sha, content_sha in rows:
        path = home / stored_path
        if _sha256_file(path) != stored_sha:
            problems.append(f"{agenda}: stored file does not match stored_sha256")
        if category == "biasa" and stored_sha != content_sha:
            problems.append(f"{agenda}: a regular document stored differently from its PDF")
        if category == "dikecualikan" and decrypted < AGE_SAMPLE:
            decrypted += 1
            if _age_plain_sha256(inst, path) != content_sha:
                problems.append(f"{agenda}: age -d does not give back the document")
    audit = inst.brankas("audit", "verify", user="admin")
    if "intact" not in audit.stdout:
        problems.append(f"audit verify: {audit.stdout.strip()} {audit.stderr.strip()}")
    return problems, {"records": len(rows), "files_hashed": len(rows),
                      "age_decrypted": decrypted}
