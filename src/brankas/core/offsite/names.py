"""Names from and for the S3 server, checked: object keys, prefixes, the endpoint, the
bucket. A bucket is hostile input (docs/security.md): a key it lists may name anything."""

from __future__ import annotations

import re
import urllib.parse

from brankas.core import errors

KEY_MAX = 512  # our keys are short; S3 allows 1024 bytes

SEGMENT = re.compile(r"[A-Za-z0-9._~+=,@-]+")
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
PRINTABLE = re.compile(r"[\x21-\x7e]+")


def shown(text: object, limit: int = 80) -> str:
    """A hostile string made safe to show: ASCII, escaped, bounded."""
    safe = ascii(str(text))[1:-1]
    return safe if len(safe) <= limit else safe[:limit] + "..."


def check_key(key: str, *, limit: int = KEY_MAX) -> str:
    """``key`` when it is a safe relative object name; else a refusal. Segments of letters,
    digits and ``._~+=,@-`` joined by single slashes; no ``.``/``..`` segment."""
    if (not isinstance(key, str) or not 0 < len(key) <= limit
            or any(seg in (".", "..") or not SEGMENT.fullmatch(seg)
                   for seg in key.split("/"))):
        raise errors.IntegrityFailure("offsite_key_invalid", key=shown(key), limit=limit)
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix: a key, a key ending in ``/``, or nothing."""
    if prefix:
        check_key(prefix[:-1] if prefix.endswith("/") and len(prefix) > 1 else prefix)
    return prefix


def check_endpoint(endpoint: str) -> str:
    try:
        url = urllib.parse.urlsplit(endpoint)
        port_ok = url.port is None or 0 < url.port < 65536
    except ValueError:
        url, port_ok = None, False
    if (url is None or not port_ok or url.scheme not in ("http", "https") or not url.hostname
            or url.path not in ("", "/") or url.query or url.fragment or url.username
            or url.password):
        raise errors.InvalidInput("offsite_endpoint_invalid", endpoint=shown(endpoint))
    return f"{url.scheme}://{url.netloc}"


def check_bucket(bucket: str) -> str:
    if not BUCKET.fullmatch(bucket or "") or ".." in bucket:
        raise errors.InvalidInput("offsite_bucket_invalid", bucket=shown(bucket))
    return bucket
