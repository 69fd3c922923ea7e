"""The tests' S3 server (scripts/s3server.py; docs/offsite-server.md) really enforces what the
offsite copies (issue 18) will rely on: on a versioned bucket with Object Lock, a version under
COMPLIANCE retention can be neither deleted nor have its retention shortened, an unlocked
version can be deleted, and the server either verifies ``x-amz-checksum-sha256`` or (Ceph
Pacific's radosgw) ignores it, as docs/offsite-server.md says.

Run them on a throw-away server:
    .venv/bin/python scripts/s3server.py run -- .venv/bin/python -m pytest -m s3 tests/offsite
Without ``BRANKAS_TEST_S3_ENDPOINT`` they are skipped (failed when BRANKAS_TEST_S3_REQUIRED
is set).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.offsite.conftest import s3_server_or_skip

pytestmark = pytest.mark.s3

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "s3server.py"
# Does the server verify and report x-amz-checksum-sha256? (docs/offsite-server.md)
CHECKSUM_SHA256 = {"seaweedfs": True, "radosgw": False}


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    server = s3_server_or_skip()
    if os.environ.get("BRANKAS_TEST_S3_REQUIRED"):
        import boto3
    else:
        boto3 = pytest.importorskip("boto3", reason="pip install -e '.[offsite]'")
    from botocore.config import Config

    client = boto3.client(
        "s3", endpoint_url=server["BRANKAS_TEST_S3_ENDPOINT"],
        aws_access_key_id=server["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=server["AWS_SECRET_ACCESS_KEY"],
        region_name=os.environ.get("BRANKAS_TEST_S3_REGION", "us-east-1"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    client.brankas_bucket = server["BRANKAS_TEST_S3_BUCKET"]
    client.brankas_kind = server["kind"]
    yield client


def _error(exc_info: pytest.ExceptionInfo[Exception]) -> tuple[str, int]:
    response = exc_info.value.response  # type: ignore[attr-defined]
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _key() -> str:
    return f"s3server-test/{uuid.uuid4().hex}"


def test_the_bucket_is_versioned_with_object_lock(s3: Any) -> None:
    lock = s3.get_object_lock_configuration(Bucket=s3.brankas_bucket)
    assert lock["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
    assert s3.get_bucket_versioning(Bucket=s3.brankas_bucket)["Status"] == "Enabled"


def test_a_compliance_locked_version_cannot_be_deleted_nor_its_lock_shortened(s3: Any) -> None:
    from botocore.exceptions import ClientError

    bucket, key, body = s3.brankas_bucket, _key(), b"an offsite payload object\n" * 40
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)
    put = s3.put_object(Bucket=bucket, Key=key, Body=body, ObjectLockMode="COMPLIANCE",
                        ObjectLockRetainUntilDate=until)
    version = put["VersionId"]
    retention = s3.get_object_retention(Bucket=bucket, Key=key, VersionId=version)["Retention"]
    assert retention["Mode"] == "COMPLIANCE"
    assert abs((retention["RetainUntilDate"] - until).total_seconds()) < 2

    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert _error(refused) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as refused:  # the governance bypass does not apply
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version,
                         BypassGovernanceRetention=True)
    assert _error(refused) == ("AccessDenied", 403)
    batch = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": key, "VersionId": version}]})
    assert [e["Code"] for e in batch.get("Errors", [])] == ["AccessDenied"]
    assert not batch.get("Deleted")
    with pytest.raises(ClientError) as refused:
        s3.put_object_retention(Bucket=bucket, Key=key, VersionId=version, Retention={
            "Mode": "COMPLIANCE", "RetainUntilDate": until - dt.timedelta(hours=12)})
    assert _error(refused) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as refused:
        s3.put_object_retention(Bucket=bucket, Key=key, VersionId=version, Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": until})
    assert _error(refused) == ("AccessDenied", 403)

    # A plain delete only hides it behind a delete marker: the version is still there.
    assert s3.delete_object(Bucket=bucket, Key=key).get("DeleteMarker") is True
    kept = s3.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()
    assert kept == body
    # Extending the lock (what a push re-does before it expires) is allowed.
    later = until + dt.timedelta(days=1)
    s3.put_object_retention(Bucket=bucket, Key=key, VersionId=version,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later})
    extended = s3.get_object_retention(Bucket=bucket, Key=key, VersionId=version)["Retention"]
    assert abs((extended["RetainUntilDate"] - later).total_seconds()) < 2


def test_an_unlocked_version_can_be_deleted(s3: Any) -> None:
    from botocore.exceptions import ClientError

    bucket, key = s3.brankas_bucket, _key()
    version = s3.put_object(Bucket=bucket, Key=key, Body=b"no lock")["VersionId"]
    deleted = s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as gone:
        s3.get_object(Bucket=bucket, Key=key, VersionId=version)
    assert _error(gone)[1] == 404


def test_the_sha256_checksum_is_verified_and_reported_or_ignored_as_documented(s3: Any) -> None:
    from botocore.exceptions import ClientError

    if s3.brankas_kind not in CHECKSUM_SHA256:
        pytest.skip(f"no documented checksum behaviour for {s3.brankas_kind!r}")
    bucket, key, body = s3.brankas_bucket, _key(), b"checksummed\n" * 100
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    wrong = base64.b64encode(hashlib.sha256(b"something else").digest()).decode()
    put = s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumSHA256=digest)
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    if CHECKSUM_SHA256[s3.brankas_kind]:
        assert put["ChecksumSHA256"] == digest
        assert head["ChecksumSHA256"] == digest
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=bucket, Key=_key(), Body=body, ChecksumSHA256=wrong)
        assert _error(refused) == ("BadDigest", 400)
    else:  # ignored: Brankas must read back (issue 18)
        assert "ChecksumSHA256" not in put and "ChecksumSHA256" not in head
        s3.put_object(Bucket=bucket, Key=_key(), Body=body, ChecksumSHA256=wrong)
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body


CHILD = """
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["BRANKAS_TEST_S3_ENDPOINT"],
                  region_name=os.environ["BRANKAS_TEST_S3_REGION"])
bucket = os.environ["BRANKAS_TEST_S3_BUCKET"]
lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
print(lock["ObjectLockEnabled"], flush=True)
sys.stdin.read()  # until the test closes it
sys.exit(7)
"""


@pytest.mark.slow
def test_run_serves_the_command_and_leaves_nothing_even_when_killed() -> None:
    """``run -- CMD``: CMD gets a bucket with Object Lock and its credentials; CMD's exit
    status is run's; the folder goes with the server. A runner killed with SIGKILL takes its
    server down with it (Linux) and the next start removes the folder it left."""
    kind = s3_server_or_skip()["kind"] or "seaweedfs"
    if os.name == "nt":
        pytest.skip("SIGKILL and the parent-death signal are POSIX")
    base = Path(tempfile.mkdtemp(prefix="s3server-test-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BRANKAS_TEST_S3"))}
    try:
        def runner() -> subprocess.Popen[str]:
            return subprocess.Popen(
                [sys.executable, str(SCRIPT), "run", "--kind", kind, "--base", str(base), "--",
                 sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=env)

        first = runner()
        assert first.stdout is not None and first.stdin is not None
        assert first.stdout.readline().strip() == "Enabled", first.stderr
        first.stdin.close()
        assert first.wait(timeout=120) == 7
        assert list(base.iterdir()) == []

        killed = runner()
        assert killed.stdout is not None and killed.stdin is not None
        assert killed.stdout.readline().strip() == "Enabled"
        [folder] = base.iterdir()
        pids = [int(n) for n in (folder / "server.pids").read_text().split()]
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        killed.stdin.close()  # the orphaned CMD ends
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(_running(p) for p in pids):
            time.sleep(0.1)
        assert not any(_running(p) for p in pids)  # went down with its runner
        assert folder.exists()  # nobody removed it: the next start does

        again = subprocess.run([sys.executable, str(SCRIPT), "run", "--kind", kind, "--base",
                                str(base), "--", sys.executable, "-c", "pass"],
                               env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert list(base.iterdir()) == []
    finally:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


def _running(pid: int) -> bool:
    """Alive and not a zombie (a killed server whose parent died is reaped by init)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return "\nState:\tZ" not in status
