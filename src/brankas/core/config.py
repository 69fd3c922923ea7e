"""Typed settings read from the environment, one prefix: ``BRANKAS_``.

The data folder (``BRANKAS_HOME``) holds the SQLite database, the archive, the keys'
public files, a temporary folder on the same file system, and the instance secret.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from brankas.core import fsutil, sealing
from brankas.core.errors import SetupError
from brankas.core.terms import KEY_HOLDER_ROLES, REQUESTS_DIR

DEFAULT_HOME = "brankas-data"
DEFAULT_AGENDA_FORMAT = "{code}-{year}-{seq:04d}"


def _int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SetupError("config_invalid", name=name, detail="not a whole number") from None
    if value < minimum:
        raise SetupError("config_invalid", name=name, detail=f"below {minimum}")
    return value


def _roles(name: str, default: frozenset[str]) -> frozenset[str]:
    """A comma-separated list of key-holder roles (kasi, kabid, kadis)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    roles = frozenset(part.strip().lower() for part in raw.split(",") if part.strip())
    allowed = {role.value for role in KEY_HOLDER_ROLES}
    if not roles or not roles <= allowed:
        raise SetupError("config_invalid", name=name,
                         detail="a comma-separated list of kasi, kabid, kadis")
    return roles
def positive_int(name: str, default: int) -> int:
    """A whole-number ``BRANKAS_*`` setting of at least 1 (for settings read outside
    ``Settings``, such as the web session's idle timeout)."""
    return _int(name, default)


# What a report may print of an exempted document (BRANKAS_REPORT_EXEMPTED_FIELDS).
EXEMPTED_REPORT_FIELDS = ("agenda", "date", "classification", "correspondent", "number",
                          "subject")
DEFAULT_EXEMPTED_REPORT_FIELDS = frozenset({"agenda", "date", "classification",
                                            "correspondent"})


def _fields(name: str, default: frozenset[str]) -> frozenset[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    fields = frozenset(part.strip().lower() for part in raw.split(",") if part.strip())
    if not fields <= set(EXEMPTED_REPORT_FIELDS):
        raise SetupError("config_invalid", name=name,
                         detail="a comma-separated list of " + ", ".join(EXEMPTED_REPORT_FIELDS))
    return fields


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None
    max_file_mb: int
    max_upload_mb: int
    max_image_pixels: int
    debug: bool
    backup_max_age_days: int = 7  # the dashboard warns when the last backup is older
    # Roles whose key holders may read safe combinations (key-holder roles only).
    combination_roles: frozenset[str] = frozenset({"kabid"})
    custody_out_hours: int = 24  # the dashboard warns of a disk out of its safe longer
    verify_max_age_months: int = 6  # ... and of a disk not verified for longer
    key_check_months: int = 6  # ... and of a key holder who has not proved the passphrase
    request_max_open_hours: int = 24  # the dashboard flags requests to send open longer
    # What the messages report prints of an exempted document (never the subject by default).
    report_exempted_fields: frozenset[str] = DEFAULT_EXEMPTED_REPORT_FIELDS
    # Sealed register fields of exempted entries (issue 16, ``core.sealing``).
    sealed_fields: frozenset[str] = sealing.DEFAULT_SEALED
    unlock_idle_minutes: int = 15  # an unlocked key stays in server memory this long idle
    sealed_cache_max: int = 50_000  # decrypted values kept per unlocked session, at most
    sealed_warm: int = 10_000  # sealed subjects decrypted at unlock (newest first; 0: none)
    # s17 N: a backup writes a journal part instead of the whole snapshot once the disk's
    # full snapshot is this large, and the whole snapshot again after this many parts.
    journal_min_bytes: int = 4 << 20
    journal_max_parts: int = 16
    # s17 E: equipment and disk health (issue 17).
    smart_timeout_seconds: int = 20  # smartctl is given this long per call, then "unknown"
    smart_json: Path | None = None  # recorded smartctl --json output used instead of smartctl
    disk_full_runs: int = 5  # warn when a disk is full within this many more runs
    disk_max_age_months: int = 60  # warn of a backup disk in use longer

    @property
    def database_path(self) -> Path:
        return self.home / "brankas.sqlite3"

    @property
    def archive(self) -> Path:
        return self.home / "arsip"

    @property
    def tmp(self) -> Path:
        """Staging folder on the same file system as the archive (so renames are atomic)."""
        return self.home / "tmp"

    @property
    def keys(self) -> Path:
        return self.home / "keys"

    @property
    def requests(self) -> Path:
        """Letters attached to requests to send a message (not one of the four folders)."""
        return self.home / REQUESTS_DIR

    @property
    def secret_key_file(self) -> Path:
        return self.home / "config" / "secret_key"


def load() -> Settings:
    home = Path(os.environ.get("BRANKAS_HOME") or DEFAULT_HOME).expanduser().absolute()
    return Settings(
        home=home,
        database_url=os.environ.get("BRANKAS_DATABASE_URL") or None,
        max_file_mb=_int("BRANKAS_MAX_FILE_MB", 1024),
        max_upload_mb=_int("BRANKAS_MAX_UPLOAD_MB", 100),
        max_image_pixels=_int("BRANKAS_MAX_IMAGE_PIXELS", 300_000_000),
        debug=os.environ.get("BRANKAS_DEBUG", "") in {"1", "true", "yes"},
        backup_max_age_days=_int("BRANKAS_BACKUP_MAX_AGE_DAYS", 7),
        combination_roles=_roles("BRANKAS_COMBINATION_ROLES", frozenset({"kabid"})),
        custody_out_hours=_int("BRANKAS_CUSTODY_OUT_HOURS", 24),
        verify_max_age_months=_int("BRANKAS_VERIFY_MAX_AGE_MONTHS", 6),
        key_check_months=_int("BRANKAS_KEY_CHECK_MONTHS", 6),
        request_max_open_hours=_int("BRANKAS_REQUEST_MAX_OPEN_HOURS", 24),
        report_exempted_fields=_fields("BRANKAS_REPORT_EXEMPTED_FIELDS",
                                       DEFAULT_EXEMPTED_REPORT_FIELDS),
        sealed_fields=sealing.parse_fields(os.environ.get("BRANKAS_SEALED_FIELDS")),
        unlock_idle_minutes=_int("BRANKAS_UNLOCK_IDLE_MINUTES", 15),
        sealed_cache_max=_int("BRANKAS_SEALED_CACHE_MAX", 50_000),
        sealed_warm=_int("BRANKAS_SEALED_WARM", 10_000, minimum=0),
        journal_min_bytes=_int("BRANKAS_JOURNAL_MIN_BYTES", 4 << 20, minimum=0),
        journal_max_parts=_int("BRANKAS_JOURNAL_MAX_PARTS", 16, minimum=0),
        smart_timeout_seconds=_int("BRANKAS_SMART_TIMEOUT", 20),
        smart_json=(Path(os.environ["BRANKAS_SMART_JSON"]).expanduser()
                    if os.environ.get("BRANKAS_SMART_JSON") else None),
        disk_full_runs=_int("BRANKAS_DISK_FULL_RUNS", 5),
        disk_max_age_months=_int("BRANKAS_DISK_MAX_AGE_MONTHS", 60),
    )


def ensure_home(settings: Settings) -> None:
    """Create the data folder and its fixed folders, private to the owner (0700), and an
    empty SQLite database file (0600) for SQLite to fill: SQLite gives a new database the
    default mode (0644), and its ``-wal`` and ``-shm`` files take the database's mode.
    Idempotent and safe to race; existing files and folders are left as they are (``brankas
    init`` tightens them, ``fsutil.tighten``)."""
    for folder in (settings.home, settings.tmp, settings.keys, settings.secret_key_file.parent):
        fsutil.make_private_dir(folder)
    if settings.database_url is None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(settings.database_path, flags, fsutil.PRIVATE_FILE))


def read_secret_key(settings: Settings) -> str | None:
    """The Django secret of this instance as kept in the data folder, or None when it has
    not been made yet. Only reads (the settings call it on import)."""
    try:
        return settings.secret_key_file.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None


def secret_key(settings: Settings) -> str:
    """The Django secret of this instance, made once and kept in the data folder (the
    instance service's ``prepare`` makes it)."""
    path = settings.secret_key_file
    existing = read_secret_key(settings)
    if existing is not None:
        return existing
    ensure_home(settings)
    candidate = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, fsutil.PRIVATE_FILE)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(candidate)
    return candidate
