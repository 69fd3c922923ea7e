"""The office's S3 credentials: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` (and
``AWS_SESSION_TOKEN``) of the environment, or a standard AWS shared-credentials file the
office names. Brankas keeps only the file's path; the secret goes to the S3 client and
nowhere else (no message, no log, no database)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from brankas.core import errors
from brankas.core.offsite.names import shown


def credentials(credentials_file: str | None,
                profile: str = "default") -> tuple[str, str, str | None]:
    """(access key, secret key, session token or None)."""
    if credentials_file:
        return credentials_from_file(Path(credentials_file), profile)
    key = os.environ.get("AWS_ACCESS_KEY_ID", "").strip()
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
    if key and secret:
        return key, secret, os.environ.get("AWS_SESSION_TOKEN", "").strip() or None
    raise errors.SetupError("offsite_credentials_missing")


def credentials_from_file(path: Path, profile: str) -> tuple[str, str, str | None]:
    """The standard AWS shared-credentials INI file. Refused when other users may read it
    (POSIX), as ssh refuses a private key. Parse errors never quote the file (the secret)."""
    def refuse(detail: tuple[str, str]) -> errors.SetupError:
        return errors.SetupError("offsite_credentials_file", path=str(path), detail=detail)

    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise refuse(("bukan berkas biasa", "not a regular file"))
        if info.st_size > 64 * 1024:
            raise refuse(("terlalu besar", "too large"))
        if os.name == "posix" and info.st_mode & 0o077:
            raise errors.SetupError("offsite_credentials_file_open", path=str(path))
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise refuse(("tidak ditemukan", "not found")) from exc
    except OSError as exc:
        raise refuse(("tidak dapat dibaca", "unreadable")) from exc
    # A decoding or parsing error holds the file's text (the secret): refused outside the
    # except clause, so that it is not even the refusal's __context__.
    import configparser  # (here: only an office naming a credentials file reads one)

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(raw.decode("utf-8"))
        problem = None
    except (UnicodeDecodeError, configparser.Error):
        problem = ("bukan format berkas kredensial AWS (INI, UTF-8)",
                   "not in the AWS credentials file format (INI, UTF-8)")
    if problem:
        raise refuse(problem)
    if not parser.has_section(profile):
        raise refuse((f"tidak ada bagian [{shown(profile)}]",
                       f"no [{shown(profile)}] section"))
    section = parser[profile]
    key = section.get("aws_access_key_id", "").strip()
    secret = section.get("aws_secret_access_key", "").strip()
    if not key or not secret:
        raise refuse(("aws_access_key_id atau aws_secret_access_key kosong",
                      "aws_access_key_id or aws_secret_access_key is empty"))
    return key, secret, section.get("aws_session_token", "").strip() or None
