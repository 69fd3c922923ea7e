"""Review of s21's whole-body PUT (core/offsite/remote.py ``put``): a file of the archive
replaced between the push's plan (its size measured) and its sending, against the real S3
server through the counting proxy. A FIFO must not make the push wait, a link must not be
followed (its target's bytes never sent), a file grown past WHOLE_BODY or changed in
content is refused, never confirmed.

    .venv/bin/python scripts/s3server.py run -- .venv/bin/python -m pytest tests/offsite
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from brankas.core import errors

pytestmark = pytest.mark.s3

# path -> what to do to it when it is opened (the audit hook's; a hook stays for the
# process, it acts only on the paths named here)
_ON_OPEN: dict[str, Callable[[], None]] = {}


def _on_open(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and isinstance(args[0], str | Path | bytes):
        act = _ON_OPEN.pop(os.fsdecode(args[0]), None)
        if act is not None:
            act()


sys.addaudithook(_on_open)


def _until() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)


def _put_in_thread(remote: Any, key: str, path: Path, body: bytes, unblock: Path | None,
                   on_open: Callable[[], None] | None = None) -> BaseException | object:
    """``remote.put`` of ``path`` (said to hold ``body``) in a thread: what it raised or
    returned, or fail if it is still waiting after 5 s (then a writer opens ``unblock``,
    a FIFO, so that the thread ends). ``on_open`` runs when ``path`` is first opened
    (after the push measured it, before it reads it)."""
    if on_open is not None:
        _ON_OPEN[str(path)] = on_open
    try:
        return _put_waiting(remote, key, path, body, unblock)
    finally:
        _ON_OPEN.pop(str(path), None)


def _unwaited(call: Callable[[], object], unblock: Path | None, what: str
              ) -> BaseException | object:
    """``call()``'s result or exception, from a thread given 5 s: still waiting then (on a
    FIFO's writer), the FIFO ``unblock`` is opened for writing to free it and the test
    fails ("``what`` waited on a FIFO")."""
    got: list[BaseException | object] = []

    def run() -> None:
        try:
            got.append(call())
        except BaseException as exc:  # noqa: BLE001
            got.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(5)
    if t.is_alive():
        if unblock is not None:
            os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))
        t.join(5)
        pytest.fail(f"{what} waited on a FIFO")
    return got[0]


def _put_waiting(remote: Any, key: str, path: Path, body: bytes, unblock: Path | None
                 ) -> BaseException | object:
    return _unwaited(lambda: remote.put(key, path, sha256=hashlib.sha256(body).digest(),
                                        size=len(body), retain_until=_until()),
                     unblock, "put")


def _puts(faults: Any, key: str) -> list[Any]:
    return [s for s in faults.seen if s.method == "PUT" and key in s.target]


def _refused_unsent(got: object, faults: Any, key: str) -> None:
    """The put was refused as a changed source, and nothing of ``key`` was sent."""
    assert isinstance(got, errors.BrankasError), got
    assert got.code == "offsite_source_changed"
    assert _puts(faults, key) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("bwlimit", [None, 10 * 1024 * 1024])
@pytest.mark.parametrize("size", [0, 3000])
def test_r21_a_fifo_put_where_a_file_was_is_refused_without_waiting(
        tmp_path: Path, remote_config: Callable[..., Any], faults: Any, size: int,
        bwlimit: int | None) -> None:
    from brankas.core.offsite.remote import Remote

    remote = Remote(remote_config(endpoint=faults.endpoint, bwlimit=bwlimit))
    body = os.urandom(size)
    f = tmp_path / "doc.age"
    f.write_bytes(body)

    def to_fifo() -> None:  # after it was measured, before it is read
        f.unlink()
        os.mkfifo(f)

    if size == 0:
        to_fifo()  # a FIFO's size is 0: it passes the size check as it stands
    got = _put_in_thread(remote, "data/fifo", f, body, f, to_fifo if size else None)
    _refused_unsent(got, faults, "data/fifo")


@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="no O_NOFOLLOW here")
@pytest.mark.parametrize("bwlimit", [None, 10 * 1024 * 1024])
@pytest.mark.parametrize("when", ["planned", "sending"])
def test_r21_a_link_put_where_a_file_was_is_not_followed(
        tmp_path: Path, remote_config: Callable[..., Any], faults: Any, when: str,
        bwlimit: int | None) -> None:
    """A link to a file of the same size (a secret in the clear): its bytes never leave
    (the server would refuse them by their checksum, after receiving them)."""
    from brankas.core.offsite.remote import Remote

    remote = Remote(remote_config(endpoint=faults.endpoint, bwlimit=bwlimit))
    body = os.urandom(4000)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"S" * len(body))
    f = tmp_path / "doc.age"
    f.write_bytes(body)

    def to_link() -> None:
        f.unlink()
        f.symlink_to(secret)

    if when == "planned":
        to_link()
    got = _put_in_thread(remote, "data/link", f, body, None,
                         to_link if when == "sending" else None)
    _refused_unsent(got, faults, "data/link")


def test_r21_a_file_grown_past_the_whole_body_after_it_was_measured_is_not_sent(
        tmp_path: Path, remote_config: Callable[..., Any], faults: Any) -> None:
    from brankas.core.offsite.remote import WHOLE_BODY, Remote

    remote = Remote(remote_config(endpoint=faults.endpoint))
    body = os.urandom(WHOLE_BODY)
    f = tmp_path / "doc.age"
    f.write_bytes(body)
    got = _put_in_thread(remote, "data/grown", f, body, None,
                         lambda: f.write_bytes(body + os.urandom(WHOLE_BODY)))
    _refused_unsent(got, faults, "data/grown")


def test_r21_a_file_changed_in_content_not_size_is_refused_not_confirmed(
        tmp_path: Path, remote_config: Callable[..., Any], faults: Any) -> None:
    """The SHA-256 sent (and signed) is the one measured before; the bytes sent are read
    later: a changed content is refused (by the server's check), never confirmed, and
    refused with a code the push counts as a damaged file."""
    from brankas.core.offsite.remote import Remote

    remote = Remote(remote_config(endpoint=faults.endpoint))
    body = os.urandom(5000)
    f = tmp_path / "doc.age"
    f.write_bytes(body)
    got = _put_in_thread(remote, "data/changed", f, body, None,
                         lambda: f.write_bytes(os.urandom(len(body))))
    assert isinstance(got, errors.BrankasError), got
    assert got.code.startswith(("offsite_checksum", "offsite_source_changed")), got.code


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_r21_a_fifo_put_where_a_document_was_is_damaged_not_waited_for(
        tmp_path: Path) -> None:
    """The push reads a document to encrypt it (``_encrypt``): a FIFO put where it was
    must not make the push wait for a writer forever; it is a file not as registered."""
    from pyrage import x25519

    from brankas.web.offsite.services import _encrypt, _Item

    f = tmp_path / "surat.pdf"
    os.mkfifo(f)
    recipient = str(x25519.Identity.generate().to_public())
    item = _Item("data/surat.pdf", str(f), hashlib.sha256(b"%PDF").hexdigest(), 4)
    got = _unwaited(lambda: _encrypt(item, [recipient], None, "obj-0"),  # type: ignore[arg-type]
                    f, "the push")
    assert got is None
