"""The offsite S3 layer's parts that need no server: object names, the bandwidth limiter's
accounting (on a fake clock), the persisted state of an upload, credentials files, addresses,
and which answers are retried. The server-side behaviour: test_remote.py (marked s3)."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from brankas.core import errors
from brankas.core.offsite.remote import (
    KEY_MAX,
    MultipartState,
    PartDone,
    RemoteConfig,
    _Window,
    check_key,
)
from brankas.core.offsite.throttle import CHUNK, ThrottledReader, TokenBucket

GOOD_KEYS = ["a", "payload/ab/0001.age", "canary/20261205T231152Z-3bbd6dc5", "x.y-z_~+=,@",
             "a/" * 100 + "b", "k" * KEY_MAX]
BAD_KEYS = ["", "/abs", "a/", "a//b", ".", "..", "a/../b", "./a", "a/.", "a\\b", "a b",
            "a\tb", "a\x00b", "a:b", "caf\u00e9", "k" * (KEY_MAX + 1), "a?b", "a#b", "a%2e"]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_safe_keys_pass(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize("key", BAD_KEYS)
def test_hostile_keys_are_refused(key: str) -> None:
    with pytest.raises(errors.IntegrityFailure) as refused:
        check_key(key)
    assert refused.value.code == "offsite_key_invalid"
    assert "\x00" not in refused.value.message("en")  # shown escaped


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_token_bucket_lets_rate_bytes_a_second_through_after_its_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(1000, burst=500, clock=clock, sleep=clock.sleep)
    bucket.take(500)  # the burst: free
    assert clock.slept == []
    for _ in range(20):
        bucket.take(100)
    # 2,000 bytes beyond the burst at 1,000 bytes/s: two seconds of sleep, exactly.
    assert clock.now - 100.0 == pytest.approx(2.0)
    assert bucket.waited == pytest.approx(2.0) and bucket.consumed == 2500
    clock.now += 10  # idle: the bucket refills to its burst, no more
    bucket.take(500)
    assert bucket.waited == pytest.approx(2.0)
    bucket.take(1000)
    assert bucket.waited == pytest.approx(3.0)


def test_over_any_stretch_no_more_than_burst_plus_rate_times_elapsed() -> None:
    clock = FakeClock()
    bucket = TokenBucket(64 * 1024, clock=clock, sleep=clock.sleep)
    start = clock.now
    for size in [1, 70_000, 8192, 300_000, 5, 65_536] * 20:
        bucket.take(size)
        assert bucket.consumed <= bucket.burst + bucket.rate * (clock.now - start) + 1e-6


def test_a_throttled_reader_pays_only_for_the_reads_after_it_is_armed() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10_000, burst=1000, clock=clock, sleep=clock.sleep)
    data = os.urandom(5 * CHUNK)
    reader = ThrottledReader(io.BytesIO(data), bucket)
    assert reader.read() == data  # the signing pass: free
    assert bucket.consumed == 0 and reader.sent == 0
    reader.seek(0)
    reader.arm()
    got = b"".join(iter(lambda: reader.read(8192), b""))
    assert got == data and bucket.consumed == reader.sent == len(data)
    assert clock.now - 100.0 == pytest.approx((len(data) - 1000) / 10_000)


def test_a_window_is_a_seekable_slice_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(bytes(range(256)) * 4)
    with _Window(path, 100, 50) as window:
        assert window.read(10) == bytes(range(100, 110))
        assert window.seek(0, 2) == 50 and window.read() == b""
        window.seek(0)
        assert window.read() == bytes(range(100, 150))


def test_an_upload_state_survives_json_and_hostile_state_is_refused() -> None:
    state = MultipartState(key="a.age", upload_id="u1", size=12, part_size=5, sha256="ab",
                           parts=[PartDone(1, '"e1"', "c2hh", 5, True)])
    assert MultipartState.from_json(state.to_json()) == state
    for text in ["", "[]", '{"key": 1}', '{"key": "a", "upload_id": "u", "size": 1, '
                 '"part_size": 1, "sha256": "", "parts": [[0, "e", "s", 1, false]]}',
                 '{"key": "a", "upload_id": "u\\nx", "size": 1, "part_size": 1, "sha256": "", '
                 '"parts": []}',
                 "x" * (5 * 1024 * 1024)]:
        with pytest.raises(errors.InvalidInput) as refused:
            MultipartState.from_json(text)
        assert refused.value.code == "offsite_resume_invalid"


# --- configuration: credentials, addresses -------------------------------------------------

def _remote(**kw: Any) -> Any:
    pytest.importorskip("botocore", reason="pip install -e '.[offsite]'")
    from brankas.core.offsite.remote import Remote

    return Remote(RemoteConfig(**({"endpoint": "http://127.0.0.1:9", "bucket": "office"}
                                  | kw)))


@pytest.fixture
def no_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def test_credentials_missing_everywhere_are_said(no_env_credentials: None) -> None:
    with pytest.raises(errors.SetupError) as refused:
        _remote()
    assert refused.value.code == "offsite_credentials_missing"
    assert "AWS_ACCESS_KEY_ID" in refused.value.message("id")


def test_the_environment_gives_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-from-env")
    remote = _remote()
    assert remote._s3._request_signer._credentials.access_key == "AKIDEXAMPLE"
    assert "s3cr3t" not in repr(remote.config)


def test_the_machines_aws_configuration_is_not_read(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    """~/.aws/config, ~/.aws/credentials and AWS_PROFILE change nothing: a profile that does
    not exist would make boto3's default session refuse to start."""
    config = tmp_path / "config"
    config.write_text("[default]\nregion = ap-southeast-3\ns3 =\n    addressing_style = virtual\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "A")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "B")
    remote = _remote(endpoint="http://127.0.0.1:9", bucket="office", region="us-east-1")
    assert remote._s3.meta.region_name == "us-east-1"
    assert remote._s3.meta.config.s3["addressing_style"] == "path"


def _nowhere_in_the_chain(secret: str, error: BaseException) -> None:
    """Not in the str or repr of the error or of any exception chained to it (a parse or
    decoding error holds the file's text; a traceback or an error reporter shows them)."""
    seen: BaseException | None = error
    while seen is not None:
        assert secret not in str(seen) and secret not in repr(seen), repr(seen)
        seen = seen.__cause__ or seen.__context__


def test_a_credentials_file_is_read_and_refused_clearly(no_env_credentials: None,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    secret = "wJalrXUtnFEMI-very-secret"
    path.write_text(f"[office]\naws_access_key_id = AKIDOFFICE\naws_secret_access_key = "
                    f"{secret}\n")
    path.chmod(0o600)
    remote = _remote(credentials_file=str(path), profile="office")
    assert remote._s3._request_signer._credentials.access_key == "AKIDOFFICE"

    cases: list[tuple[str, dict[str, str], str]] = [
        (f"[office]\naws_secret_access_key = {secret}\n", {"profile": "office"},
         "offsite_credentials_file"),
        (f"[default]\naws_access_key_id = A\naws_secret_access_key = {secret}\n",
         {"profile": "office"}, "offsite_credentials_file"),
        (f"not an ini file {secret}\n", {}, "offsite_credentials_file"),
    ]
    for text, extra, code in cases:
        path.write_text(text)
        with pytest.raises(errors.SetupError) as refused:
            _remote(credentials_file=str(path), **extra)
        assert refused.value.code == code
        for lang in ("id", "en"):
            assert secret not in refused.value.message(lang)
        _nowhere_in_the_chain(secret, refused.value)
    # Not UTF-8: refused without the file's bytes anywhere in the exception's chain (a
    # UnicodeDecodeError's repr holds them all).
    path.write_bytes(f"[default]\naws_access_key_id = A\naws_secret_access_key = {secret}\n"
                     .encode() + b"\xff\n")
    with pytest.raises(errors.SetupError) as refused:
        _remote(credentials_file=str(path))
    assert refused.value.code == "offsite_credentials_file"
    _nowhere_in_the_chain(secret, refused.value)
    with pytest.raises(errors.SetupError) as refused:
        _remote(credentials_file=str(tmp_path / "none"))
    assert refused.value.code == "offsite_credentials_file"
    if os.name == "posix":
        path.write_text(f"[default]\naws_access_key_id = A\naws_secret_access_key = {secret}\n")
        path.chmod(0o640)
        with pytest.raises(errors.SetupError) as refused:
            _remote(credentials_file=str(path))
        assert refused.value.code == "offsite_credentials_file_open"
        assert "chmod 600" in refused.value.message("id")


@pytest.mark.parametrize("endpoint", ["ftp://h", "http://h/path", "http://u:p@h", "h:9000",
                                      "http://h:99999", "http://h?x=1", "http://"])
def test_an_invalid_endpoint_is_refused(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "A")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "B")
    with pytest.raises(errors.InvalidInput) as refused:
        _remote(endpoint=endpoint)
    assert refused.value.code == "offsite_endpoint_invalid"


@pytest.mark.parametrize("bucket", ["", "ab", "UPPER", "a_b", "-ab", "a..b", "b" * 64])
def test_an_invalid_bucket_is_refused(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "A")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "B")
    with pytest.raises(errors.InvalidInput) as refused:
        _remote(bucket=bucket)
    assert refused.value.code == "offsite_bucket_invalid"


# --- which answers are retried, and what they become ------------------------------------------

def _client_error(code: str, status: int) -> Any:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": "m"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")


@pytest.mark.parametrize(("code", "status", "transient", "becomes"), [
    ("SlowDown", 503, True, "offsite_server_error"),
    ("InternalError", 500, True, "offsite_server_error"),
    ("RequestTimeout", 400, True, "offsite_server_error"),
    ("TooManyRequests", 429, True, "offsite_server_error"),
    ("InvalidAccessKeyId", 403, False, "offsite_credentials_refused"),
    ("SignatureDoesNotMatch", 403, False, "offsite_credentials_refused"),
    ("AccessDenied", 403, False, "offsite_access_denied"),
    ("RequestTimeTooSkewed", 403, False, "offsite_clock_skew"),
    ("NoSuchBucket", 404, False, "offsite_no_bucket"),
    ("BadDigest", 400, False, "offsite_checksum_refused"),
    ("EntityTooLarge", 400, False, "offsite_too_large"),
    ("InvalidRequest", 400, False, "offsite_refused"),
])
def test_answers_are_retried_only_when_transient(code: str, status: int, transient: bool,
                                                 becomes: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from brankas.core.offsite.answers import transient as _transient

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "A")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "B")
    remote = _remote()
    exc = _client_error(code, status)
    assert _transient(exc) is transient
    assert remote._error(exc, "write", "k").code == becomes


def test_lost_connections_are_transient() -> None:
    pytest.importorskip("botocore")
    from botocore.exceptions import (
        ConnectionClosedError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    from brankas.core.offsite.answers import transient as _transient

    assert _transient(EndpointConnectionError(endpoint_url="http://h"))
    assert _transient(ConnectionClosedError(endpoint_url="http://h"))
    assert _transient(ReadTimeoutError(endpoint_url="http://h"))
    assert not _transient(ValueError("a bug"))  # type: ignore[arg-type]


@pytest.mark.parametrize(("method", "url", "headers", "token"), [
    ("PUT", "http://127.0.0.1:8333/office/pre/fix/0a1b2c.age",
     {"Content-Length": "2000",
      "x-amz-checksum-sha256": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
      "x-amz-object-lock-mode": "COMPLIANCE",
      "x-amz-object-lock-retain-until-date": "2027-01-10T01:02:03.456789Z",
      "Expect": "100-continue"}, None),
    ("GET", "https://s3.example.go.id/office?versioning", {}, "a-session-token"),
    ("GET", "http://[::1]:9000/office?object-lock", {}, None),
    ("PUT", "https://s3.example.go.id:443/office/a%2Bb/x~y", {"Content-Length": "0"}, None),
])
def test_the_signature_is_the_one_botocore_makes(method: str, url: str, headers: dict[str, str],
                                                  token: str | None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The requests made without botocore's client are signed by botocore's S3SigV4Auth,
    told the payload's SHA-256 the caller knows (``_signer_class``: the body is not read
    again): the Authorization and every header signed are those the plain S3SigV4Auth
    makes for the same request, which hashes the body itself; a wrong SHA-256 is another
    signature. The credentials' repr shows no secret."""
    import datetime as dt
    import hashlib

    import botocore.auth
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    from brankas.core.offsite.remote import Remote, RemoteConfig, _Keys

    body = b"the object's bytes" * 100 if method == "PUT" else b""
    keys = _Keys("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    assert keys.secret_key not in repr(keys)
    when = dt.datetime(2026, 12, 6, 1, 2, 3, tzinfo=dt.UTC)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: when.replace(tzinfo=None))
    host = {"Host": url.split("/")[2]}  # sent as the URL names it (a proxy does)
    theirs = AWSRequest(method=method, url=url, headers=dict(headers) | host, data=body)
    S3SigV4Auth(keys, "s3", "us-east-1").add_auth(theirs)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    parts = url.split("/", 3)
    remote = Remote(RemoteConfig(endpoint="/".join(parts[:3]), bucket="office"))
    remote._keys = keys

    def sign(sha: str) -> dict[str, str]:  # no body given: the signer cannot read it
        return remote._sign(method, url, dict(headers), sha)  # type: ignore[no-any-return]

    ours = sign(hashlib.sha256(body).hexdigest())
    assert ours["Authorization"] == theirs.headers["Authorization"]
    for name in ("X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token"):
        assert ours.get(name) == theirs.headers.get(name)
    assert {k: v for k, v in ours.items() if k != "Authorization"} == {
        k: v for k, v in theirs.headers.items() if k != "Authorization"}
    wrong = sign(hashlib.sha256(body + b"!").hexdigest())
    assert wrong["Authorization"] != theirs.headers["Authorization"]


def test_a_push_with_json_shows_no_progress_bar_and_loads_none() -> None:
    """``offsite push --json`` (or without a terminal) has no progress bar: none is made
    and rich is not even imported (a no-change push is mostly start-up, s19 P18)."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from brankas.cli.offsite import _progress\n"
            "with _progress('offsite', True) as update:\n"
            "    assert update is None\n"
            "with _progress('offsite', False) as update:\n"  # stderr is no terminal here
            "    assert update is None\n"
            "assert 'rich' not in sys.modules, 'rich imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stderr
