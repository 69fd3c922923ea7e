"""Search folders for a marker: the plaintext-leak tests' scanner (shared by CLI and web).

Built on ``os.walk``, which skips folders that vanish or cannot be read while it walks: a
shared /tmp changes under our feet (other processes create and delete files there).
"""

from __future__ import annotations

import os
from pathlib import Path

CHUNK = 1 << 20
SHARED_TEMP = (Path("/tmp"), Path("/var/tmp"))


def file_contains(path: Path, marker: bytes) -> bool:
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if marker in tail + chunk:
                return True
            tail = chunk[-len(marker):]
    return False


def scan_for(marker: bytes, roots: list[Path] | tuple[Path, ...], *,
             since: float | None = None, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Files under ``roots`` that contain ``marker``. With ``since``, files last written
    before that time are skipped (a leak from a test is written during it), which keeps a
    scan of a shared /tmp fast. Files under ``exclude`` (the test's own source) are skipped."""
    hits: list[Path] = []
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = Path(folder, name)
                if any(path.is_relative_to(x) for x in exclude):
                    continue
                try:
                    if path.is_symlink() or not path.is_file():
                        continue
                    if since is not None and path.stat().st_mtime < since:
                        continue
                    if file_contains(path, marker):
                        hits.append(path)
                except OSError:  # vanished, unreadable, a socket…
                    continue
    return hits
