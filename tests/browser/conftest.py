"""The real application in a subprocess (``python -m brankas serve``) and a real headless
Chromium (Debian's, through Playwright), as an operator would use them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import CliResult, run_in_process

ROOT = Path(__file__).resolve().parents[2]
# Debian's old headless build of the same Chromium (package chromium-headless-shell, the
# engine Playwright itself uses for headless runs): the same Blink, without the full
# browser's windowing and compositing, at about 60 % of the full browser's CPU per page
# (one SOP walk: 48.5 CPU-s against 82.2, sampled over every process). The full browser
# when it is absent; BRANKAS_TEST_CHROMIUM names another.
CHROMIUM = os.environ.get("BRANKAS_TEST_CHROMIUM") or next(
    (path for path in ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
     if Path(path).exists()), "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@dataclass
class Server:
    url: str
    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def cli(self, *args: str, env: dict[str, str] | None = None,
            stdin: str | None = None) -> CliResult:
        """The ``brankas`` command against the same data folder (in this process, isolated
        as a process would be: tests/clirun.py)."""
        return run_in_process(args, env={**self.env, **(env or {})}, input=stdin,
                              cwd=self.home.parent)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"brankas serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/static/brankas/brankas.css", timeout=2):  # noqa: S310 - our own http://127.0.0.1
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.05)  # a refused connection costs nothing: asked again soon
    raise TimeoutError(f"brankas serve did not answer at {url}")


@dataclass
class Starting:
    """A ``brankas serve`` started and perhaps not answering yet (``starting``)."""

    base: Path
    url: str
    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def ready(self) -> Server:
        """The server, once it answers (its log in the error when it does not)."""
        try:
            wait_until_up(self.url, self.process)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(
                f"{exc}\n{(self.base / 'server.log').read_text()[-3000:]}") from None
        return Server(url=self.url, home=self.home, env=self.env, process=self.process)


def _migrated_template(base: Path) -> Path | None:
    """The tables this process migrated (tests/clirun.py ``_MigratedTemplate``: pytest-django's
    test database as migrated, ``browser`` asks for it) in a file under ``base``, for a quick
    server's new database; None when there are none."""
    from tests import clirun

    return clirun._MIGRATED.write(base / "migrated.sqlite3")


@contextmanager
def starting(base: Path, lang: str = "en", *, quick_keys: bool = False) -> Iterator[Starting]:
    """``serve`` without waiting for the server to answer: its start (an interpreter,
    Django, the migrations of a new database: seconds) goes on while the caller does
    other work, until ``Starting.ready``. Stopped at the end."""
    home = base / "home"
    tmp = base / "tmp"
    tmp.mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(home), "TMPDIR": str(tmp), "BRANKAS_LANG": lang})
    log = open(base / "server.log", "wb")  # noqa: SIM115 - closed below
    module = "tests.browser.quick_serve" if quick_keys else "brankas"
    if quick_keys and (template := _migrated_template(base)) is not None:
        env["QUICK_SERVE_MIGRATED"] = str(template)  # tests/browser/quick_serve.py
        # and the rebuilds it starts (a drill's, a recover's) likewise (tests/web/rebuilds.py)
        from tests.web.rebuilds import quick_rebuild_env

        env.update(quick_rebuild_env(base))
    process = subprocess.Popen([sys.executable, "-m", module, "serve", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=log, stderr=log,
                               cwd=ROOT)
    try:
        yield Starting(base=base, url=f"http://127.0.0.1:{port}", home=home, env=env,
                       process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextmanager
def serve(base: Path, lang: str = "en", *, quick_keys: bool = False) -> Iterator[Server]:
    """A fresh Brankas (not set up yet) served on a free port, its data under ``base``;
    ``quick_keys``: the keys it makes open in milliseconds (tests/browser/quick_serve.py)."""
    with starting(base, lang, quick_keys=quick_keys) as started:
        yield started.ready()


@pytest.fixture
def server(tmp_path: Path, django_db_setup) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """A fresh Brankas (not set up yet) served on a free port; the keys made on its pages
    open in milliseconds, as in the SOP walks (the product's scrypt work factor, about a
    second for each key made and each opening, is tested in tests/web/keys and
    tests/core/test_crypto.py)."""
    with serve(tmp_path, quick_keys=True) as served:
        yield served


class _Shared:
    """One Chromium for a run of consecutive browser tests in this process (a launch costs
    about 1.2 s of CPU: browser, GPU, network and zygote processes), each test in contexts
    of its own (closed after it). Closed before any other test: while Playwright's sync API
    is started its event loop runs in this thread, where Django refuses database work."""

    manager: Any = None
    browser: Any = None

    @classmethod
    def get(cls) -> Any:
        if cls.browser is not None and not cls.browser.is_connected():  # it crashed: anew
            cls.close()
        if cls.browser is None:
            if not Path(CHROMIUM).exists():
                # `make test` installs it and sets BRANKAS_TEST_BROWSER_REQUIRED: a missing
                # browser fails there; a bare pytest on a machine without it skips
                message = f"{CHROMIUM} is not installed (apt-get install chromium)"
                if os.environ.get("BRANKAS_TEST_BROWSER_REQUIRED"):
                    pytest.fail(message)
                pytest.skip(message)
            from playwright.sync_api import sync_playwright

            cls.manager = sync_playwright()
            playwright = cls.manager.__enter__()
            try:
                cls.browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                         args=CHROMIUM_ARGS)
            except BaseException:
                cls.close()
                raise
        return cls.browser

    @classmethod
    def close(cls) -> None:
        browser, manager = cls.browser, cls.manager
        cls.browser = cls.manager = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if manager is not None:
                manager.__exit__(None, None, None)


@pytest.fixture
def browser(django_db_setup) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The shared Chromium (``_Shared``); the contexts the test opened are closed after it,
    and the browser too when the next test in this process does not use it (here, among
    the test's own finalisers: before the session's, such as the test databases' teardown,
    which Django refuses while Playwright's event loop runs in this thread). The test
    database is migrated first (a session's once): its tables start each quick server's
    new database (``starting``)."""
    launched = _Shared.get()
    before = set(launched.contexts)
    try:
        yield launched
    finally:
        try:
            for context in launched.contexts:
                if context not in before:
                    context.close()
        finally:
            following = _NEXT[0]
            if following is None or "browser" not in getattr(following, "fixturenames", ()):
                _Shared.close()


_NEXT: list[pytest.Item | None] = [None]  # the test after the one running in this process


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    _NEXT[0] = nextitem


@pytest.fixture
def shoot(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``shoot(page, "name")``: a full-page screenshot into $BRANKAS_SCREENSHOTS, when set
    (to look at the pages during development; screenshots are not kept in the repository)."""
    folder = os.environ.get("BRANKAS_SCREENSHOTS")

    def take(page, name: str) -> None:  # type: ignore[no-untyped-def]
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    return take


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long tests first, each at the head of a pytest-xdist worker's share:
    ``--dist worksteal`` first hands each of the N workers a contiguous 1/N of the
    collection, and an idle worker steals only the tail of another's queue, never a test
    already started: a long test at the tail would start last while the other worker idles.

    This runs after pytest-django's sort of the whole collection by database use (tests on
    the test database, then transactional ones, then those without one; its hook and
    tests/conftest.py's are both ``tryfirst``, and pytest-django's runs second), which
    scatters the modules tests/conftest.py put at the heads of the shares. So here
    (``_long_first``): the SOP walk (tests/browser/test_sop_walk.py, about a minute; one
    test for both languages since session 20) at the head of the first share, then the
    modules of a few slow tests that use no test database (a kill test, a real-process
    smoke test; each module whole, spread over the shares): such a test may run anywhere.
    Those on the test database (the hostile-disk corpus, transactional) go first within
    their group, whose order is kept: a transactional test's flush comes after the tests
    that use the database as migrated."""
    workerinput = getattr(config, "workerinput", None)
    workers = int(workerinput["workercount"]) if workerinput else 1
    items[:] = _long_first(items, workers)


def _database_group(item: pytest.Item) -> int:
    """pytest-django's order of ``item``: 0 on the test database, 1 transactional, 2 none."""
    from django.test import TestCase, TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return 0 if issubclass(cls, TestCase) else 1
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    if (marker is not None and (marker.kwargs.get("transaction")
                                or marker.kwargs.get("reset_sequences"))) or (
            "transactional_db" in fixtures or "live_server" in fixtures):
        return 1
    return 0 if marker is not None or "db" in fixtures else 2


def _slow(tests: list[pytest.Item]) -> int:
    return sum(1 for item in tests if item.get_closest_marker("slow") is not None)


# A SOP walk weighs as many slow tests as it lasts (about a minute; a slow test: seconds).
WALK_WEIGHT = 20


def _long_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    walks = [item for item in items
             if getattr(item, "originalname", "") == "test_sop_walk"][:workers]
    if workers <= 1 and not walks:
        return items
    groups = {id(item): _database_group(item) for item in items}
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        if item not in walks:
            modules.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    long_ones = [tests for path, tests in modules.items()
                 if not path.startswith("tests/browser/") and len(tests) <= 100
                 and _slow(tests)] if workers > 1 else []
    moved = {id(item) for tests in long_ones for item in tests
             if groups[id(item)] == 2}
    in_db = {id(item) for tests in long_ones for item in tests if groups[id(item)] != 2}
    body = [item for item in items if item not in walks and id(item) not in moved]
    # Within each group (stable), the long modules on the test database first.
    body.sort(key=lambda item: (groups[id(item)], id(item) not in in_db))
    sizes, left = [], len(items)
    for i in range(workers):  # as worksteal cuts the collection (the first total // N, ...)
        sizes.append(left // (workers - i))
        left -= sizes[-1]
    heads: list[list[pytest.Item]] = [[walk] for walk in walks]
    heads += [[] for _ in range(workers - len(heads))]
    weights = [WALK_WEIGHT * len(head) for head in heads]
    free = [[item for item in tests if id(item) in moved] for tests in long_ones]
    for tests in sorted(filter(None, free), key=_slow, reverse=True):  # to the lightest
        share = min(range(workers), key=lambda i: (weights[i], len(heads[i])))
        heads[share] += tests
        weights[share] += _slow(tests)
    if any(len(head) > size for head, size in zip(heads, sizes, strict=True)):
        return items  # a share too small for its long tests: left as it is
    rest = iter(body)
    ordered: list[pytest.Item] = []
    for head, size in zip(heads, sizes, strict=True):
        ordered += head
        ordered += [next(rest) for _ in range(size - len(head))]
    ordered += list(rest)
    assert len(ordered) == len(items) and len({id(i) for i in ordered}) == len(items)
    return ordered
