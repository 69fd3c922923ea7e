"""``brankas import``: an old four-folder tree in bulk, resumable, duplicates skipped."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import PASSWORDS, cli, make_jpeg, make_pdf
from tests.hostile_disk import forkcli, harness


def build_tree(root: Path, n_per_folder: int = 3) -> dict[str, int]:
    counts = {}
    shade = 0
    for cat in ("biasa", "dikecualikan"):
        for direction in ("pengiriman", "penerimaan"):
            folder = root / cat / direction / "2019"
            folder.mkdir(parents=True)
            for i in range(n_per_folder):
                shade += 20
                if i % 2:
                    make_jpeg(folder / f"scan_{cat}_{direction}_{i}.jpg",
                              color=(shade, 10, 200))  # type: ignore[arg-type]
                else:
                    make_pdf(folder / f"surat-{cat}-{direction}-{i}.pdf",
                             text=f"{cat} {direction} {i}")
            counts[f"{cat}/{direction}"] = n_per_folder
    return counts


def rows(home: Path) -> list[tuple]:
    con = sqlite3.connect(home / "brankas.sqlite3")
    try:
        return con.execute(
            "select agenda, direction, classification, category, subject, stored_path, year,"
            " doc_date from documents_document order by agenda").fetchall()
    finally:
        con.close()


def test_import_infers_folders_and_skips_on_rerun(run_cli, cli_office, cli_home, tmp_path):
    old = tmp_path / "arsip-lama"
    build_tree(old)
    (old / "biasa" / "penerimaan" / "2019" / "catatan.txt").write_text("bukan pindaian")
    (old / "dikecualikan" / "pengiriman" / "2019" / "rusak.pdf").write_bytes(b"%PDF-1.4\n")
    (old / "lain-lain").mkdir()
    make_pdf(old / "lain-lain" / "ignored.pdf")

    r = run_cli("import", str(old), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    summary = r.json()
    assert summary["imported"] == 12
    assert summary["skipped"] == 0
    refused = {f["file"]: f["reason"] for f in summary["refused_files"]}
    assert set(refused) == {"biasa/penerimaan/2019/catatan.txt",
                            "dikecualikan/pengiriman/2019/rusak.pdf"}
    assert "not a PDF" in refused["biasa/penerimaan/2019/catatan.txt"]
    assert "truncated" in refused["dikecualikan/pengiriman/2019/rusak.pdf"]

    docs = rows(cli_home)
    assert len(docs) == 12
    for _agenda, direction, classification, category, _subject, path, _year, doc_date in docs:
        assert path.startswith(f"arsip/{category}/{direction}/")
        assert (classification == "biasa") == (category == "biasa")
        assert doc_date.startswith("2019-")
        stored = cli_home / path
        assert stored.is_file() and stored.name.endswith(
            ".pdf.age" if category == "dikecualikan" else ".pdf")
    assert {d[2] for d in docs} == {"biasa", "rahasia"}

    again = run_cli("import", str(old), "--json", user="operator")
    assert again.returncode == 0, again.stderr
    assert again.json()["imported"] == 0
    assert again.json()["skipped"] == 12
    assert len(rows(cli_home)) == 12


@pytest.mark.slow
@pytest.mark.skipif(not forkcli.available(), reason="SIGKILL and fork are POSIX")
def test_import_resumes_after_being_killed(cli_office, cli_home, tmp_path):
    old = tmp_path / "arsip-lama"
    for i in range(240):
        folder = old / ("biasa" if i % 3 else "dikecualikan") / "penerimaan" / "2020"
        folder.mkdir(parents=True, exist_ok=True)
        make_pdf(folder / f"surat-{i:03d}.pdf", text=f"nomor {i}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(cli_home), "BRANKAS_USER": "operator",
                "BRANKAS_PASSWORD": PASSWORDS["operator"], "BRANKAS_LANG": "en"})

    def fifty_in() -> bool:
        try:
            return len(rows(cli_home)) >= 50
        except sqlite3.OperationalError:
            return False

    # The real command in a process of its own (a child of the fork server,
    # tests/hostile_disk/forkcli.py), killed (SIGKILL) once 50 documents are recorded.
    code, _, err = harness._commands().run_killed(
        ["import", str(old)], env, tmp_path, reached=fifty_in, delay=0, poll=0.05,
        timeout=120)
    assert code == -signal.SIGKILL, err[-3000:]
    partial = len(rows(cli_home))
    assert 0 < partial < 240, "the import should have been cut off midway"
    # Every committed record points at a file. A kill between the filing of a batch and its
    # commit leaves that batch's files without records (complete files: each is renamed
    # into place whole); the next run that takes their numbers sets them aside (tmp/orphan-*).
    stored = {p.relative_to(cli_home).as_posix()
              for p in (cli_home / "arsip").rglob("*") if p.is_file()}
    recorded = {r[5] for r in rows(cli_home)}
    assert recorded <= stored
    unrecorded = stored - recorded

    # The re-run in this process (the kill above is the process boundary).
    r = cli(cli_home, tmp_path, "import", str(old), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    import json

    summary = json.loads(r.stdout)
    assert summary["skipped"] == partial
    assert summary["imported"] == 240 - partial
    final = rows(cli_home)
    assert len(final) == 240 and len({r[0] for r in final}) == 240
    stored = {p.relative_to(cli_home).as_posix()
              for p in (cli_home / "arsip").rglob("*") if p.is_file()}
    assert stored == {r[5] for r in final}
    set_aside = sorted(p.name for p in (cli_home / "tmp").glob("orphan-*"))
    assert len(set_aside) == len(unrecorded)
    assert {name.split("-", 2)[2] for name in set_aside} == {
        path.rsplit("/", 1)[1] for path in unrecorded}


def test_import_of_a_folder_without_the_sop_layout_is_refused(run_cli, cli_office, tmp_path):
    folder = tmp_path / "acak"
    folder.mkdir()
    make_pdf(folder / "a.pdf")
    r = run_cli("import", str(folder), user="operator")
    assert r.returncode == 1
    assert "holds no biasa/ or dikecualikan/" in r.stderr
