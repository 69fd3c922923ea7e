"""``processes.steady_heap``: large blocks freed go back to the system (glibc), which the
backup's peak memory at 100,000 documents counts on (s26, docs/benchmarks.md). Each case
in a fresh interpreter: the setting is the whole process's, for the rest of its life."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

from brankas.core import processes


def _glibc() -> bool:
    try:
        ctypes.CDLL(None).mallopt  # noqa: B018 - present on glibc only
    except (OSError, AttributeError):
        return False
    return True


needs_glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or not _glibc(),
                                 reason="glibc's malloc only")

# 64 blocks of 1 MiB, each followed by a small block from the same heap (over pymalloc's
# 512 bytes), then the large ones freed: how much of them the process still holds (KiB).
# Before, one large block freed, as a program does at some point: glibc then raises its
# threshold, and blocks of that size go into the heap, where a freed one stays.
_SCRIPT = r"""
import sys
from brankas.core import processes

def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1])

if sys.argv[1] == "steady":
    assert processes.steady_heap()
block = bytearray(4 << 20)
del block
before = rss()
large, small = [], []
for _ in range(64):
    large.append(bytearray(1 << 20))
    small.append(bytearray(1000))
del large
print(rss() - before)
"""


def _held_kib(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", _SCRIPT, mode], capture_output=True,
                         text=True, check=True, timeout=60)
    return int(out.stdout.strip())


@needs_glibc
def test_large_blocks_freed_are_given_back_after_steady_heap() -> None:
    steady, default = _held_kib("steady"), _held_kib("default")
    assert default > 32 << 10, default  # glibc's default keeps them (the premise)
    assert steady < 8 << 10, steady  # given back: the holes are not kept


def test_elsewhere_it_does_nothing_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    assert processes.steady_heap() is False
