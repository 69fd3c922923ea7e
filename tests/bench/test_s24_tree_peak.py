"""bench/proc.py measures the process tree's peak beside the process's own (s24: the full
backup makes its audit segment in a child, whose memory the parent's ``VmHWM`` does not
hold): a child's resident memory is in the tree's figure and not in the parent's."""

from __future__ import annotations

import os
import sys

import pytest

from bench import proc

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="Linux /proc")

CHILD = ("import time; b = bytearray(48 << 20); b[::4096] = b'x' * len(b[::4096]); "
         "time.sleep(1.0)")


def test_a_childs_memory_is_in_the_trees_peak_not_the_parents() -> None:
    parent = ("import subprocess, sys; b = bytearray(8 << 20); "
              f"subprocess.run([sys.executable, '-c', {CHILD!r}], check=True)")
    run = proc.run([sys.executable, "-c", parent])
    assert run.peak_rss_kib < 40 << 10, run  # the parent: an interpreter and 8 MiB
    # the tree: the parent and the child with its 48 MiB touched
    assert run.tree_peak_kib >= run.peak_rss_kib + (48 << 10), run
    # its 48 MiB are its own (not shared): in the proportional figure too
    assert run.tree_pss_peak_kib >= 48 << 10, run


def test_the_tree_of_a_process_without_children_is_the_process() -> None:
    run = proc.run([sys.executable, "-c", "b = bytearray(32 << 20); b[::4096] = b'x' * "
                    "len(b[::4096]); import time; time.sleep(0.3)"])
    assert run.peak_rss_kib >= 32 << 10
    assert run.peak_rss_kib <= run.tree_peak_kib <= run.peak_rss_kib + (4 << 10), run
    assert proc.tree_rss(run_pid := os.getpid()) is not None
    assert proc.tree_rss(run_pid) >= proc._status_field(run_pid, b"VmRSS:")  # type: ignore[operator]


def test_watch_names_when_a_child_lived_and_the_trees_peak_meanwhile() -> None:
    """``watch`` (a process started elsewhere): the child's span, inside the parent's
    life, and the tree's peak while it lived (its 48 MiB in it)."""
    import subprocess

    parent = ("import subprocess, sys, time; time.sleep(0.3); "
              f"subprocess.run([sys.executable, '-c', {CHILD!r}], check=True); "
              "time.sleep(0.5)")
    started = subprocess.Popen([sys.executable, "-c", parent])
    try:
        seen = proc.watch(started.pid)
    finally:
        started.wait()
    (span,) = seen.spans.values()
    assert 0.2 < span[0] < span[1] and span[1] - span[0] >= 0.7, span
    assert seen.tree_peak_shared >= (seen.last or 0) + (40 << 10), seen.tree_peak_shared
