"""Running one operation against a prepared disk, and what must hold afterwards.

Each operation runs either through the real ``brankas`` command (a subprocess in its own
process group, killed with its children after ``timeout`` seconds: a hang is a failure)
or in-process through the services, with a watchdog that, after ``timeout`` seconds,
releases every FIFO on the disk (opens it for writing) so that a blocked read ends and
the hang is reported as a failure instead of stopping the suite.

``tree_state`` is the sentinel: a description of every entry under a folder (kind, mode,
size, SHA-256, link target), read without following links or opening FIFOs; compared
before and after each operation it shows anything written, deleted or replaced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brankas.core.errors import MESSAGES, BrankasError
from tests.conftest import PASSWORDS
from tests.hostile_disk import forkcli

OPERATIONS = ("verify", "restore", "drill", "recover", "backup")
SQLITE = ("brankas.sqlite3", "brankas.sqlite3-wal", "brankas.sqlite3-shm",
          "brankas.sqlite3-journal")
BIG = 16 << 20  # files larger than this are compared by size and mtime, not hashed


@dataclass
class Outcome:
    """What an operation did: its exit status (a service: 0 ok, 1 problems or refused),
    the refusal's code when a service raised one, and everything it printed (a service:
    its report as JSON, or the refusal's message)."""

    op: str
    via: str  # "cli" or "service"
    exit: int
    text: str
    code: str | None = None
    report: dict[str, Any] | None = None
    hung: bool = False

    def __str__(self) -> str:
        return f"{self.op} via {self.via}: exit {self.exit}, code {self.code}\n{self.text[:3000]}"


def message_pattern(code: str) -> re.Pattern[str]:
    """The English message of ``code`` as a pattern (its placeholders match anything)."""
    parts = re.split(r"\{[^}]*\}", MESSAGES[code][1])
    return re.compile(".*".join(re.escape(p) for p in parts), re.DOTALL)


def code_in(outcome: Outcome, code: str) -> bool:
    if outcome.via == "service":
        return outcome.code == code
    return message_pattern(code).search(outcome.text) is not None


# -- the sentinel -----------------------------------------------------------------------

def tree_state(root: Path, skip: Iterable[Path] = ()) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root`` (not following links, never opening a FIFO or device):
    {relative path: (kind, mode, size, sha256 or link target)}; ``skip``: paths left out
    with everything below them."""
    skipped = {os.path.abspath(p) for p in skip}
    out: dict[str, tuple[Any, ...]] = {}

    def walk(folder: str, prefix: str) -> None:
        with os.scandir(folder) as it:
            for entry in sorted(it, key=lambda e: e.name):
                if os.path.abspath(entry.path) in skipped:
                    continue
                rel = prefix + entry.name
                st = entry.stat(follow_symlinks=False)
                mode = stat.S_IMODE(st.st_mode)
                if stat.S_ISLNK(st.st_mode):
                    out[rel] = ("link", os.readlink(entry.path))
                elif stat.S_ISDIR(st.st_mode):
                    out[rel] = ("dir", mode)
                    walk(entry.path, rel + "/")
                elif stat.S_ISREG(st.st_mode):
                    if st.st_size > BIG:
                        out[rel] = ("file", mode, st.st_size, st.st_mtime_ns)
                    else:
                        with open(entry.path, "rb") as fh:
                            digest = hashlib.sha256(fh.read()).hexdigest()
                        out[rel] = ("file", mode, st.st_size, digest)
                else:
                    out[rel] = ("special", stat.S_IFMT(st.st_mode), mode)

    if os.path.lexists(root):
        walk(str(root), "")
    return out


def tree_diff(before: dict[str, tuple[Any, ...]], after: dict[str, tuple[Any, ...]]) -> list[str]:
    changes = [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    changes += [f"added {p}" for p in sorted(after.keys() - before.keys())]
    changes += [f"changed {p}: {before[p]} -> {after[p]}" for p in sorted(before)
                if p in after and before[p] != after[p]]
    return changes


def release_fifos(folder: Path) -> int:
    """Open every FIFO under ``folder`` for writing and close it: a reader blocked on one
    then reads end-of-file. Returns how many were released."""
    count = 0
    for path in _walk_no_follow(folder):
        with contextlib.suppress(OSError):  # gone since the walk (the test's own cleanup)
            if not stat.S_ISFIFO(os.lstat(path).st_mode):
                continue
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
            count += 1
    return count


def _walk_no_follow(folder: Path) -> list[Path]:
    out = []
    if not os.path.isdir(folder) or os.path.islink(folder):
        return out
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return out  # gone since the check (a watchdog outliving its test's folder)
    for entry in entries:
        out.append(Path(entry.path))
        if entry.is_dir(follow_symlinks=False):
            out += _walk_no_follow(Path(entry.path))
    return out


# -- the real command -------------------------------------------------------------------

def run_cli(home: Path, scratch: Path, *args: str, user: str | None = None,
            timeout: float = 60, disk: Path | None = None,
            env: dict[str, str] | None = None) -> Outcome:
    """``brankas ARGS`` in a process of its own (its own process group) against ``home``:
    a child of the fork server (``forkcli``) where there is one (POSIX), else ``python -m
    brankas`` in a subprocess; killed with its children after ``timeout`` seconds."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    tmp = scratch / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    full_env.update({"BRANKAS_HOME": str(home), "BRANKAS_LANG": "en", "TMPDIR": str(tmp)})
    if user:
        full_env.update({"BRANKAS_USER": user, "BRANKAS_PASSWORD": PASSWORDS[user]})
    full_env.update(env or {})
    if forkcli.available() and not SUBPROCESS:
        code, out, err, hung = _commands().run(
            list(args), full_env, scratch, timeout,
            on_hang=lambda: release_fifos(disk) if disk is not None else None)
        return _outcome(args[0], code, out, err, hung)
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "brankas", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=full_env, cwd=scratch, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, signal.SIGKILL)  # with the drill's own recover
            else:
                proc.kill()
        if disk is not None:
            release_fifos(disk)
        out, err = proc.communicate()
        return Outcome(args[0], "cli", -1, out + err, hung=True)
    return _outcome(args[0], proc.returncode, out, err, False)


def _outcome(op: str, code: int, out: str, err: str, hung: bool) -> Outcome:
    if hung:
        return Outcome(op, "cli", -1, out + err, hung=True)
    report = None
    with contextlib.suppress(ValueError):
        report = json.loads(out) if out.strip() else None
    return Outcome(op, "cli", code, out + err, report=report)


# BRANKAS_CORPUS_SUBPROCESS=1: every command as ``python -m brankas`` (as on Windows).
SUBPROCESS = os.environ.get("BRANKAS_CORPUS_SUBPROCESS") == "1"


@functools.cache
def _commands() -> forkcli.Commands:
    import atexit

    commands = forkcli.Commands()
    atexit.register(commands.close)
    return commands


# -- the services, in this process ------------------------------------------------------

def run_service(op: str, call: Callable[[], Any], *, disk: Path,
                timeout: float = 60) -> Outcome:
    """``call()`` (a service) in this thread, with the FIFO watchdog. A report with
    ``ok`` false is exit 1; a BrankasError is exit 1 with its code; anything else raised
    fails the test (the property: no crash, only a refusal or a report)."""
    hung = threading.Event()

    def watchdog() -> None:
        hung.set()
        for _ in range(50):
            if release_fifos(disk) == 0:
                break

    timer = threading.Timer(timeout, watchdog)
    timer.start()
    try:
        result = call()
    except BrankasError as exc:
        return Outcome(op, "service", 1, exc.message("en"), code=exc.code, hung=hung.is_set())
    finally:
        timer.cancel()
    report = _as_dict(result)
    text = json.dumps(report, ensure_ascii=False, default=str)
    return Outcome(op, "service", 0 if report.get("ok", True) else 1, text, report=report,
                   hung=hung.is_set())


def _as_dict(result: Any) -> dict[str, Any]:
    if isinstance(result, tuple):  # medium_verify: (report, medium)
        result = result[0]
    if hasattr(result, "as_dict"):
        out: dict[str, Any] = result.as_dict()
        return out
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    return {"result": repr(result)}
