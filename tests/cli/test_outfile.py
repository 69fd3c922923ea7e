"""The one ``--out`` writer (``brankas.cli.outfile``): an existing file is refused and left
as it was, the target appears whole or not at all, and no temporary file is left behind;
then every command that writes ``--out``, through the real ``brankas`` command."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import click
import pytest

from brankas.cli.outfile import PART_SUFFIX, out_file
from brankas.core.errors import Conflict, SetupError
from tests.tmpfs import mount_tmpfs

CONTENT = b"%PDF-1.7 isi lengkap\n" * 1000


def parts(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(PART_SUFFIX)]


# ---------------------------------------------------------------- the writer


def test_the_file_appears_whole_private_and_alone(tmp_path: Path) -> None:
    target = tmp_path / "surat.pdf"
    with out_file(str(target)) as fh:
        fh.write(CONTENT[:100])
        assert not target.exists()  # nothing under the target's name while it is written
        [partial] = parts(tmp_path)
        assert partial.parent == tmp_path and partial.name.startswith(".surat.pdf.")
        fh.write(CONTENT[100:])
    assert target.read_bytes() == CONTENT
    assert parts(tmp_path) == []
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o600


def test_an_existing_file_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    target = tmp_path / "laporan.pdf"
    target.write_bytes(b"milik pengguna")
    before = target.stat()
    entered = False
    with pytest.raises(Conflict) as exc, out_file(str(target)):
        entered = True
    assert not entered
    assert exc.value.code == "output_exists" and str(target) in exc.value.message("en")
    assert target.read_bytes() == b"milik pengguna"
    assert target.stat().st_mtime_ns == before.st_mtime_ns
    assert parts(tmp_path) == []


def test_a_link_at_the_target_is_refused_too(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("symbolic links need privileges on Windows")
    elsewhere = tmp_path / "lain.txt"
    elsewhere.write_bytes(b"jangan diubah")
    (tmp_path / "tautan.pdf").symlink_to(tmp_path / "tidak-ada")  # dangling
    (tmp_path / "tautan2.pdf").symlink_to(elsewhere)
    for name in ("tautan.pdf", "tautan2.pdf"):
        with pytest.raises(Conflict), out_file(tmp_path / name) as fh:
            fh.write(CONTENT)
    assert elsewhere.read_bytes() == b"jangan diubah"
    assert not (tmp_path / "tidak-ada").exists()


@pytest.mark.parametrize("error", [RuntimeError("gagal di tengah"), KeyboardInterrupt()])
def test_an_error_or_ctrl_c_leaves_neither_the_file_nor_a_temporary(tmp_path: Path,
                                                                     error) -> None:
    target = tmp_path / "surat.pdf"
    with pytest.raises(type(error)), out_file(target) as fh:
        fh.write(CONTENT)
        raise error
    assert not target.exists()
    assert parts(tmp_path) == []


def test_a_file_made_meanwhile_under_the_name_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "surat.pdf"
    with pytest.raises(Conflict) as exc, out_file(target) as fh:
        fh.write(CONTENT)
        target.write_bytes(b"dibuat orang lain")
    assert exc.value.code == "output_exists"
    assert target.read_bytes() == b"dibuat orang lain"
    assert parts(tmp_path) == []


def test_missing_folders_are_made_and_a_file_in_the_way_is_a_clear_error(
        tmp_path: Path) -> None:
    target = tmp_path / "baru" / "sub" / "surat.pdf"
    with out_file(target) as fh:
        fh.write(CONTENT)
    assert target.read_bytes() == CONTENT
    (tmp_path / "berkas").write_bytes(b"x")
    with pytest.raises(SetupError) as exc, out_file(tmp_path / "berkas" / "surat.pdf"):
        pass
    assert exc.value.code == "output_unwritable"
    assert (tmp_path / "berkas").read_bytes() == b"x"


def test_a_full_disk_is_named_and_leaves_nothing(tmp_path: Path) -> None:
    mnt = tmp_path / "mnt"
    mount_tmpfs(mnt, "1m")
    try:
        target = mnt / "besar.pdf"
        with pytest.raises(SetupError) as exc, out_file(target) as fh:
            for _ in range(40):
                fh.write(os.urandom(64 << 10))
        assert exc.value.code == "disk_full"
        assert not target.exists() and parts(mnt) == []
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


# ---------------------------------------------------------------- every command with --out


@pytest.fixture(scope="module")
def outs(backed_up_template, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The backed-up CLI office (documents, one run on a disk) with a request that has a
    letter, a safe and a report: something for every command that writes ``--out``."""
    import shutil

    from tests.cli.backup.conftest import Office

    t = backed_up_template
    base = tmp_path_factory.mktemp("outfile")
    shutil.copytree(t.home, base / "home")
    office = Office(base=base, home=base / "home", disk=t.disk, secrets=t.secrets,
                    recovery_file=t.recovery_file, docs=dict(t.docs), first_run=t.first_run)
    letter = base / "surat.pdf"
    letter.write_bytes(next(iter(t.docs.values())).original)
    r = office.cli("request", "create", "--subject", "Berita", "--classification", "biasa",
                   "--addressee", "Sekda", "--attach", str(letter), "--json", user="kadis")
    assert r.returncode == 0, r.stderr
    request = str(r.json()["request"])
    combination = base / "kombinasi.txt"
    combination.write_text("12-34-56\n")
    r = office.cli("safe", "add", "Brankas-1", "--location", "Ruang Sandi",
                   "--combination-file", str(combination), user="operator")
    assert r.returncode == 0, r.stderr
    r = office.cli("report", "create", "backup", "--period", "2026", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    report = str(r.json()["report"])
    biasa = next(a for a, d in t.docs.items() if not d.exempted)
    label = t.first_run["medium"]["label"]
    pp = office.secret("kabid.pp")
    # command -> (arguments before --out, who runs it, the audit action it writes or "")
    cases = {
        "open": (["open", biasa], "kadis", "document.open"),
        "request open": (["request", "open", request], "kadis", "request.letter_open"),
        "backup export": (["backup", "export", "1", "--format", "csv"], "kasi",
                          "backup.export"),
        "safe print": (["safe", "print", "--passphrase-file", pp], "kabid",
                       "safe.combination.print"),
        "media print": (["media", "print", label], "kadis", "custody.print"),
        "report export": (["report", "export", report, "--format", "xlsx"], "kasi",
                          "report.export"),
        "audit export": (["audit", "export"], "admin", "audit.export"),
    }
    return office, cases


def commands_with_out() -> set[str]:
    from brankas.cli.app import main

    found = set()
    main.load_all()  # the commands' modules load when called (issue 15)

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])
            elif any("--out" in p.opts for p in command.params if isinstance(p, click.Option)):
                found.add(" ".join([*prefix, name]))

    walk(main, [])
    return found


CASES = ["open", "request open", "backup export", "safe print", "media print",
         "report export", "audit export"]


def test_every_command_that_writes_out_is_tested_here() -> None:
    assert commands_with_out() == set(CASES)


def audited(office, action: str) -> int:  # type: ignore[no-untyped-def]
    if not action:
        return 0
    return office.sql("select count(*) from audit_auditevent where action = ?", action)[0][0]


@pytest.mark.parametrize("command", CASES)
def test_a_command_refuses_an_existing_out_file_and_writes_a_new_one(outs, tmp_path,
                                                                     command) -> None:
    office, cases = outs
    args, user, action = cases[command]
    existing = tmp_path / "sudah-ada.bin"
    existing.write_bytes(b"berkas pengguna yang tidak boleh hilang")
    digest = hashlib.sha256(existing.read_bytes()).hexdigest()
    before = audited(office, action)
    r = office.cli(*args, "--out", str(existing), user=user)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stderr.startswith("brankas: ") and "already exists" in r.stderr, r.stderr
    assert hashlib.sha256(existing.read_bytes()).hexdigest() == digest
    assert audited(office, action) == before  # refused before anything was made
    assert parts(tmp_path) == []

    fresh = tmp_path / "baru" / "hasil.bin"
    r = office.cli(*args, "--out", str(fresh), user=user)
    assert r.returncode == 0, r.stderr
    assert fresh.stat().st_size > 0
    if os.name == "posix":
        assert fresh.stat().st_mode & 0o777 == 0o600
    assert parts(tmp_path) == []
    if action:
        assert audited(office, action) == before + 1


def test_a_refused_opening_leaves_no_file_and_no_temporary(outs, tmp_path) -> None:
    office, cases = outs
    args, _user, _action = cases["request open"]
    target = tmp_path / "surat.pdf"
    r = office.cli(*args, "--out", str(target), user="admin")  # admin: may not see requests
    assert r.returncode == 1 and "may not" in r.stderr, r.stderr
    assert not target.exists() and parts(tmp_path) == []
