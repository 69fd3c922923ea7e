"""A small threaded HTTP proxy in front of the tests' real S3 server, for what a real server
will not do on demand (restic's way: faults are wrappers around a real backend):

- ``mode = "no-lock"``: the lying server. A PUT's ``x-amz-object-lock-*`` headers are removed
  (the request re-signed with the test credentials) and the answer is the server's "200 OK":
  the object is stored without a lock, as by a server that accepts Object Lock settings and
  does not enforce them. The canary must notice.
- ``drop(after=N, match=...)``: the next matching request is cut (a TCP reset) after N bytes
  of its body went through; ``cut_answer(after=N)``: the next GET's answer is cut after N
  bytes; ``refuse(n)``: the next n requests get "503 SlowDown".
- ``mode = "governance"``: a lying server that stores objects unlocked, reports COMPLIANCE
  retention when asked, and refuses a version's DELETE unless it carries
  ``x-amz-bypass-governance-retention`` (a COMPLIANCE lock kept as if it were GOVERNANCE).
  ``mode = "batch-hole"``: the same, but every single DELETE refused and a batch
  (``POST ?delete``) passed on: the lock enforced on one route only. ``mode = "no-bypass"``:
  no lock at all, but any request with the bypass header refused (as AWS refuses it to whom
  may not bypass): only a plain DELETE shows it.
- ``mode = "hang"``: requests are read and never answered (a read timeout).
- ``rewrite``: a hostile server's answers (e.g. a listing naming ``../../etc/passwd``).
- Accounting: every request (method, target, body bytes passed on, status), so a test can
  count what was (re-)sent.

    proxy = Proxy(upstream_endpoint).start()
    proxy.endpoint        # http://127.0.0.1:<port>, for a RemoteConfig
    proxy.stop()
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Not passed on: hop-by-hop headers, and Expect (the proxy answers 100-continue itself).
_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
        "upgrade", "expect"}
_CHUNK = 64 * 1024
_CHECKSUM_XML = re.compile(rb"<Checksum(SHA256|CRC32C?|SHA1|Type)>[^<]*</Checksum\w*>")


@dataclass
class Seen:
    method: str
    target: str
    body: int = 0  # request body bytes passed on to the server
    status: int = 0  # 0: cut or never answered
    answer: int = 0  # answer body bytes passed back
    dropped: bool = False


class Proxy:
    def __init__(self, upstream: str) -> None:
        url = urllib.parse.urlsplit(upstream)
        self.upstream = (url.hostname or "127.0.0.1", url.port or 80)
        self.mode = "pass"  # "pass", "no-lock", "governance", "batch-hole", "no-bypass", "hang"
        self.hide_checksums = False  # drop x-amz-checksum-* from answers (as Ceph 16 does)
        # A hostile server: every answer's body passed through this (target, body) -> body.
        self.rewrite: Callable[[str, bytes], bytes] | None = None
        self.seen: list[Seen] = []
        self._drop: tuple[int, Callable[[str, str], bool]] | None = None
        self._refuse = 0
        self._cut_answer: tuple[int, Callable[[str, str], bool]] | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()

    # - set-up

    def start(self) -> Proxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        with self._lock:
            self.mode, self.seen, self._drop, self._refuse = "pass", [], None, 0
            self._cut_answer = None
            self.hide_checksums, self.rewrite = False, None

    def drop(self, after: int, match: Callable[[str, str], bool] = lambda m, t: True) -> None:
        """Cut the next request for which ``match(method, target)`` holds after ``after``
        bytes of its body."""
        with self._lock:
            self._drop = (after, match)

    def cut_answer(self, after: int,
                   match: Callable[[str, str], bool] = lambda m, t: m == "GET") -> None:
        """Cut the answer to the next matching request after ``after`` bytes of its body
        (its Content-Length announcing the whole)."""
        with self._lock:
            self._cut_answer = (after, match)

    def refuse(self, n: int) -> None:
        with self._lock:
            self._refuse = n

    def body_bytes(self, method: str = "PUT") -> int:
        """Request body bytes passed on to the server."""
        with self._lock:
            return sum(s.body for s in self.seen if s.method == method)

    def answer_bytes(self, method: str = "GET") -> int:
        """Answer body bytes passed back to the client."""
        with self._lock:
            return sum(s.answer for s in self.seen if s.method == method)

    # - per request (called from the handler threads)

    def _take_drop(self, method: str, target: str) -> int | None:
        with self._lock:
            if self._drop is not None and self._drop[1](method, target):
                after, self._drop = self._drop[0], None
                return after
        return None

    def _take_cut_answer(self, method: str, target: str) -> int | None:
        with self._lock:
            if self._cut_answer is not None and self._cut_answer[1](method, target):
                after, self._cut_answer = self._cut_answer[0], None
                return after
        return None

    def _take_refusal(self) -> bool:
        with self._lock:
            if self._refuse > 0:
                self._refuse -= 1
                return True
        return False

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)


class _Handler(BaseHTTPRequestHandler):
    owner: Proxy
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each answer waits for a delayed ACK (40 ms)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:
        self._forward()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

    def _forward(self) -> None:
        owner = self.owner
        seen = Seen(self.command, self.path)
        owner._record(seen)
        length = int(self.headers.get("Content-Length") or 0)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._answer(501, b"<Error><Code>NotImplemented</Code></Error>")
            seen.status = 501
            return
        if owner.mode == "hang":
            self.rfile.read(length)
            owner._stopping.wait(60)
            self.close_connection = True
            return
        if owner._take_refusal():
            self.rfile.read(length)
            seen.status = 503
            self._answer(503, b"<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
                              b"<Message>Please reduce your request rate.</Message></Error>")
            return
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP]
        if owner.mode in ("governance", "batch-hole", "no-bypass") and self._fake_lock(length):
            return
        cut = owner._take_drop(self.command, self.path)
        body: bytes | None = None
        if owner.mode != "pass" and self.command == "PUT" and any(
                k.lower().startswith("x-amz-object-lock-") for k, _ in headers):
            body = self.rfile.read(length)
            headers = _resign(self.command, self.path, [
                (k, v) for k, v in headers if not k.lower().startswith("x-amz-object-lock-")],
                body)
        upstream = http.client.HTTPConnection(*owner.upstream, timeout=30)
        try:
            upstream.putrequest(self.command, self.path, skip_host=True,
                                skip_accept_encoding=True)
            for k, v in headers:
                upstream.putheader(k, v)
            upstream.endheaders()
            left = length
            pending = body
            while left > 0:
                if pending is not None:
                    chunk, pending = pending[:_CHUNK], pending[_CHUNK:]
                else:
                    chunk = self.rfile.read(min(_CHUNK, left))
                if not chunk:
                    break
                if cut is not None and seen.body + len(chunk) >= cut:
                    part = chunk[:max(0, cut - seen.body)]
                    upstream.send(part)
                    seen.body += len(part)
                    seen.dropped = True
                    self._reset_connection()
                    return
                upstream.send(chunk)
                seen.body += len(chunk)
                left -= len(chunk)
            reply = upstream.getresponse()
            data = reply.read()
            if owner.hide_checksums:
                data = _CHECKSUM_XML.sub(b"", data)
            if owner.rewrite is not None:
                data = owner.rewrite(self.path, data)
            seen.status = reply.status
            self.send_response_only(reply.status, reply.reason)
            for k, v in reply.getheaders():
                if k.lower() in _HOP or k.lower() == "content-length" or (
                        owner.hide_checksums and k.lower().startswith("x-amz-checksum-")):
                    continue
                self.send_header(k, v)
            if self.command == "HEAD":
                self.send_header("Content-Length", reply.getheader("Content-Length") or "0")
            else:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                cut_answer = owner._take_cut_answer(self.command, self.path)
                if cut_answer is not None and cut_answer < len(data):
                    self.wfile.write(data[:cut_answer])
                    self.wfile.flush()
                    seen.answer, seen.dropped = cut_answer, True
                    self._reset_connection()
                    return
                self.wfile.write(data)
                seen.answer = len(data)
        finally:
            upstream.close()

    def _fake_lock(self, length: int) -> bool:
        """The lying server's own answers (True: answered here)."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query,
                                      keep_blank_values=True)
        if self.command == "GET" and "retention" in query:
            self.rfile.read(length)
            until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2 * 86400))
            self._answer(200, b'<?xml version="1.0"?><Retention><Mode>COMPLIANCE</Mode>'
                              b"<RetainUntilDate>%s</RetainUntilDate></Retention>"
                              % until.encode())
            return True
        bypass = (self.headers.get("x-amz-bypass-governance-retention") or "").lower()
        if self.owner.mode == "no-bypass":
            refused = bypass == "true"
        else:
            refused = self.command == "DELETE" and "versionId" in query and (
                self.owner.mode == "batch-hole" or bypass != "true")
        if refused:
            self.rfile.read(length)
            self._answer(403, b'<?xml version="1.0"?><Error><Code>AccessDenied</Code>'
                              b"<Message>forbidden by object lock</Message></Error>")
            return True
        return False

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response_only(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reset_connection(self) -> None:
        """Cut the client off with a TCP reset, as a dropped link does."""
        self.close_connection = True
        sock = self.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            sock.close()


def _resign(method: str, target: str, headers: list[tuple[str, str]],
            body: bytes) -> list[tuple[str, str]]:
    """The request signed again (SigV4) with the test credentials, without the headers the
    proxy removed."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    drop = {"authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}
    kept = {k: v for k, v in headers if k.lower() not in drop}
    host = next(v for k, v in headers if k.lower() == "host")
    request = AWSRequest(method=method, url=f"http://{host}{target}", data=body, headers=kept)
    credentials = Credentials(os.environ["AWS_ACCESS_KEY_ID"],
                              os.environ["AWS_SECRET_ACCESS_KEY"])
    S3SigV4Auth(credentials, "s3", os.environ.get("BRANKAS_TEST_S3_REGION", "us-east-1")
                ).add_auth(request)
    return list(request.headers.items())


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
