"""Folders typed by a user (a backup disk's folder, a restore target, an old archive to
import): untrusted text, checked before any work starts.

A folder inside the data folder (``BRANKAS_HOME``) is refused: the archive, the database and
the keys' files live there, and reading it as a disk or writing a restore into it would mix
the office's own files with what the user meant elsewhere. The services call these checks
(the command line and the pages alike); the pages call them again while the form is still on
screen, so that a refusal shows beside the field instead of on a failed job.
"""

from __future__ import annotations

import os
from pathlib import Path

from brankas.core.errors import SetupError
from brankas.web.runtime import brankas_settings


def _absolute(path: Path | str) -> Path:
    return Path(os.path.expanduser(str(path))).absolute()


def _real(path: Path) -> Path:
    """``path`` with its links resolved as far as it exists (the rest kept as typed)."""
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError):  # a link loop: compare as typed
        return path


def _within(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or lies in it, as typed or with links resolved."""
    return any(p == f or f in p.parents
               for p, f in ((path, folder), (_real(path), _real(folder))))


def outside_home(path: Path | str) -> Path:
    """``path`` made absolute; ``path_inside_home`` when it is the data folder or lies in it
    (also through a link)."""
    given = _absolute(path)
    home = _absolute(brankas_settings().home)
    if _within(given, home):
        raise SetupError("path_inside_home", path=str(given), home=str(home))
    return given


def existing_folder(path: Path | str) -> Path:
    """A folder to read (a backup disk, an archive to import): it exists, is a folder, and
    is outside the data folder."""
    given = outside_home(path)
    try:
        folder = given.is_dir()
    except OSError:  # a name too long, a folder not readable: not an error of the server
        raise SetupError("path_unusable", path=str(given)) from None
    if not folder:
        raise SetupError("path_not_folder", path=str(given))
    return given


def empty_target(path: Path | str) -> Path:
    """A folder to write into (a restore): absent or empty, and outside the data folder.
    Nothing is made here (the service makes it when the work starts)."""
    given = outside_home(path)
    try:
        taken = given.exists() and (not given.is_dir() or any(given.iterdir()))
    except OSError:
        raise SetupError("path_unusable", path=str(given)) from None
    if taken:
        raise SetupError("restore_target_not_empty", path=str(given))
    return given


def off_disk(target: Path | str, disk: Path | str) -> None:
    """``restore_target_on_disk`` when the folder to write into is the backup disk's folder
    or lies in it (also through a link): a disk is append-only, every file on it listed in
    its manifest."""
    given, base = _absolute(target), _absolute(disk)
    if _within(given, base):
        raise SetupError("restore_target_on_disk", path=str(given), dest=str(base))
