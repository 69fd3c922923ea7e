"""The one way a command writes the file named by ``--out``.

A command's ``--out`` file is the user's: it is never overwritten, and it appears whole or
not at all. ``out_file`` refuses an existing file before anything is made (so a refused
export or print is not audited as done), streams into a hidden temporary file beside the
target (``.<name>.<random>.part``: the same folder, so the final rename is atomic, and a
plaintext document never rests anywhere else), fsyncs it and gives it the target's name
only at the end, without replacing a file that appeared meanwhile. On any error, or
Ctrl-C, the temporary file is removed and the target does not exist.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from brankas.core import fsutil
from brankas.core.errors import Conflict, SetupError

PART_SUFFIX = ".part"


def out_path(out: str | Path) -> Path:
    """The ``--out`` file as an absolute path; refused when it already exists."""
    target = Path(out).expanduser().absolute()
    if target.exists() or target.is_symlink():
        raise Conflict("output_exists", path=str(out))
    return target


def _partial_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}{PART_SUFFIX}")


def _place(partial: Path, target: Path, shown: str) -> None:
    """Give the complete ``partial`` the target's name, never over an existing file."""
    if os.name == "nt":
        try:
            os.rename(partial, target)  # Windows: refuses an existing target
        except FileExistsError:
            raise Conflict("output_exists", path=shown) from None
        return
    try:
        os.link(partial, target)  # atomic, and fails when the target exists
    except FileExistsError:
        raise Conflict("output_exists", path=shown) from None
    except OSError:  # a file system without hard links (FAT, exFAT): check, then rename
        if target.exists() or target.is_symlink():
            raise Conflict("output_exists", path=shown) from None
        os.replace(partial, target)
        return
    partial.unlink()


def _unwritable(exc: OSError, target: Path, shown: str) -> SetupError:
    if exc.errno == errno.ENOSPC:
        return SetupError("disk_full", path=str(target.parent))
    return SetupError("output_unwritable", path=shown,
                      reason=exc.strerror or type(exc).__name__)


@contextlib.contextmanager
def out_file(out: str | Path) -> Iterator[BinaryIO]:
    """Write ``--out``: yields a file to stream into; the target appears when the block ends
    without an error, and is refused before the block runs when it exists. Folders missing
    on the way are made (private)."""
    shown = str(out)
    target = out_path(out)
    partial = _partial_name(target)
    try:
        fsutil.make_private_dir(target.parent)
        fh = fsutil.open_private(partial)
    except OSError as exc:
        raise _unwritable(exc, target, shown) from exc
    try:
        with fh:
            try:
                yield fh
            except OSError as exc:  # the block's own errors pass, but a full disk is named
                if exc.errno == errno.ENOSPC:
                    raise _unwritable(exc, target, shown) from exc
                raise
            try:
                fh.flush()
                os.fsync(fh.fileno())
            except OSError as exc:
                raise _unwritable(exc, target, shown) from exc
        try:
            _place(partial, target, shown)
            fsutil.fsync_dir(target.parent)
        except OSError as exc:
            raise _unwritable(exc, target, shown) from exc
    finally:
        partial.unlink(missing_ok=True)
