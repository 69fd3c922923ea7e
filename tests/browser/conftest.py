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
            time.sleep(0.2)
    raise TimeoutError(f"brankas serve did not answer at {url}")


@contextmanager
def serve(base: Path, lang: str = "en", *, quick_keys: bool = False) -> Iterator[Server]:
    """A fresh Brankas (not set up yet) served on a free port, its data under ``base``;
    ``quick_keys``: the keys it makes open in milliseconds (tests/browser/quick_serve.py)."""
    home = base / "home"
    tmp = base / "tmp"
    tmp.mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(home), "TMPDIR": str(tmp), "BRANKAS_LANG": lang})
    log = open(base / "server.log", "wb")  # noqa: SIM115 - closed below
    module = "tests.browser.quick_serve" if quick_keys else "brankas"
    process = subprocess.Popen([sys.executable, "-m", module, "serve", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=log, stderr=log,
                               cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_up(url, process)
        except (RuntimeError, TimeoutError) as exc:
            log.flush()
            raise RuntimeError(f"{exc}\n{(base / 'server.log').read_text()[-3000:]}") from None
        yield Server(url=url, home=home, env=env, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
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
                pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
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
def browser() -> Iterator[object]:
    """The shared Chromium (``_Shared``); the contexts the test opened are closed after it."""
    launched = _Shared.get()
    before = set(launched.contexts)
    try:
        yield launched
    finally:
        for context in launched.contexts:
            if context not in before:
                context.close()


@pytest.hookimpl(trylast=True)  # after the test's fixtures are finalised
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """The shared Chromium closed when the next test in this process does not use it."""
    if nextitem is None or "browser" not in getattr(nextitem, "fixturenames", ()):
        _Shared.close()


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
    """The SOP walks (tests/browser/test_sop_walk.py, about two minutes each) each at the head
    of one pytest-xdist worker's share. ``--dist worksteal`` first hands each of the N workers
    a contiguous 1/N of the collection, and a worker steals only tests not yet started: a walk
    at the head of each share starts at once, one per worker, instead of both queued on the
    first worker one after the other (the whole suite then waits for the second)."""
    walks = [item for item in items if getattr(item, "originalname", "") == "test_sop_walk"]
    if not walks:
        return
    workerinput = getattr(config, "workerinput", None)
    workers = int(workerinput["workercount"]) if workerinput else 1
    rest = [item for item in items if item not in walks]
    total = len(items)
    heads = {i * total // workers: walk for i, walk in enumerate(walks[:workers])}
    ordered: list[pytest.Item] = []
    others = iter(rest + walks[workers:])
    for position in range(total):
        ordered.append(heads[position] if position in heads else next(others))
    items[:] = ordered
