"""An audit segment child for tests (``segments.CHILD_MODULE``) that pauses part-way at a
known point: after ``PAUSE_AT`` pieces of lines (a fifth of a megabyte of its file written
with ``EARLY_BATCH`` at 5) it creates the file named by ``TEST_SEGMENT_PAUSED`` (outside
the disk) and stops itself (SIGSTOP; where there is none, it sleeps), so that a test finds
it half-way however loaded the machine is. A thread of the run watching its file grow, and
stopping it then, came too late under load: the child had written its whole file and
ended (CI, s27)."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from brankas.web.backup import segmentproc

PAUSE_AT = 200
_real = segmentproc.lines_from


def lines_from(*args: Any, **kwargs: Any) -> Iterator[bytes]:
    for i, piece in enumerate(_real(*args, **kwargs)):
        if i == PAUSE_AT:
            Path(os.environ["TEST_SEGMENT_PAUSED"]).write_text(str(os.getpid()))
            if hasattr(signal, "SIGSTOP"):
                os.kill(os.getpid(), signal.SIGSTOP)
            else:
                time.sleep(3600)
        yield piece


def paused(marker: Path, seconds: float = 60) -> bool:
    """Whether the child said it paused (``marker`` made) within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if marker.exists():
            return True
        time.sleep(0.005)
    return False


if __name__ == "__main__":
    segmentproc.lines_from = lines_from
    sys.exit(segmentproc.main())
