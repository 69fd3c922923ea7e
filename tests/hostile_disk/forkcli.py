"""The hostile-disk cases' commands, each in a process of its own, started without a
second of interpreter and Django start-up each (POSIX).

``Commands`` (in the test process) starts this module once, as a separate process (it
shares nothing with the test process: no thread, no connection). It imports the
``brankas`` command and Django, sets Django up as the test process does
(``tests.conftest``) and warms the in-process runner (``tests/clirun.py``) with one
``brankas init`` in a home of its own. Then, for each command asked for on its standard
input, it forks a child in a new session (process group), which runs ``brankas ARGS``
in-process through ``clirun.run_in_process`` (its environment, working folder, Django set
up from the command's environment, the database connections its own: see clirun) and
writes its exit status and output to a file; the server reports the child's pid at once
and its end when it ends. The test process waits for the end with a time limit: a command
still running then (a blocked read) is killed with its process group (a drill's own
recover included), as the subprocess it replaces was.

What a case's command proves is kept: the real ``brankas`` command object (click, its
error handling, its messages and exit status; an uncaught exception's traceback as the
interpreter prints it), a process of its own per command, killed on a hang. The
interpreter's start-up and the imports, which prove nothing about a disk, are paid once.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests import costs

ROOT = Path(__file__).resolve().parents[2]
# Names the migrated tables the server's warm-up starts from (``Commands._migrated``).
MIGRATED = "FORKCLI_MIGRATED_DATABASE"
# In a command's environment: Python code the child runs before the command (its globals:
# ``env``, the command's environment), e.g. a kill point of a test's own.
PRELUDE = "FORKCLI_PRELUDE"


def available() -> bool:
    return hasattr(os, "fork") and hasattr(os, "setsid") and os.name == "posix"


# ------------------------------------------------------------------ the test process's side

class Commands:
    """The fork server, started on the first command of this process."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.folder = Path(tempfile.mkdtemp(prefix="brankas-forkcli-"))
        self.count = 0

    def _start(self) -> subprocess.Popen[bytes]:
        if self.proc is None or self.proc.poll() is not None:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
            env.pop("PYTEST_XDIST_WORKER", None)
            env["PYTHONPATH"] = os.pathsep.join(
                [str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
            migrated = self._migrated()
            if migrated is not None:
                env[MIGRATED] = str(migrated)
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "tests.hostile_disk.forkcli"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, cwd=ROOT, env=env)
            ready = self._line(self.proc, 300)
            if not ready or not ready.get("ready"):
                raise RuntimeError(f"forkcli: did not start ({ready})")
            costs.add_children(ready["cpu"])
        return self.proc

    def start(self) -> None:
        """The server started now, if it is not running: its warm-up (seconds) is then not
        in the time of the next command (a test that times a command's run)."""
        with self.lock:
            self._start()

    def _migrated(self) -> Path | None:
        """The tables of a new database as this process's in-process commands migrated
        them (tests/clirun.py ``_MigratedTemplate``), in a file for the server's warm-up:
        its ``brankas init`` then copies them instead of running every migration (most of
        a warm-up's CPU); None when no command has migrated one here yet."""
        from tests import clirun

        return clirun._MIGRATED.write(self.folder / "migrated.sqlite3")

    @staticmethod
    def _line(proc: subprocess.Popen[bytes], timeout: float | None) -> dict[str, Any] | None:
        """The server's next line, or None when none came within ``timeout`` seconds.
        Read a byte at a time from the descriptor (never through a buffer: a line read
        ahead into one would be invisible to ``select``, and a command's end already
        received taken for a hang)."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        if timeout is not None and not select.select([fd], [], [], timeout)[0]:
            return None
        line = bytearray()
        while not line.endswith(b"\n"):
            byte = os.read(fd, 1)
            if not byte:
                raise RuntimeError("forkcli: the server ended")
            line += byte
        return dict(json.loads(line))

    def run(self, args: list[str], env: dict[str, str], cwd: Path, timeout: float,
            on_hang: Callable[[], None],
            on_start: Callable[[int], None] | None = None) -> tuple[int, str, str, bool]:
        """``brankas ARGS`` in a child of the server: (exit status, stdout, stderr, hung);
        ``on_start(pid)`` once the child runs (``run_killed``)."""
        with self.lock:
            proc = self._start()
            self.count += 1
            result = self.folder / f"result-{self.count}.json"
            assert proc.stdin is not None
            proc.stdin.write((json.dumps({"args": args, "env": env, "cwd": str(cwd),
                                          "result": str(result)}) + "\n").encode())
            proc.stdin.flush()
            started = self._line(proc, None)
            assert started is not None and "pid" in started, started
            if on_start is not None:
                on_start(int(started["pid"]))
            ended = self._line(proc, timeout)
            hung = ended is None
            if hung:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(started["pid"], signal.SIGKILL)  # with its own children
                on_hang()
                ended = self._line(proc, None)
            assert ended is not None and "status" in ended, ended
            costs.add_children(ended["cpu"])  # not a child of this process
            status = int(ended["status"])
            if hung or not result.exists():
                # No result: killed (a hang, a signal), ended by os._exit, or the child
                # failed before or after the command. What reached its descriptors (the
                # child's own traceback included) is its output, as a process's would be:
                # never an empty, clean-looking refusal.
                result.unlink(missing_ok=True)
                out, err = (_take(result.with_suffix(f".fd{fd}")) for fd in (1, 2))
                return (status if status else -1), out, err, hung
            done = json.loads(result.read_text(encoding="utf-8"))
            result.unlink()
            return int(done["returncode"]), done["stdout"], done["stderr"], False

    def run_killed(self, args: list[str], env: dict[str, str], cwd: Path, *,
                   reached: Callable[[], bool], delay: float, poll: float = 0.002,
                   timeout: float = 300) -> tuple[int, str, str]:
        """``brankas ARGS`` in a child of the server, killed (SIGKILL, the child alone: not
        its process group, whose helpers must end by themselves) ``delay`` seconds after
        ``reached()`` (polled every ``poll`` seconds) first holds; a child that ends first is not
        killed. (exit status: -SIGKILL when killed, stdout, stderr)."""
        done = threading.Event()
        failed: list[BaseException] = []

        def watch(pid: int) -> None:
            deadline = time.monotonic() + timeout
            try:
                while not done.is_set() and not reached() and time.monotonic() < deadline:
                    time.sleep(poll)
            except BaseException as exc:  # noqa: BLE001 - raised in the test below
                failed.append(exc)  # the command killed now; the test fails with it
            else:
                time.sleep(delay)
            if not done.is_set():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

        def on_start(pid: int) -> None:
            threading.Thread(target=watch, args=(pid,), name="forkcli-kill",
                             daemon=True).start()

        try:
            code, out, err, hung = self.run(args, env, cwd, timeout, on_hang=lambda: None,
                                            on_start=on_start)
        finally:
            done.set()
        if failed:  # ``reached()`` raised: not a run that finished before its kill
            raise failed[0]
        assert not hung, err[-3000:]
        return code, out, err

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


def _take(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    path.unlink()
    return text


# ------------------------------------------------------------------ the server

def _child(request: dict[str, Any]) -> None:
    """In the forked child: the command, its outcome to the result file, then exit."""
    os.setsid()
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        # What the command's own children or a C library write to the descriptors (not
        # through sys.stdout): into files, read back into the output below.
        scratch = Path(request["result"]).with_suffix("")
        fds = {}
        for fd in (1, 2):
            out = os.open(f"{scratch}.fd{fd}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out, fd)
            os.close(out)
            fds[fd] = Path(f"{scratch}.fd{fd}")
        from tests import clirun

        _as_its_own_process(clirun)
        if "BRANKAS_TEST_KILL" in request["env"]:  # a kill point (tests/cli/keys)
            from tests.cli.keys import killpoint

            killpoint.install(request["env"])
        prelude = request["env"].get(PRELUDE)
        if prelude:  # a test's code run in the child first (its own kill points)
            exec(compile(prelude, PRELUDE, "exec"), {"env": request["env"]})  # noqa: S102
        r = clirun.run_in_process(request["args"], env=request["env"],
                                  cwd=Path(request["cwd"]))
        stdout, stderr = r.stdout, r.stderr
        for fd, path in fds.items():
            with contextlib.suppress(OSError):
                extra = path.read_text(encoding="utf-8", errors="replace")
                path.unlink()
                if fd == 1:
                    stdout += extra
                else:
                    stderr += extra
        Path(request["result"]).write_text(json.dumps(
            {"returncode": r.returncode, "stdout": stdout, "stderr": stderr}),
            encoding="utf-8")
        code = 0
    except BaseException:  # noqa: BLE001 - reported as a missing result
        import traceback

        with contextlib.suppress(Exception):
            os.write(2, traceback.format_exc().encode())
    finally:
        os._exit(code)


def _as_its_own_process(clirun: Any) -> None:
    """In the child, before the command: the apps a ``python -m brankas`` process has.
    A command set up with ``instance.start(queue=False, web=False)`` (every command but
    init, migrate-db, serve, worker; recover sets its new instance up with them) has
    neither the job queue's apps nor the web-only apps: a model of theirs it imports
    fails as in a process, instead of being found in the server's registry (the in-process
    runner keeps every app installed). Once the command has set Django up, its registry
    is cut to its apps, and their modules are dropped, to be imported again if used."""
    from django.apps import apps
    from django.conf import settings

    from brankas import instance

    everything = list(settings.INSTALLED_APPS)  # the server's (the test settings)
    original = clirun._DjangoState.instance_start

    def instance_start(self: Any, *, queue: bool = True, web: bool = True) -> Any:
        first = self.override is None
        done = original(self, queue=queue, web=web)
        if first:
            left = [app for app in everything
                    if not (not queue and app in instance.QUEUE_APPS)
                    and not (not web and app in instance.WEB_APPS)]
            if left != everything:
                apps.set_installed_apps(left)
                for name in [n for n in sys.modules if any(
                        n == app or n.startswith(app + ".") for app in everything
                        if app not in left and app != "django_tasks")]:
                    del sys.modules[name]  # imported again: refused as in a process
        return done

    clirun._DjangoState.instance_start = instance_start


def _warm() -> None:
    """Django set up as in the test process, and one ``brankas init`` run in-process:
    the migrated tables a new database is given (clirun) are then in every child. The
    init starts from the tables the test process's commands migrated, when it passed them
    (``Commands._migrated``): then the init's own migrate finds nothing left to apply."""
    import atexit
    import shutil

    home = tempfile.mkdtemp(prefix="brankas-test-home-")  # as tests/conftest.py's own
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["BRANKAS_HOME"] = home
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brankas.web.settings")
    import django

    django.setup()
    import tests.conftest  # noqa: F401 - the test instance's preparation
    from tests import clirun

    migrated = os.environ.pop(MIGRATED, None)
    if migrated:  # the tables the test process's commands migrated (Commands._migrated)
        import sqlite3

        source = sqlite3.connect(migrated)
        try:
            database = sqlite3.connect(":memory:", check_same_thread=False)
            source.backup(database)
        finally:
            source.close()
        clirun._MIGRATED.database = database

    # In this server's own home (removed with it): every xdist worker, and every other
    # run on the machine, starts a server of its own at the same moment.
    base = Path(home) / "forkcli-warm"
    base.mkdir()
    (base / "pw").write_text("Warm-Pass-2026!\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(base / "home"), "BRANKAS_LANG": "en",
                "TMPDIR": str(base)})
    r = clirun.run_in_process(["init", "--office", "Hangat", "--admin", "admin",
                               "--password-file", str(base / "pw"), "--json"],
                              env=env, cwd=base)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    from django.db import connections

    connections.close_all()
    # The server's own home goes now: the children's settings name it until their command
    # sets Django up from its environment (a real process reads that environment), so
    # whatever a command wrote there before would land unseen; now it fails loudly.
    shutil.rmtree(home)


# The modules the corpus's commands (backup, verify, restore, drill, recover) import once
# Django is set up: imported by the server, not again by each child (a tenth of a second of
# each child's CPU). None belongs to the job queue's or the web-only apps (a child's
# command set up without them drops those: ``_as_its_own_process``); what a command of a
# fresh ``python -m brankas`` process imports is tests/cli/test_startup_imports.py's and
# tests/cli/test_process_smoke.py's.
PRELOAD = ("brankas.cli.backup", "brankas.cli.recovery", "brankas.cli.outfile",
           "brankas.web.backup.services", "brankas.web.backup.restore",
           "brankas.web.backup.recover", "brankas.web.accounts.early",
           "brankas.web.accounts.totp", "brankas.web.databases",
           "brankas.web.custody.services", "django.core.serializers.xml_serializer",
           "django.core.serializers.jsonl")


def serve() -> None:
    _warm()
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    out = sys.stdout.buffer

    def say(message: dict[str, Any]) -> None:
        out.write((json.dumps(message) + "\n").encode())
        out.flush()

    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    say({"ready": True, "cpu": usage.ru_utime + usage.ru_stime})
    for line in sys.stdin.buffer:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        say({"pid": pid})
        _, status, usage = os.wait4(pid, 0)
        say({"status": os.waitstatus_to_exitcode(status),
             "cpu": usage.ru_utime + usage.ru_stime})


if __name__ == "__main__":
    serve()
