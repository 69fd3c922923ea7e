"""A backup process killed (SIGKILL) at random points never leaves a bag that stays broken.

At every kill the bag either validates with the ``bagit`` library as it is, or was
killed inside the documented commit window (``disk.state``: the journal is then on the
disk) and validates after the next ``open_or_create`` repairs it. A final run completes
the backup with every file present and hashed right.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import bagit
import pytest

from brankas.core.disk import format as bagformat
from brankas.core.disk.bag import open_or_create
from brankas.core.disk.verify import verify

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX"),
              pytest.mark.slow]

CHILD = """
import os, signal, sys
from pathlib import Path
from brankas.core.disk.bag import Hooks, file_item, open_or_create

dest, src, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
items = [file_item(p.relative_to(src).as_posix(), p)
         for p in sorted(src.rglob("*")) if p.is_file()]
hooks = Hooks()
if mode == "kill-in-window":
    hooks = Hooks(committing=lambda: os.kill(os.getpid(), signal.SIGKILL))
print("started", flush=True)
with open_or_create(dest, label="Crash", organization="Dinas", software="Brankas test",
                    hooks=hooks) as bag:
    bag.add_files(items, checkpoint_files=7, checkpoint_seconds=0.02)
print("done", flush=True)
"""


def make_source(root: Path, count: int) -> dict[str, str]:
    rng = random.Random(8493)
    hashes = {}
    for i in range(count):
        rel = f"arsip/{('biasa', 'dikecualikan')[i % 2]}/pengiriman/{2020 + i % 4}/B-{i:04d}.pdf"
        data = rng.randbytes(500 + rng.randrange(6000))
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        hashes[rel] = hashlib.sha256(data).hexdigest()
    return hashes


def start(dest: Path, src: Path, mode: str = "normal") -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(dest), str(src), mode],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "started"
    return child


def check_after_kill(dest: Path, source: dict[str, str]) -> bool:
    """The bag is valid, or in the window and valid once reopened; True for the window."""
    if not (dest / "bagit.txt").exists():  # killed while the bag was being created
        assert not any(files for _, _, files in os.walk(dest / "data"))
        return False
    in_window = False
    try:
        bagit.Bag(str(dest)).validate()
    except bagit.BagValidationError:
        assert (dest / ".brankas-staging/commit.json").exists(), "invalid outside the window"
        in_window = True
        open_or_create(dest, label="x", organization="Dinas", software="Brankas test").close()
        bagit.Bag(str(dest)).validate()
    listed = bagformat.read_payload_manifest(dest)
    assert all(source[path] == digest for path, digest in listed.items())
    return in_window


def test_random_kills_never_leave_a_broken_bag(tmp_path: Path) -> None:
    src, dest = tmp_path / "src", tmp_path / "disk"
    source = make_source(src, 300)
    # How long the copying of an uninterrupted run takes here (from "started", the
    # interpreter's start-up left out), so that the kills spread over a run: each of the
    # eight runs is killed within an eighth of it, so the first ones cannot have finished.
    calibration = start(tmp_path / "calibration", src)
    began = time.monotonic()
    calibration.communicate(timeout=60)
    span = time.monotonic() - began
    rng = random.Random()
    kills = windows = 0
    for _ in range(8):
        child = start(dest, src)
        time.sleep(rng.uniform(0.0, span / 8))
        child.send_signal(signal.SIGKILL)
        child.communicate()
        kills += child.returncode == -signal.SIGKILL
        windows += check_after_kill(dest, source)
    assert kills >= 3, "the children finished before they could be killed"
    print(f"{kills} kills, {windows} inside the commit window")

    child = start(dest, src)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0 and out.strip() == "done"
    bagit.Bag(str(dest)).validate()
    assert bagformat.read_payload_manifest(dest) == source
    assert verify(dest).ok


def test_a_kill_inside_the_commit_window_is_repaired(tmp_path: Path) -> None:
    src, dest = tmp_path / "src", tmp_path / "disk"
    source = make_source(src, 20)
    child = start(dest, src, "kill-in-window")
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(dest)).validate()  # renamed into data/, not yet listed
    assert check_after_kill(dest, source)
    assert 0 < len(bagformat.read_payload_manifest(dest)) < len(source)  # the first batch

    child = start(dest, src)
    child.communicate(timeout=60)
    assert child.returncode == 0
    assert bagformat.read_payload_manifest(dest) == source
    bagit.Bag(str(dest)).validate()
