"""Recovering an instance from a backup disk into a new home, all or nothing.

``recover(dest=DISK, home=NEW)`` builds the instance in a sibling folder
``.NEW.recovering-<random>`` (same parent, so the same file system) that carries a marker
file, and renames it to NEW only once it is complete. A kill at any moment leaves either
nothing at NEW or a finished instance; the sibling a killed run left is recognised by its
marker and removed by the next run, which then works. Nothing else is ever removed.

The rebuild needs Django set up on the new home, in a process that has not set it up on
another: ``brankas recover`` is such a process, and the drill starts one
(``recover_in_child``: ``python -m brankas.instance recover``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brankas.core.disk import fs as diskfs
from brankas.core.disk.reader import BagReader
from brankas.core.errors import SetupError
from brankas.core.fsutil import fsync_dir
from brankas.core.processes import module_env

if TYPE_CHECKING:
    from brankas.web.backup.recover import RecoverReport

MARKER = ".brankas-recovering"
PARENT_PID = "BRANKAS_PARENT_PID"  # set for the drill's child: it ends with the drill

Progress = Callable[[int, int, int, int], None]


def tie_to_parent() -> None:
    """A recover started by a drill (``BRANKAS_PARENT_PID``) ends when the drill's process
    ends, however it ends (Linux: ``PR_SET_PDEATHSIG``), instead of building an instance
    nobody will remove; where that is not available, the drill's folder is swept later."""
    parent = os.environ.get(PARENT_PID)
    if not parent or not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if str(os.getppid()) != parent:  # the drill ended before we could tie ourselves to it
        os._exit(1)


def check_target(home: Path) -> None:
    """NEW must be absent or an empty folder."""
    kind = diskfs.lkind(home)
    if kind is None:
        return
    if kind != "dir" or any(home.iterdir()):
        raise SetupError("recover_home_not_empty", path=str(home))


def _prefix(home: Path) -> str:
    return f".{home.name}.recovering-"


def _remove_leftovers(home: Path) -> None:
    """Siblings a killed recover into the same NEW left: real folders with our name and
    our marker file inside."""
    with contextlib.suppress(OSError):
        for entry in home.parent.iterdir():
            if (entry.name.startswith(_prefix(home)) and diskfs.lkind(entry) == "dir"
                    and diskfs.lkind(entry / MARKER) == "file"):
                shutil.rmtree(entry, ignore_errors=True)


def _django_is_set_up() -> bool:
    from django.conf import settings

    return bool(settings.configured)


@contextlib.contextmanager
def recover_into(home: Path) -> Iterator[Path]:
    """Set Django up on a new instance in a sibling of ``home`` (prepared, migrated, laid
    out; its database the home's SQLite file, or the empty database ``BRANKAS_DATABASE_URL``
    names); on a clean exit of the block, rename it to ``home``. On any error (or a kill)
    ``home`` is left as it was and the sibling removed: the rollback."""
    from brankas import instance

    if _django_is_set_up():
        raise RuntimeError("recovering into a new home needs a process of its own: Django "
                           "is already set up here (recover_in_child starts one)")
    parent = home.parent
    parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(home)
    temp = parent / f"{_prefix(home)}{uuid.uuid4().hex[:12]}"
    temp.mkdir(mode=0o700)
    try:
        (temp / MARKER).write_text(f"brankas recover into {home}\n", encoding="utf-8")
        os.environ["BRANKAS_HOME"] = str(temp)
        from brankas.core.register import store

        settings = instance.start()
        if settings.database_url:
            _check_database_empty(settings.database_url)
        instance.migrate()
        store.create_layout(settings)
        if settings.database_url:
            # The rebuilt instance's database is the (empty) one BRANKAS_DATABASE_URL names
            # (PostgreSQL): everything is written in one transaction, so a failure leaves
            # it empty again, as the removed folder leaves an SQLite instance.
            from django.db import transaction

            with transaction.atomic():
                yield temp
        else:
            yield temp
    except BaseException:
        _close_database()
        shutil.rmtree(temp, ignore_errors=True)
        raise
    _close_database()
    fsync_dir(temp)
    check_target(home)  # still absent or empty
    if diskfs.lkind(home) == "dir":
        home.rmdir()
    os.replace(temp, home)
    fsync_dir(parent)
    (home / MARKER).unlink()


def _check_database_empty(url: str) -> None:
    """The database ``BRANKAS_DATABASE_URL`` names holds no row and was not prepared by a
    newer Brankas, before it is migrated: a refused one is left as it was."""
    from django.db import connection

    from brankas.web.databases import migrations_unknown_here, rows_already_there, shown_url

    there = rows_already_there(connection)
    if there is not None:
        raise SetupError("recover_database_not_empty", url=shown_url(url), table=there[0],
                         rows=there[1])
    newer = migrations_unknown_here(connection)
    if newer:
        raise SetupError("migrate_db_target_newer", migration=newer[0], count=len(newer))


def _close_database() -> None:
    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()


@dataclass(frozen=True)
class RecoverSource:
    """A disk to recover from and the new home to recover into, both found usable."""

    reader: BagReader
    home: Path


def recover_source(*, dest: Path | str, home: Path | str) -> RecoverSource:
    """Check that the new home is absent or empty and open the disk (before anyone is
    asked for a passphrase)."""
    target = Path(home).expanduser().absolute()
    check_target(target)
    return RecoverSource(reader=BagReader(dest), home=target)


def recover(source: RecoverSource, *, identity_text: str | None = None,
            passphrase: str | None = None, fingerprint: str | None = None,
            allow_older: bool = False, allow_unsigned: bool = False,
            on_progress: Progress | None = None,
            shares: Sequence[tuple[str, str]] | None = None) -> RecoverReport:
    """Rebuild a whole instance (register, users, keys, archive, control lists) from the
    disk into the new, empty home, all or nothing (``recover_into``). The recovery
    identity (``identity_text``, or rebuilt in memory from recovery ``shares``: (name,
    typed words) pairs) or a key holder's passphrase unlocks the disk."""
    from brankas.core.disk.layout import disk_identities

    reader = source.reader
    if shares is not None:
        from brankas.core.keyring import shares as core_shares

        # No instance yet to compare with: a key that is not the office's opens no
        # snapshot, and the disk's seals are checked against the anchors as always.
        identities: list[Any] = [core_shares.identity(shares)]
        unlocked_with = "recovery shares"
    else:
        identities, unlocked_with = disk_identities(reader, passphrase=passphrase,
                                                    identity_text=identity_text)
    with recover_into(source.home):
        from brankas.web.backup.recover import instance_recover

        report = instance_recover(
            dest=reader.dest, identities=identities, unlocked_with=unlocked_with,
            secrets=[(unlocked_with, str(i)) for i in identities],
            fingerprint=fingerprint, allow_older=allow_older,
            allow_unsigned=allow_unsigned, on_progress=on_progress)
    report.home = str(source.home)
    return report


@dataclass(frozen=True)
class OffsiteSource:
    """The offsite copy to recover from (``brankas recover --from-offsite``): never a
    secret (the S3 keys stay in the credentials file, or the server's environment)."""

    url: str  # s3://BUCKET[/PREFIX]
    endpoint: str
    region: str = "us-east-1"
    credentials_file: str | None = None

    def args(self) -> list[str]:
        out = ["--from-offsite", self.url, "--endpoint", self.endpoint, "--region", self.region]
        return out + (["--credentials-file", self.credentials_file]
                      if self.credentials_file else [])


def recover_in_child(*, dest: Path | None, home: Path, passphrase: str | None = None,
                     fingerprint: str | None, identity_text: str | None = None,
                     allow_older: bool = False, allow_unsigned: bool = False,
                     on_progress: Progress | None = None, lang: str | None = None,
                     offsite: OffsiteSource | None = None) -> dict[str, Any]:
    """``recover`` in a process of its own (its own Django, its own database), as an
    office would run it: ``python -m brankas.instance recover``, tied to this process (it
    ends if this one does). A key holder's passphrase travels in the child's environment;
    the recovery identity (``identity_text``, rebuilt from shares) only through its
    standard input (``--identity-stdin``), never a file or the environment. With
    ``on_progress``, the child's progress lines are passed on as they come; ``lang`` (id,
    en) is the language of its refusal, else ``BRANKAS_LANG``. Returns its
    report as a dict with ``exit``; a refusal is ``ok`` false with the ``error`` it
    printed. With ``offsite`` (and no ``dest``), the rebuild is from the offsite copy
    (``brankas recover --from-offsite``)."""
    if (passphrase is None) == (identity_text is None):
        raise ValueError("recover_in_child: a passphrase or an identity, one of the two")
    env = module_env({k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")})
    env.update({"BRANKAS_LANG": lang or os.environ.get("BRANKAS_LANG", "id"),
                PARENT_PID: str(os.getpid())})
    if (dest is None) == (offsite is None):
        raise ValueError("recover_in_child: a disk or an offsite copy, one of the two")
    args = [sys.executable, "-m", "brankas.instance", "recover",
            *([str(dest)] if dest is not None else offsite.args() if offsite else []),
            "--home", str(home)]
    if passphrase is not None:
        env["BRANKAS_PASSPHRASE"] = passphrase
    else:
        args.append("--identity-stdin")
    if fingerprint is not None:
        args += ["--fingerprint", fingerprint]
    args += [flag for flag, on in (("--allow-older", allow_older),
                                   ("--allow-unsigned", allow_unsigned)) if on]
    if on_progress is None:
        proc = subprocess.run(args, env=env, capture_output=True, text=True,  # noqa: S603
                              check=False, input=identity_text)
        stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
    else:
        stdout, stderr, code = _run_with_progress([*args, "--progress"], env, identity_text,
                                                  on_progress)
    try:
        out: dict[str, Any] = json.loads(stdout)
    except ValueError:
        out = {"ok": False, "error": (stderr or stdout).strip()[-2000:]}
    out["exit"] = code
    return out


PROGRESS_PREFIX = "brankas-progress"


def _run_with_progress(args: list[str], env: dict[str, str], stdin_text: str | None,
                       on_progress: Progress) -> tuple[str, str, int]:
    """The child run with its standard error read line by line: its progress lines go to
    ``on_progress``, the rest is kept; its standard output is read by a thread of its own
    (a long report never blocks the child)."""
    import threading

    proc = subprocess.Popen(args, env=env, stdin=subprocess.PIPE,  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read()  # type: ignore[union-attr]
                                                        ), daemon=True)
    reader.start()
    assert proc.stdin is not None and proc.stderr is not None
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(stdin_text or "")
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.close()
    rest: list[str] = []
    for line in proc.stderr:
        parts = line.split()
        if len(parts) == 5 and parts[0] == PROGRESS_PREFIX and all(
                p.isdigit() for p in parts[1:]):
            a, b, c, d = (int(p) for p in parts[1:])
            on_progress(a, b, c, d)
        else:
            rest.append(line)
    code = proc.wait()
    reader.join()
    return "".join(out), "".join(rest), code


# -- recovering the instance this server runs on (the first-run page) ----------------------

@dataclass(frozen=True)
class Switched:
    """An instance recovered and put in place of the served one: its report, and where the
    instance it replaced (never set up) was set aside."""

    report: dict[str, Any]
    set_aside: str


def recover_in_place(*, dest: Path | str, passphrase: str | None = None,
                     identity_text: str | None = None, fingerprint: str | None = None,
                     allow_older: bool = False, allow_unsigned: bool = False,
                     on_progress: Progress | None = None, lang: str | None = None,
                     offsite: OffsiteSource | None = None) -> Switched:
    """Rebuild an instance from the disk and make it the one this process serves, with
    nothing typed and no restart: for the first-run page of an instance not set up yet.

    The rebuild runs in a child process (``recover_in_child``: Django is set up here on
    the served home) into a new folder beside the data folder. When the child has built
    it, this process closes its database connection, renames the served (empty) home
    aside and the rebuilt one into its place, and reads the rebuilt instance's secret:
    the settings name the same folder, so every later request (each opens its own
    connection) works on the recovered instance. A refusal (no disk, wrong passphrase,
    seals not the office's) leaves the served home as it was. With ``offsite`` (``dest``
    empty), the same from the offsite copy (``brankas recover --from-offsite``)."""
    import datetime as dt

    from django.conf import settings as django_settings

    from brankas.core import config

    settings = django_settings.BRANKAS
    _check_switchable(settings)
    home = Path(settings.home)
    # a folder that is no disk is refused before the child starts
    source = None if offsite is not None else BagReader(dest).dest
    _remove_half_built(home)  # what an earlier attempt, killed with its server, left
    built = home.parent / f".{home.name}.from-disk-{uuid.uuid4().hex[:12]}"
    report = recover_in_child(dest=source, home=built, passphrase=passphrase,
                              identity_text=identity_text, fingerprint=fingerprint,
                              allow_older=allow_older, allow_unsigned=allow_unsigned,
                              on_progress=on_progress, lang=lang, offsite=offsite)
    if diskfs.lkind(built) != "dir" or diskfs.lkind(built / MARKER) is not None:
        _remove_half_built(home)  # a child that died half-way has no rollback of its own
        return Switched(report=report, set_aside="")  # refused: nothing was built
    try:
        _check_switchable(settings)  # nobody set the office up meanwhile
    except SetupError:
        # refused: the rebuilt office (its register and archive) is not left beside it
        shutil.rmtree(built, ignore_errors=True)
        raise
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = home.parent / f".{home.name}.before-recover-{stamp}-{uuid.uuid4().hex[:6]}"
    from brankas.core.register import store
    from brankas.instance.gate import SERVED

    with SERVED.closed():  # no request opens the database while the homes change places
        _close_database()
        try:
            os.replace(home, aside)
        except OSError as exc:
            raise SetupError("recover_switch_failed", path=str(built),
                             reason=exc.strerror or str(exc)) from None
        try:
            os.replace(built, home)
        except OSError as exc:
            os.replace(aside, home)
            raise SetupError("recover_switch_failed", path=str(built),
                             reason=exc.strerror or str(exc)) from None
        fsync_dir(home.parent)
        secret = config.read_secret_key(settings)
        if secret:
            django_settings.SECRET_KEY = secret
        store.create_layout(settings)
    report["home"] = str(home)
    return Switched(report=report, set_aside=str(aside))


def _remove_half_built(home: Path) -> None:
    """The folders a rebuild beside ``home`` left when its process died (killed, out of
    memory, its server ended): ``.<home>.from-disk-*`` and their ``.recovering-*`` siblings
    that still hold the marker file. A complete rebuilt folder (no marker: the one a failed
    switch names to the user) is kept."""
    ours = (f".{home.name}.from-disk-", f"..{home.name}.from-disk-")
    with contextlib.suppress(OSError):
        for entry in home.parent.iterdir():
            if (entry.name.startswith(ours) and diskfs.lkind(entry) == "dir"
                    and diskfs.lkind(entry / MARKER) == "file"):
                shutil.rmtree(entry, ignore_errors=True)


def _check_switchable(settings: Any) -> None:
    from brankas.web.accounts.selectors import is_initialized

    if settings.database_url:
        raise SetupError("recover_needs_sqlite")
    if is_initialized():
        raise SetupError("recover_instance_set_up")
