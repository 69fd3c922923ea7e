"""``brankas recover --from-offsite`` (issue 18; docs/offsite.md) and the ransomware drill,
against the real S3 server of the tests (scripts/s3server.py: SeaweedFS by default):

    .venv/bin/python scripts/s3server.py run -- .venv/bin/python -m pytest -n 0 \\
        tests/offsite/test_offsite_recover.py

The office is built once (module-scoped) and pushed in the test; the recover is the real
command, run in-process (tests/clirun.py: its own Django on the new home, as a process);
the attacker is a real process of its own with the office's stored S3 credentials.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import PASSPHRASES, PASSWORDS, cli, office_once
from tests.offsite.conftest import office_on_server

pytestmark = pytest.mark.s3


def _documents(office: SimpleNamespace, base: Path) -> dict[str, Any]:
    from tests.web.ui.conftest import register_directly

    return {"biasa": register_directly(office, subject="Undangan rapat koordinasi").agenda,
            "secret": register_directly(office, subject="Sandi rahasia negara",
                                        classification="rahasia").agenda}


@pytest.fixture(scope="module")
def template(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    with office_once(django_db_blocker, tmp_path_factory, _documents) as made:
        yield made


@pytest.fixture
def office(template, db, settings, tmp_path: Path, server):  # type: ignore[no-untyped-def]
    made = office_on_server(template, settings, tmp_path, server)
    creds = tmp_path / "s3-credentials"  # the office's stored credentials (chmod 600)
    creds.write_text(f"[default]\naws_access_key_id = {server['AWS_ACCESS_KEY_ID']}\n"
                     f"aws_secret_access_key = {server['AWS_SECRET_ACCESS_KEY']}\n")
    creds.chmod(0o600)
    made.creds = creds
    made.key = tmp_path / "recovery.txt"
    made.key.write_text(made.recovery_identity + "\n")
    return made


def _cli_passwords(office: SimpleNamespace) -> None:
    """The module's office has MD5 password hashes (quick); the commands run against the
    rebuilt instance check Argon2id (at tests/clirun.py's small parameters)."""
    from brankas.web.accounts.hashers import BrankasArgon2PasswordHasher as Hasher

    saved = Hasher.time_cost, Hasher.memory_cost
    Hasher.time_cost, Hasher.memory_cost = 1, 64
    try:
        for name in ("admin", "operator", "kasi"):
            user = office.users[name]
            user.password = Hasher().encode(PASSWORDS[name], Hasher().salt())
            user.save(update_fields=["password"])
    finally:
        Hasher.time_cost, Hasher.memory_cost = saved


def _add_and_push(office: SimpleNamespace) -> Any:
    from brankas.web.offsite.services import offsite_push, remote_add

    remote_add(actor=office.users["operator"], name="pdn", endpoint=office.endpoint,
               bucket=office.bucket, prefix=office.prefix, retention_days=2,
               credentials_file=str(office.creds))
    out = offsite_push(actor=office.users["operator"], name="pdn")
    assert out.ok
    return out


def _recover(office: SimpleNamespace, tmp_path: Path, name: str, *secret: str,
             prefix: str | None = None) -> Any:
    url = office.url if prefix is None else f"s3://{office.bucket}/{prefix}"
    new = tmp_path / name
    return new, cli(new, tmp_path, "recover", "--from-offsite", url, "--endpoint",
                    office.endpoint, "--home", str(new), "--credentials-file",
                    str(office.creds), *(secret or ("--identity", str(office.key))), "--json")


def _register(home: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        return {a: (p, s) for a, p, s in db.execute(
            "SELECT agenda, stored_path, stored_sha256 FROM documents_document")}


def _every_document_matches(home: Path, expected: dict[str, str]) -> None:
    found = _register(home)
    assert {a: s for a, (_p, s) in found.items()} == expected
    for agenda, (path, sha) in found.items():
        data = home.joinpath(*path.split("/")).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha, agenda


def _versions(raw: Any, office: SimpleNamespace) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for page in raw.get_paginator("list_object_versions").paginate(
            Bucket=office.bucket, Prefix=office.prefix + "/"):
        found |= {(v["Key"], v["VersionId"]) for v in page.get("Versions", [])}
    return found


ATTACKER = textwrap.dedent("""
    import json, os, sys, datetime
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    home, disk, creds, endpoint, bucket, prefix = sys.argv[1:7]
    # 1. every file of the working archive and of the attached disk "encrypted" (junk)
    encrypted = 0
    for root in (home, disk):
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                size = os.path.getsize(path)
                with open(path, "r+b") as fh:
                    fh.write(os.urandom(max(size, 16)))
                encrypted += 1
    # 2. the office's stored credentials, read as the office's user may
    keys = dict(line.split(" = ", 1) for line in open(creds).read().split("\\n") if " = " in line)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=keys["aws_access_key_id"],
                      aws_secret_access_key=keys["aws_secret_access_key"],
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    versions = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket,
                                                                   Prefix=prefix + "/"):
        versions += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    out = {"encrypted": encrypted, "versions": len(versions), "deleted": [], "refused": 0,
           "shortened": [], "batch_deleted": [], "markers": 0}
    def attempt(what, call):
        try:
            call()
            return True
        except ClientError:
            out["refused"] += 1
            return False
    for key, version in versions:
        if attempt("delete", lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=version)):
            out["deleted"].append([key, version])
        if attempt("bypass", lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=version,
                                                      BypassGovernanceRetention=True)):
            out["deleted"].append([key, version])
        past = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
        if attempt("shorten", lambda: s3.put_object_retention(
                Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True,
                Retention={"Mode": "GOVERNANCE", "RetainUntilDate": past})):
            out["shortened"].append([key, version])
    for start in range(0, len(versions), 1000):
        chunk = versions[start:start + 1000]
        try:
            reply = s3.delete_objects(Bucket=bucket, BypassGovernanceRetention=True, Delete={
                "Objects": [{"Key": k, "VersionId": v} for k, v in chunk]})
            out["batch_deleted"] += [[d["Key"], d.get("VersionId")]
                                     for d in reply.get("Deleted", [])]
            out["refused"] += len(reply.get("Errors", []))
        except ClientError:
            out["refused"] += len(chunk)
    for key in sorted({k for k, _ in versions}):  # plain deletes: only delete markers
        if attempt("marker", lambda: s3.delete_object(Bucket=bucket, Key=key)):
            out["markers"] += 1
    print(json.dumps(out))
""")


@pytest.mark.slow  # a real attacker process, a whole recover and a push into its instance
def test_ransomware_drill_recovers_every_document_from_the_offsite_copy(
        office, raw, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.backup.services import backup_run
    from brankas.web.documents.models import Document

    _cli_passwords(office)
    _add_and_push(office)
    disk = tmp_path / "disk"
    backup_run(actor=office.users["operator"], dest=disk, label="A")
    expected = dict(Document.objects.values_list("agenda", "stored_sha256"))
    before = _versions(raw, office)
    home = office.home

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BRANKAS_"))}
    attack = subprocess.run(  # noqa: S603 - the attacker: a process of the same user
        [sys.executable, "-c", ATTACKER, str(home), str(disk), str(office.creds),
         office.endpoint, office.bucket, office.prefix],
        env=env, capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(attack.stdout)
    assert result["encrypted"] > 0 and result["versions"] == len(before)
    # Not one locked version deleted or its lock shortened: SeaweedFS enforces the lock.
    assert result["deleted"] == [] and result["batch_deleted"] == []
    assert result["shortened"] == []
    assert _versions(raw, office) == before
    # the archive and the disk are junk now
    for agenda, sha in expected.items():
        path = Document.objects.get(agenda=agenda).stored_path
        assert hashlib.sha256(home.joinpath(*path.split("/")).read_bytes()).hexdigest() != sha

    # a holder's passphrase: the key files are found among versions hidden by markers
    new, r = _recover(office, tmp_path, "baru", "--passphrase-file", str(_passphrase(tmp_path)))
    assert r.returncode == 0, r.stderr + r.stdout
    out = r.json()
    assert out["ok"] is True and out["audit_ok"] is True, out
    assert out["restored"] == len(expected) and out["exempted_opened"]
    _every_document_matches(new, expected)
    verify = cli(new, tmp_path, "audit", "verify", user="admin")
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # The remote is in the rebuilt instance's records: the next push sends only its own
    # folder and the audit entries since (not the archive again), and seals it.
    push = cli(new, tmp_path, "offsite", "push", "offsite", "--json", user="operator")
    assert push.returncode == 0, push.stderr + push.stdout
    sent = push.json()
    assert sent["push"] == 2 and sent["objects_skipped"] >= len(expected)
    listed = cli(new, tmp_path, "offsite", "restore", "offsite", "--to", str(tmp_path / "r"),
                 "--json", user="kasi",
                 env={"BRANKAS_PASSPHRASE": PASSPHRASES["kasi"]})
    assert listed.returncode == 0, listed.stderr + listed.stdout
    assert sorted(listed.json()["restored"]) == sorted(expected)


def test_forged_rolled_back_and_planted_versions_are_not_used(office, raw,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    from brankas.core.disk import seal as diskseal
    from brankas.core.offsite import index as layout
    from brankas.web.documents.models import Document
    from brankas.web.keys.selectors import Purpose, recipients_for
    from brankas.web.offsite.models import PushedObject
    from brankas.web.offsite.services import offsite_push
    from tests.web.ui.conftest import register_directly

    _add_and_push(office)
    first_seal = PushedObject.objects.get(key=layout.SEAL).version_id
    late = register_directly(office, subject="Surat susulan", number="9/2026")
    assert offsite_push(actor=office.users["operator"], name="pdn").ok
    expected = dict(Document.objects.values_list("agenda", "stored_sha256"))
    full = f"{office.prefix}/"
    # A junk version planted over the late document's object, and a delete marker on it.
    late_key = PushedObject.objects.get(bag_path=late.stored_path).key
    raw.put_object(Bucket=office.bucket, Key=full + late_key, Body=b"junk" * 100)
    # The first push's seal written again as the newest version (a rollback) ...
    old = raw.get_object(Bucket=office.bucket, Key=full + layout.SEAL,
                         VersionId=first_seal)["Body"].read()
    raw.put_object(Bucket=office.bucket, Key=full + layout.SEAL, Body=old)
    # ... then a seal signed by the attacker's own key, encrypted to the office's public
    # recipients (no secret), naming the real index: newest of all.
    recipients = recipients_for(purpose=Purpose.SNAPSHOT).age()
    mine = diskseal.generate()
    forged = layout.seal_statement(remote_id="x" * 32, push=99, folder="offsite-0099",
                                   index=("0" * 64, None), manifest=("0" * 64, None),
                                   objects=0, audit_head=None, previous=None)
    from brankas.core import crypto

    raw.put_object(Bucket=office.bucket, Key=full + layout.SEAL,
                   Body=crypto.encrypt_bytes(diskseal.seal_bytes(forged, mine), recipients))

    new, r = _recover(office, tmp_path, "baru")  # the recovery identity
    assert r.returncode == 1, r.stderr + r.stdout  # rebuilt, with the problems named
    out = r.json()
    assert out["audit_ok"] is True and out["restored"] == len(expected)
    assert "push 2" in out["newest_sealed_run"]
    problems = "\n".join(out["problems"])
    assert "rollback" in problems and "no anchor names" in problems
    assert "not the sealed object" in problems  # the planted version, passed over
    _every_document_matches(new, expected)

    # Only forged material under a prefix: refused, nothing built.
    alone = f"t-{uuid.uuid4().hex[:12]}"
    raw.put_object(Bucket=office.bucket, Key=f"{alone}/{layout.SEAL}",
                   Body=crypto.encrypt_bytes(diskseal.seal_bytes(forged, mine), recipients))
    gone, r = _recover(office, tmp_path, "palsu", prefix=alone)
    assert r.returncode != 0 and not gone.exists()
    assert "no seal of your office that can be believed" in r.stderr
    # Another office's key (or the wrong one): nothing opens, nothing built.
    other = tmp_path / "other.txt"
    other.write_text(crypto.generate().identity + "\n")
    gone, r = _recover(office, tmp_path, "lain", "--identity", str(other))
    assert r.returncode != 0 and not gone.exists()
    assert "does not open with this key" in r.stderr


def _passphrase(tmp_path: Path) -> Path:
    path = tmp_path / "kasi.pp"
    path.write_text(PASSPHRASES["kasi"] + "\n")
    return path


def test_the_url_and_the_options_are_checked(office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from brankas.core.errors import InvalidInput
    from brankas.core.offsite.recovery import parse_url

    assert parse_url("s3://bucket-a/office/a/") == ("bucket-a", "office/a")
    assert parse_url("s3://bucket-a") == ("bucket-a", "")
    for bad in ("s3://B/x", "http://bucket/x", "s3://bucket/../x", "s3://bucket/a//b"):
        with pytest.raises(InvalidInput):
            parse_url(bad)
    new = tmp_path / "x"
    r = cli(new, tmp_path, "recover", "--from-offsite", office.url, "--home", str(new))
    assert r.returncode == 2 and "--endpoint" in r.stderr and not new.exists()
    r = cli(new, tmp_path, "recover", str(tmp_path), "--from-offsite", office.url,
            "--endpoint", office.endpoint, "--home", str(new))
    assert r.returncode == 2 and not new.exists()


def test_the_audit_segments_chosen_reach_the_sealed_head() -> None:
    """A push cut short after its segment (1-10) left one that the next push's (1-15)
    overlaps: the chain takes the one reaching furthest; a gap leaves the chain short
    (``list_problems`` then refuses it before anything is loaded)."""
    from brankas.core.disk import segments as segs
    from brankas.core.offsite import index as layout
    from brankas.core.offsite.recovery import segment_chain

    def entry(first: int, last: int) -> layout.Entry:
        return layout.Entry(f"data/{first:032x}", "plain", "a" * 64, 1,
                            segs.segment_path(first, last))

    chain = segment_chain([entry(1, 10), entry(1, 15), entry(16, 20), entry(21, 30)], (20, "h"))
    assert [segs.name_range(e.path) for e in chain] == [(1, 15), (16, 20)]
    short = segment_chain([entry(1, 10), entry(12, 20)], (20, "h"))
    assert [segs.name_range(e.path) for e in short] == [(1, 10)]
    found = [segs.Segment(e.path, *(segs.name_range(e.path) or (0, 0)), e.sha256)
             for e in short]
    assert segs.list_problems(found, {"seq": 20, "hash": "h"}, {e.path: e.sha256 for e in short})


def test_seal_versions_beyond_those_read_refuse_rather_than_roll_back(  # type: ignore[no-untyped-def]
        office, raw, tmp_path: Path, monkeypatch) -> None:
    """More versions of the seal than are read (an older genuine seal written again and
    again over the newest): the newest push may be among those not read, so choosing among
    the others would roll back. Refused, nothing built (the bound made small here: 3)."""
    from brankas.core.offsite import index as layout
    from brankas.core.offsite import recovery
    from brankas.web.offsite.models import PushedObject
    from brankas.web.offsite.services import offsite_push
    from tests.web.ui.conftest import register_directly

    monkeypatch.setattr(recovery, "SEALS_READ", 3)
    _add_and_push(office)
    first_seal = PushedObject.objects.get(key=layout.SEAL).version_id
    register_directly(office, subject="Surat susulan", number="9/2026")
    assert offsite_push(actor=office.users["operator"], name="pdn").ok
    full = f"{office.prefix}/"
    old = raw.get_object(Bucket=office.bucket, Key=full + layout.SEAL,
                         VersionId=first_seal)["Body"].read()
    for _ in range(3):
        raw.put_object(Bucket=office.bucket, Key=full + layout.SEAL, Body=old)
    new, r = _recover(office, tmp_path, "baru")
    assert r.returncode != 0 and not new.exists(), r.stdout
    assert "more than 3 versions" in r.stderr


def test_junk_versions_beyond_those_tried_do_not_hide_the_sealed_object(  # type: ignore[no-untyped-def]
        office, raw, tmp_path: Path, monkeypatch) -> None:
    """As many junk versions planted over a document's object as are tried (made small
    here: 2): the office's version, written first, is still found (oldest first), and
    the junk and the count of versions are named."""
    from brankas.core.offsite import recovery
    from brankas.web.documents.models import Document
    from brankas.web.offsite.models import PushedObject

    monkeypatch.setattr(recovery, "VERSIONS_TRIED", 2)
    _add_and_push(office)
    expected = dict(Document.objects.values_list("agenda", "stored_sha256"))
    doc = Document.objects.order_by("id").first()
    assert doc is not None
    key = f"{office.prefix}/" + PushedObject.objects.get(bag_path=doc.stored_path).key
    for n in range(2):
        raw.put_object(Bucket=office.bucket, Key=key, Body=b"junk%d" % n)
    new, r = _recover(office, tmp_path, "baru")
    assert r.returncode == 1, r.stderr + r.stdout  # rebuilt, the junk named
    out = r.json()
    assert out["restored"] == len(expected) and out["damaged"] == [], out
    problems = "\n".join(out["problems"])
    assert "3 versions, the 2 oldest tried" in problems
    assert "newer versions, not the sealed object" in problems
    _every_document_matches(new, expected)
    # The S3 secret is in no file of the new home (database, audit, logs): only the path
    # of the credentials file the office named is recorded.
    secret = os.environ["AWS_SECRET_ACCESS_KEY"].encode()
    for path in new.rglob("*"):
        assert not path.is_file() or secret not in path.read_bytes(), path


def test_planted_key_files_filling_the_bound_are_named_not_blamed_on_the_passphrase(  # type: ignore[no-untyped-def]
        office, raw, tmp_path: Path, monkeypatch) -> None:
    """Age passphrase files planted (to a passphrase the attacker chose) under names
    listed before the holders' files, as many as are tried (made small here: 2): the
    holder's passphrase is right, the files it opens were never tried. Nothing built, and
    the refusal says the bound was reached (not "check the passphrase")."""
    from brankas.core import crypto
    from brankas.core.offsite import recovery
    from tests.agefile import passphrase_encrypt

    monkeypatch.setattr(recovery, "KEY_FILES_TRIED", 2)
    _add_and_push(office)
    for n in range(2):
        planted = passphrase_encrypt((crypto.generate().identity + "\n").encode(), "attacker",
                                     work_factor=2)
        raw.put_object(Bucket=office.bucket, Key=f"{office.prefix}/data/{n:032x}", Body=planted)
    new, r = _recover(office, tmp_path, "baru", "--passphrase-file", str(_passphrase(tmp_path)))
    assert r.returncode != 0 and not new.exists(), r.stdout
    assert "other small objects were not tried" in r.stderr and "--identity" in r.stderr


def test_a_genuine_seal_of_another_prefix_replayed_does_not_stop_the_recover(  # type: ignore[no-untyped-def]
        office, raw, tmp_path: Path) -> None:
    """The office's second remote (another prefix) is further on (push 2); its genuine seal,
    signed by the same office key, written under the first prefix as the newest version.
    It names an index and manifest that are not there: named and not used, the prefix's
    own newest seal is (before, the signer's newest seal was the only one whose anchors
    were looked for, so no seal was believed and nothing was recovered)."""
    from brankas.core.offsite import index as layout
    from brankas.web.documents.models import Document
    from brankas.web.offsite.services import offsite_push, remote_add

    _add_and_push(office)
    expected = dict(Document.objects.values_list("agenda", "stored_sha256"))
    other = f"{office.prefix}-b"
    remote_add(actor=office.users["operator"], name="cadangan", endpoint=office.endpoint,
               bucket=office.bucket, prefix=other, retention_days=2,
               credentials_file=str(office.creds))
    for _ in range(2):
        assert offsite_push(actor=office.users["operator"], name="cadangan").ok
    foreign = raw.get_object(Bucket=office.bucket, Key=f"{other}/{layout.SEAL}")["Body"].read()
    raw.put_object(Bucket=office.bucket, Key=f"{office.prefix}/{layout.SEAL}", Body=foreign)
    new, r = _recover(office, tmp_path, "baru")
    assert r.returncode == 1 and r.stdout, r.stderr + r.stdout  # rebuilt, the seal named
    out = r.json()
    assert "push 1" in out["newest_sealed_run"] and out["restored"] == len(expected), out
    assert "another copy" in "\n".join(out["problems"])
    _every_document_matches(new, expected)


def test_seals_of_planted_signers_do_not_crowd_out_the_office_key(  # type: ignore[no-untyped-def]
        office, raw, tmp_path: Path, monkeypatch) -> None:
    """As many seals signed by the attacker's own keys as signers are tried (made small
    here: 1), written as the newest versions: the office's key, the first to sign here,
    is still the one whose anchors are looked for."""
    from brankas.core import crypto
    from brankas.core.disk import seal as diskseal
    from brankas.core.offsite import index as layout
    from brankas.core.offsite import recovery
    from brankas.web.documents.models import Document
    from brankas.web.keys.selectors import Purpose, recipients_for

    monkeypatch.setattr(recovery, "SIGNERS_TRIED", 1)
    _add_and_push(office)
    expected = dict(Document.objects.values_list("agenda", "stored_sha256"))
    forged = layout.seal_statement(remote_id="x" * 32, push=99, folder="offsite-0099",
                                   index=("0" * 64, None), manifest=("0" * 64, None),
                                   objects=0, audit_head=None, previous=None)
    raw.put_object(Bucket=office.bucket, Key=f"{office.prefix}/{layout.SEAL}",
                   Body=crypto.encrypt_bytes(diskseal.seal_bytes(forged, diskseal.generate()),
                                             recipients_for(purpose=Purpose.SNAPSHOT).age()))
    new, r = _recover(office, tmp_path, "baru")
    assert r.returncode == 1 and r.stdout, r.stderr + r.stdout  # rebuilt, the forgery named
    out = r.json()
    assert out["restored"] == len(expected) and "push 1" in out["newest_sealed_run"], out
    assert "no anchor names" in "\n".join(out["problems"])
    _every_document_matches(new, expected)


def test_versions_put_with_a_customer_key_are_passed_over_not_fatal(  # type: ignore[no-untyped-def]
        office, raw, tmp_path: Path) -> None:
    """Versions the attacker PUTs with a customer-provided encryption key (SSE-C: the
    server refuses to read them without it), as the newest seal and as a small object
    listed first: each is named and passed over (before, the first refusal ended the
    recover: one PUT stopped every recovery)."""
    from brankas.core.offsite import index as layout
    from brankas.web.documents.models import Document

    _add_and_push(office)
    expected = dict(Document.objects.values_list("agenda", "stored_sha256"))
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)}
    raw.put_object(Bucket=office.bucket, Key=f"{office.prefix}/{layout.SEAL}", Body=b"x" * 99,
                   **sse)
    raw.put_object(Bucket=office.bucket, Key=f"{office.prefix}/data/{0:032x}", Body=b"x" * 99,
                   **sse)
    new, r = _recover(office, tmp_path, "baru", "--passphrase-file", str(_passphrase(tmp_path)))
    assert r.returncode == 1 and r.stdout, r.stderr + r.stdout  # rebuilt, the seal named
    out = r.json()
    assert out["restored"] == len(expected) and out["audit_ok"] is True, out
    assert "offsite_refused" in "\n".join(out["problems"])
    _every_document_matches(new, expected)


def test_what_a_recover_keeps_of_the_listing_is_bounded_by_the_office_objects(  # type: ignore[no-untyped-def]
        office, raw, monkeypatch) -> None:
    """Whoever holds the credentials can PUT millions of objects (up to the listing's
    10,000,000): a recover keeps only the sealed manifest's names, and of each only the
    versions it will try (before, every version of every name was kept: gigabytes)."""
    from brankas.core.offsite import recovery
    from brankas.web.offsite.models import PushedObject, Remote
    from brankas.web.offsite.services import client_for

    monkeypatch.setattr(recovery, "VERSIONS_TRIED", 2)
    _add_and_push(office)
    manifest = dict(PushedObject.objects.filter(kind=PushedObject.PAYLOAD)
                    .values_list("key", "sha256"))
    some = sorted(manifest)[0]
    for n in range(3):
        raw.put_object(Bucket=office.bucket, Key=f"{office.prefix}/data/{n:032x}", Body=b"x")
        raw.put_object(Bucket=office.bucket, Key=f"{office.prefix}/{some}", Body=b"junk")
    versions = recovery.Versions(client_for(Remote.objects.get(name="pdn")), manifest, [])
    versions.listing()
    assert set(versions.by_key) == set(manifest)
    assert len(versions.by_key[some]) == 2 and versions.counts[some] == 4
    assert all(k in manifest for k, _v in versions.sizes) and len(versions.sizes) <= 2 * len(
        manifest)


def test_unsealed_index_versions_planted_by_the_many_are_counted_not_each_kept(  # type: ignore[no-untyped-def]
        office, raw, monkeypatch) -> None:
    """Versions planted over the index (each a PUT, up to the listing's 10,000,000): named
    up to the kept number of problems (made small here: 2), then counted (before, one
    problem string each: a gigabyte)."""
    from brankas.core import crypto
    from brankas.core.disk import format as fmt
    from brankas.core.offsite import index as layout
    from brankas.web.offsite.models import PushedObject, Remote
    from brankas.web.offsite.services import client_for, office_keys_trusted, read_sealed

    monkeypatch.setattr(fmt, "PROBLEMS_KEPT", 2)
    _add_and_push(office)
    for _ in range(5):
        raw.put_object(Bucket=office.bucket, Key=f"{office.prefix}/{layout.INDEX}", Body=b"x")
    seal = PushedObject.objects.get(key=layout.SEAL).version_id
    copy = read_sealed(client_for(Remote.objects.get(name="pdn")), name="pdn", remote_id=None,
                       trusted=office_keys_trusted(),
                       identities=[crypto.parse_identity(office.recovery_identity)], known={seal})
    assert len(copy.problems) == 3 and "more problems" in copy.problems[-1], copy.problems
