"""Secrets at rest on the laptop (issue 11), through the real ``brankas`` command: a private
data folder, ``init`` tightening a loose one, old exempted names renamed by the migration,
and a password typed as the user name kept nowhere."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASES, PASSWORDS, cli, make_pdf, quick_key_making

posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
REGISTER = ["--number", "005/12/2026", "--date", "2026-11-20", "--correspondent", "Kapolres",
            "--direction", "penerimaan", "--json"]
SECRET_SUBJECT = "Operasi Senyap Gunung Merapi"
SECRET_WORDS = ("operasi", "senyap", "gunung", "merapi")


@contextmanager
def loose_umask() -> Iterator[None]:
    """The commands start with a careless umask (022): the private modes are Brankas's."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def not_private(home: Path) -> list[tuple[str, str]]:
    return [(p.relative_to(home.parent).as_posix(), oct(mode(p)))
            for p in [home, *home.rglob("*")]
            if not p.is_symlink() and mode(p) != (0o700 if p.is_dir() else 0o600)]


@pytest.mark.slow
@posix_only
def test_everything_a_cli_instance_holds_is_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name in ("admin", "operator", "kabid"):
        (secrets / f"{name}.pw").write_text(PASSWORDS[name] + "\n")
    (secrets / "kabid.pp").write_text(PASSPHRASES["kabid"] + "\n")
    scan = tmp_path / "scan.pdf"
    make_pdf(scan, text="isi surat")
    letter = tmp_path / "letter.pdf"
    make_pdf(letter, text="isi surat permintaan")
    with loose_umask():
        run = lambda *a, **k: cli(home, tmp_path, *a, **k)  # noqa: E731
        r = run("init", "--office", "Dinas Kominfo", "--admin", "admin", "--password-file",
                str(secrets / "admin.pw"), "--json")
        assert r.returncode == 0, r.stderr
        for name, role in (("operator", "sandiman"), ("kabid", "kabid")):
            r = run("user", "add", name, "--role", role, "--password-file",
                    str(secrets / f"{name}.pw"), user="admin")
            assert r.returncode == 0, r.stderr
        with quick_key_making():  # the key file's mode is what counts here, not its scrypt
            r = run("key", "new", "--holder", "kabid", "--passphrase-file",
                    str(secrets / "kabid.pp"), user="kabid")
        assert r.returncode == 0, r.stderr
        for classification in ("biasa", "rahasia"):
            make_pdf(scan, text=f"isi surat {classification}")
            r = run("register", str(scan), "--classification", classification, "--subject",
                    SECRET_SUBJECT, *REGISTER, user="operator")
            assert r.returncode == 0, r.stderr
        r = run("request", "create", "--subject", SECRET_SUBJECT, "--classification", "rahasia",
                "--addressee", "Gubernur", "--attach", str(letter), "--json", user="operator")
        assert r.returncode == 0, r.stderr
    kinds = {p.relative_to(home).parts[0] for p in home.rglob("*")}
    assert {"arsip", "keys", "permintaan", "tmp", "config", "brankas.sqlite3"} <= kinds
    assert len(list((home / "keys").glob("kabid-*.age"))) == 1
    assert not_private(home) == []
    # Whoever opens the database next (here: this test, umask 022), its -wal and -shm files
    # are made with the database's own mode.
    with loose_umask(), closing(sqlite3.connect(home / "brankas.sqlite3")) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.execute("SELECT count(*) FROM documents_document").fetchone()
        made = [p for p in home.iterdir() if p.name.startswith("brankas.sqlite3-")]
        assert {p.name for p in made} >= {"brankas.sqlite3-wal", "brankas.sqlite3-shm"}
        assert {mode(p) for p in made} == {0o600}
    # The exempted document's subject is in no name; the biasa one keeps its slug.
    names = [p.relative_to(home).as_posix().lower() for p in home.rglob("*")]
    leaked = [n for n in names if any(w in n for w in SECRET_WORDS)]
    assert leaked and all(n.startswith("arsip/biasa/") for n in leaked), leaked


@posix_only
def test_init_tightens_an_existing_loose_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "arsip" / "lama").mkdir(parents=True)
    (home / "arsip" / "lama" / "surat.pdf").write_bytes(b"%PDF-1.4 old")
    (home / "catatan.txt").write_text("left here by someone")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("not Brankas's")
    (home / "link").symlink_to(outside)
    for p in (home, home / "arsip", home / "arsip" / "lama", outside):
        os.chmod(p, 0o755)  # noqa: S103 - a loose folder on purpose
    for p in (home / "arsip" / "lama" / "surat.pdf", home / "catatan.txt", outside / "notes.txt"):
        os.chmod(p, 0o644)
    pw = tmp_path / "admin.pw"
    pw.write_text(PASSWORDS["admin"] + "\n")
    with loose_umask():
        r = cli(home, tmp_path, "init", "--office", "Dinas", "--admin", "admin",
                "--password-file", str(pw), "--json")
        assert r.returncode == 0, r.stderr
        assert r.json()["tightened"] >= 5
        assert not_private(home) == []
        assert mode(outside) == 0o755 and mode(outside / "notes.txt") == 0o644  # not followed
        # An instance made loose again (copied with other modes, say): init tightens it,
        # then says it is set up already.
        os.chmod(home / "brankas.sqlite3", 0o644)
        os.chmod(home / "arsip", 0o755)  # noqa: S103
        r = cli(home, tmp_path, "init", "--office", "Dinas", "--admin", "admin",
                "--password-file", str(pw))
    assert r.returncode == 1 and "tightened: 2" in r.stderr
    assert not_private(home) == []


# ------------------------------------------------------------------ exempted names

def old_name(agenda: str, subject: str) -> str:
    """How an exempted file was named before issue 11."""
    from brankas.core.names import safe_component, slug

    return safe_component(f"{agenda}-{slug(subject, max_len=50)}", max_len=100) + ".pdf.age"


@pytest.mark.slow
def test_the_migration_renames_an_old_archive_and_open_still_works(
        run_cli, cli_office, cli_home, tmp_path):
    scan = tmp_path / "scan.pdf"
    make_pdf(scan, text="isi surat rahasia")
    r = run_cli("register", str(scan), "--classification", "rahasia", "--subject",
                SECRET_SUBJECT, *REGISTER, user="operator")
    assert r.returncode == 0, r.stderr
    doc = r.json()
    new_path = doc["stored_path"]
    assert new_path.endswith(f"/{doc['agenda']}.pdf.age")
    make_pdf(scan, text="surat permintaan")
    r = run_cli("request", "create", "--subject", SECRET_SUBJECT, "--classification", "terbatas",
                "--addressee", "Gubernur", "--attach", str(scan), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    req = r.json()
    assert req["letter"].endswith(f"/P-{req['request']:05d}.pdf.age")

    # Make it the instance of an older version: old names on disk and in the register,
    # and the two renaming migrations not applied yet.
    old_doc = str(Path(new_path).parent / old_name(doc["agenda"], SECRET_SUBJECT)).replace(
        os.sep, "/")
    old_letter = str(Path(req["letter"]).parent / old_name(f"P-{req['request']:05d}",
                                                           SECRET_SUBJECT)).replace(os.sep, "/")
    os.rename(cli_home / new_path, cli_home / old_doc)
    os.rename(cli_home / req["letter"], cli_home / old_letter)
    with closing(sqlite3.connect(cli_home / "brankas.sqlite3")) as db, db:
        db.execute("UPDATE documents_document SET stored_path=? WHERE agenda=?",
                   (old_doc, doc["agenda"]))
        db.execute("UPDATE dispatch_sendrequest SET letter_path=? WHERE id=?",
                   (old_letter, req["request"]))
        # ... and the later migrations of these two apps, which need the renaming ones
        # first (issue 13's file versions), as on an instance that never had them.
        # Every documents migration after its first (a later one, such as 0009's bigram
        # index, needs these first too: nothing on SQLite, run again by the upgrade).
        db.execute("DELETE FROM django_migrations WHERE app = 'documents' "
                   "AND name NOT LIKE '0001%'")
        db.execute("DELETE FROM django_migrations WHERE (app, name) IN "
                   "(('dispatch', '0002_exempted_letter_names'),"
                   " ('dispatch', '0003_letter_version'),"
                   " ('dispatch', '0004_i15_indexes'), ('dispatch', '0005_s16_sealed'))")
        # ... and the text app (issue 19), which depends on documents' latest: on an
        # instance that never had it, its tables and index are not there either; nor the
        # register fields' index (documents 0008; its triggers go with their table)
        db.execute("DELETE FROM django_migrations WHERE app = 'text'")
        db.execute("DROP TABLE IF EXISTS text_fts")
        db.execute("DROP TABLE IF EXISTS text_documenttext")
        db.execute("DROP TABLE IF EXISTS documents_field_fts")
        for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                              "AND name LIKE 'documents_field_fts%'").fetchall():
            db.execute(f'DROP TRIGGER "{row[0]}"')
        # 0005's change counter (web/changes.py) and its triggers
        db.execute("DELETE FROM brankas_changes WHERE tbl = 'documents_document'")
        for event in ("delete", "update"):
            db.execute(f'DROP TRIGGER "documents_document_changes_{event}"')
        for index in _indexes_added("documents", "0004_i15_indexes") + _indexes_added(
                "sendrequests", "0004_i15_indexes"):
            db.execute(f'DROP INDEX IF EXISTS "{index}"')
        db.execute("ALTER TABLE documents_document DROP COLUMN file_version")
        db.execute("ALTER TABLE documents_document DROP COLUMN sealed")  # issue 16
        db.execute("ALTER TABLE dispatch_sendrequest DROP COLUMN sealed")
        db.execute("ALTER TABLE dispatch_sendrequest DROP COLUMN letter_version")
    assert "merapi" in old_doc and "merapi" in old_letter

    # Upgrade: the migrations run (as `brankas serve` runs them at start).
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update(BRANKAS_HOME=str(cli_home), DJANGO_SETTINGS_MODULE="brankas.web.settings")
    migrate = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); "
         "from django.core.management import call_command; call_command('migrate', verbosity=0)"],
        env=env, capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    assert "1 berkas dinamai ulang" in migrate.stderr
    assert SECRET_SUBJECT.lower() not in migrate.stderr.lower()

    shown = run_cli("show", doc["agenda"], "--json", user="kabid").json()
    assert shown["stored_path"] == new_path
    assert shown["stored_sha256"] == doc["stored_sha256"]
    assert shown["stored_size"] == doc["stored_size"]
    stored = (cli_home / new_path).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == doc["stored_sha256"]
    assert not (cli_home / old_doc).exists() and not (cli_home / old_letter).exists()
    assert (cli_home / req["letter"]).is_file()
    names = [p.relative_to(cli_home).as_posix().lower() for p in cli_home.rglob("*")]
    assert not [n for n in names if any(w in n for w in SECRET_WORDS)]

    out = tmp_path / "dibuka.pdf"
    r = run_cli("open", doc["agenda"], "--out", str(out), user="kabid",
                env={"BRANKAS_PASSPHRASE": PASSPHRASES["kabid"]})
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == doc["content_sha256"]
    assert run_cli("audit", "verify", user="admin").returncode == 0


# ------------------------------------------------------------------ the user-name field

def test_a_password_typed_as_the_user_name_is_kept_nowhere(run_cli, cli_office, cli_home):
    typed = PASSWORDS["kasi"]  # the Kasi's password, typed into the name
    r = run_cli("list", env={"BRANKAS_USER": typed, "BRANKAS_PASSWORD": "whatever-else"})
    assert r.returncode == 1 and "wrong username or password" in r.stderr
    assert typed not in r.stderr
    with closing(sqlite3.connect(cli_home / "brankas.sqlite3")) as db:
        actors = [a for (a,) in db.execute(
            "SELECT actor FROM audit_auditevent WHERE action='auth.login' AND outcome='failed'")]
        attempts = [u for (u,) in db.execute("SELECT username FROM axes_accessattempt")]
        text = all_text(db)
    assert len(actors) == 1 and actors[0].startswith("unknown:")
    assert attempts == actors  # the lockout counts the same name
    assert typed not in text
    # Nowhere in any file of the data folder either (database pages, WAL, logs).
    for path in cli_home.rglob("*"):
        if path.is_file():
            assert typed.encode() not in path.read_bytes(), path


def all_text(db: sqlite3.Connection) -> str:
    """Every value of every table, as text."""
    parts: list[str] = []
    tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from sqlite
            parts.extend(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                         for v in row)
    return "\n".join(parts)


def _indexes_added(app: str, migration: str) -> list[str]:
    """The names of the indexes a migration of ``brankas.web.<app>`` adds (issue 15's)."""
    import importlib

    from django.db.migrations.operations import AddIndex

    module = importlib.import_module(f"brankas.web.{app}.migrations.{migration}")
    return [op.index.name for op in module.Migration.operations if isinstance(op, AddIndex)]
