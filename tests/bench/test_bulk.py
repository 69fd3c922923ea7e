"""The bench's bulk generator (``bench/bulk.py``) at a small size: the instance it makes
passes ``brankas audit verify``, a backup of it passes ``brankas verify``, its files match
their records, and a record it makes equals the one the registration service makes for
the same form and file, field by field (ids and times apart)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import shutil
from collections import Counter
from pathlib import Path

import pytest

from bench import bulk
from tests.clirun import CliResult
from tests.conftest import cli

pytestmark = pytest.mark.slow

DOCS = 200
ENTRIES = 2000


def _copy(built: tuple[Path, dict], tmp_path: Path) -> Path:
    """A private copy of the generated instance, for a test whose commands write to it (an
    audit entry, a backup run): the shared one stays as generated for the others."""
    home = tmp_path / "home"
    shutil.copytree(built[0], home)
    return home


def _cli(home: Path, user: str, *args: str) -> CliResult:
    """The real ``brankas`` command on the generated instance, in this process
    (tests/clirun.py: what is checked here is the instance, not the process)."""
    return cli(home, home.parent, *args, env={"BRANKAS_USER": user,
                                              "BRANKAS_PASSWORD": bulk.PASSWORDS[user]})


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The generated instance, built once: every test that uses it reads it with the
    standard library or the command in this process, never through the test database
    (none is marked ``django_db``). pytest-django runs the tests that use the database
    first: one of them here would split the module and build this again."""
    base = tmp_path_factory.mktemp("bulk")
    home = base / "home"
    # The holders' keys protected at a small scrypt work factor (as quick_key_making does,
    # in the child: a sitecustomize module on its PYTHONPATH, which build() keeps): two keys
    # at rage's factor were 6 of the build's 7 CPU-s; the product's factor is tested in
    # tests/core/test_crypto.py and tests/web/keys, nothing here opens these keys.
    hook = base / "quick-keys"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(QUICK_KEYS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(hook), str(ROOT),
                                                               os.environ.get("PYTHONPATH")])))
        return home, bulk.build(home, DOCS, ENTRIES, seed=3)


ROOT = Path(__file__).resolve().parents[2]
QUICK_KEYS = """
import pyrage
from tests.agefile import passphrase_encrypt
pyrage.passphrase.encrypt = lambda data, passphrase: passphrase_encrypt(bytes(data), passphrase)
"""


def test_counts_and_users(built: tuple[Path, dict], tmp_path: Path) -> None:
    _, result = built
    home = _copy(built, tmp_path)
    assert result["documents"] == DOCS
    assert result["audit_entries"] == ENTRIES
    assert 0.15 * DOCS <= result["exempted"] <= 0.35 * DOCS
    assert set(result["users"]) == {"admin", "operator", "kabid", "kadis"}
    assert result["recovery_identity"].startswith("AGE-SECRET-KEY-")
    listed = _cli(home, "operator", "list", "--json", "--limit", "1000")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) == DOCS
    years = {r["agenda"].split("-")[1] for r in rows}
    assert len(years) >= 10  # spread over ten years


def test_audit_verify_passes(built: tuple[Path, dict], tmp_path: Path) -> None:
    home = _copy(built, tmp_path)
    run = _cli(home, "admin", "audit", "verify")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "intact" in run.stdout


def test_backup_then_verify_passes(built: tuple[Path, dict], tmp_path: Path) -> None:
    home = _copy(built, tmp_path)
    disk = tmp_path / "disk"
    run = _cli(home, "operator", "backup", str(disk), "--label", "bulk", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["status"] == "completed"
    assert summary["files_added"] >= DOCS
    check = _cli(home, "operator", "verify", str(disk))
    assert check.returncode == 0, check.stdout + check.stderr


def test_files_match_records_and_counters(built: tuple[Path, dict]) -> None:
    """Read with the standard library: every stored file hashes to its record, every
    exempted one decrypts with the recovery key to the recorded plaintext; the agenda
    numbers run 1..N per year and direction, and the counters end there."""
    import sqlite3

    from brankas.core import crypto

    home, result = built
    db = sqlite3.connect(home / "brankas.sqlite3")
    rows = db.execute("select year, direction, seq, category, stored_path, stored_sha256,"
                      " content_sha256 from documents_document").fetchall()
    from pyrage import x25519

    identity = x25519.Identity.from_str(result["recovery_identity"])
    seqs: dict[tuple[int, str], list[int]] = {}
    for year, direction, seq, category, path, stored, content in rows:
        data = (home / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == stored
        if category == "dikecualikan":
            assert path.endswith(".pdf.age")
            plain = crypto.decrypt_bytes(data, [identity])
            assert hashlib.sha256(plain).hexdigest() == content
        else:
            assert content == stored
        seqs.setdefault((year, direction), []).append(seq)
    counters = dict(((y, d), last) for y, d, last in db.execute(
        "select year, direction, last from documents_agendacounter"))
    assert set(counters) == set(seqs)
    for key, numbers in seqs.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
        assert counters[key] == len(numbers)
    last_seq, = db.execute("select last from audit_auditsequence").fetchone()
    assert last_seq == ENTRIES
    assert Counter(a for a, in db.execute("select action from audit_auditevent"))[
        "document.register"] == DOCS


def _fields(doc: object) -> dict[str, object]:
    skip = {"id", "registered_at", "form_opened_at"}
    return {f.attname: getattr(doc, f.attname) for f in doc._meta.concrete_fields  # type: ignore[attr-defined]
            if f.name not in skip}


def test_bulk_record_equals_service_record(office) -> None:  # type: ignore[no-untyped-def]
    """For one biasa and one exempted document: the service registers the generator's
    form and file; the record and its audit entry are kept, the record and its file are
    removed and the counters reset; the generator then makes the same document in bulk
    (at a moment of the same year) and its record and audit entry equal the service's."""
    from django.utils import timezone

    from brankas.core.register import intake, metadata, store
    from brankas.core.terms import Category, category_of
    from brankas.web.audit.models import AuditEvent
    from brankas.web.documents.models import AgendaCounter, Document
    from brankas.web.documents.services import document_register
    from brankas.web.runtime import brankas_settings

    operator = office.users["operator"]
    end = timezone.now()
    span = dt.timedelta(seconds=30)
    seen: set[Category] = set()
    for seed in range(50):
        rnd = random.Random(seed)
        moment = bulk.timeline(1, end=end, rnd=rnd, span=span)[0]
        spec = bulk.document_spec(0, rnd, moment)
        category = category_of(spec["classification"])
        if category in seen:
            continue
        seen.add(category)
        meta = metadata.DocumentInput(
            direction=spec["direction"], classification=spec["classification"],
            number=spec["number"], doc_date=spec["doc_date"], subject=spec["subject"],
            correspondent=spec["correspondent"])
        made = document_register(actor=operator, meta=meta, source="cli",
                                 files=[intake.InputFile.from_bytes(spec["name"],
                                                                    spec["pdf"])])
        assert made.year == moment.year  # the same year: the same agenda number
        service = _fields(made)
        service_entry = AuditEvent.objects.filter(action="document.register").order_by(
            "-seq")[0]
        assert service_entry.target == made.agenda
        store.absolute(brankas_settings(), made.stored_path).unlink()
        Document.objects.all().delete()
        AgendaCounter.objects.all().delete()

        bulk.load(actor=operator, documents=1, audit_entries=0, seed=seed, end=end,
                  span=span)
        twin = Document.objects.get()
        made_in_bulk = _fields(twin)
        if category is Category.EXEMPTED:
            # age encrypts with a fresh file key (and rage adds a random "grease" stanza
            # to the header): other bytes, a size a few bytes apart.
            assert made_in_bulk.pop("stored_sha256") != service.pop("stored_sha256")
            assert abs(made_in_bulk.pop("stored_size") - service.pop("stored_size")) < 300
            # The sealed register fields (issue 16): the same fields to the same readers,
            # each a fresh age file.
            bulk_sealed, service_sealed = made_in_bulk.pop("sealed"), service.pop("sealed")
            assert {k: v["to"] for k, v in bulk_sealed.items()} == {
                k: v["to"] for k, v in service_sealed.items()} and bulk_sealed
        assert made_in_bulk == service
        assert twin.registered_at == moment
        entry = AuditEvent.objects.filter(action="document.register").order_by("-seq")[0]
        for name in ("actor", "action", "target", "outcome"):
            assert getattr(entry, name) == getattr(service_entry, name)
        detail, service_detail = dict(entry.detail), dict(service_entry.detail)
        if category is Category.EXEMPTED:
            detail.pop("stored_sha256")
            service_detail.pop("stored_sha256")
        assert detail == service_detail
        assert entry.at == moment
        file = store.absolute(brankas_settings(), twin.stored_path)
        assert hashlib.sha256(file.read_bytes()).hexdigest() == twin.stored_sha256
        file.unlink()
        Document.objects.all().delete()
        AgendaCounter.objects.all().delete()
        if len(seen) == 2:
            break
    assert seen == {Category.REGULAR, Category.EXEMPTED}
    from brankas.web.audit.services import audit_verify

    assert audit_verify() is None  # the chain the service and the generator wrote
