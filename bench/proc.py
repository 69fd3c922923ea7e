"""Running one child process and measuring its wall time and peak memory.

Peak memory is the child's own high-water mark (``VmHWM`` in ``/proc/PID/status``),
sampled every few milliseconds and read one last time while the child is still a
zombie-to-be. ``ru_maxrss`` from ``wait4`` is kept as a cross-check only: Linux carries
the parent's high-water mark across fork and exec, so for small tools it reports the
benchmark's own size rather than the tool's.

The process *tree*'s peak is measured beside it (s24: the full backup makes its audit
segment in a second process, whose memory the parent's ``VmHWM`` does not hold): the sum
of the ``VmRSS`` of the process and all its descendants, sampled at the same rate (the
largest sum seen; a child born and gone between two samples is missed, as a short peak
of the parent is not). Shared pages (the interpreter, libraries) count in each process,
so the sum is an upper bound of what the tree holds; the tree's proportional set size
(``Pss`` of ``/proc/PID/smaps_rollup``: a page shared by two processes counts half in
each) is sampled beside it, less often (the kernel walks the page tables to make it).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

POLL_SECONDS = 0.002


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_kib: int  # VmHWM of the child (its own peak resident set)
    ru_maxrss_kib: int  # wait4's figure (includes what was inherited at fork/exec)
    cpu_seconds: float  # user + system time of the child
    sys_seconds: float  # of which in the kernel
    stdout: str
    stderr: str
    returncode: int = 0
    tree_peak_kib: int = 0  # the largest sum of VmRSS of the child and its descendants
    tree_pss_peak_kib: int = 0  # the largest sum of their Pss (shared pages split)


class CommandFailed(RuntimeError):
    pass


def _proc_field(path: str, field: bytes) -> int | None:
    """The number (kB) after ``field`` in the ``/proc`` file ``path``; None when the file
    or the line is gone (the process ended) or unreadable."""
    try:
        with open(path, "rb") as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _vm_hwm(pid: int) -> int | None:
    return _proc_field(f"/proc/{pid}/status", b"VmHWM:")


def _status_field(pid: int, field: bytes) -> int | None:
    return _proc_field(f"/proc/{pid}/status", field)


def _pss(pid: int) -> int | None:
    return _proc_field(f"/proc/{pid}/smaps_rollup", b"Pss:")


def _children() -> dict[int, list[int]]:
    """Every process's children, from ``/proc/*/stat`` (the parent is its 4th field)."""
    out: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the name (2nd field) is in parentheses and may hold spaces
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            out.setdefault(int(fields[1]), []).append(int(name))
    return out


def descendants(pid: int) -> list[int]:
    """``pid``'s children, their children, and so on (Linux ``/proc``)."""
    children = _children()
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def tree_rss(pid: int) -> int | None:
    """The sum of the ``VmRSS`` (KiB) of ``pid`` and its descendants; None when ``pid``
    is gone."""
    own = _status_field(pid, b"VmRSS:")
    if own is None:
        return None
    return own + sum(_status_field(child, b"VmRSS:") or 0 for child in descendants(pid))


class _HwmSampler(threading.Thread):
    """Samples the process's ``VmHWM`` and its tree's summed ``VmRSS`` until stopped. The
    tree's members are found again every ``walk_every`` samples (a walk reads every
    ``/proc/*/stat``: a few ms of CPU, not to be spent every 2 ms beside the measured
    run); their ``VmRSS`` is summed every ``tree_every`` samples."""

    def __init__(self, pid: int, tree_every: int = 5, walk_every: int = 50,
                 pss_every: int = 25) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.last: int | None = None
        self.tree_peak = 0
        self.tree_every = tree_every
        self.walk_every = walk_every
        self.pss_every = pss_every
        self.tree_pss_peak = 0
        self.members: list[int] = []
        self.stop = threading.Event()
        self.n = 0
        self.started = time.monotonic()
        # Each descendant's first and last sample alive (seconds since the start): when
        # the backup's segment child lived, against the run's own timeline.
        self.spans: dict[int, list[float]] = {}
        self.tree_peak_shared = 0  # the largest sum while a descendant was alive

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(POLL_SECONDS)

    def sample(self) -> bool:
        """One sample; False when the process is gone."""
        value = _vm_hwm(self.pid)
        if value is not None:
            self.last = value
        if self.n % self.walk_every == 0:
            self.members = descendants(self.pid)
        if self.n % self.tree_every == 0:
            own = _status_field(self.pid, b"VmRSS:")
            if own is not None:
                now = time.monotonic() - self.started
                tree = own
                for m in self.members:
                    rss = _status_field(m, b"VmRSS:")  # none for a zombie: it holds none
                    if rss is not None:
                        tree += rss
                        self.spans.setdefault(m, [now, now])[1] = now
                self.tree_peak = max(self.tree_peak, tree)
                if tree > own:
                    self.tree_peak_shared = max(self.tree_peak_shared, tree)
        if self.n % self.pss_every == 0:
            own_pss = _pss(self.pid)
            if own_pss is not None:
                pss = own_pss + sum(_pss(m) or 0 for m in self.members)
                self.tree_pss_peak = max(self.tree_pss_peak, pss)
        self.n += 1
        return value is not None


def run(argv: Sequence[str], *, env: dict[str, str] | None = None,
        cwd: Path | None = None, check: bool = True) -> Run:
    """Run ``argv`` to completion: wall time from spawn to exit, and peak memory.
    A non-zero exit raises ``CommandFailed`` unless ``check`` is false.

    Output goes to temporary files, not pipes, so the parent never has to interleave
    reading with waiting and the timing covers the child only.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env=env, cwd=cwd)
        sampler = _HwmSampler(proc.pid)
        sampler.start()
        # Wait for the exit without reaping, so the pid cannot be reused while sampling.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        seconds = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise CommandFailed(f"{' '.join(argv[:5])} ... exited {proc.returncode}\n{stderr[-3000:]}")
    peak = sampler.last if sampler.last is not None else int(usage.ru_maxrss)
    return Run(seconds, peak, int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime,
               usage.ru_stime, stdout, stderr, proc.returncode,
               tree_peak_kib=max(sampler.tree_peak, peak),
               tree_pss_peak_kib=sampler.tree_pss_peak)


def watch(pid: int) -> _HwmSampler:
    """Sample a running process ``pid`` (not our child) until it ends: its last ``VmHWM``
    (``last``), its tree's peak summed ``VmRSS`` and peak summed ``Pss`` (KiB), the peak
    sum while a descendant was alive, and when each was seen alive (seconds since the
    watch began)."""
    sampler = _HwmSampler(pid)
    while sampler.sample():
        time.sleep(POLL_SECONDS)
    return sampler


def _find(pattern: str, wait: float) -> int | None:
    deadline = time.monotonic() + wait
    me = os.getpid()
    while time.monotonic() < deadline:
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == me:
                continue
            try:
                with open(f"/proc/{name}/cmdline", "rb") as fh:
                    cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if pattern in cmd and "bench.proc" not in cmd and "python" in cmd.split(" ")[0]:
                return int(name)
        time.sleep(0.01)
    return None


if __name__ == "__main__":  # python -m bench.proc watch PATTERN [WAIT]
    import sys

    if len(sys.argv) < 3 or sys.argv[1] != "watch":
        sys.exit("usage: python -m bench.proc watch CMDLINE-SUBSTRING [WAIT-SECONDS]")
    found = _find(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 600.0)
    if found is None:
        sys.exit("no such process")
    seen = watch(found)
    print(f"pid {found} parent VmHWM {(seen.last or 0) / 1024:.1f} MiB, tree peak (sum of "
          f"VmRSS) {seen.tree_peak / 1024:.1f} MiB, tree peak (sum of Pss) "
          f"{seen.tree_pss_peak / 1024:.1f} MiB, while a descendant lived "
          f"{seen.tree_peak_shared / 1024:.1f} MiB")
    for child, (first, last) in sorted(seen.spans.items(), key=lambda kv: kv[1]):
        print(f"  descendant {child} alive {first:.2f}-{last:.2f} s")


def warm(paths: Sequence[Path]) -> int:
    """Read every file once so both sides start from the same warm page cache."""
    total = 0
    buf = bytearray(1 << 20)
    for path in paths:
        with open(path, "rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                total += n
    return total


def settle() -> None:
    """Flush what earlier steps wrote, so one step's writeback is not billed to the next."""
    os.sync()


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields), idle


def busy_share(seconds: float = 0.5) -> float:
    """The share of all CPUs busy over ``seconds`` (this process sleeps meanwhile, so it
    is other work on the machine)."""
    try:
        total0, idle0 = _cpu_times()
        time.sleep(seconds)
        total1, idle1 = _cpu_times()
    except OSError:
        return 0.0
    total = total1 - total0
    return 0.0 if total <= 0 else 1.0 - (idle1 - idle0) / total


def wait_for_quiet(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (up to ``max_wait`` seconds) until other work leaves the CPUs mostly idle, so
    both sides of a comparison run on a quiet machine; returns the last busy share."""
    deadline = time.monotonic() + max_wait
    while True:
        share = busy_share()
        if share <= threshold or time.monotonic() >= deadline:
            return share
        time.sleep(1.0)

