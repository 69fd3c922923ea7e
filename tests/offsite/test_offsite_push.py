"""Offsite copies (issue 18; docs/offsite.md) against the real S3 server of the tests
(scripts/s3server.py: SeaweedFS by default): push and incremental push, object names that
say nothing, verify naming changed, hidden and forged objects, restore checked against the
register, forged index/manifest/seal versions refused, the audit entries.

    .venv/bin/python scripts/s3server.py run -- .venv/bin/python -m pytest -m s3 tests/offsite

Each test works on its own prefix of the one bucket (the server keeps what a test wrote:
locked versions cannot be deleted) and its own copy of an office built once.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import PASSPHRASES, make_pdf, office_once
from tests.offsite.conftest import office_on_server

pytestmark = pytest.mark.s3

NAMES = re.compile(r"(bagit\.txt|bag-info\.txt|manifest-sha256\.txt|tagmanifest-sha256\.txt|"
                   r"brankas-index\.age|brankas-seal\.age|data/[0-9a-f]{32}|canary/.+)")


def _documents(office: SimpleNamespace, base: Path) -> dict[str, Any]:
    from tests.web.ui.conftest import register_directly

    return {"biasa": register_directly(office, subject="Undangan rapat koordinasi").agenda,
            "biasa2": register_directly(office, subject="Laporan bulanan",
                                        direction="pengiriman").agenda,
            "secret": register_directly(office, subject="Sandi rahasia negara",
                                        classification="rahasia").agenda}


@pytest.fixture(scope="module")
def template(django_db_setup, django_db_blocker, tmp_path_factory):  # type: ignore[no-untyped-def]
    with office_once(django_db_blocker, tmp_path_factory, _documents) as made:
        yield made


@pytest.fixture
def office(template, db, settings, tmp_path: Path, server):  # type: ignore[no-untyped-def]
    made = office_on_server(template, settings, tmp_path, server)
    made.docs = dict(template.extra)
    return made


def _add(office: SimpleNamespace, name: str = "pdn") -> Any:
    from brankas.web.offsite.services import remote_add

    return remote_add(actor=office.users["operator"], name=name, endpoint=office.endpoint,
                      bucket=office.bucket, prefix=office.prefix, retention_days=2)


def _push(office: SimpleNamespace, name: str = "pdn", **kw: Any) -> Any:
    from brankas.web.offsite.services import offsite_push

    return offsite_push(actor=office.users["operator"], name=name, **kw)


def _versions(raw: Any, office: SimpleNamespace) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in raw.get_paginator("list_object_versions").paginate(
            Bucket=office.bucket, Prefix=office.prefix + "/"):
        found.extend(page.get("Versions", []))
    return found


def _audit(action: str) -> list[Any]:
    from brankas.web.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_push_then_an_incremental_push_sends_only_what_is_new(office, raw) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document
    from brankas.web.offsite.models import PushedObject
    from tests.web.ui.conftest import register_directly

    remote = _add(office)
    assert remote.immutable is True  # SeaweedFS enforces the canary's lock
    seen: list[tuple[int, int, int, int]] = []
    first = _push(office, on_progress=lambda *a: seen.append(a))
    assert first.ok and first.push.status == "completed"
    docs = {d.stored_path: d for d in Document.objects.all()}
    sent = {o.bag_path for o in PushedObject.objects.filter(push=first.push, kind="payload")}
    assert set(docs) <= sent  # every document, plus keys, anchors, registers, snapshot, audit
    assert any(p.startswith("keys/") for p in sent)
    assert any(p.startswith("audit/") for p in sent)
    assert {p.rsplit("/", 1)[1] for p in sent if p.startswith("backup/offsite-0001/")} == {
        "register-biasa.csv", "register-lengkap.csv.age", "database.json.age",
        "recipients.txt"}
    assert seen[-1][0] == seen[-1][1] == first.push.files_total

    new = register_directly(office, subject="Surat susulan", number="9/2026")
    second = _push(office)
    again = {o.bag_path for o in PushedObject.objects.filter(push=second.push, kind="payload")}
    archive = {p for p in again if p.startswith("arsip/")}
    assert archive == {new.stored_path}  # the one new document, nothing sent twice
    assert not (again & {p for p in sent if not p.startswith(("backup/", "audit/"))})
    assert second.push.objects_skipped >= len(docs)
    assert all(p.startswith(("backup/offsite-0002/", "audit/", "arsip/")) for p in again)

    # Nothing changed: no snapshot or registers again, only the audit entries since.
    third = _push(office)
    assert third.ok and not third.push.snapshot and second.push.snapshot
    assert [o.bag_path.split("/")[0] for o in PushedObject.objects.filter(
        push=third.push, kind="payload")] == ["audit"]

    # Append-only: every payload object was written once (one version), under a new name;
    # each tag object has a version per push.
    versions = _versions(raw, office)
    keys = [v["Key"][len(office.prefix) + 1:] for v in versions]
    payload = [k for k in keys if k.startswith("data/")]
    assert len(payload) == len(set(payload)) == PushedObject.objects.filter(
        remote=remote, kind="payload").count()
    for tag in ("brankas-index.age", "brankas-seal.age", "manifest-sha256.txt"):
        assert keys.count(tag) == 3
    assert keys.count("bagit.txt") == 1
    assert [_audit(a)[-1].outcome for a in ("offsite.add", "offsite.push")] == ["ok", "ok"]
    assert _audit("offsite.push")[-1].detail["push"] == 3


def test_the_bucket_says_nothing_about_the_documents(office, raw) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document

    _add(office)
    _push(office)
    versions = _versions(raw, office)
    keys = [v["Key"][len(office.prefix) + 1:] for v in versions]
    assert keys and all(NAMES.fullmatch(k) for k in keys), keys
    words = {"biasa", "dikecualikan", "rahasia", "pengiriman", "penerimaan", "arsip", "2026",
             "keys", "backup", "audit", "undangan", "laporan", "sandi", "bupati"}
    for d in Document.objects.all():
        words |= {d.agenda, d.number}
    assert not [k for k in keys if not k.startswith("canary/")  # its name is the S3 layer's
                and any(w.lower() in k.lower() for w in words)]
    # Every payload object is age ciphertext (biasa documents too); the biasa PDF's bytes
    # are nowhere in the bucket.
    pdfs = [(office.home / d.stored_path).read_bytes() for d in Document.objects.filter(
        category="biasa")]
    for v in versions:
        body = raw.get_object(Bucket=office.bucket, Key=v["Key"],
                              VersionId=v["VersionId"])["Body"].read()
        key = v["Key"][len(office.prefix) + 1:]
        if key.startswith("data/") or key.endswith(".age"):
            assert body.startswith(b"age-encryption.org/v1\n"), key
        assert not any(pdf[:200] in body for pdf in pdfs)
        assert b"Undangan" not in body and b"%PDF" not in body


def test_an_interrupted_push_resumes_without_sending_again(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.offsite.models import Push, PushedObject

    _add(office)

    def stop(files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
        if files_done >= 3:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or the machine going down

    with pytest.raises(KeyboardInterrupt):
        _push(office, on_progress=stop)
    cut = Push.objects.get(number=1)
    assert cut.status == "failed"
    arrived = PushedObject.objects.filter(push=cut).count()
    # the three reported, and those in flight beside them (sent UPLOADS at a time) when
    # the server confirmed them: recorded too
    from brankas.web.offsite.services import UPLOADS

    assert 3 <= arrived <= 3 + 2 * UPLOADS
    resumed = _push(office)
    assert resumed.ok and resumed.push.number == 2
    rows = PushedObject.objects.filter(kind="payload", bag_path__startswith="arsip/")
    paths = list(rows.values_list("bag_path", flat=True))
    assert len(paths) == len(set(paths)) == 3  # nothing sent twice
    assert _audit("offsite.push")[0].outcome == "failed"


def test_verify_names_overwritten_hidden_and_forged_objects(office, raw) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.offsite.models import PushedObject
    from brankas.web.offsite.services import offsite_verify

    _add(office)
    _push(office)
    clean = offsite_verify(actor=office.users["operator"], name="pdn", sample=100)
    assert clean.ok, clean.as_dict()
    assert clean.checked + clean.sampled == PushedObject.objects.count()

    bucket, p = office.bucket, office.prefix
    doc = PushedObject.objects.get(bag_path=f"arsip/{_path_of(office, 'biasa')}")
    other = PushedObject.objects.get(bag_path=f"arsip/{_path_of(office, 'biasa2')}")
    # A new version planted over a payload object (allowed: versions are never overwritten).
    raw.put_object(Bucket=bucket, Key=f"{p}/{doc.key}", Body=b"age-encryption.org/v1\nforged")
    # A payload object hidden by a delete marker (a DELETE without a version is allowed).
    raw.delete_object(Bucket=bucket, Key=f"{p}/{other.key}")
    # A forged index version.
    raw.put_object(Bucket=bucket, Key=f"{p}/brankas-index.age", Body=b"forged index")
    report = offsite_verify(actor=office.users["operator"], name="pdn", sample=0)
    assert not report.ok
    assert [c for c in report.changed if c.startswith(doc.key)] == [
        f"{doc.key} ({doc.bag_path}): a newer version was written over it"]
    assert [m for m in report.missing if m.startswith(other.key)] == [
        f"{other.key} ({other.bag_path}): hidden by a delete marker"]
    assert any(u.startswith("brankas-index.age [") and "unsealed" in u
               for u in report.unexpected)
    assert any(u.startswith(f"{doc.key} [") for u in report.unexpected)
    entry = _audit("offsite.verify")[-1]
    assert entry.outcome == "problems" and entry.detail["changed"] and entry.detail["missing"]
    from brankas.web.offsite.models import Remote

    assert Remote.objects.get(name="pdn").last_verify_ok is False


def _path_of(office: SimpleNamespace, which: str) -> str:
    from brankas.web.documents.models import Document

    return Document.objects.get(agenda=office.docs[which]).stored_path.removeprefix("arsip/")


def _restore(office: SimpleNamespace, to: Path, **kw: Any) -> Any:
    from brankas.web.offsite.services import offsite_restore

    return offsite_restore(actor=office.users["kasi"], name="pdn", to=to,
                           passphrase=PASSPHRASES["kasi"], **kw)


def test_restore_brings_back_every_document_matching_the_register(office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.documents.models import Document

    _add(office)
    _push(office)
    report = _restore(office, tmp_path / "pulih", decrypt=True)
    assert report.ok, report.as_dict()
    assert sorted(report.restored) == sorted(office.docs.values())
    assert report.decrypted == [office.docs["secret"]]
    for d in Document.objects.all():
        if d.exempted:
            out = tmp_path / "pulih" / d.stored_path.removeprefix("arsip/").removesuffix(".age")
            assert out.read_bytes().startswith(b"%PDF")
            assert hashlib.sha256(out.read_bytes()).hexdigest() == d.content_sha256
        else:
            out = tmp_path / "pulih" / d.stored_path.removeprefix("arsip/")
            assert hashlib.sha256(out.read_bytes()).hexdigest() == d.stored_sha256
    opened = _audit("document.open")
    assert [e.target for e in opened if e.detail.get("via") == "offsite-restore"] == [
        office.docs["secret"]]
    assert _audit("offsite.restore")[-1].outcome == "ok"
    # Without --decrypt the exempted document comes back as it is stored (.age).
    kept = _restore(office, tmp_path / "pulih2", agendas=[office.docs["secret"]])
    secret = Document.objects.get(agenda=office.docs["secret"])
    assert kept.decrypted == []
    out = tmp_path / "pulih2" / secret.stored_path.removeprefix("arsip/")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == secret.stored_sha256
    # A document not encrypted to the Kasi's key stays .age even with --decrypt.
    Document.objects.filter(pk=secret.pk).update(
        recipients=[f for f in secret.recipients if f != office.keys["kasi"].fingerprint])
    other = _restore(office, tmp_path / "pulih3", agendas=[secret.agenda], decrypt=True)
    assert other.ok and other.restored == [secret.agenda] and other.decrypted == []
    out = tmp_path / "pulih3" / secret.stored_path.removeprefix("arsip/")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == secret.stored_sha256


def test_forged_index_manifest_and_seal_versions_are_refused(office, raw, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.core import crypto
    from brankas.core.disk import seal as diskseal
    from brankas.core.offsite import index as layout
    from brankas.web.documents.models import Document
    from brankas.web.keys.selectors import Purpose, recipients_for
    from brankas.web.offsite.models import Remote

    remote = _add(office)
    _push(office)
    bucket, p = office.bucket, office.prefix
    target = Document.objects.get(agenda=office.docs["biasa"])
    readers = recipients_for(purpose=Purpose.SNAPSHOT).age()  # public: no secret needed
    # The attacker's own object for the biasa document, an index and manifest naming it,
    # and a seal over them signed with the attacker's key.
    fake = make_pdf(text="PALSU")
    fake_key = layout.new_object_key()
    fake_obj = crypto.encrypt_bytes(fake, readers)
    raw.put_object(Bucket=bucket, Key=f"{p}/{fake_key}", Body=fake_obj)
    entry = layout.Entry(fake_key, layout.WRAP_AGE, hashlib.sha256(fake).hexdigest(),
                         len(fake), target.stored_path)
    index = layout.index_bytes([entry])
    manifest = layout.manifest_bytes({fake_key: hashlib.sha256(fake_obj).hexdigest()})
    i = raw.put_object(Bucket=bucket, Key=f"{p}/brankas-index.age",
                       Body=crypto.encrypt_bytes(index, readers))
    m = raw.put_object(Bucket=bucket, Key=f"{p}/manifest-sha256.txt", Body=manifest)
    statement = layout.seal_statement(
        remote_id=remote.remote_id, push=99, folder="offsite-0099",
        index=(layout.sha256(index), i["VersionId"]),
        manifest=(layout.sha256(manifest), m["VersionId"]), objects=1, audit_head=None,
        previous=None)
    forged = diskseal.seal_bytes(statement, diskseal.generate())
    raw.put_object(Bucket=bucket, Key=f"{p}/brankas-seal.age",
                   Body=crypto.encrypt_bytes(forged, readers))

    report = _restore(office, tmp_path / "pulih", agendas=[target.agenda])
    assert report.push == 1  # the office's own seal, not the forged push 99
    out = tmp_path / "pulih" / target.stored_path.removeprefix("arsip/")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == target.stored_sha256
    problems = "\n".join(report.problems)
    assert "brankas-seal.age [" in problems and "not written by this office" in problems
    assert f"brankas-index.age [{i['VersionId']}]" in problems
    assert f"manifest-sha256.txt [{m['VersionId']}]" in problems
    assert not report.ok and _audit("offsite.restore")[-1].outcome == "problems"

    # A forged seal that is the only one: nothing is restored.
    from brankas.core.errors import IntegrityFailure
    from brankas.web.keys.services import office_keys_trusted
    from brankas.web.offsite.services import client_for, read_sealed

    with pytest.raises(IntegrityFailure) as refused:
        read_sealed(client_for(Remote.objects.get(pk=remote.pk)), name="pdn",
                    remote_id=remote.remote_id, trusted={"not-the-office-key"},
                    identities=[crypto.parse_identity(office.recovery_identity)])
    assert refused.value.code == "offsite_not_sealed"
    assert "does not trust" in refused.value.message("en")
    # On a new machine (no records), the forged seal is read and refused for its key.
    found = read_sealed(client_for(Remote.objects.get(pk=remote.pk)), name="pdn",
                        remote_id=None, trusted=office_keys_trusted(),
                        identities=[crypto.parse_identity(office.recovery_identity)])
    assert found.sealed.push == 1 and set(found.entries) >= {target.stored_path}
    assert any("does not trust" in p for p in found.problems)


def test_the_cli_adds_lists_pushes_and_verifies(cli_office, run_cli, server) -> None:  # type: ignore[no-untyped-def]
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    added = run_cli("offsite", "add", "pdn", "--endpoint", server["BRANKAS_TEST_S3_ENDPOINT"],
                    "--bucket", server["BRANKAS_TEST_S3_BUCKET"], "--prefix", prefix,
                    "--retention-days", "2", "--json", user="operator")
    assert added.returncode == 0, added.stderr
    assert added.json()["immutable"] is True and added.json()["prefix"] == prefix
    pushed = run_cli("offsite", "push", "pdn", "--bwlimit", "50M", "--json", user="operator")
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.json()["objects_sent"] >= 4 and pushed.json()["push"] == 1
    listed = run_cli("offsite", "list", "--json", user="kadis")
    assert [r["name"] for r in listed.json()] == ["pdn"]
    assert listed.json()[0]["last_push_at"]
    verified = run_cli("offsite", "verify", "pdn", user="operator")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "utuh / intact" in verified.stdout
    refused = run_cli("offsite", "push", "pdn", user="kasi")
    assert refused.returncode != 0 and refused.stderr.startswith("brankas:")
    wrong = run_cli("offsite", "push", "pdn", "--bwlimit", "banyak", user="operator")
    assert wrong.returncode == 2 and "--bwlimit" in wrong.stderr


@pytest.mark.parametrize("role", ["operator", "kasi", "kabid", "kadis", "admin"])
def test_every_role_is_allowed_or_refused_as_the_matrix_says(office, role, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.core.access import MATRIX, Action
    from brankas.core.errors import AccessDenied, BrankasError
    from brankas.web.offsite import services

    user = office.users[role]
    attempts = {
        Action.OFFSITE_ADD: lambda: services.remote_add(
            actor=user, name="bukan nama", endpoint=office.endpoint, bucket=office.bucket),
        Action.OFFSITE_PUSH: lambda: services.offsite_push(actor=user, name="tidak-ada"),
        Action.OFFSITE_VERIFY: lambda: services.offsite_verify(actor=user, name="tidak-ada"),
        Action.OFFSITE_RESTORE: lambda: services.offsite_restore(
            actor=user, name="tidak-ada", to=tmp_path / "x", passphrase="salah"),
    }
    for action, attempt in attempts.items():
        before = len(_audit("access.denied"))
        with pytest.raises(BrankasError) as raised:
            attempt()
        denied = isinstance(raised.value, AccessDenied) and raised.value.code == \
            "permission_denied"
        assert denied == (user.role not in MATRIX[action]), (action, role)
        assert (len(_audit("access.denied")) > before) == denied


def test_the_index_and_seal_read_from_a_bucket_are_hostile_input() -> None:
    from brankas.core.disk import seal as diskseal
    from brankas.core.offsite import index as layout

    good = layout.Entry("data/" + "a" * 32, "age", "b" * 64, 10, "arsip/biasa/x.pdf")
    entries, problems = layout.parse_index(layout.index_bytes([good]))
    assert entries == [good] and problems == []
    bad = (b"# brankas-offsite-index/1\n"
           b"../x\tage\t" + b"b" * 64 + b"\t1\tarsip/a.pdf\n"
           b"data/" + b"c" * 32 + b"\tage\t" + b"b" * 64 + b"\t1\t../../etc/passwd\n"
           b"data/" + b"d" * 32 + b"\tzip\t" + b"b" * 64 + b"\t1\tarsip/a.pdf\n"
           b"data/" + b"e" * 32 + b"\tage\tnothex\t1\tarsip/a.pdf\n"
           b"data/" + b"f" * 32 + b"\tage\t" + b"b" * 64 + b"\t-1\tarsip/a.pdf\n"
           b"data/" + b"1" * 32 + b"\tage\t" + b"b" * 64 + b"\t1\t/abs/a.pdf\n"
           b"only\tthree\tfields\n")
    entries, problems = layout.parse_index(bad)
    assert entries == [] and len(problems) == 7
    assert layout.parse_index(b"not an index")[0] == []
    assert layout.parse_index(b"\xff\xfe")[1] == ["index is not UTF-8"]
    objects, problems = layout.parse_manifest(b"x  data/zz\n" + b"a" * 64 + b"  ../x\n")
    assert objects == {} and len(problems) == 2
    office_key = diskseal.generate()
    statement = layout.seal_statement(remote_id="r", push=1, folder="offsite-0001",
                                      index=("a" * 64, "v1"), manifest=("b" * 64, None),
                                      objects=1, audit_head=(5, "h"), previous=None)
    data = diskseal.seal_bytes(statement, office_key)
    assert layout.open_seal(data, {office_key.public}).index_version == "v1"
    with pytest.raises(ValueError, match="does not trust"):
        layout.open_seal(data, {diskseal.generate().public})
    forged = data.replace(b'\\"push\\":1', b'\\"push\\":2')
    assert forged != data
    with pytest.raises(ValueError, match="signature"):
        layout.open_seal(forged, {office_key.public})
    disk_seal = diskseal.seal_bytes({"run": 1}, office_key)  # a disk's run seal
    with pytest.raises(ValueError, match="not an offsite seal"):
        layout.open_seal(disk_seal, {office_key.public})


def _docs_recipe() -> str:
    """The standard-tools restore of docs/offsite.md, as printed (without its download
    line, which the test does with boto3 as ``aws s3 sync`` would)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "offsite.md").read_text("utf-8")
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    assert lines[0].startswith("aws s3 sync s3://BUCKET/PREFIX offsite")
    return "set -e\n" + "\n".join(lines[1:]) + "\n"


@pytest.mark.skipif(not all(map(__import__("shutil").which, ("sh", "age", "sha256sum"))),
                    reason="the recipe needs sh, age and sha256sum")
def test_the_documented_restore_with_standard_tools_gives_the_disk_bag(office, raw,  # type: ignore[no-untyped-def]
                                                                       tmp_path) -> None:
    import subprocess

    from brankas.web.documents.models import Document

    _add(office)
    _push(office)
    down = tmp_path / "offsite"
    for page in raw.get_paginator("list_objects_v2").paginate(Bucket=office.bucket,
                                                              Prefix=office.prefix + "/"):
        for item in page.get("Contents", []):
            rel = item["Key"][len(office.prefix) + 1:]
            out = down / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(raw.get_object(Bucket=office.bucket, Key=item["Key"])["Body"].read())
    (tmp_path / "recovery.txt").write_text(office.recovery_identity + "\n")
    done = subprocess.run(["sh", "-c", _docs_recipe()], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": OK") > 10 and "FAILED" not in done.stdout
    for d in Document.objects.all():
        got = (tmp_path / "bag" / "data" / d.stored_path).read_bytes()
        assert hashlib.sha256(got).hexdigest() == d.stored_sha256
    assert (tmp_path / "bag" / "data" / "backup" / "offsite-0001" / "register-biasa.csv").exists()


def test_add_refuses_a_bucket_without_lock_and_wrong_credentials(  # type: ignore[no-untyped-def]
        office, raw, tmp_path, monkeypatch) -> None:
    from brankas.core.errors import BrankasError
    from brankas.web.offsite.models import Remote
    from brankas.web.offsite.services import remote_add

    operator = office.users["operator"]
    plain = f"tanpa-kunci-{uuid.uuid4().hex[:8]}"
    raw.create_bucket(Bucket=plain)  # no Object Lock, not versioned
    with pytest.raises(BrankasError) as refused:
        remote_add(actor=operator, name="tanpa", endpoint=office.endpoint, bucket=plain)
    assert refused.value.code in ("offsite_no_versioning", "offsite_no_object_lock")

    creds = tmp_path / "kredensial"
    creds.write_text("[default]\naws_access_key_id = SALAH\naws_secret_access_key = salah\n")
    creds.chmod(0o600)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(BrankasError) as refused:
        remote_add(actor=operator, name="salah", endpoint=office.endpoint, bucket=office.bucket,
                   credentials_file=str(creds))
    assert refused.value.code in ("offsite_credentials_refused", "offsite_access_denied")

    assert not Remote.objects.exists()
    failed = [(e.target, e.outcome, e.detail["error"]) for e in _audit("offsite.add")]
    assert [f[:2] for f in failed] == [("tanpa", "failed"), ("salah", "failed")]
    # The credentials file's path only, never a secret, anywhere in the records.
    from brankas.web.audit.models import AuditEvent

    assert not AuditEvent.objects.filter(detail__icontains="salah\\n").exists()


def test_add_refuses_an_endpoint_nobody_answers(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import socket

    from brankas.core.errors import BrankasError
    from brankas.core.offsite import remote
    from brankas.web.offsite.services import remote_add

    # Every attempt still made (the retries: test_remote.py), each back-off capped at 10 ms:
    # the refusal is what is tested here, 2.4 s of sleep otherwise.
    monkeypatch.setattr(remote, "RETRY_CAP", 0.01)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BrankasError) as refused:
        remote_add(actor=office.users["operator"], name="mati",
                   endpoint=f"http://127.0.0.1:{port}", bucket=office.bucket)
    assert refused.value.code == "offsite_unreachable"
    assert f"127.0.0.1:{port}" in refused.value.message("id")
    assert [(e.target, e.outcome) for e in _audit("offsite.add")] == [("mati", "failed")]


def test_a_server_that_does_not_enforce_locks_is_found_out(office, faults) -> None:  # type: ignore[no-untyped-def]
    """The lying server of tests/offsite/proxy.py: it takes Object Lock settings and
    stores the objects without a lock. The canary (at add and at every verify) finds it."""
    from brankas.web.offsite.models import PushedObject, Remote
    from brankas.web.offsite.services import offsite_verify, remote_add

    faults.mode = "no-lock"
    remote = remote_add(actor=office.users["operator"], name="bohong", endpoint=faults.endpoint,
                        bucket=office.bucket, prefix=office.prefix, retention_days=2)
    assert remote.immutable is False and remote.canary_at is not None
    assert _audit("offsite.add")[-1].detail["immutable"] is False
    outcome = _push(office, name="bohong")
    assert outcome.push.status == "completed" and outcome.remote.immutable is False
    report = offsite_verify(actor=office.users["operator"], name="bohong", sample=0)
    assert report.immutable is False and not report.ok
    assert not report.missing and not report.changed and not report.unexpected
    # and every object it took is named: the server keeps no lock on it
    assert len(report.unlocked) == PushedObject.objects.filter(remote__name="bohong").count()
    assert Remote.objects.get(name="bohong").last_verify_ok is False
    assert _audit("offsite.verify")[-1].detail["immutable"] is False


def test_the_cli_says_not_immutable_loudly(cli_office, run_cli, s3_server, s3_proxy) -> None:  # type: ignore[no-untyped-def]
    s3_proxy.reset()
    s3_proxy.mode = "no-lock"
    try:
        added = run_cli("offsite", "add", "bohong", "--endpoint", s3_proxy.endpoint,
                        "--bucket", s3_server["BRANKAS_TEST_S3_BUCKET"],
                        "--prefix", f"t-{uuid.uuid4().hex[:12]}", user="operator")
    finally:
        s3_proxy.reset()
    assert added.returncode == 0, added.stderr
    assert "TIDAK IMMUTABLE" in added.stderr and "NOT IMMUTABLE" in added.stderr
    assert "TIDAK / NO" in added.stdout
    listed = run_cli("offsite", "list", user="operator")
    assert "NOT IMMUTABLE" in listed.stdout


def test_a_server_without_checksums_gets_read_back_and_sampled(office, faults) -> None:  # type: ignore[no-untyped-def]
    """As Ceph radosgw 16: no x-amz-checksum-sha256 in the answers. Every upload is read
    back; verify downloads the sample it is told to."""
    from brankas.web.offsite.models import PushedObject
    from brankas.web.offsite.services import offsite_verify, remote_add

    faults.hide_checksums = True
    remote_add(actor=office.users["operator"], name="ceph", endpoint=faults.endpoint,
               bucket=office.bucket, prefix=office.prefix, retention_days=2)
    _push(office, name="ceph")
    assert set(PushedObject.objects.values_list("confirmed", flat=True)) == {"read-back"}
    everything = offsite_verify(actor=office.users["operator"], name="ceph", sample=100)
    assert everything.ok and everything.checked == 0
    assert everything.sampled == PushedObject.objects.count()
    some = offsite_verify(actor=office.users["operator"], name="ceph", sample=10)
    assert some.ok and some.sampled == -(-PushedObject.objects.count() // 10)


def test_a_push_extends_locks_that_end_soon(office, raw) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from brankas.web.offsite.models import PushedObject, Remote

    _add(office)
    first = _push(office)
    assert first.push.retention_extended == 0  # locked for 2 days: nothing ends soon
    soon = PushedObject.objects.filter(kind="payload").order_by("id").first()
    server = raw.get_object_retention(Bucket=office.bucket, Key=f"{office.prefix}/{soon.key}",
                                      VersionId=soon.version_id)["Retention"]
    # The office's record says this lock ends in an hour (as it would 399 days on).
    PushedObject.objects.filter(pk=soon.pk).update(
        retain_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    Remote.objects.update(retention_days=3)  # extended to 3 days from now
    second = _push(office)
    assert second.push.retention_extended == 1
    soon.refresh_from_db()
    after = raw.get_object_retention(Bucket=office.bucket, Key=f"{office.prefix}/{soon.key}",
                                     VersionId=soon.version_id)["Retention"]
    assert after["Mode"] == "COMPLIANCE"
    assert after["RetainUntilDate"] - server["RetainUntilDate"] > dt.timedelta(hours=23)
    assert abs((after["RetainUntilDate"] - soon.retain_until).total_seconds()) < 2


def _big_pdf(size: int) -> bytes:
    """A valid PDF of about ``size`` bytes (one long, uncompressed content stream)."""
    import pikepdf

    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    line = b"BT /F1 1 Tf 72 760 Td (besar) Tj ET\n"
    page.Contents = pdf.make_stream(line * (size // len(line)))
    buf = io.BytesIO()
    pdf.save(buf, compress_streams=False)
    return buf.getvalue()


@pytest.mark.slow  # a 9 MiB document registered and sent (about 3 s)
def test_a_large_upload_cut_short_resumes_without_sending_its_parts_again(office,  # type: ignore[no-untyped-def]
                                                                         faults) -> None:
    from brankas.web.offsite.models import PushedObject, Remote
    from brankas.web.offsite.services import remote_add
    from tests.web.ui.conftest import register_directly

    big = register_directly(office, subject="Lampiran besar", classification="rahasia",
                            number="77/2026", pdf=_big_pdf(9 << 20))
    assert big.stored_size > 8 << 20  # two parts of 8 MiB at most
    remote_add(actor=office.users["operator"], name="lambat", endpoint=faults.endpoint,
               bucket=office.bucket, prefix=office.prefix, retention_days=2)

    def cut_after_a_part(*_: int) -> None:
        if Remote.objects.get(name="lambat").upload.get("path") == big.stored_path:
            raise KeyboardInterrupt  # the link went down after the first part arrived

    with pytest.raises(KeyboardInterrupt):
        _push(office, name="lambat", on_progress=cut_after_a_part)
    saved = Remote.objects.get(name="lambat").upload
    assert saved["path"] == big.stored_path and json.loads(saved["state"])["parts"]
    faults.reset()
    resumed = _push(office, name="lambat")
    assert resumed.ok
    obj = PushedObject.objects.get(bag_path=big.stored_path)
    assert obj.key == saved["key"] and obj.size == big.stored_size
    sent = sum(s.body for s in faults.seen if s.method == "PUT" and obj.key in s.target)
    assert 0 < sent <= big.stored_size - (8 << 20)  # only the part that had not arrived
    assert Remote.objects.get(name="lambat").upload == {}


# -- review (s18 rev-offsite): a hostile bucket, the records, the credentials -------------

def test_restore_uses_the_version_pushed_not_a_newer_one_or_a_delete_marker(  # type: ignore[no-untyped-def]
        office, raw, tmp_path) -> None:
    """Whoever holds the stored credentials may PUT a newer version over a payload object
    or hide it behind a delete marker (neither touches the locked version). Restore must
    still bring back the version the office pushed, not stop or count it damaged."""
    from brankas.web.offsite.models import PushedObject

    _add(office)
    _push(office)
    bucket, p = office.bucket, office.prefix
    over = PushedObject.objects.get(bag_path=f"arsip/{_path_of(office, 'biasa')}")
    hidden = PushedObject.objects.get(bag_path=f"arsip/{_path_of(office, 'biasa2')}")
    raw.put_object(Bucket=bucket, Key=f"{p}/{over.key}", Body=b"age-encryption.org/v1\nforged")
    raw.delete_object(Bucket=bucket, Key=f"{p}/{hidden.key}")
    report = _restore(office, tmp_path / "pulih")
    assert not report.damaged and not report.missing, report.as_dict()
    assert sorted(report.restored) == sorted(office.docs.values())
    for which in ("biasa", "biasa2"):
        out = tmp_path / "pulih" / _path_of(office, which)
        from brankas.web.documents.models import Document

        doc = Document.objects.get(agenda=office.docs[which])
        assert hashlib.sha256(out.read_bytes()).hexdigest() == doc.stored_sha256


def test_a_replayed_older_seal_is_not_taken_as_the_newest(office, raw) -> None:  # type: ignore[no-untyped-def]
    """Rollback: the attacker copies the office's first (genuine, signed) seal as a new
    version. On a new machine (no records) the newest PUSH signed must win, not the newest
    version."""
    from brankas.core import crypto
    from brankas.web.keys.services import office_keys_trusted
    from brankas.web.offsite.models import Remote
    from brankas.web.offsite.services import client_for, read_sealed
    from tests.web.ui.conftest import register_directly

    remote = _add(office)
    _push(office)
    register_directly(office, subject="Surat susulan", number="8/2026")
    _push(office)
    bucket, key = office.bucket, f"{office.prefix}/brankas-seal.age"
    versions = [v for v in _versions(raw, office) if v["Key"] == key]
    oldest = min(versions, key=lambda v: v["LastModified"])
    old = raw.get_object(Bucket=bucket, Key=key, VersionId=oldest["VersionId"])["Body"].read()
    raw.put_object(Bucket=bucket, Key=key, Body=old)
    found = read_sealed(client_for(Remote.objects.get(pk=remote.pk)), name="pdn",
                        remote_id=None, trusted=office_keys_trusted(),
                        identities=[crypto.parse_identity(office.recovery_identity)])
    assert found.sealed.push == 2, found.problems


def test_verify_names_a_delete_marker_over_the_newest_index_or_seal(office, raw) -> None:  # type: ignore[no-untyped-def]
    """A delete marker over the index or the seal leaves every locked version there, but
    the standard-tools restore (``aws s3 sync``) then gets no index: verify must say so."""
    from brankas.web.offsite.services import offsite_verify

    _add(office)
    _push(office)
    raw.delete_object(Bucket=office.bucket, Key=f"{office.prefix}/brankas-index.age")
    report = offsite_verify(actor=office.users["operator"], name="pdn", sample=0)
    assert not report.ok, report.as_dict()
    assert any(m.startswith("brankas-index.age") and "delete marker" in m
               for m in report.missing), report.as_dict()


def test_credentials_typed_into_the_endpoint_are_never_recorded(office) -> None:  # type: ignore[no-untyped-def]
    """``--endpoint https://KEY:SECRET@host`` (as some tools take it) is refused, and the
    secret is in no message, no audit entry, no row."""
    from brankas.core.errors import BrankasError
    from brankas.web.audit.models import AuditEvent
    from brankas.web.offsite.services import remote_add

    secret = "RahasiaS3Kunci9"
    endpoint = office.endpoint.replace("://", f"://AKIAREVIEW:{secret}@")
    with pytest.raises(BrankasError) as refused:
        remote_add(actor=office.users["operator"], name="bocor", endpoint=endpoint,
                   bucket=office.bucket, prefix=office.prefix)
    assert secret not in refused.value.message("id") + refused.value.message("en")
    assert not AuditEvent.objects.filter(detail__icontains=secret).exists()
    assert not AuditEvent.objects.filter(target__icontains=secret).exists()


def test_a_restore_cut_short_still_audits_every_document_it_decrypted(  # type: ignore[no-untyped-def]
        office, tmp_path) -> None:
    """A restore stopped part way (Ctrl-C, a job cancelled, the link lost) has already
    written decrypted exempted documents: each must be in the audit log all the same."""
    from brankas.web.documents.models import Document
    from tests.web.ui.conftest import register_directly

    register_directly(office, subject="Surat terakhir", number="7/2026")  # after the secret
    _add(office)
    _push(office)
    docs = list(Document.objects.order_by("id"))
    after_secret = [d.agenda for d in docs].index(office.docs["secret"]) + 1
    assert after_secret < len(docs)

    def stop(i: int, *_: int) -> None:
        if i == after_secret:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _restore(office, tmp_path / "pulih", decrypt=True, on_progress=stop)
    secret = Document.objects.get(agenda=office.docs["secret"])
    out = tmp_path / "pulih" / secret.stored_path.removeprefix("arsip/").removesuffix(".age")
    assert out.read_bytes().startswith(b"%PDF")  # it was decrypted before the cut
    opened = [e.target for e in _audit("document.open")
              if e.detail.get("via") == "offsite-restore"]
    assert opened == [secret.agenda]
    assert _audit("offsite.restore")[-1].outcome == "failed"


def test_a_push_writes_no_plaintext_file_not_even_the_biasa_register(office) -> None:  # type: ignore[no-untyped-def]
    """docs/offsite.md: a register is encrypted as it is read, never a plaintext temporary
    file. The disk's writer puts the biasa register in the clear (a disk has it so): a push
    must not. Every file under the data folder's tmp/ is looked at while objects go up."""
    from brankas.web.runtime import brankas_settings

    _add(office)
    tmp = brankas_settings().tmp
    found: list[str] = []

    def scan(*_: int) -> None:
        for path in tmp.rglob("*"):
            if path.is_file() and b"Undangan rapat koordinasi" in path.read_bytes():
                found.append(path.name)

    pushed = _push(office, on_progress=scan)
    assert pushed.ok
    assert found == []
    # and the register still arrives whole: the index names its plaintext's hash and size
    from brankas.web.offsite.models import PushedObject

    reg = PushedObject.objects.get(bag_path="backup/offsite-0001/register-biasa.csv")
    assert reg.wrap == "age" and reg.sha256 != reg.bag_sha256 and reg.size > reg.bag_size > 0


@pytest.mark.slow  # a real process, slowed by --bwlimit, killed outright (about 10 s)
def test_a_push_killed_outright_resumes_and_leaves_verify_clean(  # type: ignore[no-untyped-def]
        cli_office, cli_home, run_cli, server, raw, tmp_path) -> None:
    """kill -9 of ``brankas offsite push`` at a random point once objects are arriving:
    the next push completes, everything recorded is on the server as recorded, and the
    objects the dead process sent (the server has them, locked) do not make every later
    verify fail."""
    import random
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import cli_env

    prefix = f"t-{uuid.uuid4().hex[:12]}"
    bucket = server["BRANKAS_TEST_S3_BUCKET"]
    added = run_cli("offsite", "add", "pdn", "--endpoint", server["BRANKAS_TEST_S3_ENDPOINT"],
                    "--bucket", bucket, "--prefix", prefix, "--retention-days", "2",
                    user="operator")
    assert added.returncode == 0, added.stderr
    for n in range(3):  # three documents of 48 KiB: 3 s each at 16 KiB/s
        pdf = tmp_path / f"surat-{n}.pdf"
        pdf.write_bytes(_big_pdf((48 << 10) + n * 64))
        r = run_cli("register", str(pdf), "--direction", "penerimaan", "--classification",
                    "biasa", "--subject", f"Surat {n}", "--number", f"{n}/2026", "--date",
                    "2026-11-20", "--correspondent", "Bupati", user="operator")
        assert r.returncode == 0, r.stderr
    env = cli_env(cli_home, tmp_path, "operator")
    proc = subprocess.Popen([sys.executable, "-m", "brankas", "offsite", "push", "pdn",
                             "--bwlimit", "16K", "--json"], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            listed = raw.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/data/")
            if listed.get("KeyCount", 0) >= 1 or proc.poll() is not None:
                break
            time.sleep(0.05)
        time.sleep(random.uniform(0, 2))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    resumed = run_cli("offsite", "push", "pdn", "--json", user="operator")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.json()["push"] == 2
    # what arrived before the kill is not sent again (it was there: the server said so)
    assert resumed.json()["objects_skipped"] >= 1, resumed.json()
    keys = [v["Key"] for page in raw.get_paginator("list_object_versions").paginate(
        Bucket=bucket, Prefix=f"{prefix}/data/") for v in page.get("Versions", [])]
    assert len(keys) == len(set(keys))  # append-only: one version per payload object
    verified = run_cli("offsite", "verify", "pdn", "--sample", "100", "--json", user="operator")
    assert verified.returncode == 0, verified.json()


def test_the_canary_result_is_kept_when_the_verify_after_it_fails(office, faults) -> None:  # type: ignore[no-untyped-def]
    """A server that stops enforcing locks and then answers a hostile listing: verify
    fails on the listing, but what the canary found (NOT immutable) must be recorded and
    shown all the same, not the old "immutable" of the add."""
    from brankas.core.errors import BrankasError
    from brankas.web.offsite.models import Remote
    from brankas.web.offsite.services import offsite_verify, remote_add

    remote_add(actor=office.users["operator"], name="berubah", endpoint=faults.endpoint,
               bucket=office.bucket, prefix=office.prefix, retention_days=2)
    assert Remote.objects.get(name="berubah").immutable is True
    _push(office, name="berubah")
    faults.mode = "no-lock"
    faults.rewrite = lambda target, body: (body.replace(b"<Key>", b"<Key>../", 1)
                                           if "versions" in target else body)
    with pytest.raises(BrankasError):
        offsite_verify(actor=office.users["operator"], name="berubah", sample=0)
    remote = Remote.objects.get(name="berubah")
    assert remote.immutable is False and "delet" in remote.canary_detail.lower()
    assert _audit("offsite.verify")[-1].detail.get("immutable") is False


def test_two_remotes_cannot_share_a_prefix_of_one_bucket(office) -> None:  # type: ignore[no-untyped-def]
    """A remote whose prefix is inside another's (or the same) in the same bucket would
    see the other's objects as its own listing: every verify of the outer one names them
    unexpected, and both write the same index and seal names. Refused at add."""
    from brankas.core.errors import BrankasError
    from brankas.web.offsite.services import remote_add

    def add(name: str, prefix: str) -> Any:
        return remote_add(actor=office.users["operator"], name=name, endpoint=office.endpoint,
                          bucket=office.bucket, prefix=prefix, retention_days=2)

    add("luar", office.prefix)
    for name, prefix in (("sama", office.prefix), ("dalam", f"{office.prefix}/kantor-b"),
                         ("induk", "")):  # the bucket's root holds the first one's prefix
        with pytest.raises(BrankasError) as refused:
            add(name, prefix)
        assert refused.value.code == "offsite_field_invalid", name
        assert "luar" in refused.value.message("en")
    assert add("lain", f"{office.prefix}-b").name == "lain"  # a sibling is fine


def test_a_holder_deactivated_during_a_restore_decrypts_nothing_more(office, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """As ``brankas restore`` (issue 14): a holder deactivated, or whose key is revoked,
    while a restore runs decrypts no exempted document after that; it comes back .age."""
    from brankas.web.accounts.models import User
    from brankas.web.documents.models import Document

    _add(office)
    _push(office)
    kasi = office.users["kasi"]

    def deactivate(i: int, *_: int) -> None:
        if i == 0:
            User.objects.filter(pk=kasi.pk).update(is_active=False)

    report = _restore(office, tmp_path / "pulih", decrypt=True, on_progress=deactivate)
    assert report.decrypted == []
    secret = Document.objects.get(agenda=office.docs["secret"])
    assert secret.agenda in report.restored
    out = tmp_path / "pulih" / secret.stored_path.removeprefix("arsip/")
    assert out.read_bytes().startswith(b"age-encryption.org/v1")


@pytest.mark.slow  # 25 commands in-process (about 2.5 s)
def test_the_cli_allows_and_refuses_each_role_as_the_matrix_says(cli_office, run_cli,  # type: ignore[no-untyped-def]
                                                                 tmp_path) -> None:
    """Through the command line (no server needed: the refusal comes first, an allowed
    role reaches the unknown remote's name)."""
    from brankas.core.access import MATRIX, Action
    from tests.conftest import ROLES

    commands = {
        Action.OFFSITE_ADD: ("add", "tidak-ada", "--endpoint", "http://127.0.0.1:9",
                             "--bucket", "bukan", "--region", "!"),
        Action.OFFSITE_PUSH: ("push", "tidak-ada"),
        Action.OFFSITE_VERIFY: ("verify", "tidak-ada"),
        Action.OFFSITE_RESTORE: ("restore", "tidak-ada", "--to", str(tmp_path / "x")),
        Action.VIEW_BACKUPS: ("list",),
    }
    for user, role in (ROLES | {"admin": "admin"}).items():
        for action, args in commands.items():
            r = run_cli("offsite", *args, user=user, env={"BRANKAS_PASSPHRASE": "salah"})
            refused = "permission" in r.stderr.lower() or "may not" in r.stderr.lower()
            assert refused == (role not in MATRIX[action]), (user, action, r.stderr)
            if action == Action.VIEW_BACKUPS:
                assert r.returncode == 0, (user, r.stderr)
            else:
                assert r.returncode != 0 and r.stderr.startswith("brankas:"), (user, action)


def test_a_push_extends_the_copy_not_every_version_ever_written(office, raw) -> None:  # type: ignore[no-untyped-def]
    """docs/offsite.md: the locks extended are those of the objects the index still names
    (and the newest tag versions). The index, manifest and seal of every earlier push (an
    index is about 20 MB at 100,000 documents, one a day) are left to run out."""
    import datetime as dt

    from brankas.web.offsite.models import PushedObject, Remote

    _add(office)
    first = _push(office)
    _push(office)
    old_index = PushedObject.objects.get(push=first.push, kind="tag", key="brankas-index.age")
    doc = PushedObject.objects.filter(push=first.push, kind="payload",
                                      bag_path__startswith="arsip/").first()

    def retention(obj: Any) -> Any:
        return raw.get_object_retention(Bucket=office.bucket, Key=f"{office.prefix}/{obj.key}",
                                        VersionId=obj.version_id)["Retention"]["RetainUntilDate"]

    before = {o.pk: retention(o) for o in (old_index, doc)}
    PushedObject.objects.update(retain_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    Remote.objects.update(retention_days=3)
    third = _push(office)
    assert third.push.retention_extended > 0
    assert retention(doc) - before[doc.pk] > dt.timedelta(hours=23)  # still in the index
    assert retention(old_index) == before[old_index.pk]  # replaced by push 2's and 3's


def test_a_second_push_while_one_runs_is_refused(office) -> None:  # type: ignore[no-untyped-def]
    """One push per remote at a time: the lock (an operating-system lock on a file in the
    data folder's tmp/, as another process holds it) refuses the second, audited."""
    import fcntl

    from brankas.core.errors import Conflict
    from brankas.web.offsite.models import Push
    from brankas.web.runtime import brankas_settings

    remote = _add(office)
    path = brankas_settings().tmp / f"offsite-{remote.remote_id}.lock"
    with open(path, "a+b") as held:  # another process's push, as the kernel sees it
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(Conflict) as refused:
            _push(office)
    assert refused.value.code == "offsite_push_running"
    assert not Push.objects.exists()
    assert _audit("offsite.push")[-1].outcome == "refused"
    assert _push(office).ok  # once it is released


def _planted(office: Any, raw: Any, *, claimed: bytes | None = None, extra_size: int = 0
             ) -> tuple[str, Any, Any]:
    """After a first push: an object PUT straight to the bucket by whoever holds the
    credentials (no lock), and a line naming it in the push's journal of sent objects (a
    file in the data folder), with a lock date years ahead, the hash of ``claimed`` (the
    body when None) and the body's size plus ``extra_size``. Returns the object's key, the
    PUT's answer and the journal's path."""
    import hashlib
    import json
    from datetime import timedelta

    from django.utils import timezone

    from brankas.core.offsite import index as layout
    from brankas.web.documents.models import Document
    from brankas.web.offsite.models import Push, Remote
    from brankas.web.runtime import brankas_settings

    remote = _add(office)
    assert _push(office).ok
    body = b"planted by whoever holds the credentials"
    key = layout.new_object_key()
    put = raw.put_object(Bucket=office.bucket, Key=f"{office.prefix}/{key}", Body=body)
    doc = Document.objects.order_by("id").first()
    assert doc is not None
    line = {"push": Push.objects.get(remote=remote).pk, "key": key,
            "sha256": hashlib.sha256(body if claimed is None else claimed).hexdigest(),
            "size": len(body) + extra_size,
            "path": doc.stored_path, "bag_sha256": doc.stored_sha256, "bag_size": 1,
            "wrap": layout.WRAP_AGE,
            "until": (timezone.now() + timedelta(days=3650)).isoformat()}
    journal = brankas_settings().tmp / f"offsite-{Remote.objects.get().remote_id}.sent"
    journal.write_text(json.dumps(line) + "\n")
    return key, put, journal


def test_an_object_adopted_from_the_journal_is_locked_as_the_server_says(  # type: ignore[no-untyped-def]
        office, raw) -> None:
    """The journal of sent objects is a file in the data folder: whoever holds the laptop
    can write a line naming an object they PUT without a lock, with a lock date years
    ahead. The push adopting it records the server's lock (none), so it extends it
    (before: the journal's date was recorded, the object left deletable)."""
    from datetime import timedelta

    from django.utils import timezone

    from brankas.web.offsite.models import PushedObject

    key, put, _journal = _planted(office, raw)
    assert _push(office).ok
    adopted = PushedObject.objects.get(key=key)
    assert adopted.retain_until < timezone.now() + timedelta(days=3)
    lock = raw.get_object_retention(Bucket=office.bucket, Key=f"{office.prefix}/{key}",
                                    VersionId=put["VersionId"])["Retention"]
    assert lock["RetainUntilDate"] > timezone.now() + timedelta(days=1)


@pytest.mark.parametrize("named", ["sha256", "size"])
def test_an_object_the_journal_names_wrongly_is_not_adopted(  # type: ignore[no-untyped-def]
        office, raw, named) -> None:
    """A journal line naming an object on the server with a hash or a size the server's
    newest version does not bear out is not recorded: the server's checksum or a read-back
    decides (``services._confirm``), not the line."""
    from brankas.web.offsite.models import PushedObject

    if named == "sha256":
        key, _put, journal = _planted(office, raw, claimed=b"another body")
    else:
        key, _put, journal = _planted(office, raw, extra_size=1)
    assert _push(office).ok
    assert not PushedObject.objects.filter(key=key).exists()
    assert not journal.exists()


@pytest.mark.parametrize("in_memory", [1 << 20, 16])
def test_a_document_not_as_registered_is_named_damaged_and_the_rest_restore(  # type: ignore[no-untyped-def]
        office, tmp_path, monkeypatch, in_memory) -> None:
    """Each biasa document is read, checked against the register and encrypted: in memory
    when small (s19 P18), else into a staging file of ciphertext as it is read (here every
    file, ``IN_MEMORY`` = 16). A file changed in the archive (a byte altered, or grown) is
    named damaged and not sent; the others restore matching the register."""
    from brankas.web.documents.models import Document
    from brankas.web.offsite import services
    from brankas.web.offsite.models import PushedObject
    from brankas.web.runtime import brankas_settings

    monkeypatch.setattr(services, "IN_MEMORY", in_memory)
    home = brankas_settings().home
    altered = Document.objects.get(agenda=office.docs["biasa"])
    grown = Document.objects.get(agenda=office.docs["biasa2"])
    data = (home / altered.stored_path).read_bytes()
    (home / altered.stored_path).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with (home / grown.stored_path).open("ab") as fh:
        fh.write(b"\n%% appended")
    _add(office)
    pushed = _push(office)
    assert not pushed.ok and pushed.push.status == "completed"
    assert sorted(pushed.damaged) == sorted([altered.stored_path, grown.stored_path])
    assert not PushedObject.objects.filter(bag_path__in=pushed.damaged).exists()
    report = _restore(office, tmp_path / "pulih", decrypt=True)
    assert sorted(report.restored) == [office.docs["secret"]]
    assert sorted(report.missing) == sorted([altered.agenda, grown.agenda])
    # put right, the next push sends them (the in-memory path and the staging file's alike)
    (home / altered.stored_path).write_bytes(data)
    (home / grown.stored_path).write_bytes((home / grown.stored_path).read_bytes()[
        :grown.stored_size])
    again = _push(office)
    assert again.ok and sorted(o.bag_path for o in PushedObject.objects.filter(
        push=again.push, kind="payload", bag_path__startswith="arsip/")) == sorted(
        [altered.stored_path, grown.stored_path])
    report = _restore(office, tmp_path / "pulih2")
    assert report.ok and sorted(report.restored) == sorted(office.docs.values())
    for d in (altered, grown):
        out = tmp_path / "pulih2" / d.stored_path.removeprefix("arsip/")
        assert hashlib.sha256(out.read_bytes()).hexdigest() == d.stored_sha256


def test_tags_sent_at_once_are_recorded_even_when_one_fails(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The tag objects of a push go up at once (s19 P18). When one fails, the push fails,
    and those the server confirmed are recorded all the same: the next push completes
    and verify names no version as unexpected."""
    from brankas.core import errors
    from brankas.core.offsite.remote import Remote as S3
    from brankas.web.offsite.models import PushedObject
    from brankas.web.offsite.services import offsite_verify

    _add(office)
    real = S3.put

    def failing(self, key, *args, **kw):  # type: ignore[no-untyped-def]
        if key == "manifest-sha256.txt":
            raise errors.SetupError("offsite_server_error", endpoint="-", action="write",
                                    status=503, answer="SlowDown", attempts=4)
        return real(self, key, *args, **kw)

    monkeypatch.setattr(S3, "put", failing)
    with pytest.raises(errors.SetupError):
        _push(office)
    tags = set(PushedObject.objects.filter(kind="tag").values_list("key", flat=True))
    assert tags == {"bagit.txt", "bag-info.txt", "brankas-index.age", "tagmanifest-sha256.txt"}
    monkeypatch.setattr(S3, "put", real)
    again = _push(office)
    assert again.ok
    report = offsite_verify(actor=office.users["operator"], name="pdn", sample=0)
    assert report.ok and not report.unexpected, report.as_dict()


@pytest.mark.parametrize("extra", [0, 1])
def test_a_document_of_1_mib_is_encrypted_in_memory_and_one_byte_more_in_a_staging_file(
        tmp_path: Path, extra: int) -> None:
    """``_encrypt`` at the in-memory bound (``IN_MEMORY``, 1 MiB): exactly that much is
    encrypted in memory (no file written), one byte more into a staging file of ciphertext;
    either decrypts to the document, no file holds its plaintext, and a document changed
    since the register (grown, shrunk, altered) is refused (None) on both paths."""
    from pyrage import x25519

    from brankas.core import crypto
    from brankas.web.backup import runfiles
    from brankas.web.offsite import services

    identity = x25519.Identity.generate()
    recipients = [str(identity.to_public())]
    marker = b"ISI-DOKUMEN-BIASA-"
    plain = (marker * (services.IN_MEMORY // len(marker) + 1))[:services.IN_MEMORY + extra]
    source = tmp_path / "doc.pdf"
    source.write_bytes(plain)
    item = services._Item("arsip/doc.pdf", str(source), hashlib.sha256(plain).hexdigest(),
                          len(plain))
    staging = tmp_path / "staging"
    with runfiles.RunFiles(staging) as files:
        out = services._encrypt(item, recipients, files, "obj-0")
        assert out is not None
        sent, sha, size = out
        assert isinstance(sent, bytes) == (extra == 0)
        cipher = sent if isinstance(sent, bytes) else sent.read_bytes()
        assert (sha, size) == (hashlib.sha256(cipher).hexdigest(), len(cipher))
        assert crypto.decrypt_bytes(cipher, [identity]) == plain
        written = [p for p in staging.rglob("*") if p.is_file()]
        assert all(marker not in p.read_bytes() for p in written)
        assert len([p for p in written if "-obj-0" in p.name]) == extra, written
        for changed in (plain + b"!", plain[:-1], b"?" + plain[1:]):
            source.write_bytes(changed)
            assert services._encrypt(item, recipients, files, "obj-1") is None, len(changed)
        assert not any("-obj-1" in p.name for p in staging.rglob("*"))


def test_a_server_checksum_decides_without_a_read_back() -> None:
    """Where the server reports the version's SHA-256 (the checksum branch of
    ``services._confirm``; SeaweedFS reports none, so the push tests above read back), the
    journal's hash is believed only when it equals the server's; nothing is read."""
    import hashlib
    from types import SimpleNamespace

    from brankas.web.offsite.services import _confirm

    body = b"sent and locked"
    head = SimpleNamespace(sha256=hashlib.sha256(body).digest(), version_id="v1",
                           size=len(body))
    unread = SimpleNamespace()  # no get(): a read-back would raise AttributeError
    assert _confirm(unread, "k", head, hashlib.sha256(body).hexdigest(), len(body)) == "checksum"
    assert _confirm(unread, "k", head, hashlib.sha256(b"other").hexdigest(), len(body)) is None
