"""Running one child process and measuring its wall time and peak memory.

Peak memory is the child's own high-water mark (``VmHWM`` in ``/proc/PID/status``),
sampled every few milliseconds and read one last time while the child is still a
zombie-to-be. ``ru_maxrss`` from ``wait4`` is kept as a cross-check only: Linux carries
the parent's high-water mark across fork and exec, so for small tools it reports the
benchmark's own size rather than the tool's.
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


class CommandFailed(RuntimeError):
    pass


def _vm_hwm(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class _HwmSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.last: int | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            value = _vm_hwm(self.pid)
            if value is not None:
                self.last = value
            self.stop.wait(POLL_SECONDS)


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
               usage.ru_stime, stdout, stderr, proc.returncode)


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

