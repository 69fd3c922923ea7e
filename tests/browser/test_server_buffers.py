"""The real server (``brankas serve``: waitress) must not buffer a request or a response to a
temporary file either: for an exempted document that file would hold its plaintext.

Waitress keeps at most ``inbuf_overflow`` (default 512 KiB) of a request body, and
``outbuf_overflow`` (default 1 MiB) of pending response, in memory, and spools the rest to an
unlinked temporary file. These tests hold a connection half-way (the body not complete, or
the response not read) and read every file the server process has open, through /proc.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import Server, serve
from tests.conftest import quick_key_making

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/fd"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           django_db_setup) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """One server for the module's tests (its start is most of the cost of each): the upload
    is spooled, or not, by waitress before any view runs, whatever the office's state (set
    up by the other test or not); the other test sets its office up once, as it needs."""
    with serve(tmp_path_factory.mktemp("buffers"), quick_keys=True) as served:
        yield served


def open_files_containing(pid: int, marker: bytes) -> list[str]:
    """What the process has open (regular files, deleted ones too) that holds ``marker``."""
    hits = []
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
            if target.startswith(("socket:", "pipe:", "anon_inode:", "/dev/")):
                continue
            with open(fd, "rb") as fh:
                if marker in fh.read():
                    hits.append(target)
        except OSError:
            continue
    return hits


def test_a_large_upload_is_never_spooled_to_disk(server):
    marker = ("BRANKAS-SPOOL-MARKER-" + secrets.token_hex(16)).encode()
    boundary = "brankasboundary" + secrets.token_hex(8)
    padding = secrets.token_hex(1024 * 1024).encode()  # 2 MiB, over the 512 KiB default
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"scans\"; "
            f"filename=\"rahasia.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    body += b"%PDF-1.7\n" + marker + b"\n" + padding + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /setup/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
            f"boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(head + body[:-64])  # all but the end: the server keeps waiting
        time.sleep(0.8)
        hits = open_files_containing(server.process.pid, marker)
        conn.sendall(body[-64:])
        conn.recv(1024)
    assert hits == []


def marked_pdf(marker: bytes, size: int) -> bytes:
    """A valid PDF whose content stream repeats ``marker`` on every line, so any part of it
    that reaches a file carries the marker."""
    import io

    import pikepdf

    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    line = b"% " + marker + b" " + secrets.token_hex(40).encode()
    page.Contents = pdf.make_stream(b"\n".join([line] * (size // (len(line) + 1) + 1)))
    buf = io.BytesIO()
    pdf.save(buf, compress_streams=False)
    return buf.getvalue()


class Browserless:
    """Just enough of a browser (cookies, CSRF token) to sign in and post a form."""

    def __init__(self, url: str) -> None:
        import http.cookiejar
        import urllib.request

        self.url = url
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def token(self, path: str) -> str:
        import re

        with self.opener.open(self.url + path) as r:
            page = r.read().decode()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match is not None
        return match.group(1)

    def post(self, path: str, fields: dict[str, str]) -> int:
        import urllib.error
        import urllib.parse

        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(self.url + path, data=data) as r:
                return int(r.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def test_a_decrypted_document_is_never_spooled_to_disk(server, tmp_path):
    """Holds because the view answers with a ``FileResponse`` over the in-memory buffer, which
    waitress sends through ``wsgi.file_wrapper`` straight from memory; a plain
    ``HttpResponse(bytes)`` of more than ``outbuf_overflow`` would be spooled (checked)."""
    import sqlite3

    secrets_dir = tmp_path / "s"
    secrets_dir.mkdir()
    for name, value in {"admin": "Admin-Pass-2026!", "op": "Sandiman-Pass-2026!",
                        "kb": "Kabid-Pass-2026!", "pp": "kuda merah berlari di sawah hijau"
                        }.items():
        (secrets_dir / name).write_text(value + "\n")
    admin = {"BRANKAS_USER": "admin", "BRANKAS_PASSWORD": "Admin-Pass-2026!"}
    steps = [
        (["init", "--office", "Dinas", "--admin", "admin", "--password-file",
          str(secrets_dir / "admin")], {}),
        (["user", "add", "operator", "--role", "sandiman", "--password-file",
          str(secrets_dir / "op")], admin),
        (["user", "add", "kabid", "--role", "kabid", "--password-file",
          str(secrets_dir / "kb")], admin),
        (["key", "new", "--holder", "kabid", "--passphrase-file", str(secrets_dir / "pp")],
         {"BRANKAS_USER": "kabid", "BRANKAS_PASSWORD": "Kabid-Pass-2026!"}),
    ]
    with quick_key_making():  # the key opened in milliseconds (the spooling is the test)
        for args, env in steps:
            r = server.cli(*args, env=env)
            assert r.returncode == 0, r.stderr
    marker = ("BRANKAS-SPOOL-MARKER-" + secrets.token_hex(16)).encode()
    pdf = tmp_path / "source" / "rahasia.pdf"
    pdf.parent.mkdir()
    pdf.write_bytes(marked_pdf(marker, 24 * 1024 * 1024))  # more than the socket buffers hold
    r = server.cli("register", str(pdf), "--direction", "penerimaan", "--classification",
                   "rahasia", "--number", "1", "--date", "2026-01-05", "--subject", "Besar",
                   "--correspondent", "Bupati", "--json",
                   env={"BRANKAS_USER": "operator", "BRANKAS_PASSWORD": "Sandiman-Pass-2026!"})
    assert r.returncode == 0, r.stderr
    pdf.unlink()
    agenda = __import__("json").loads(r.stdout)["agenda"]

    client = Browserless(server.url)
    assert client.post("/login/", {"csrfmiddlewaretoken": client.token("/login/"),
                                   "username": "kabid", "password": "Kabid-Pass-2026!"}) == 302
    token = client.token(f"/documents/{agenda}/")
    form = (f"csrfmiddlewaretoken={token}&passphrase=kuda+merah+berlari+di+sawah+hijau").encode()
    host, port = server.url.removeprefix("http://").split(":")
    head = (f"POST /documents/{agenda}/open HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Cookie: {client.cookie_header()}\r\nReferer: {server.url}/\r\n"
            f"Origin: {server.url}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(form)}\r\n\r\n").encode()
    database = sqlite3.connect(f"file:{server.home / 'brankas.sqlite3'}?mode=ro", uri=True)
    with socket.create_connection((host, int(port)), timeout=60) as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        conn.sendall(head + form)  # ... and read nothing: the response piles up in the server
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not database.execute(
            "select 1 from audit_auditevent where action='document.open' and outcome='ok'"
        ).fetchone():
            time.sleep(0.2)
        time.sleep(1.0)  # the server pushes what it can to the socket
        hits = open_files_containing(server.process.pid, marker)
        first = conn.recv(4096)
    database.close()
    assert first.startswith(b"HTTP/1.1 200"), first[:200]
    assert hits == []
