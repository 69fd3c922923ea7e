"""A size-limited tmpfs, the test's stand-in for a full backup disk."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def mount_tmpfs(mountpoint: Path, size: str) -> None:
    """Mount a tmpfs of ``size`` at ``mountpoint`` (made here); skip, with the reason,
    where mounting is not permitted (not root, not Linux, a container without the right)."""
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root on Linux")
    mountpoint.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                             str(mountpoint)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


def leave_free(mountpoint: Path, pages: int) -> None:
    """Fill the tmpfs at ``mountpoint`` (a file ``filler`` there) until only ``pages``
    pages of 4 KiB are free: a disk that fills up part-way through what is written next."""
    import shutil

    free = shutil.disk_usage(mountpoint).free
    with open(mountpoint / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - pages * 4096))
