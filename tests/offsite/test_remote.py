"""The offsite S3 layer (core/offsite/remote.py) against the real test server
(scripts/s3server.py: SeaweedFS by default), directly and through the fault-injecting proxy
(tests/offsite/proxy.py): round trips with the SHA-256 confirmed, COMPLIANCE locks the stored
credentials cannot break, the canary on an enforcing and on a lying server, an interrupted
multipart upload resumed without re-sending its arrived parts, retries, the bandwidth limit,
and the clear refusals (wrong credentials, unreachable, no bucket, no lock, hostile keys).

    .venv/bin/python scripts/s3server.py run -- .venv/bin/python -m pytest -m s3 tests/offsite
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from brankas.core import errors
from tests.offsite.proxy import Proxy

pytestmark = pytest.mark.s3

MiB = 1024 * 1024
# Does the server verify and echo x-amz-checksum-sha256? (docs/offsite-server.md)
ECHOES_SHA256 = {"seaweedfs": True, "radosgw": False}


def _remote(config: Any) -> Any:
    from brankas.core.offsite.remote import Remote

    return Remote(config)


def _until(days: int = 1) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=days)


def _put(remote: Any, key: str, body: bytes, **kw: Any) -> Any:
    kw.setdefault("retain_until", _until())
    return remote.put(key, body, sha256=hashlib.sha256(body).digest(), size=len(body), **kw)


def _expected_confirmation(s3_server: dict[str, str]) -> str:
    return "checksum" if ECHOES_SHA256.get(s3_server["kind"], False) else "read-back"


# --- round trips ---------------------------------------------------------------------------

def test_put_head_get_list_round_trip_with_the_sha256_confirmed(
        remote_config: Callable[..., Any], s3_server: dict[str, str], tmp_path: Path) -> None:
    remote = _remote(remote_config())
    remote.check()
    body = b"an age-encrypted payload\n" * 300
    put = _put(remote, "payload/ab/0001.age", body)
    assert put.key == "payload/ab/0001.age" and put.version_id
    assert put.confirmed == _expected_confirmation(s3_server)

    source = tmp_path / "tag.json"
    source.write_bytes(b'{"tag": 1}\n')
    from_file = remote.put("tags/0001.json", source, size=source.stat().st_size,
                           sha256=hashlib.sha256(source.read_bytes()).digest(),
                           retain_until=None)
    assert from_file.version_id

    info = remote.head("payload/ab/0001.age")
    assert info.size == len(body) and info.version_id == put.version_id
    if ECHOES_SHA256.get(s3_server["kind"]):
        assert info.sha256 == hashlib.sha256(body).digest()
    assert info.retain_until is not None and info.retain_until > dt.datetime.now(dt.UTC)
    assert remote.head("payload/ab/none.age") is None

    out = io.BytesIO()
    assert remote.get("payload/ab/0001.age", out, max_bytes=len(body)) == len(body)
    assert out.getvalue() == body
    assert remote.get_bytes("tags/0001.json", max_bytes=100) == b'{"tag": 1}\n'

    second = _put(remote, "payload/ab/0001.age", body + b"v2")  # a second version
    assert [(o.key, o.size) for o in remote.list()] == [
        ("payload/ab/0001.age", len(body) + 2), ("tags/0001.json", 11)]
    assert [o.key for o in remote.list("tags/")] == ["tags/0001.json"]
    versions = [(o.key, o.version_id) for o in remote.list_versions("payload/")]
    assert versions == [("payload/ab/0001.age", second.version_id),
                        ("payload/ab/0001.age", put.version_id)]
    old = io.BytesIO()
    remote.get("payload/ab/0001.age", old, version_id=put.version_id, max_bytes=len(body))
    assert old.getvalue() == body


def test_listings_are_paginated_and_a_listing_that_does_not_advance_is_refused(
        remote_config: Callable[..., Any], faults: Proxy) -> None:
    remote = _remote(remote_config(endpoint=faults.endpoint))
    remote.page = 2
    keys = [f"p/{n}" for n in range(5)]
    for key in keys:
        _put(remote, key, key.encode(), retain_until=None)
    _put(remote, "p/0", b"again", retain_until=None)
    faults.reset()
    assert [o.key for o in remote.list()] == keys
    assert sum(1 for s in faults.seen if s.method == "GET") == 3  # pages of 2, 2, 1
    assert [o.key for o in remote.list_versions()] == ["p/0", *keys]

    # A server that hands back its first continuation token (or markers) forever.
    def stuck(*names: bytes) -> Callable[[str, bytes], bytes]:
        first: dict[bytes, bytes] = {}

        def rewrite(target: str, body: bytes) -> bytes:
            for name in names:
                found = re.search(b"<%s>[^<]*</%s>" % (name, name), body)
                if found:
                    body = body.replace(found.group(0), first.setdefault(name, found.group(0)))
            return body

        return rewrite

    faults.rewrite = stuck(b"NextContinuationToken")
    with pytest.raises(errors.IntegrityFailure) as refused:
        list(remote.list())
    assert refused.value.code == "offsite_listing_invalid"
    faults.rewrite = stuck(b"NextKeyMarker", b"NextVersionIdMarker")
    with pytest.raises(errors.IntegrityFailure) as refused:
        list(remote.list_versions())
    assert refused.value.code == "offsite_listing_invalid"


def test_get_is_bounded(remote_config: Callable[..., Any]) -> None:
    remote = _remote(remote_config())
    _put(remote, "big.age", b"x" * 5000, retain_until=None)
    with pytest.raises(errors.InvalidInput) as refused:
        remote.get("big.age", io.BytesIO(), max_bytes=4999)
    assert refused.value.code == "offsite_too_large"


def test_a_download_cut_short_or_changed_on_the_way_is_refused(
        remote_config: Callable[..., Any], faults: Proxy, s3_server: dict[str, str]) -> None:
    remote = _remote(remote_config(endpoint=faults.endpoint, attempts=1))
    body = os.urandom(300_000)
    _put(remote, "doc.age", body)
    faults.cut_answer(after=100_000)
    with pytest.raises(errors.BrankasError) as cut:
        remote.get("doc.age", io.BytesIO(), max_bytes=len(body))
    assert cut.value.code in ("offsite_unreachable", "offsite_truncated")

    def flip(target: str, answer: bytes) -> bytes:  # one bit, in transit
        if len(answer) != len(body):
            return answer
        return answer[:1000] + bytes([answer[1000] ^ 1]) + answer[1001:]

    faults.rewrite = flip
    if ECHOES_SHA256.get(s3_server["kind"]):  # the server's SHA-256 comes with the object
        with pytest.raises(errors.IntegrityFailure) as changed:
            remote.get("doc.age", io.BytesIO(), max_bytes=len(body))
        assert changed.value.code == "offsite_checksum_mismatch"
    # A read-back (no echo) that differs refuses the upload.
    faults.hide_checksums = True
    with pytest.raises(errors.IntegrityFailure) as changed:
        _put(remote, "doc2.age", body)
    assert changed.value.code == "offsite_checksum_mismatch"
    assert "read back" in changed.value.message("en")


def test_a_wrong_checksum_is_refused(remote_config: Callable[..., Any],
                                     s3_server: dict[str, str]) -> None:
    remote = _remote(remote_config())
    body = b"what was meant\n" * 10
    with pytest.raises(errors.IntegrityFailure) as refused:
        remote.put("wrong.age", body, sha256=hashlib.sha256(b"other").digest(),
                   size=len(body), retain_until=None)
    # SeaweedFS checks the header itself (400 BadDigest); a server that ignores it stores
    # the object, and the read-back tells.
    assert refused.value.code == ("offsite_checksum_refused"
                                  if ECHOES_SHA256.get(s3_server["kind"])
                                  else "offsite_checksum_mismatch")


def test_the_read_back_confirms_when_the_server_echoes_no_checksum(
        remote_config: Callable[..., Any], faults: Proxy) -> None:
    """As with Ceph 16 (it ignores x-amz-checksum-sha256): the proxy hides the echo."""
    faults.hide_checksums = True
    remote = _remote(remote_config(endpoint=faults.endpoint, part_size=5 * MiB))
    body = os.urandom(6 * MiB)  # two parts
    small = _put(remote, "small.age", b"small")
    large = _put(remote, "large.age", body)
    assert small.confirmed == large.confirmed == "read-back"
    assert [s.method for s in faults.seen].count("GET") == 2  # each read back once


# --- the lock ------------------------------------------------------------------------------

def test_a_locked_version_survives_its_own_credentials_and_its_lock_is_extended(
        remote_config: Callable[..., Any]) -> None:
    from botocore.exceptions import ClientError

    remote = _remote(remote_config())
    until = _until(1)
    put = _put(remote, "locked.age", b"keep me", retain_until=until)
    full = remote.prefix + "locked.age"
    with pytest.raises(ClientError) as refused:  # an attacker holding the stored credentials
        remote._s3.delete_object(Bucket=remote.config.bucket, Key=full,
                                 VersionId=put.version_id)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"

    later = until + dt.timedelta(days=3)
    remote.extend_retention("locked.age", put.version_id, later)
    assert remote.head("locked.age", put.version_id).retain_until == later
    remote.extend_retention("locked.age", put.version_id, until)  # shorter: left as it is
    assert remote.head("locked.age", put.version_id).retain_until == later
    assert remote.get_bytes("locked.age", version_id=put.version_id, max_bytes=10) == b"keep me"


def test_the_canary_finds_the_lock_enforced(remote_config: Callable[..., Any]) -> None:
    remote = _remote(remote_config())
    result = remote.canary()
    assert result.immutable, result.detail
    assert result.code == "offsite_canary_enforced"
    assert result.key.startswith("canary/") and result.version_id
    assert remote.head(result.key, result.version_id) is not None  # still there, locked
    assert "COMPLIANCE" in result.message("en") and result.message("id") != result.message("en")


def test_the_canary_finds_a_server_that_does_not_enforce_the_lock(
        remote_config: Callable[..., Any], faults: Proxy) -> None:
    """The test double the issue asks for: the lock headers of a PUT are dropped on the way
    and the server's 200 passed back, as a server that accepts and ignores them."""
    faults.mode = "no-lock"
    remote = _remote(remote_config(endpoint=faults.endpoint))
    result = remote.canary()
    assert not result.immutable
    assert result.code == "offsite_canary_deleted"
    assert "NOT IMMUTABLE" in result.message("en")
    assert "TIDAK KEBAL" in result.message("id")
    assert remote.head(result.key, result.version_id) is None  # really deleted


# --- the link: multipart resume, retries, the bandwidth limit -------------------------------

def test_an_interrupted_multipart_upload_resumes_without_resending_arrived_parts(
        remote_config: Callable[..., Any], faults: Proxy, tmp_path: Path,
        s3_server: dict[str, str]) -> None:
    from brankas.core.offsite.remote import MultipartState

    remote = _remote(remote_config(endpoint=faults.endpoint, part_size=5 * MiB, attempts=1))
    source = tmp_path / "archive.age"
    body = os.urandom(10 * MiB + 123)  # parts of 5 MiB, 5 MiB and 123 bytes
    source.write_bytes(body)
    digest = hashlib.sha256(body).digest()
    state = MultipartState()
    persisted: list[str] = []
    faults.drop(after=MiB, match=lambda method, target: "partNumber=2" in target)
    with pytest.raises(errors.SetupError) as cut:
        remote.put("archive.age", source, sha256=digest, size=len(body),
                   retain_until=_until(), resume=state,
                   progress=lambda n: persisted.append(state.to_json()))
    assert cut.value.code == "offsite_unreachable"
    assert [p.number for p in state.parts] == [1]
    assert faults.body_bytes("PUT") == 5 * MiB + MiB  # part 1, then 1 MiB of part 2

    faults.reset()
    resumed_state = MultipartState.from_json(persisted[-1])  # as a new process would
    done: list[int] = []
    put = remote.put("archive.age", source, sha256=digest, size=len(body),
                     retain_until=_until(), resume=resumed_state, progress=done.append)
    assert faults.body_bytes("PUT") == len(body) - 5 * MiB  # parts 2 and 3 only
    assert done == [5 * MiB, 10 * MiB, len(body)]
    assert put.confirmed == _expected_confirmation(s3_server)
    assert resumed_state.upload_id is None  # completed
    assert hashlib.sha256(remote.get_bytes("archive.age", max_bytes=len(body))).digest() \
        == digest


def test_a_file_changed_under_an_upload_is_refused_and_a_stale_state_starts_again(
        remote_config: Callable[..., Any], faults: Proxy, tmp_path: Path) -> None:
    from brankas.core.offsite.remote import MultipartState

    remote = _remote(remote_config(endpoint=faults.endpoint, part_size=5 * MiB, attempts=1))
    source = tmp_path / "archive.age"
    body = os.urandom(6 * MiB)  # parts of 5 and 1 MiB
    source.write_bytes(body)
    state = MultipartState()

    def change_it(done: int) -> None:  # between the two parts, the second one changes
        with source.open("r+b") as f:
            f.seek(5 * MiB)
            f.write(b"changed")

    with pytest.raises(errors.IntegrityFailure) as refused:
        remote.put("archive.age", source, sha256=hashlib.sha256(body).digest(), size=len(body),
                   retain_until=_until(), resume=state, progress=change_it)
    assert refused.value.code == "offsite_source_changed"
    assert state.upload_id is None and state.parts == []  # nothing worth resuming

    # A state left by an interrupted upload of other content (same key and size): the old
    # upload is aborted and everything is sent again.
    source.write_bytes(body)
    faults.drop(after=1000, match=lambda method, target: "partNumber=2" in target)
    with pytest.raises(errors.SetupError):
        remote.put("archive.age", source, sha256=hashlib.sha256(body).digest(),
                   size=len(body), retain_until=_until(), resume=state)
    stale = state.upload_id
    assert stale
    new_body = os.urandom(len(body))
    source.write_bytes(new_body)
    faults.reset()
    put = remote.put("archive.age", source, sha256=hashlib.sha256(new_body).digest(),
                     size=len(new_body), retain_until=_until(), resume=state)
    assert faults.body_bytes("PUT") == len(new_body)
    assert remote.get_bytes("archive.age", version_id=put.version_id,
                            max_bytes=len(body)) == new_body
    uploads = remote._s3.list_multipart_uploads(Bucket=remote.config.bucket,
                                                Prefix=remote.prefix + "archive.age")
    assert stale not in [u["UploadId"] for u in uploads.get("Uploads") or []]

    # An upload the server no longer knows (aborted, or ended by a lifecycle rule) starts
    # again from its first part.
    faults.drop(after=1000, match=lambda method, target: "partNumber=2" in target)
    with pytest.raises(errors.SetupError):
        remote.put("archive.age", source, sha256=hashlib.sha256(new_body).digest(),
                   size=len(new_body), retain_until=_until(), resume=state)
    assert state.upload_id and [p.number for p in state.parts] == [1]
    remote._s3.abort_multipart_upload(Bucket=remote.config.bucket,
                                      Key=remote.prefix + "archive.age",
                                      UploadId=state.upload_id)
    faults.reset()
    remote.put("archive.age", source, sha256=hashlib.sha256(new_body).digest(),
               size=len(new_body), retain_until=_until(), resume=state)
    assert faults.body_bytes("PUT") == len(new_body)


def test_a_multipart_upload_without_a_state_leaves_nothing_behind_when_cut(
        remote_config: Callable[..., Any], faults: Proxy) -> None:
    remote = _remote(remote_config(endpoint=faults.endpoint, part_size=5 * MiB, attempts=1))
    body = os.urandom(6 * MiB)
    faults.drop(after=1000, match=lambda method, target: "partNumber=2" in target)
    with pytest.raises(errors.SetupError):
        _put(remote, "cut.age", body)
    uploads = remote._s3.list_multipart_uploads(Bucket=remote.config.bucket,
                                                Prefix=remote.prefix + "cut.age")
    assert not uploads.get("Uploads")  # aborted


def test_transient_failures_are_retried_with_back_off_and_refusals_are_not(
        remote_config: Callable[..., Any], faults: Proxy) -> None:
    remote = _remote(remote_config(endpoint=faults.endpoint, attempts=3, retry_base=0.01))
    faults.refuse(2)  # two "503 SlowDown", then the server
    assert _put(remote, "retried.age", b"third time").version_id
    assert remote.retries == 2
    assert [s.status for s in faults.seen if s.method == "PUT"] == [503, 503, 200]

    faults.reset()
    faults.drop(after=10)  # a connection reset in the middle of a body: sent again
    assert _put(remote, "dropped.age", b"x" * 1000).version_id
    assert [s.dropped for s in faults.seen if s.method == "PUT"] == [True, False]

    faults.reset()
    faults.refuse(5)
    with pytest.raises(errors.SetupError) as failed:
        _put(remote, "never.age", b"no")
    assert failed.value.code == "offsite_server_error"
    assert len(faults.seen) == 3  # attempts, no more


def test_the_bandwidth_limit_holds_by_its_own_accounting(
        remote_config: Callable[..., Any], faults: Proxy) -> None:
    rate = 4 * MiB
    remote = _remote(remote_config(endpoint=faults.endpoint, bwlimit=rate))
    body = os.urandom(2 * MiB)
    began = time.monotonic()
    _put(remote, "limited.age", body)
    elapsed = time.monotonic() - began
    limiter = remote.limiter
    # Every byte sent was paid for once (not the signing pass), and no more were sent; a
    # read-back (a server that echoes no checksum) is paid for too.
    assert faults.body_bytes("PUT") == len(body)
    assert limiter.consumed == len(body) + faults.answer_bytes("GET")
    # The bucket made the upload wait for what its burst did not cover: a lower bound only
    # (sleeps last at least as long as asked), never an upper one on a loaded machine. The
    # exact accounting is checked on a fake clock (test_remote_units.py).
    assert limiter.waited > 0
    assert elapsed >= (len(body) - limiter.burst) / rate * 0.99


# --- the refusals ----------------------------------------------------------------------------

def test_wrong_credentials_are_refused_clearly_and_never_retried(
        remote_config: Callable[..., Any], faults: Proxy,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-" + uuid.uuid4().hex)
    remote = _remote(remote_config(endpoint=faults.endpoint, attempts=4))
    with pytest.raises(errors.AuthenticationFailed) as refused:
        remote.check()
    assert refused.value.code == "offsite_credentials_refused"
    assert "not-the-secret" not in refused.value.message("en")
    assert len(faults.seen) == 1 and remote.retries == 0


def test_credentials_come_from_a_file_the_office_names(
        remote_config: Callable[..., Any], s3_server: dict[str, str],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(errors.SetupError) as missing:
        _remote(remote_config())
    assert missing.value.code == "offsite_credentials_missing"
    path = tmp_path / "credentials"
    path.write_text(f"[default]\naws_access_key_id = wrong\n\n[office]\n"
                    f"aws_access_key_id = {s3_server['AWS_ACCESS_KEY_ID']}\n"
                    f"aws_secret_access_key = {s3_server['AWS_SECRET_ACCESS_KEY']}\n")
    path.chmod(0o600)
    config = remote_config(credentials_file=str(path), profile="office")
    _remote(config).check()
    assert s3_server["AWS_SECRET_ACCESS_KEY"] not in repr(config)


def test_an_unreachable_endpoint_is_said_quickly(remote_config: Callable[..., Any],
                                                 faults: Proxy) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    remote = _remote(remote_config(endpoint=f"http://127.0.0.1:{port}", attempts=2,
                                   retry_base=0.01, connect_timeout=1))
    with pytest.raises(errors.SetupError) as refused:
        remote.check()
    assert refused.value.code == "offsite_unreachable"
    assert f"127.0.0.1:{port}" in refused.value.message("id")
    assert remote.retries == 1

    faults.mode = "hang"  # answers nothing: the read timeout ends the wait
    silent = _remote(remote_config(endpoint=faults.endpoint, attempts=1, read_timeout=0.3))
    with pytest.raises(errors.SetupError) as timed_out:
        silent.check()
    assert timed_out.value.code == "offsite_unreachable"
    assert "timeout" in timed_out.value.message("en").lower()


def test_a_bucket_missing_or_without_versioning_or_lock_is_refused(
        remote_config: Callable[..., Any]) -> None:
    missing = _remote(remote_config(bucket=f"no-such-{uuid.uuid4().hex[:8]}"))
    with pytest.raises(errors.NotFound) as refused:
        missing.check()
    assert refused.value.code == "offsite_no_bucket"

    plain_name = f"plain-{uuid.uuid4().hex[:8]}"
    plain = _remote(remote_config(bucket=plain_name))
    plain._s3.create_bucket(Bucket=plain_name)
    with pytest.raises(errors.SetupError) as refused:
        plain.check()
    assert refused.value.code == "offsite_no_versioning"
    plain._s3.put_bucket_versioning(Bucket=plain_name,
                                    VersioningConfiguration={"Status": "Enabled"})
    with pytest.raises(errors.SetupError) as refused:
        plain.check()
    assert refused.value.code == "offsite_no_object_lock"


HOSTILE_KEYS = ["a/../../etc/passwd", "..", "a\\b", "a//b", "./a", "/abs", "a b", "a/\u00e9",
                "a:b", "a\tb", "x" * 600, "../outside-the-prefix", "a/", ""]


def test_hostile_keys_from_the_server_are_refused(remote_config: Callable[..., Any],
                                                  faults: Proxy) -> None:
    """A server naming objects outside the prefix, upwards, absolute, with odd characters or
    too long (the proxy rewrites a real listing): a listing naming one is refused, and such a
    name is never asked for."""
    from urllib.parse import quote
    from xml.sax.saxutils import escape

    remote = _remote(remote_config(endpoint=faults.endpoint))
    _put(remote, "placeholder", b"x", retain_until=None)

    def naming(full: str) -> Callable[[str, bytes], bytes]:
        """The listing with the placeholder's key replaced by ``full`` (url-encoded when the
        server encodes keys, as radosgw does for botocore's encoding-type=url)."""
        def rewrite(target: str, body: bytes) -> bytes:
            real = remote.prefix + "placeholder"
            forms: list[Callable[[str], str]] = [escape]
            if b"<EncodingType>url</EncodingType>" in body:  # radosgw: "/" too; SeaweedFS not
                forms = [lambda k: quote(k, safe=""), lambda k: quote(k, safe="/")]
            for form in forms:
                was = f"<Key>{form(real)}</Key>".encode()
                if was in body:
                    return body.replace(was, f"<Key>{form(full)}</Key>".encode())
            return body
        return rewrite

    assert [o.key for o in remote.list()] == ["placeholder"]
    for hostile in HOSTILE_KEYS:
        faults.rewrite = naming(remote.prefix + hostile)
        with pytest.raises(errors.IntegrityFailure) as refused:
            list(remote.list())
        assert refused.value.code == "offsite_key_invalid", hostile
        with pytest.raises(errors.IntegrityFailure):
            list(remote.list_versions())
        faults.rewrite = None
        with pytest.raises(errors.IntegrityFailure):  # and never asked for by name
            remote.head(hostile)
    assert [o.key for o in remote.list()] == ["placeholder"]  # the same, unrewritten
    # Outside the prefix altogether (another office's objects in a shared bucket).
    faults.rewrite = naming("elsewhere/x")
    with pytest.raises(errors.IntegrityFailure):
        list(remote.list())
