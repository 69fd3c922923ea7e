"""The S3 layer of the offsite copies (issue 18): one bucket with Object Lock, behind a
narrow interface (``Remote``) that every other part of the offsite code uses.

Built on boto3's core, botocore (the AWS SDK for Python, the ``offsite`` extra: SigV4
signing, the S3 API's XML, pagination and checksum headers done right and kept up to date
against AWS and the compatible servers; docs/offsite-remote.md says why),
with path-style addressing (``http(s)://host/bucket/key``: what on-premises servers such as
Ceph RGW and SeaweedFS expect) and nothing of boto3's ambient configuration: the credentials
are the ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` of the environment or a credentials
file the office names (only its path is kept; the secret lives in the client only; the file
wins when named); ``~/.aws/config``, ``~/.aws/credentials`` and ``AWS_PROFILE`` are not read
(``AWS_CA_BUNDLE`` is: an office's private certificate authority).

What the layer guarantees:

- Every object is written with ``ChecksumSHA256`` and, when asked, COMPLIANCE retention. The
  SHA-256 is *confirmed*: by the server's echo of ``x-amz-checksum-sha256`` when it verifies
  it (SeaweedFS, AWS), else by reading the version back, streamed and hashed (Ceph Pacific
  ignores the header); ``PutResult.confirmed`` says which.
- Objects larger than a part (8 MiB by default) go up as multipart uploads, each part with its
  own SHA-256. The caller may pass a ``MultipartState`` and persist it (``to_json``) after
  each ``progress`` call: an interrupted upload resumes from it without re-sending the parts
  the server lists (``ListParts``) with the same size and checksum.
- Retries with exponential back-off and jitter on transient errors only (5xx, throttling,
  a dropped or refused connection, a timeout); never on a refusal (wrong credentials, access
  denied, a bad checksum). Connect and read timeouts are bounded: nothing hangs.
- ``bwlimit`` bytes per second, both ways (a token bucket around the streams).
- Keys and values from the server are hostile input: keys checked (relative, no ``..``, no
  backslash, bounded length, a small alphabet), sizes and version ids checked, listings
  paginated with a bound.
- The canary: a small object under a one-day COMPLIANCE lock whose deletion is attempted;
  deleted (or no lock reported) means the server does not enforce Object Lock.

Every failure is a ``BrankasError`` with an ``offsite_*`` code (both languages).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import functools
import hashlib
import io
import json
import os
import random
import secrets
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from brankas.core import errors
from brankas.core.offsite.answers import (
    MAX_OBJECT,
    NOT_FOUND_CODES,
    client_error,
    transient,
    translate,
)
from brankas.core.offsite.credentials import credentials
from brankas.core.offsite.names import (
    KEY_MAX,
    PRINTABLE,
    check_bucket,
    check_endpoint,
    check_key,
    check_prefix,
    shown,
)
from brankas.core.offsite.throttle import ThrottledReader, TokenBucket

__all__ = [
    "CanaryResult", "MultipartState", "ObjectInfo", "PartDone", "PutResult", "Remote",
    "RemoteConfig", "check_key",
]

MiB = 1024 * 1024
PART_SIZE = 8 * MiB  # a multipart upload's part (the last may be smaller)
MIN_PART_SIZE = 5 * MiB  # S3's smallest part but the last
MAX_PARTS = 10_000  # S3's most parts in one upload
VERSION_ID_MAX = 1024
ETAG_MAX = 256  # an ETag is a quoted MD5 (with "-N" for a multipart object): 36 or so
LIST_PAGE = 1000
LIST_LIMIT = 10_000_000  # the most entries one listing may yield
EMPTY_PAGES = 100  # truncated pages in a row with no entry: a listing that does not advance
MIN_RATE = 1024  # bytes a second: an answer slower on average (after a grace) is cut
ANSWER_MAX = 16 * MiB  # the most of one answer read into memory (a page of 1,000 keys: ~1 MiB)
CANARY_PREFIX = "canary/"
CANARY_DAYS = 1
READ_CHUNK = 1 * MiB
RETRY_CAP = 8.0  # seconds: the longest back-off between two attempts
POOL = 10  # connections kept open to the server (the push sends 8 objects at once)
SEND_BLOCK = 256 * 1024  # bytes of a request body handed to the socket at once
WHOLE_BODY = 1 * MiB  # a file up to this size is read whole for its PUT (no bandwidth limit)
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

T = TypeVar("T")


# --- the contract's types ----------------------------------------------------------------

@dataclass(frozen=True)
class RemoteConfig:
    """Where the bucket is and how to reach it. Never holds a secret: ``credentials_file``
    is the path of an AWS shared-credentials file (INI: ``[profile]`` with
    ``aws_access_key_id`` and ``aws_secret_access_key``), read when the Remote is made."""

    endpoint: str
    bucket: str
    region: str = "us-east-1"
    prefix: str = ""
    retention_days: int = 400
    bwlimit: int | None = None  # bytes per second, both ways
    credentials_file: str | None = None
    profile: str = "default"  # the section of credentials_file
    part_size: int = PART_SIZE
    attempts: int = 4  # tries of each request on a transient error
    retry_base: float = 0.5  # seconds: the first back-off (doubled each time, with jitter)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0


@dataclass(frozen=True)
class ObjectInfo:
    key: str  # relative to the config's prefix
    size: int
    version_id: str | None
    sha256: bytes | None  # only when the server reports a whole-object SHA-256
    retain_until: dt.datetime | None


@dataclass(frozen=True)
class PutResult:
    key: str
    version_id: str | None
    confirmed: str  # "checksum" (the server verified and echoed the SHA-256) or "read-back"


@dataclass(frozen=True)
class CanaryResult:
    immutable: bool
    code: str  # offsite_canary_enforced | offsite_canary_deleted | offsite_canary_no_retention
    key: str
    version_id: str | None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def detail(self) -> str:
        return self.message()

    def message(self, lang: str | None = None) -> str:
        return errors.message(self.code, lang, key=self.key, **self.params)


@dataclass(frozen=True)
class PartDone:
    number: int
    etag: str
    sha256: str  # base64, as S3 carries it
    size: int
    echoed: bool = False  # the server verified and echoed its SHA-256


@dataclass
class MultipartState:
    """An upload in progress, for the caller to persist (``to_json``) and hand back to
    ``Remote.put(resume=...)`` after an interruption. Pass an empty one to a put to have it
    filled in; it is emptied again when the upload completes."""

    key: str = ""
    upload_id: str | None = None
    size: int = 0
    part_size: int = 0
    sha256: str = ""  # hex, of the whole object
    parts: list[PartDone] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({
            "key": self.key, "upload_id": self.upload_id, "size": self.size,
            "part_size": self.part_size, "sha256": self.sha256,
            "parts": [[p.number, p.etag, p.sha256, p.size, p.echoed] for p in self.parts]})

    @classmethod
    def from_json(cls, text: str) -> MultipartState:
        """A persisted state (a file the caller kept: checked, never trusted blindly)."""
        try:
            if len(text) > 4 * MiB:
                raise ValueError("too long")
            raw = json.loads(text)
            parts = [PartDone(int(n), str(e), str(s), int(z), bool(c))
                     for n, e, s, z, c in raw["parts"]]
            state = cls(key=str(raw["key"]), upload_id=raw["upload_id"] and str(raw["upload_id"]),
                        size=int(raw["size"]), part_size=int(raw["part_size"]),
                        sha256=str(raw["sha256"]), parts=parts)
        except (ValueError, TypeError, KeyError) as exc:
            raise errors.InvalidInput("offsite_resume_invalid", key="?",
                                      detail=type(exc).__name__) from exc
        if len(parts) > MAX_PARTS or any(not 1 <= p.number <= MAX_PARTS for p in parts):
            raise errors.InvalidInput("offsite_resume_invalid", key=shown(state.key),
                                      detail="part numbers")
        if state.upload_id is not None and (len(state.upload_id) > VERSION_ID_MAX
                                            or not PRINTABLE.fullmatch(state.upload_id)):
            raise errors.InvalidInput("offsite_resume_invalid", key=shown(state.key),
                                      detail="upload id")
        return state

    def _reset(self, key: str, upload_id: str, size: int, part_size: int, sha256: str) -> None:
        self.key, self.upload_id, self.size = key, upload_id, size
        self.part_size, self.sha256, self.parts = part_size, sha256, []

    def _done(self, number: int) -> PartDone | None:
        return next((p for p in self.parts if p.number == number), None)

    def _record(self, part: PartDone) -> None:
        self.parts = [p for p in self.parts if p.number != part.number] + [part]
        self.parts.sort(key=lambda p: p.number)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _sha_of(value: object) -> bytes | None:
    """A whole-object SHA-256 the server reported (base64), or None (absent, composite)."""
    if not isinstance(value, str) or len(value) != 44:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest if len(digest) == 32 else None


def _utc(when: dt.datetime | None, what: str) -> dt.datetime | None:
    if when is None:
        return None
    if not isinstance(when, dt.datetime) or when.tzinfo is None:
        raise ValueError(f"{what} must be an aware datetime")
    return when.astimezone(dt.UTC)


# --- the remote ----------------------------------------------------------------------------

class _Window(io.RawIOBase):
    """``length`` bytes of a file from ``offset``, as a seekable stream starting at 0."""

    def __init__(self, path: Path, offset: int, length: int, key: str = "") -> None:
        self._file = open_source(path, key)
        self._offset, self._length, self._pos = offset, length, 0
        self._file.seek(offset)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        left = self._length - self._pos
        if size is None or size < 0 or size > left:
            size = left
        data = self._file.read(size) if size else b""
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._length}[whence]
        self._pos = max(0, min(self._length, base + offset))
        self._file.seek(self._offset + self._pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._file.close()
        super().close()


class Remote:
    """One bucket (and prefix) on an S3 server. Thread-safe as boto3's client is; the
    bandwidth limit is shared by every call of one Remote."""

    def __init__(self, config: RemoteConfig) -> None:
        self.config = config
        self.endpoint = check_endpoint(config.endpoint)
        check_bucket(config.bucket)
        stripped = config.prefix.strip("/")
        self.prefix = check_key(stripped) + "/" if stripped else ""
        if not MIN_PART_SIZE <= config.part_size <= 5 * 1024 * MiB:
            raise ValueError("part_size must be 5 MiB to 5 GiB")
        if config.attempts < 1 or config.bwlimit is not None and config.bwlimit <= 0:
            raise ValueError("attempts must be at least 1 and bwlimit positive")
        self._keys = _Keys(*credentials(config.credentials_file, config.profile))
        self._client: Any = None  # botocore's client, made when first needed (_s3)
        self._direct_http: Any = None  # the urllib3 pool of _request (_direct)
        self._direct_proxy: str | None = None
        self._direct_pool: Any = None  # the endpoint's own pool of _direct_http (no proxy)
        self._signer: Any = None  # botocore's S3 SigV4 signer of _request (_sign)
        self._making = threading.Lock()
        self.limiter = TokenBucket(config.bwlimit) if config.bwlimit else None
        self.retries = 0  # transient failures retried, for the tests and the reports
        self.page = LIST_PAGE  # entries asked for per listing request

    @property
    def _s3(self) -> Any:
        """botocore's client, made when first needed: a push that only writes whole objects
        (a no-change push: its tags, its audit segment) never needs it, nor its 0.1 s of
        imports and model loading (s19 P18)."""
        if self._client is None:
            from botocore.config import Config

            config = self.config
            with _SESSION_LOCK:
                if self._client is None:
                    client = _session().create_client(
                        "s3", region_name=config.region, endpoint_url=self.endpoint,
                        aws_access_key_id=self._keys.access_key,
                        aws_secret_access_key=self._keys.secret_key,
                        aws_session_token=self._keys.token,
                        config=Config(
                            s3={"addressing_style": "path"},
                            signature_version="s3v4",
                            # botocore's own retries off ("standard" mode, one attempt):
                            # ours (_call) retry a part from its bytes, count the attempts
                            # and never retry a refusal.
                            retries={"mode": "standard", "total_max_attempts": 1},
                            connect_timeout=config.connect_timeout,
                            read_timeout=config.read_timeout,
                            tcp_keepalive=True,
                            # The SHA-256 is ours (ChecksumSHA256); no CRC32 of boto3's on top.
                            request_checksum_calculation="when_required",
                            response_checksum_validation="when_required"))
                    client.meta.events.register("before-send.s3", self._send)
                    self._client = client
        return self._client

    # - plumbing

    def _full(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _relative(self, full: object) -> str:
        """A key the server listed, made relative to our prefix (and checked)."""
        if not isinstance(full, str) or not full.startswith(self.prefix):
            raise errors.IntegrityFailure("offsite_key_invalid", key=shown(full),
                                          limit=KEY_MAX)
        return check_key(full[len(self.prefix):])

    def _call(self, action: str, fn: Callable[[], T], key: str = "") -> T:
        """``fn()``, retried on transient failures with exponential back-off and jitter;
        failures become BrankasErrors."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except Exception as exc:
                # (a local file's OSError is not the server's: it passes through as it is)
                if not _from_server(exc):
                    raise
                if not transient(exc) or attempt >= self.config.attempts:
                    raise self._error(exc, action, key, attempt) from exc
            self.retries += 1
            ceiling = min(RETRY_CAP, self.config.retry_base * 2 ** (attempt - 1))
            time.sleep(ceiling / 2 + random.uniform(0, ceiling / 2))

    def _error(self, exc: Exception, action: str, key: str,
               attempts: int = 1) -> errors.BrankasError:
        return translate(exc, endpoint=self.endpoint, bucket=self.config.bucket,
                         action=action, key=key, attempts=attempts)

    def _send(self, request: Any, **_: Any) -> Any:
        """botocore's before-send: send the request (its body armed: the signing read is
        over) and read the answer, bounded. botocore would read any answer but an object's
        whole into memory, however long the server makes it."""
        return self._deliver(request, self._s3._endpoint.http_session)

    def _deliver(self, request: Any, http: Any) -> Any:
        """Send ``request`` through ``http`` (botocore's URLLib3Session) and read the
        answer, bounded (an object's body is left to stream when the request asks for it)."""
        if isinstance(request.body, ThrottledReader):
            request.body.arm()
        streamed, request.stream_output = request.stream_output, True  # read below
        response = http.send(request)
        if streamed and response.status_code < 300:
            return response  # an object: streamed and bounded by get()
        response._content = self._answer(response.raw, response.status_code, request.url)
        return response

    def _answer(self, raw: Any, status: int, url: str) -> bytes:
        """An answer's body (urllib3's stream ``raw``), read as it comes and bounded: at
        most ANSWER_MAX bytes, no slow loris; an answer declaring a DTD is refused (a
        failure's is dropped). A timeout or a cut is botocore's exception for it."""
        from urllib3.exceptions import HTTPError
        from urllib3.exceptions import ReadTimeoutError as Urllib3Timeout

        data = bytearray()
        began = time.monotonic()
        try:
            while chunk := _some(raw, 64 * 1024):
                data += chunk
                self._too_slow(len(data), began)
                if len(data) > ANSWER_MAX:
                    raw.close()
                    raise errors.IntegrityFailure(
                        "offsite_listing_invalid", detail=f"an answer over {ANSWER_MAX} bytes")
        except Urllib3Timeout as exc:  # as botocore's own send says them
            from botocore.exceptions import ReadTimeoutError

            raise ReadTimeoutError(endpoint_url=url, error=exc) from exc
        except HTTPError as exc:
            from botocore.exceptions import ConnectionClosedError

            raise ConnectionClosedError(endpoint_url=url) from exc
        if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
            # S3's XML has none; its entities would be expanded by the parser (9 MiB of
            # them made a 270 MiB key here, 766 MiB at the peak). A failure's page (a
            # gateway's HTML "502") is dropped: its status says enough.
            if status < 300:
                raise errors.IntegrityFailure("offsite_listing_invalid",
                                              detail="an answer declaring a DTD")
            data = bytearray()
        return bytes(data)

    def _direct(self) -> Any:
        """The urllib3 pool of the requests made without botocore's client (whole-object
        PUTs, the bucket check), set up as botocore sets up its own (connect and read
        timeouts, keep-alive, no retries or redirects of urllib3's, the environment's
        proxies, ``AWS_CA_BUNDLE`` or certifi's authorities): none of the client's
        per-request machinery (events, endpoint rules, serialisers, parsers, its generic
        signer: about two thirds of each small PUT's CPU) and none of its 0.1-0.2 s of
        imports (s19 P18)."""
        if self._direct_http is None:
            with self._making:
                if self._direct_http is None:
                    import socket

                    import urllib3

                    url = urllib.parse.urlsplit(self.endpoint)
                    options: dict[str, Any] = {
                        "maxsize": POOL, "retries": False,
                        "timeout": urllib3.Timeout(connect=self.config.connect_timeout,
                                                   read=self.config.read_timeout),
                        "socket_options": [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
                                           (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]}
                    if url.scheme == "https":
                        options |= {"cert_reqs": "CERT_REQUIRED", "ca_certs": _ca_bundle()}
                    if int(urllib3.__version__.split(".")[0]) >= 2:  # 1.26 has no such key
                        # a body sent in larger pieces (urllib3's default: 16 KiB, a
                        # system call and a Python round each; s19 P18)
                        options["blocksize"] = SEND_BLOCK
                    proxy = _proxy_for(url)
                    manager = (
                        urllib3.ProxyManager(proxy, proxy_headers=_proxy_headers(proxy),
                                             **options) if proxy
                        else urllib3.PoolManager(**options))
                    # Without a proxy every request goes to the one endpoint: its pool is
                    # asked directly, not found again per request (the manager's parsing
                    # of the URL and its pool key: s21).
                    self._direct_pool = (None if proxy
                                         else manager.connection_from_url(self.endpoint))
                    self._direct_proxy = proxy
                    self._direct_http = manager
        return self._direct_http

    def _request(self, operation: str, method: str, key: str | None, *, query: str = "",
                 headers: dict[str, str] | None = None, body: Any = None,
                 payload_sha256: str = EMPTY_SHA256) -> tuple[int, Any, bytes]:
        """One request signed (SigV4: botocore's signer, ``_sign``) and sent without
        botocore's client: the status, headers and (bounded) body of a success; a failure is
        the ClientError botocore would raise (its code and message from the answer's XML,
        else the status), for ``_call``. ``payload_sha256``: the body's SHA-256 (hex), which
        the server checks."""
        path = f"/{self.config.bucket}"
        if key is not None:
            path += "/" + urllib.parse.quote(key, safe="/~")
        url = self.endpoint + path + (f"?{query}" if query else "")
        signed = self._sign(method, url, headers or {}, payload_sha256)
        http = self._direct()
        if self._direct_pool is not None:  # the endpoint's pool: the path and query only
            http, target = self._direct_pool, url[len(self.endpoint):]
        else:
            target = url
        if isinstance(body, ThrottledReader):
            body.arm()  # nothing reads it before it is sent (the signature has its SHA-256)
        try:
            response = http.urlopen(method, target, body=body, headers=signed, retries=False,
                                    redirect=False, assert_same_host=False,
                                    preload_content=False, decode_content=False)
        except Exception as exc:  # noqa: BLE001 (each becomes botocore's, as its session)
            said = _sent_error(exc, url, self._direct_proxy)
            if said is exc:
                raise
            raise said from exc
        try:
            data = self._answer(response, response.status, url)
        except BaseException:
            response.close()  # its connection never goes back to the pool half read
            raise
        response.release_conn()
        if response.status >= 300:
            code, message = _error_of(data)
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": code or str(response.status),
                                         "Message": message},
                               "ResponseMetadata": {"HTTPStatusCode": response.status}},
                              operation)
        return response.status, response.headers, data

    def _sign(self, method: str, url: str, headers: dict[str, str],
              payload_sha256: str) -> dict[str, str]:
        """``headers`` with the request's SigV4 added (``x-amz-date``,
        ``x-amz-content-sha256``, the session token, ``Authorization``) by botocore's own
        S3 signer, told the payload's SHA-256 instead of reading the body to hash it
        (``_signer_class``)."""
        from botocore.awsrequest import AWSRequest

        if self._signer is None:
            self._signer = _signer_class()(self._keys, "s3", self.config.region)
        # The Host sent is the one signed, directly or through a forwarding proxy (which
        # would send the URL's host and port as they are: "s3.kantor:80" where botocore
        # signs "s3.kantor").
        headers = {**headers, "Host": urllib.parse.urlsplit(url).netloc}
        request = AWSRequest(method=method, url=url, headers=headers)
        request.context["payload_sha256"] = payload_sha256
        self._signer.add_auth(request)
        return dict(request.headers.items())

    def _too_slow(self, got: int, began: float) -> None:
        """Refuse a slow loris: a server sending each piece just within the read timeout
        would keep an answer coming for as long as it likes. After the read timeout's grace,
        an answer must average MIN_RATE bytes a second (half the bandwidth limit if lower)."""
        floor = min(MIN_RATE, max(1, (self.config.bwlimit or MIN_RATE) // 2))
        elapsed = time.monotonic() - began
        if elapsed > self.config.read_timeout + got / floor:
            raise errors.SetupError("offsite_unreachable", endpoint=self.endpoint, detail=(
                f"terlalu lambat: {got} bita dalam {elapsed:.0f} detik",
                f"too slow: {got} bytes in {elapsed:.0f} s"))

    def _limit(self, raw: BinaryIO) -> ThrottledReader:
        return ThrottledReader(raw, self.limiter)

    # - the bucket

    def check(self) -> None:
        """The bucket is reachable with these credentials, versioned and under Object Lock;
        else the BrankasError that says which."""
        bucket = self.config.bucket
        status = self._call("read", lambda: _xml_field(
            self._request("GetBucketVersioning", "GET", None, query="versioning")[2],
            "Status"))
        if status != "Enabled":
            raise errors.SetupError("offsite_no_versioning", bucket=bucket)

        def lock() -> str | None:
            try:
                return _xml_field(self._request("GetObjectLockConfiguration", "GET", None,
                                                query="object-lock")[2], "ObjectLockEnabled")
            except Exception as exc:
                if _from_server(exc) and client_error(exc)[0] in (
                        "ObjectLockConfigurationNotFoundError",
                        "ObjectLockConfigurationNotFound"):
                    return None
                raise

        if self._call("read", lock) != "Enabled":
            raise errors.SetupError("offsite_no_object_lock", bucket=bucket)

    # - writing

    def put(self, key: str, source: Path | bytes, *, sha256: bytes, size: int,
            retain_until: dt.datetime | None,
            progress: Callable[[int], None] | None = None,
            resume: MultipartState | None = None) -> PutResult:
        """Write ``source`` (``size`` bytes whose SHA-256 is ``sha256``) as a new version of
        ``key``, under COMPLIANCE retention until ``retain_until`` (None: no lock), and
        confirm its SHA-256. ``progress(n)``: ``n`` bytes of it have arrived so far (after
        each part). ``resume``: the state of an earlier interrupted upload of the same
        object, or an empty one to be filled in (the caller persists it on each progress)."""
        full = self._full(key)
        until = _utc(retain_until, "retain_until")
        if len(sha256) != 32:
            raise ValueError("sha256 must be a 32-byte digest")
        actual = (len(source) if isinstance(source, bytes | bytearray)
                  else Path(source).stat().st_size)
        if actual != size:
            raise errors.IntegrityFailure("offsite_source_changed", key=shown(key))
        if size > MAX_OBJECT:
            raise errors.InvalidInput("offsite_too_large", key=shown(key), size=size,
                                      limit=MAX_OBJECT)
        part_size = max(self.config.part_size, -(-size // MAX_PARTS))
        if size > part_size:
            return self._put_multipart(key, full, source, sha256, size, until, part_size,
                                       progress, resume)
        headers = {"Content-Length": str(size), "x-amz-checksum-sha256": _b64(sha256)}
        if until is not None:  # as botocore writes them (ISO 8601, UTC)
            headers["x-amz-object-lock-mode"] = "COMPLIANCE"
            headers["x-amz-object-lock-retain-until-date"] = _iso8601(until)

        def once() -> dict[str, Any]:
            # Signed with the SHA-256 the caller gave (x-amz-content-sha256): a body that
            # is not what it says is refused by the server (and by its checksum).
            if self.limiter is None and (isinstance(source, bytes | bytearray)
                                         or size <= WHOLE_BODY):
                # No bandwidth limit: the body handed over whole (one send with the
                # headers; a file up to WHOLE_BODY read in one call), not read back
                # through a stream 256 KiB at a time (s21).
                body = bytes(source) if isinstance(source, bytes | bytearray) \
                    else _read_exactly(Path(source), size, key)
                _, answer, _ = self._request("PutObject", "PUT", full, headers=headers,
                                             body=body, payload_sha256=sha256.hex())
            else:
                raw: BinaryIO = (io.BytesIO(source) if isinstance(source, bytes | bytearray)
                                 else _Window(Path(source), 0, size, key))  # type: ignore[assignment]
                with self._limit(raw) as reader:
                    _, answer, _ = self._request("PutObject", "PUT", full, headers=headers,
                                                 body=reader, payload_sha256=sha256.hex())
            return {"VersionId": answer.get("x-amz-version-id"),
                    "ChecksumSHA256": answer.get("x-amz-checksum-sha256")}

        reply = self._call("write", once, key)
        version = self._version(reply, key, until)
        confirmed = self._confirm(key, version, sha256, size,
                                  echoed=reply.get("ChecksumSHA256"), expected=_b64(sha256))
        if progress:
            progress(size)
        return PutResult(key=key, version_id=version, confirmed=confirmed)

    def _version(self, reply: dict[str, Any], key: str,
                 until: dt.datetime | None) -> str | None:
        version = reply.get("VersionId")
        if version is not None and (not isinstance(version, str)
                                    or not PRINTABLE.fullmatch(version)
                                    or len(version) > VERSION_ID_MAX):
            raise errors.IntegrityFailure("offsite_listing_invalid",
                                          detail=f"version id {shown(version)}")
        if until is not None and (not version or version == "null"):
            raise errors.SetupError("offsite_no_version", key=shown(key),
                                    bucket=self.config.bucket)
        return version

    def _confirm(self, key: str, version: str | None, sha256: bytes, size: int, *,
                 echoed: object, expected: str) -> str:
        """"checksum" when the server echoed the expected checksum; else "read-back" after
        reading the version back and hashing it. A different answer is a refusal."""
        if echoed is not None:
            if echoed != expected:
                raise errors.IntegrityFailure("offsite_checksum_mismatch", key=shown(key),
                                              how=("gema server", "the server's echo"))
            return "checksum"
        digest = hashlib.sha256()

        class _Hash:
            def write(self, data: bytes) -> int:
                digest.update(data)
                return len(data)

        self.get(key, _Hash(), version_id=version, max_bytes=size)  # type: ignore[arg-type]
        if digest.digest() != sha256:
            raise errors.IntegrityFailure("offsite_checksum_mismatch", key=shown(key),
                                          how=("dibaca ulang", "read back"))
        return "read-back"

    def _put_multipart(self, key: str, full: str, source: Path | bytes, sha256: bytes,
                       size: int, until: dt.datetime | None, part_size: int,
                       progress: Callable[[int], None] | None,
                       resume: MultipartState | None) -> PutResult:
        state = resume if resume is not None else MultipartState()
        bucket = self.config.bucket
        listed: dict[int, tuple[str, int, str | None]] | None = None
        if state.upload_id:
            if state.key != key:
                raise errors.InvalidInput("offsite_resume_invalid", key=shown(key),
                                          detail=f"a state of {shown(state.key)}")
            if (state.size, state.sha256, state.part_size) == (size, sha256.hex(), part_size):
                listed = self._list_parts(full, key, state.upload_id)
            if listed is None:  # gone, or another content: begin again
                self._abort(full, state.upload_id)
        if listed is None:
            lock = _lock(until)
            made = self._call("write", lambda: self._s3.create_multipart_upload(
                Bucket=bucket, Key=full, ChecksumAlgorithm="SHA256", **lock), key)
            upload_id = made.get("UploadId")
            if (not isinstance(upload_id, str) or len(upload_id) > VERSION_ID_MAX
                    or not PRINTABLE.fullmatch(upload_id)):
                raise errors.IntegrityFailure("offsite_listing_invalid",
                                              detail=f"upload id {shown(upload_id)}")
            state._reset(key, upload_id, size, part_size, sha256.hex())
            listed = {}
        upload_id = str(state.upload_id)
        whole = hashlib.sha256()
        digests: list[bytes] = []
        all_echoed = True
        try:
            for number, offset in enumerate(range(0, size, part_size), start=1):
                length = min(part_size, size - offset)
                if isinstance(source, bytes | bytearray):
                    data = bytes(source[offset:offset + length])
                else:
                    with open_source(Path(source), key) as f:
                        f.seek(offset)
                        data = f.read(length)
                if len(data) != length:
                    raise errors.IntegrityFailure("offsite_source_changed", key=shown(key))
                whole.update(data)
                part_sha = hashlib.sha256(data).digest()
                digests.append(part_sha)
                part_b64 = _b64(part_sha)
                done, there = state._done(number), listed.get(number)
                if there and there[1] == length and (
                        there[2] == part_b64  # the server vouches for its checksum
                        or there[2] is None and done is not None and done.sha256 == part_b64
                        and done.etag == there[0]):
                    vouched = there[2] == part_b64 or (done is not None and done.echoed)
                    state._record(PartDone(number, there[0], part_b64, length, vouched))
                    all_echoed = all_echoed and vouched
                else:
                    def once(data: bytes = data, number: int = number,
                             part_b64: str = part_b64) -> dict[str, Any]:
                        with self._limit(io.BytesIO(data)) as body:
                            return self._s3.upload_part(
                                Bucket=bucket, Key=full, UploadId=upload_id, PartNumber=number,
                                Body=body, ContentLength=len(data), ChecksumSHA256=part_b64)

                    reply = self._call("write", once, key)
                    echoed = reply.get("ChecksumSHA256")
                    if echoed is not None and echoed != part_b64:
                        raise errors.IntegrityFailure("offsite_checksum_mismatch",
                                                      key=shown(key),
                                                      how=("gema server", "the server's echo"))
                    all_echoed = all_echoed and echoed is not None
                    etag = reply.get("ETag")
                    if (not isinstance(etag, str) or len(etag) > ETAG_MAX
                            or not PRINTABLE.fullmatch(etag)):
                        raise errors.IntegrityFailure("offsite_listing_invalid",
                                                      detail=f"ETag {shown(etag)}")
                    state._record(PartDone(number, etag, part_b64, length, echoed is not None))
                if progress:
                    progress(offset + length)
            if whole.digest() != sha256:
                raise errors.IntegrityFailure("offsite_source_changed", key=shown(key))
            # The file's parts only: a saved state may name more (hostile, or stale).
            state.parts = [p for p in state.parts if p.number <= len(digests)]
            parts = [{"PartNumber": p.number, "ETag": p.etag, "ChecksumSHA256": p.sha256}
                     for p in state.parts]
            reply = self._call("write", lambda: self._s3.complete_multipart_upload(
                Bucket=bucket, Key=full, UploadId=upload_id,
                MultipartUpload={"Parts": parts}), key)
        except errors.IntegrityFailure as exc:
            if exc.code == "offsite_source_changed":  # its parts are of no use
                self._abort(full, upload_id)
                state._reset("", "", 0, 0, "")
                state.upload_id = None
            raise
        except errors.BrankasError:
            if resume is None:  # nobody will resume it: do not leave it on the server
                self._abort(full, upload_id)
            raise
        state.upload_id, state.parts = None, []
        version = self._version(reply, key, until)
        composite = _b64(hashlib.sha256(b"".join(digests)).digest()) + f"-{len(digests)}"
        final = reply.get("ChecksumSHA256")
        if all_echoed and isinstance(final, str) and final.split("-")[0] == composite.split(
                "-")[0]:
            return PutResult(key=key, version_id=version, confirmed="checksum")
        confirmed = self._confirm(key, version, sha256, size, echoed=None, expected="")
        return PutResult(key=key, version_id=version, confirmed=confirmed)

    def _list_parts(self, full: str, key: str,
                    upload_id: str) -> dict[int, tuple[str, int, str | None]] | None:
        """The parts the server holds of an upload (number: ETag, size, SHA-256 base64), or
        None when it knows no such upload."""
        from botocore.exceptions import ClientError

        parts: dict[int, tuple[str, int, str | None]] = {}
        marker = 0
        for _page in range(MAX_PARTS // LIST_PAGE + 2):
            def page(marker: int = marker) -> dict[str, Any] | None:
                try:
                    return self._s3.list_parts(Bucket=self.config.bucket, Key=full,
                                               UploadId=upload_id, PartNumberMarker=marker,
                                               MaxParts=LIST_PAGE)
                except ClientError as exc:
                    if client_error(exc)[0] in ("NoSuchUpload", "NoSuchKey"):
                        return None
                    raise

            reply = self._call("read", page, key)
            if reply is None:
                return None
            for p in reply.get("Parts") or []:
                number, size, etag = p.get("PartNumber"), p.get("Size"), p.get("ETag")
                if (not isinstance(number, int) or not 1 <= number <= MAX_PARTS
                        or not isinstance(size, int) or not 0 <= size <= MAX_OBJECT
                        or not isinstance(etag, str) or len(etag) > ETAG_MAX
                        or not PRINTABLE.fullmatch(etag)):
                    raise errors.IntegrityFailure("offsite_listing_invalid",
                                                  detail="a listed part")
                checksum = p.get("ChecksumSHA256")
                parts[number] = (etag, size, checksum if isinstance(checksum, str) else None)
            following = reply.get("NextPartNumberMarker")
            if not reply.get("IsTruncated"):
                return parts
            if not isinstance(following, int) or following <= marker:
                raise errors.IntegrityFailure("offsite_listing_invalid",
                                              detail="part listing does not advance")
            marker = following
        raise errors.IntegrityFailure("offsite_listing_invalid", detail="too many parts")

    def _abort(self, full: str, upload_id: str) -> None:
        """Best effort: an upload nobody will complete (a lifecycle rule ends the rest)."""
        from botocore.exceptions import BotoCoreError, ClientError

        with contextlib.suppress(ClientError, BotoCoreError, OSError):
            self._s3.abort_multipart_upload(Bucket=self.config.bucket, Key=full,
                                            UploadId=upload_id)

    def extend_retention(self, key: str, version_id: str, until: dt.datetime) -> None:
        """Keep the version locked (COMPLIANCE) until at least ``until``; a later date
        already set stays (S3 refuses to shorten one)."""
        from botocore.exceptions import ClientError

        full, when = self._full(key), _utc(until, "until")
        bucket = self.config.bucket

        def current() -> dict[str, Any]:
            try:
                return self._s3.get_object_retention(Bucket=bucket, Key=full,
                                                     VersionId=version_id)
            except ClientError as exc:
                if client_error(exc)[0] in ("NoSuchObjectLockConfiguration",
                                             "ObjectLockConfigurationNotFoundError"):
                    return {}
                raise

        retention = self._call("read", current, key).get("Retention") or {}
        have = retention.get("RetainUntilDate")
        if (retention.get("Mode") == "COMPLIANCE" and isinstance(have, dt.datetime)
                and when is not None and have >= when):
            return
        self._call("lock", lambda: self._s3.put_object_retention(
            Bucket=bucket, Key=full, VersionId=version_id,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": when}), key)

    # - reading

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo | None:
        """The object's (or the version's) size, version, SHA-256 (when the server reports
        one for the whole object) and retention; None when there is none."""
        from botocore.exceptions import ClientError

        full = self._full(key)
        extra = {"VersionId": version_id} if version_id else {}

        def once() -> dict[str, Any] | None:
            try:
                return self._s3.head_object(Bucket=self.config.bucket, Key=full,
                                            ChecksumMode="ENABLED", **extra)
            except ClientError as exc:
                code, status, _ = client_error(exc)
                if status in (404, 405) or code in NOT_FOUND_CODES:
                    return None
                raise

        reply = self._call("read", once, key)
        if reply is None:
            return None
        size = reply.get("ContentLength")
        if not isinstance(size, int) or not 0 <= size <= MAX_OBJECT:
            raise errors.IntegrityFailure("offsite_listing_invalid", detail="an object's size")
        version = self._asked(reply, key, version_id)
        until = reply.get("ObjectLockRetainUntilDate")
        # Only COMPLIANCE protects it (GOVERNANCE yields to the bypass header).
        if not isinstance(until, dt.datetime) or reply.get("ObjectLockMode") != "COMPLIANCE":
            until = None
        return ObjectInfo(key=key, size=size, version_id=version,
                          sha256=_sha_of(reply.get("ChecksumSHA256")),
                          retain_until=until.astimezone(dt.UTC) if until else None)

    def _asked(self, reply: dict[str, Any], key: str, version_id: str | None) -> str | None:
        """The answer's version, which must be the one asked for (when one was)."""
        version = self._version(reply, key, None)
        if version_id and version != version_id:
            raise errors.IntegrityFailure(
                "offsite_listing_invalid",
                detail=f"version {shown(version)} where {shown(version_id)} was asked for")
        return version

    def get(self, key: str, dest: BinaryIO, *, version_id: str | None = None,
            max_bytes: int) -> int:
        """Stream the object (or the version) into ``dest``; refused when larger than
        ``max_bytes`` (announced or actual) or cut short, or when the server's whole-object
        SHA-256 does not match what arrived. Returns the bytes written."""
        full = self._full(key)
        extra = {"VersionId": version_id} if version_id else {}
        reply = self._call("read", lambda: self._s3.get_object(
            Bucket=self.config.bucket, Key=full, ChecksumMode="ENABLED", **extra), key)
        body = reply["Body"]
        try:
            self._asked(reply, key, version_id)
            announced = reply.get("ContentLength")
            if not isinstance(announced, int) or announced < 0:
                raise errors.IntegrityFailure("offsite_listing_invalid",
                                              detail="an object's size")
            if announced > max_bytes:
                raise errors.InvalidInput("offsite_too_large", key=shown(key), size=announced,
                                          limit=max_bytes)
            expected = _sha_of(reply.get("ChecksumSHA256"))
            digest = hashlib.sha256()
            got = 0
            # urllib3's own stream, read as it comes (read1): botocore's read(n) waits for
            # all n bytes, however slowly they come. Its length and checksum are checked here.
            raw = getattr(body, "_raw_stream", body)
            began = time.monotonic()
            while True:
                try:
                    chunk = _some(raw, READ_CHUNK)
                except Exception as exc:  # urllib3/botocore: a dropped or timed-out stream
                    raise self._error(exc, "read", key) from exc
                if not chunk:
                    break
                got += len(chunk)
                self._too_slow(got, began)
                if got > max_bytes or got > announced:
                    raise errors.InvalidInput("offsite_too_large", key=shown(key), size=got,
                                              limit=min(max_bytes, announced))
                if self.limiter is not None:
                    self.limiter.take(len(chunk))
                digest.update(chunk)
                dest.write(chunk)
            if got != announced:
                raise errors.IntegrityFailure("offsite_truncated", key=shown(key), got=got,
                                              size=announced)
            if expected is not None and digest.digest() != expected:
                raise errors.IntegrityFailure("offsite_checksum_mismatch", key=shown(key),
                                              how=("diunduh", "downloaded"))
            return got
        finally:
            body.close()

    def get_bytes(self, key: str, *, version_id: str | None = None, max_bytes: int) -> bytes:
        """A small object (a manifest, a tag) in memory; ``get``'s checks."""
        out = io.BytesIO()
        self.get(key, out, version_id=version_id, max_bytes=max_bytes)
        return out.getvalue()

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """The newest version of every object under ``prefix`` (relative keys, in key
        order); ``version_id``, ``sha256`` and ``retain_until`` are not listed (None)."""
        full_prefix = self.prefix + check_prefix(prefix)
        token: str | None = None
        count = empty = 0
        last = ""  # keys come in order (S3 lists them sorted): each after the one before
        while True:
            extra = {"ContinuationToken": token} if token else {}
            reply = self._call("list", lambda extra=extra: self._s3.list_objects_v2(  # type: ignore[misc]
                Bucket=self.config.bucket, Prefix=full_prefix, MaxKeys=self.page, **extra),
                prefix)
            contents = reply.get("Contents") or []
            empty = _page(len(contents), self.page, empty)
            for item in contents:
                count += 1
                if count > LIST_LIMIT:
                    raise errors.IntegrityFailure("offsite_listing_invalid",
                                                  detail=f"more than {LIST_LIMIT} objects")
                key = self._relative(item.get("Key"))
                if key <= last:
                    raise errors.IntegrityFailure("offsite_listing_invalid",
                                                  detail="the listing does not advance")
                last = key
                yield ObjectInfo(key=key, size=_size(item),
                                 version_id=None, sha256=None, retain_until=None)
            if not reply.get("IsTruncated"):
                return
            following = reply.get("NextContinuationToken")
            if not isinstance(following, str) or not following or following == token:
                raise errors.IntegrityFailure("offsite_listing_invalid",
                                              detail="the listing does not advance")
            token = following

    def list_versions(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every version (not the delete markers) under ``prefix``: by key, the newest
        version of a key first."""
        full_prefix = self.prefix + check_prefix(prefix)
        markers: tuple[str, str] | None = None
        count = empty = 0
        last = ""  # keys in order (S3 lists them sorted), each version of a key once
        versions_of_last: set[str | None] = set()
        while True:
            extra = ({"KeyMarker": markers[0], "VersionIdMarker": markers[1]}
                     if markers else {})
            reply = self._call("list", lambda extra=extra: self._s3.list_object_versions(  # type: ignore[misc]
                Bucket=self.config.bucket, Prefix=full_prefix, MaxKeys=self.page, **extra),
                prefix)
            versions = reply.get("Versions") or []
            empty = _page(len(versions) + len(reply.get("DeleteMarkers") or []), self.page,
                          empty)
            count += len(reply.get("DeleteMarkers") or [])
            for item in versions:
                count += 1
                if count > LIST_LIMIT:
                    raise errors.IntegrityFailure("offsite_listing_invalid",
                                                  detail=f"more than {LIST_LIMIT} versions")
                key = self._relative(item.get("Key"))
                version = self._version(item, key, None)
                if key < last:
                    raise errors.IntegrityFailure("offsite_listing_invalid",
                                                  detail="the listing does not advance")
                if key != last:
                    last, versions_of_last = key, set()
                if version in versions_of_last:
                    raise errors.IntegrityFailure("offsite_listing_invalid",
                                                  detail="the listing does not advance")
                versions_of_last.add(version)
                yield ObjectInfo(key=key, size=_size(item), version_id=version,
                                 sha256=None, retain_until=None)
            if not reply.get("IsTruncated"):
                return
            following = (reply.get("NextKeyMarker"), reply.get("NextVersionIdMarker") or "")
            if (not isinstance(following[0], str) or not following[0]
                    or not isinstance(following[1], str) or following == markers
                    or markers is not None and following[0] < markers[0]):
                raise errors.IntegrityFailure("offsite_listing_invalid",
                                              detail="the listing does not advance")
            markers = following  # type: ignore[assignment]

    # - the canary

    def canary(self) -> CanaryResult:
        """Write a small object under a one-day COMPLIANCE lock and try to delete that
        version (with the governance bypass, and in a batch). Refused, still there and its
        lock reported: the server enforces Object Lock. The canaries cannot be cleaned up
        (that is the point): they are named ``canary/<UTC time>-<random>`` so that they are
        few and recognisable."""
        from botocore.exceptions import ClientError

        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        key = f"{CANARY_PREFIX}{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
        body = f"brankas canary {key}: a test of Object Lock, locked for a day\n".encode()
        until = now + dt.timedelta(days=CANARY_DAYS)
        put = self.put(key, body, sha256=hashlib.sha256(body).digest(), size=len(body),
                       retain_until=until)
        version = put.version_id
        full = self._full(key)
        bucket = self.config.bucket

        def retention() -> dict[str, Any]:
            try:
                return self._s3.get_object_retention(Bucket=bucket, Key=full,
                                                     VersionId=version)
            except ClientError as exc:
                code, status, _ = client_error(exc)
                if status in (400, 404) or "ObjectLock" in code:
                    return {"error": code}
                raise

        reported = self._call("read", retention, key)
        lock = reported.get("Retention") or {}
        have = lock.get("RetainUntilDate")
        locked = (lock.get("Mode") == "COMPLIANCE" and isinstance(have, dt.datetime)
                  and have >= until - dt.timedelta(seconds=2))

        # An attacker holding these credentials would try every way: the version's DELETE,
        # plain and with the governance bypass (a server keeping COMPLIANCE as GOVERNANCE
        # honours it; one refusing the header to whom may not bypass refuses the request
        # whole), and a batch delete (a server may enforce the lock on one route only).
        def delete(bypass: bool) -> bool:
            extra = {"BypassGovernanceRetention": True} if bypass else {}
            try:
                self._s3.delete_object(Bucket=bucket, Key=full, VersionId=version, **extra)
            except ClientError as exc:
                code, status, _ = client_error(exc)
                if code == "AccessDenied" or status == 403:
                    return False
                raise
            return True

        def delete_batch() -> bool:
            try:
                reply = self._s3.delete_objects(
                    Bucket=bucket, BypassGovernanceRetention=True,
                    Delete={"Objects": [{"Key": full, "VersionId": version}], "Quiet": False})
            except ClientError as exc:
                code, status, _ = client_error(exc)
                if code == "AccessDenied" or status == 403:
                    return False
                raise
            return bool(reply.get("Deleted")) and not reply.get("Errors")

        deleted = (self._call("delete", lambda: delete(False), key)
                   or self._call("delete", lambda: delete(True), key)
                   or self._call("delete", delete_batch, key))
        still = self.head(key, version) is not None
        if deleted or not still:
            return CanaryResult(False, "offsite_canary_deleted", key, version)
        if not locked:
            detail = reported.get("error") or f"{lock.get('Mode')} {have}"
            return CanaryResult(False, "offsite_canary_no_retention", key, version,
                                {"detail": shown(detail)})
        return CanaryResult(True, "offsite_canary_enforced", key, version)


_SESSION_LOCK = threading.Lock()
_SESSIONS: list[Any] = []


class _Keys:
    """The credentials, with the three fields botocore's signer reads; never shown (a
    traceback's locals, a log of a Remote's state show no secret)."""

    __slots__ = ("access_key", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None) -> None:
        self.access_key, self.secret_key, self.token = access_key, secret_key, token

    def __repr__(self) -> str:
        return f"<credentials {shown(self.access_key, 32)}>"


def load_transport() -> None:
    """Import now what the first request would (urllib3, botocore's signer and
    ``AWSRequest``): for a caller that loads its modules in one go, at its start
    (``brankas offsite push``: with the collector paused)."""
    import urllib3  # noqa: F401
    from botocore.awsrequest import AWSRequest  # noqa: F401

    _signer_class()


@functools.cache
def _signer_class() -> type:
    """botocore's ``S3SigV4Auth`` whose payload hash is the SHA-256 the caller already
    computed (``request.context["payload_sha256"]``) instead of the body read and hashed
    again: the same signature for the same bytes (tests/offsite/test_remote_units.py), one
    pass less over each. Made when first needed (botocore.auth is imported then)."""
    from botocore.auth import S3SigV4Auth

    class KnownPayloadSigner(S3SigV4Auth):  # type: ignore[misc]
        def payload(self, request: Any) -> str:
            return str(request.context["payload_sha256"])

    return KnownPayloadSigner


def open_source(path: Path, key: str) -> BinaryIO:
    """``path`` opened to be sent, as a disk's file is opened (``disk.fs.open_regular``:
    a regular file, a link not followed, a FIFO not waited for); anything else there is
    ``offsite_source_changed`` (it was a regular file when the push measured it). r21."""
    from brankas.core.disk import fs

    try:
        f, _ = fs.open_regular(path)
    except fs.NotRegular:
        raise errors.IntegrityFailure("offsite_source_changed", key=shown(key)) from None
    return f


def _read_exactly(path: Path, size: int, key: str) -> bytes:
    """The ``size`` bytes of ``path`` (one read); a file grown or shrunk since it was
    measured is refused (the server would refuse a changed content by its checksum)."""
    with open_source(path, key) as f:
        data = f.read(size + 1)
    if len(data) != size:
        raise errors.IntegrityFailure("offsite_source_changed", key=shown(key))
    return data


def _from_server(exc: BaseException) -> bool:
    """A failure of the request (botocore's ClientError or BotoCoreError, a lost
    connection, a timeout), not of something local. botocore's exceptions are looked up
    only when loaded: none of them can have been raised before (a push that only writes
    whole objects never loads them)."""
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    boto = sys.modules.get("botocore.exceptions")
    return boto is not None and isinstance(exc, boto.ClientError | boto.BotoCoreError)


def _ca_bundle() -> str:
    """The certificate authorities botocore would trust: ``AWS_CA_BUNDLE`` (an office's
    private authority), ``REQUESTS_CA_BUNDLE``, else certifi's (botocore's own copy when
    certifi is missing)."""
    named = os.environ.get("AWS_CA_BUNDLE") or os.environ.get("REQUESTS_CA_BUNDLE")
    if named:
        return named
    try:
        import certifi
    except ImportError:
        import importlib.util

        spec = importlib.util.find_spec("botocore")
        assert spec is not None and spec.origin is not None
        return str(Path(spec.origin).parent / "cacert.pem")
    return str(certifi.where())


def _proxy_for(url: urllib.parse.SplitResult) -> str | None:
    """The environment's proxy for ``url`` (``https_proxy``, ``http_proxy``, ``no_proxy``),
    as botocore reads it (``get_environ_proxies``), or None."""
    import urllib.request

    try:
        if urllib.request.proxy_bypass(url.netloc):
            return None
    except (TypeError, OSError):
        pass
    proxy = urllib.request.getproxies().get(url.scheme)
    if proxy and "://" not in proxy:
        proxy = "http://" + proxy
    return proxy or None


def _proxy_headers(proxy: str) -> dict[str, str]:
    """A proxy's ``user:password`` (in its URL) as the Proxy-Authorization botocore sends
    (basic, unquoted)."""
    url = urllib.parse.urlsplit(proxy)
    if not url.username or not url.password:
        return {}
    pair = f"{urllib.parse.unquote(url.username)}:{urllib.parse.unquote(url.password)}"
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def _sent_error(exc: Exception, url: str, proxy: str | None) -> Exception:
    """What botocore's URLLib3Session raises for ``exc`` from urllib3 (``answers`` knows
    those: which are transient, what each says)."""
    import socket

    from botocore import exceptions as boto
    from urllib3 import exceptions as u3

    if isinstance(exc, u3.SSLError):
        return boto.SSLError(endpoint_url=url, error=exc)
    if isinstance(exc, u3.NewConnectionError | socket.gaierror):
        return boto.EndpointConnectionError(endpoint_url=url, error=exc)
    if isinstance(exc, u3.ProxyError):  # its user and password masked, as botocore's
        from botocore.httpsession import mask_proxy_url

        return boto.ProxyConnectionError(proxy_url=shown(mask_proxy_url(proxy or "")),
                                         error=exc)
    if isinstance(exc, u3.ConnectTimeoutError):
        return boto.ConnectTimeoutError(endpoint_url=url, error=exc)
    if isinstance(exc, u3.ReadTimeoutError):
        return boto.ReadTimeoutError(endpoint_url=url, error=exc)
    if isinstance(exc, u3.ProtocolError):
        return boto.ConnectionClosedError(error=exc, request=None, endpoint_url=url)
    if isinstance(exc, OSError | u3.HTTPError):
        return boto.HTTPClientError(error=exc)
    return exc


def _iso8601(when: dt.datetime) -> str:
    """A time as botocore writes an ``iso8601`` header (S3's lock date): UTC, ``Z``."""
    when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if when.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def _xml(data: bytes) -> Any:
    """The root of a small answer's XML, or a refusal. Parsed as UTF-8 text with no
    declaration (a UTF-16 document would slip past ``_deliver``'s byte check for a DTD:
    none is accepted here, so no entity can be defined and expanded)."""
    from xml.etree import ElementTree

    try:
        text = data.decode("utf-8")
        if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
            raise ValueError("a DTD")
        return ElementTree.fromstring(text)  # noqa: S314 (no DTD: above)
    except (ElementTree.ParseError, ValueError, LookupError) as exc:
        raise errors.IntegrityFailure("offsite_listing_invalid",
                                      detail=f"an answer that is not XML ({exc})"[:200]) from None


def _child(root: Any, name: str) -> str | None:
    """The text of ``root``'s child ``name`` (in any XML namespace), or None."""
    for child in root:
        if child.tag == name or child.tag.endswith("}" + name):
            return str(child.text or "")
    return None


def _xml_field(data: bytes, name: str) -> str | None:
    return _child(_xml(data), name) if data.strip() else None


def _error_of(data: bytes) -> tuple[str, str]:
    """The code and message of an error answer (``<Error><Code>``), empty when it has none
    (an empty body, HTML from a gateway, garbage: the status says enough)."""
    try:
        root = _xml(data) if data.strip() else None
    except errors.IntegrityFailure:
        return "", ""
    if root is None:
        return "", ""
    return _child(root, "Code") or "", _child(root, "Message") or ""


def _session() -> Any:
    """One botocore session for every Remote (it caches the S3 model: a client is then made
    in milliseconds), reading no file and no profile of the environment (~/.aws/config,
    AWS_PROFILE); the credentials are given to each client."""
    if not _SESSIONS:
        import botocore.session

        _SESSIONS.append(botocore.session.Session(session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None)}))
    return _SESSIONS[0]


def _some(raw: Any, size: int) -> bytes:
    """What has arrived, up to ``size`` bytes (urllib3 2's read1); urllib3 1.26 (Debian
    bookworm's python3-urllib3) has no read1: its read waits for all ``size``."""
    read1 = getattr(raw, "read1", None)
    return bytes(read1(size) if read1 is not None else raw.read(size))


def _lock(until: dt.datetime | None) -> dict[str, Any]:
    if until is None:
        return {}
    return {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": until}


def _page(entries: int, asked: int, empty: int) -> int:
    """The count of empty pages in a row after a page of ``entries`` (``asked`` at most)."""
    if entries > asked:
        raise errors.IntegrityFailure("offsite_listing_invalid",
                                      detail=f"{entries} entries where {asked} were asked for")
    empty = 0 if entries else empty + 1
    if empty > EMPTY_PAGES:
        raise errors.IntegrityFailure("offsite_listing_invalid",
                                      detail="the listing does not advance")
    return empty


def _size(item: dict[str, Any]) -> int:
    size = item.get("Size")
    if not isinstance(size, int) or not 0 <= size <= MAX_OBJECT:
        raise errors.IntegrityFailure("offsite_listing_invalid", detail="an object's size")
    return size
