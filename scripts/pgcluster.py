"""A throw-away PostgreSQL cluster in a temporary folder, for the tests and the benchmarks.

Plain Python (standard library only), so that it runs before the virtualenv exists.

    from pgcluster import start
    cluster = start(Path("/tmp"))      # initdb + pg_ctl start on a free 127.0.0.1 port
    cluster.url                        # postgresql://postgres:<password>@127.0.0.1:<port>/postgres
    cluster.stop()                     # pg_ctl stop, then the folder is removed

    python scripts/pgcluster.py run -- CMD...

starts a cluster, runs CMD with ``BRANKAS_TEST_PG_URL`` set to the cluster's superuser URL,
stops the cluster and exits with CMD's exit code. When PostgreSQL cannot be found or started
it says why on stderr and exits with status 3 (CMD does not run).

    python scripts/pgcluster.py run --early -- CMD...

(make test) starts CMD at once, while the cluster is made and started (initdb and the
server's start: one to several seconds, which a test run spends starting and collecting):
the URL is set as before (its port held for the server until it starts) and
``BRANKAS_TEST_PG_READY`` names a file that reads ``ready`` once the URL answers, or
``error: ...`` when the cluster could not be started (tests/pg.py ``server_url`` waits for
it). When the cluster cannot be started, CMD is stopped (SIGTERM) and ``run`` says why and
exits with status 3; when PostgreSQL cannot be found, CMD does not run at all.

The programs are looked up on PATH first, then in /usr/lib/postgresql/*/bin (Debian's
layout; the newest version wins); ``BRANKAS_PG_BINDIR`` names the folder explicitly.
PostgreSQL refuses to run as root: as root the server runs as the user ``postgres`` when it
exists, else ``nobody``, and the temporary folder belongs to that user. The cluster is for
tests only: fsync, synchronous_commit and full_page_writes are off; it listens on 127.0.0.1
only, with a random password (scram-sha-256) over TCP and its unix socket in the private
temporary folder.
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["Cluster", "PgClusterError", "find_bindir", "start"]

SUPERUSER = "postgres"
# In a cluster's folder: the process id of the one that started it (run, or a caller of
# start()); a folder whose runner is gone is swept by the next start (_sweep).
RUNNER = "runner.pid"
# Status of `pgcluster.py run` when the cluster could not be started.
EXIT_NO_CLUSTER = 3
# run --early: the file (in the cluster's folder) that says the cluster is up ("ready") or
# could not be started ("error: ..."), named to CMD by this variable.
READY_ENV = "BRANKAS_TEST_PG_READY"
READY = "ready"


# The only variables of the caller's environment initdb, pg_ctl and the server get.
_PASSED_ENV = {"PATH", "TZ", "SYSTEMROOT", "TEMP", "TMP", "TMPDIR"}


class PgClusterError(RuntimeError):
    """PostgreSQL could not be found or started."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path.parent.name)) or (0,)


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres."""
    explicit = os.environ.get("BRANKAS_PG_BINDIR")
    if explicit:
        folder = Path(explicit)
        if (folder / _exe("pg_ctl")).exists() and (folder / _exe("initdb")).exists():
            return folder
        raise PgClusterError(f"BRANKAS_PG_BINDIR={explicit} holds no pg_ctl/initdb")
    found = shutil.which("pg_ctl")
    if found:
        folder = Path(found).resolve().parent
        if (folder / _exe("initdb")).exists():
            return folder
    candidates = sorted(
        (p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")),
        key=lambda folder: _version_key(folder / "x"),
        reverse=True,
    )
    for folder in candidates:
        if (folder / "initdb").exists():
            return folder
    raise PgClusterError(
        "PostgreSQL not found (no pg_ctl/initdb on PATH nor in /usr/lib/postgresql/*/bin); "
        "install the Debian package 'postgresql'"
    )


def _exe(name: str) -> str:
    return name + ".exe" if os.name == "nt" else name


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_user() -> tuple[int, int] | None:
    """(uid, gid) to run the server as, or None to run it as the current user."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise PgClusterError("running as root and neither user 'postgres' nor 'nobody' exists")


def _reachable_by_others(folder: Path) -> bool:
    """Can any user walk down to ``folder`` (every ancestor searchable by 'others')?"""
    folder = folder.resolve()
    return all(part.stat().st_mode & stat.S_IXOTH for part in (folder, *folder.parents))


class Cluster:
    """A running throw-away cluster. ``url`` is its superuser URL; ``stop()`` ends it."""

    def __init__(self, folder: Path, bindir: Path, port: int, password: str,
                 user: tuple[int, int] | None) -> None:
        self.folder = folder
        self.bindir = bindir
        self.port = port
        self.password = password
        self.datadir = folder / "data"
        self.socket_dir = folder / "socket"
        self.log = folder / "server.log"
        self._user = user
        self._stopped = False
        self.url = f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self._user is not None:
            kwargs.update(user=self._user[0], group=self._user[1], extra_groups=[])
        # Nothing of the caller's environment but what the programs need: the server runs
        # as another user (postgres, as root), whose processes can read its environment
        # (a token, an outer cluster's URL with its password); no PG* variable either.
        env = {k: v for k, v in os.environ.items() if k in _PASSED_ENV}
        env["LC_ALL"] = "C"
        proc = subprocess.run(
            [str(self.bindir / _exe(args[0])), *args[1:]],
            cwd=self.folder, env=env, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, **kwargs,
        )
        if check and proc.returncode != 0:
            raise PgClusterError(
                f"{args[0]} failed ({proc.returncode}): "
                f"{proc.stderr.strip() or proc.stdout.strip()}{self._log_tail()}"
            )
        return proc

    def _log_tail(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()[-15:]
        except OSError:
            return ""
        return ("\nserver log:\n" + "\n".join(lines)) if lines else ""

    def _chown(self, path: Path) -> None:
        if self._user is not None:
            os.chown(path, self._user[0], self._user[1])

    def _initdb(self) -> None:
        self.socket_dir.mkdir(mode=0o700)
        self._chown(self.socket_dir)
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        self._chown(pwfile)
        try:
            self._run("initdb", "-D", str(self.datadir), "-U", SUPERUSER, "-E", "UTF8",
                      "--locale=C", "--pwfile", str(pwfile), "--auth-host=scram-sha-256",
                      "--auth-local=trust", "--no-sync")
        finally:
            pwfile.unlink()
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# pgcluster.py: a throw-away cluster for tests\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.socket_dir.as_posix()}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 200\nshared_buffers = 32MB\n"
                "dynamic_shared_memory_type = mmap\n"
                "log_min_messages = warning\n"
            )

    def _start(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.log), "-w", "-t", "60",
                  "-o", f"-p {self.port}", "start")

    def restart(self) -> None:
        """Stop the server (fast) and start it again: a setting read only at the server's
        start (``shared_buffers``, set by ``ALTER SYSTEM``) takes effect."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        self._start()

    def stop(self) -> None:
        """Stop the server (immediately: the data is thrown away) and remove the folder."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if (self.datadir / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop",
                          check=False)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # no cheap check: never sweep there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep(base: Path, bindir: Path, user: tuple[int, int] | None) -> None:
    """Stop and remove the clusters under ``base`` whose runner died without stopping
    them (SIGKILL, a crash): a folder of ours (it names its runner) whose runner is gone.
    A cluster whose runner lives (another test run at the same time) is left alone."""
    for folder in base.glob("brankas-pg-*"):
        try:
            runner = int((folder / RUNNER).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # not ours, or still being made
        if _alive(runner):
            continue
        Cluster(folder, bindir, 0, "", user).stop()


def _new_folder(base: Path | str | None, bindir: Path, user: tuple[int, int] | None) -> Path:
    """A new cluster folder under ``base`` (the system's temporary folder when None or when
    the server's user could not reach it), the clusters left there by dead runners swept."""
    base = Path(base) if base is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    if user is not None and not _reachable_by_others(base):
        # The server's user could not reach a folder under `base` (a 0700 pytest tmp dir).
        base = Path(tempfile.gettempdir())
    _sweep(base, bindir, user)
    return Path(tempfile.mkdtemp(prefix="brankas-pg-", dir=base))


def start(base: Path | str | None = None) -> Cluster:
    """initdb + start a cluster in a new temporary folder under ``base`` (default: the
    system's temporary folder); stopped and removed by ``stop()`` or at interpreter exit."""
    bindir = find_bindir()
    user = _server_user()
    folder = _new_folder(base, bindir, user)
    last_error: PgClusterError | None = None
    cluster: Cluster | None = None
    password = secrets.token_hex(16)
    try:
        (folder / RUNNER).write_text(f"{os.getpid()}\n")
        if user is not None:
            os.chown(folder, user[0], user[1])
        for _attempt in range(3):  # a free port can be taken between the probe and the bind
            cluster = Cluster(folder, bindir, _free_port(), password, user)
            if not cluster.datadir.exists():
                cluster._initdb()
            try:
                cluster._start()
            except PgClusterError as exc:
                last_error = exc
                continue
            atexit.register(cluster.stop)
            return cluster
        raise last_error or PgClusterError("the server did not start")
    except BaseException:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _run_command(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("pgcluster: run needs a command after --", file=sys.stderr)
        return 2
    child: subprocess.Popen[bytes] | None = None

    def _set_child(started: subprocess.Popen[bytes]) -> None:
        nonlocal child
        child = started

    def on_signal(signum: int, _frame: object) -> None:
        """Ctrl-C, a kill, the terminal closed: passed on to CMD, whose end stops the
        cluster below; before CMD runs, the cluster being started is stopped (the
        default action of SIGTERM and SIGHUP would leave its server running)."""
        if child is None:
            raise SystemExit(128 + signum)
        child.send_signal(signum)

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # no SIGHUP on Windows
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)
    if args.early:
        return _run_early(args, command, _set_child)
    try:
        cluster = start(args.base)
    except (PgClusterError, OSError) as exc:
        print(f"brankas: PostgreSQL could not be started for the tests: {exc}", file=sys.stderr)
        return EXIT_NO_CLUSTER
    env = dict(os.environ, BRANKAS_TEST_PG_URL=cluster.url)
    try:
        child = subprocess.Popen(command, env=env)
        return child.wait()
    finally:
        cluster.stop()


def _run_early(args: argparse.Namespace, command: list[str],
               started: Callable[[subprocess.Popen[bytes]], None]) -> int:
    """``run --early``: CMD started before the cluster is made and started (the module's
    docstring); ``started`` is told CMD's process (signals go to it from then on)."""
    try:
        bindir = find_bindir()
        user = _server_user()
        folder = _new_folder(args.base, bindir, user)
    except (PgClusterError, OSError) as exc:
        print(f"brankas: PostgreSQL could not be started for the tests: {exc}", file=sys.stderr)
        return EXIT_NO_CLUSTER
    cluster: Cluster | None = None
    held: socket.socket | None = None
    try:
        (folder / RUNNER).write_text(f"{os.getpid()}\n")
        if user is not None:
            os.chown(folder, user[0], user[1])
        # The port is taken now and held (bound, not listening) until the server binds it:
        # the URL CMD gets names it, and nothing else can take it during initdb.
        held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        held.bind(("127.0.0.1", 0))
        cluster = Cluster(folder, bindir, int(held.getsockname()[1]), secrets.token_hex(16),
                          user)
        ready = folder / READY
        child = subprocess.Popen(command, env=dict(os.environ, BRANKAS_TEST_PG_URL=cluster.url,
                                                   **{READY_ENV: str(ready)}))
        started(child)
        try:
            cluster._initdb()
            held.close()
            cluster._start()
        except (PgClusterError, OSError) as exc:
            _say(ready, f"error: {exc}")
            print(f"brankas: PostgreSQL could not be started for the tests: {exc}",
                  file=sys.stderr)
            child.terminate()
            child.wait()
            return EXIT_NO_CLUSTER
        _say(ready, "ready")
        return child.wait()
    except OSError as exc:  # the folder, the port or CMD itself
        print(f"brankas: PostgreSQL could not be started for the tests: {exc}", file=sys.stderr)
        return EXIT_NO_CLUSTER
    finally:
        if held is not None:
            held.close()
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _say(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole (a reader sees the old state or the new one)."""
    part = path.with_name(path.name + ".part")
    part.write_text(text + "\n", encoding="utf-8")
    os.replace(part, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A throw-away PostgreSQL cluster.")
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="start a cluster, run CMD with BRANKAS_TEST_PG_URL, stop")
    run.add_argument("--base", type=Path, default=None,
                     help="folder for the temporary cluster folder (default: system temp)")
    run.add_argument("--early", action="store_true",
                     help=f"start CMD at once, while the cluster starts ({READY_ENV} names "
                          "the file that says when it is up)")
    run.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("find", help="print the folder holding pg_ctl and initdb")
    args = parser.parse_args(argv)
    if args.action == "find":
        try:
            print(find_bindir())
        except PgClusterError as exc:
            print(f"brankas: {exc}", file=sys.stderr)
            return EXIT_NO_CLUSTER
        return 0
    return _run_command(args)


if __name__ == "__main__":
    sys.exit(main())
