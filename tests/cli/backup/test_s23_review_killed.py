"""Review of s23 (the early audit segment): a real ``brankas backup`` whose log lacks
3,000 entries, with the threshold (``segments.EARLY_ENTRIES``, 20,000 in use; the
threshold itself is checked in tests/web/backup/test_s23_early_segment.py) lowered to
1,000 (s24: the same code as 20,000 entries, 4 CPU-s less), makes its segment in a
second process (s24, ``segmentproc``). The run killed (SIGKILL) while
its child is half-way through the segment: the child ends on its own within seconds and
removes its file; killed at the close (the child finished and ended long before: s24,
second version), the child's file is left in the staging folder and swept by the next
run; either way the disk still verifies and lists no segment of the killed runs. The
next run, made while another process registers letters, takes the early path too,
completes with two segments (the child's, and the entries since made at the close),
continues the log from the last sealed segment, leaves no staging file, and a recover
rebuilds the whole log. The child killed half-way: the run makes one segment itself at
the close and completes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from brankas.core import crypto
from brankas.core.disk import segments as segs
from tests.cli.backup.conftest import Office, audit_log, manifest, newest_seal
from tests.conftest import PASSWORDS

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX"),
              pytest.mark.slow]

CHILD = r"""
import contextlib, os, runpy, signal, sys, threading

point = sys.argv[1]
CHILD = os.environ["REVIEW_CHILD"]


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if point == "fill":
    from brankas.cli.runtime import setup_django

    setup_django()
    prefix = sys.argv[3] if len(sys.argv) > 3 else "K"
    from brankas.web.audit.services import AuditEntry, audit_record_many

    audit_record_many([AuditEntry(actor="operator", action="document.open",
                                  target=f"{prefix}-{i}", detail={"i": i, "t": "kutip \" \u00e9"})
                       for i in range(int(sys.argv[2]))])
    sys.exit(0)

from brankas import instance

real_start = instance.start


def patch():
    from pathlib import Path

    sys.path.append(os.environ["REVIEW_ROOT"])  # the children's import path (child_env)
    from tests.web.backup.segment_pausing import paused

    from brankas.web.backup import segments, services

    segments.EARLY_ENTRIES = 1000  # the log lacks 3,000: the same code as 20,000
    real_init = segments.EarlySegment.__init__
    made = []

    def catch(child):  # the child stops itself part-way (s28: ``segment_pausing``)
        reached.append(paused(Path(os.environ["TEST_SEGMENT_PAUSED"]), 30))

    reached = []

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(self)
        if point in ("parent", "child"):
            # Watched from the child's start, not from the copy's: on a loaded machine the
            # child wrote its whole file before the copy began (and had ended).
            catching.append(threading.Thread(target=catch, args=(self,)))
            catching[-1].start()
        sys.stderr.write(f"EARLY {self.after} {self.first_head} {self.proc.pid} {self.path}\n")
        sys.stderr.flush()

    catching = []
    segments.EarlySegment.__init__ = init
    real_finish = segments.EarlySegment.finish

    def finish(self, head):
        if point == "finish":
            self.proc.wait(300)  # the child done (it ends on its own), then the run killed
            die()
        got = real_finish(self, head)
        sys.stderr.write(f"FELL_BACK {self.fell_back}\n")
        return got

    segments.EarlySegment.finish = finish
    copy = services._copy_payload
    if point in ("parent", "child"):  # once the child has written part of its file
        # s24: the child no longer waits for the close: small pieces (more of them, each
        # a query). s28: it stops itself after 200 of its 600 pieces
        # (``segment_pausing``); a thread of the run watching its file grow came too
        # late on a loaded machine (the child had written it all and ended).
        segments.EARLY_BATCH = 5
        segments.CHILD_MODULE = "tests.web.backup.segment_pausing"
        if point == "child":  # 3,000 entries run the same code as 20,000
            segments.EARLY_ENTRIES = 1

        def copy_payload(*args, **kwargs):
            child = made[0]
            catching[0].join()  # the child frozen half-way (if still there)
            sys.stderr.write(f"PAUSED {reached == [True]} WRITTEN {child.path.stat().st_size} "
                             f"ALIVE {child.proc.poll() is None}\n")
            sys.stderr.flush()
            if point == "parent":  # killed with the child frozen half-way: the test
                die()  # wakes it (its input has ended by then: no race with its last piece)
            os.kill(child.proc.pid, signal.SIGKILL)
            child.proc.wait()
            return copy(*args, **kwargs)

        services._copy_payload = copy_payload
    elif point in ("during", "during-low", "fresh"):  # another process writes entries
        import subprocess  # while the run copies

        if point != "during":  # the log the disk lacks, by the child however small
            segments.EARLY_ENTRIES = 1

        def copy_payload(*args, **kwargs):
            subprocess.run([sys.executable, "-c", CHILD, "fill", "3", "D"], check=True)
            return copy(*args, **kwargs)

        services._copy_payload = copy_payload


def start(*args, **kwargs):
    made = real_start(*args, **kwargs)
    patch()
    return made


instance.start = start
sys.argv = ["brankas", "backup", sys.argv[2], "--json"]
runpy.run_module("brankas", run_name="__main__")
"""


def _env(office: Office, point: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(office.home), "BRANKAS_LANG": "en",
                "BRANKAS_USER": "operator", "BRANKAS_PASSWORD": PASSWORDS["operator"],
                "REVIEW_CHILD": CHILD, "REVIEW_ROOT": str(Path(__file__).parents[3]),
                "TEST_SEGMENT_PAUSED": str(office.base / f"paused-{point}")})
    return env


def _child(office: Office, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, *args], env=_env(office, args[0]),
                          cwd=office.base, capture_output=True, text=True, timeout=600, check=False)


def _sealed_ranges(office: Office) -> list[tuple[int, int]]:
    names = sorted(p[len("data/"):] for p in manifest(office.disk)
                   if p.startswith("data/audit/"))
    return [segs.name_range(n) for n in names]  # type: ignore[misc]


def _segment_is_the_log(office: Office, disk, span: tuple[int, int],  # type: ignore[no-untyped-def]
                        during: bool = True) -> None:
    """The segment ``span`` on ``disk`` holds exactly the office's entries of that span,
    chained, as lines: the entries written during the copy (by another process) too."""
    name = next(p for p in manifest(disk) if p.startswith("data/audit/")
                and segs.name_range(p[len("data/"):]) == span)
    identity = crypto.parse_identity(office.recovery_file.read_text().strip())
    plain = crypto.decrypt_bytes((disk / name).read_bytes(), [identity])
    rows = [json.loads(line) for line in plain.splitlines()]
    assert [r["seq"] for r in rows] == list(range(span[0], span[1] + 1))
    hashes = dict(office.sql("select seq, hash from audit_auditevent where seq >= ? and "
                             "seq <= ?", span[0], span[1]))
    assert {r["seq"]: r["hash"] for r in rows} == hashes
    if during:
        written = [r["seq"] for r in rows if r["target"] in ("D-0", "D-1", "D-2")]
        assert len(written) >= 3, "no entry written during the copy is in the segment"


def _early(stderr: str) -> tuple[int, int, int, Path]:
    """The run's early segment as its stderr names it: after, first head, child, file."""
    line = next(x for x in stderr.splitlines() if x.startswith("EARLY "))
    after, first, pid, path = line.split(" ", 4)[1:]
    return int(after), int(first), int(pid), Path(path)


def _gone(pid: int, seconds: float) -> bool:
    """Whether process ``pid`` ended (or is a zombie nobody reaped) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            return True
        if state in (b"Z", b"X"):
            return True
        time.sleep(0.05)
    return False


def _killed_run_leaves_no_segment(office: Office, point: str,
                                  r: subprocess.CompletedProcess[str],
                                  before: list[tuple[int, int]]) -> None:
    assert r.returncode == -signal.SIGKILL, (point, r.returncode, r.stderr[-2000:])
    after, _first, pid, path = _early(r.stderr)
    assert after == before[-1][1], (point, r.stderr[-2000:])
    if point == "parent":
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)  # frozen by the run before it was killed
    assert _gone(pid, 15), (point, "the segment child outlived the run")
    if point == "parent":
        # Killed with the child mid-segment: it saw its input end, removed its file
        # and ended on its own.
        assert "PAUSED True" in r.stderr and "ALIVE True" in r.stderr, r.stderr[-2000:]
        assert "WRITTEN 0" not in r.stderr, r.stderr[-2000:]
        assert not path.exists(), point
    else:
        # The child had finished its file and ended: the file is the killed run's,
        # in the staging folder until the next run sweeps it (checked below).
        assert path.exists(), point
    v = office.cli("verify", str(office.disk), "--json", user="operator")
    assert v.returncode == 0, (point, v.stdout)
    assert _sealed_ranges(office) == before, point


@contextlib.contextmanager
def _released(stderr: str) -> Iterator[None]:
    """On the way out, a segment child the run left stopped (SIGSTOP) is killed: a
    failed assertion never leaves it behind for the rest of the session."""
    try:
        yield
    finally:
        with contextlib.suppress(StopIteration, ValueError):
            pid = _early(stderr)[2]
            try:  # stopped, and the pausing child (a pid reused since is left alone)
                with open(f"/proc/{pid}/stat", "rb") as fh:
                    stopped = fh.read().rsplit(b")", 1)[1].split()[0] == b"T"
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    stopped = stopped and b"segment_pausing" in fh.read()
            except OSError:
                stopped = False
            if stopped:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def test_the_run_killed_while_its_segment_child_writes_or_at_the_close_then_a_run_completes(
        office: Office) -> None:
    before = _sealed_ranges(office)
    assert len(before) == 1
    r = _child(office, "fill", "3000")
    assert r.returncode == 0, r.stderr[-2000:]
    for point in ("parent", "finish"):
        r = _child(office, point, str(office.disk))
        with _released(r.stderr):
            _killed_run_leaves_no_segment(office, point, r, before)
        if point == "finish":
            finished = _early(r.stderr)[3]

    # The next run, while another process registers letters (audit entries written
    # during the copy, by another connection).
    stop = threading.Event()
    registered: list[str] = []

    def register() -> None:
        while not stop.is_set() and len(registered) < 3:
            registered.append(office.register("penerimaan", "biasa",
                                              f"Surat saat salin {len(registered)}").agenda)

    writer = threading.Thread(target=register)
    writer.start()
    try:
        r = _child(office, "during", str(office.disk))
    finally:
        stop.set()
        writer.join(300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"EARLY {before[-1][1]} " in r.stderr, r.stderr[-2000:]
    assert "FELL_BACK False" in r.stderr, r.stderr[-2000:]  # the child made it
    _after, first_head, _pid, _path = _early(r.stderr)
    after = _sealed_ranges(office)
    # Two segments: the child's, up to the head read with the sources, and the entries
    # since (those written during the copy) made at the close.
    assert after[:1] == before and after[1:] == [(before[0][1] + 1, first_head),
                                                  (first_head + 1, after[2][1])], after
    assert not finished.exists()  # the killed run's file, swept
    assert not [p.name for p in (office.home / "tmp").iterdir()
                if p.name.startswith("backup-")]
    _segment_is_the_log(office, office.disk, after[1], during=False)
    _segment_is_the_log(office, office.disk, after[2])
    v = office.cli("verify", str(office.disk), "--json", user="operator")
    assert v.returncode == 0, v.stdout
    # Another run continues after it; a recover rebuilds the whole, chained log.
    r = office.backup()
    assert r.returncode == 0, r.stderr
    assert _sealed_ranges(office)[:3] == after
    new = office.base / "pulih"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["ok"] is True and r.json()["audit_ok"] is True
    assert len(office.sql("select seq from audit_auditevent")) > 3_000


def test_the_segment_child_killed_mid_segment_the_run_makes_it_at_the_close(
        office: Office) -> None:
    """SIGKILL to the child once part of its file is written: the run makes the segment
    in its own process at the close, completes; the disk verifies, its new segment is
    the log, and no staging file is left (the threshold lowered: 3,000 entries, in pieces
    of 5, keep the child writing long enough to be caught)."""
    before = _sealed_ranges(office)
    r = _child(office, "fill", "3000")
    assert r.returncode == 0, r.stderr[-2000:]
    r = _child(office, "child", str(office.disk))
    assert r.returncode == 0, r.stderr[-2000:]
    _after, _first, pid, path = _early(r.stderr)
    assert "PAUSED True" in r.stderr and "ALIVE True" in r.stderr, r.stderr[-2000:]
    assert "WRITTEN 0" not in r.stderr, r.stderr[-2000:]
    assert "FELL_BACK True" in r.stderr, r.stderr[-2000:]
    assert _gone(pid, 1) and not path.exists()
    ranges = _sealed_ranges(office)
    assert ranges[:-1] == before and ranges[-1][0] == before[-1][1] + 1, ranges
    _segment_is_the_log(office, office.disk, ranges[-1], during=False)
    v = office.cli("verify", str(office.disk), "--json", user="operator")
    assert v.returncode == 0, v.stdout
    assert not [p.name for p in (office.home / "tmp").iterdir()
                if p.name.startswith("backup-")]


def test_two_early_segment_runs_at_once_to_two_disks_each_complete(office: Office) -> None:
    """Two ``brankas backup`` processes at once (a web job and the CLI, say), each to its
    own disk, each making its segment in a process of its own (the threshold lowered, as
    for the fresh disk: 30 entries run the same code as 20,000): both complete, both
    disks verify, each segment continues its disk's log, and no staging file is left."""
    second = office.base / "disk2"
    r = office.backup(second, "--label", "DISK-02")  # a new disk: its first run (small)
    assert r.returncode == 0, r.stderr[-2000:]
    r = _child(office, "fill", "30")  # the threshold lowered: the same code, cheaply
    assert r.returncode == 0, r.stderr[-2000:]
    env = _env(office, "during-low")
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, "during-low", str(disk)], env=env,
                              cwd=office.base, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for disk in (office.disk, second)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    assert all("EARLY" in err and "FELL_BACK False" in err for _out, err in outs), [
        err[-2000:] for _o, err in outs]
    for disk in (office.disk, second):
        v = office.cli("verify", str(disk), "--json", user="operator")
        assert v.returncode == 0, (disk, v.stdout)
        seal = json.loads(json.loads(sorted((disk / "data" / "backup").glob("*/segel.json"))[-1]
                                     .read_text())["statement"])
        _segment_is_the_log(office, disk,
                            tuple(seal[segs.STATEMENT_KEY]["segments"][-1][1:3]))
    assert not [p.name for p in (office.home / "tmp").iterdir()
                if p.name.startswith("backup-")]


def test_a_full_backup_in_two_segments_to_a_new_disk_recovers_every_entry(
        office: Office) -> None:
    """A full backup to a new disk whose segment the child makes (s24): two segments, the
    child's and the entries since (written by another process during the copy); the
    disk verifies, and a recover into a fresh instance loads every entry up to the
    sealed head, chained (``audit_ok``), entry for entry the office's."""
    disk = office.base / "baru"
    r = _child(office, "fresh", str(disk))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "FELL_BACK False" in r.stderr, r.stderr[-2000:]
    after, first_head, _pid, _path = _early(r.stderr)
    statement = newest_seal(disk)
    head = statement["audit_head"]["seq"]
    listed = [tuple(x[1:3]) for x in statement[segs.STATEMENT_KEY]["segments"]]
    assert after == 0 and listed == [(1, first_head), (first_head + 1, head)], listed
    _segment_is_the_log(office, disk, listed[0], during=False)
    _segment_is_the_log(office, disk, listed[1])
    control = json.loads(next((disk / "data" / "backup").glob("*/daftar-kontrol.json"))
                         .read_text())
    assert control["files_added"] == len(manifest(disk))  # both segments counted
    v = office.cli("verify", str(disk), "--json", user="operator")
    assert v.returncode == 0, v.stdout
    new = office.base / "pulih-baru"
    r = office.cli("recover", str(disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["ok"] is True and r.json()["audit_ok"] is True, r.json()
    recovered = audit_log(new)
    assert recovered[:head] == audit_log(office.home)[:head]
    assert recovered[head - 1] == (head, statement["audit_head"]["hash"])
