"""The name a failed sign-in is recorded under, which never reveals what was typed.

People type their password into the user-name field (the focus was there, the name was
remembered by the browser). A sign-in for a name that is no user's is therefore recorded
as ``unknown:<tag>``, in the audit log and in django-axes's tables alike
(``AXES_USERNAME_CALLABLE``), never as the text typed. A name that is a user's is kept, so
the audit log names who failed and the per-user lockout works as before.

The tag is a keyed, slow hash of the text: Argon2id with the password hasher's own cost
(``hashers.BrankasArgon2PasswordHasher``) and a salt derived from the instance secret
(``config/secret_key``) by HMAC. The same wrong name always gives the same tag on this
instance, so repeated attempts group together (and lock, like a real name); the text
cannot be read back; and whoever holds both the database and the instance secret can only
test guesses against a tag as slowly as against a password hash.
"""

from __future__ import annotations

from typing import Any

from argon2.low_level import Type, hash_secret_raw
from django.utils.crypto import salted_hmac

from brankas.web.accounts.hashers import BrankasArgon2PasswordHasher

UNKNOWN_PREFIX = "unknown:"
TAG_BYTES = 8  # 16 hex digits: distinct wrong names never share a tag in practice
_CACHE = "_brankas_login_names"


def _tag(typed: str) -> str:
    salt = salted_hmac("brankas.accounts.unknown-username", "salt",
                       algorithm="sha256").digest()[:16]
    raw = hash_secret_raw(
        secret=typed.encode("utf-8"), salt=salt,
        time_cost=BrankasArgon2PasswordHasher.time_cost,
        memory_cost=BrankasArgon2PasswordHasher.memory_cost,
        parallelism=BrankasArgon2PasswordHasher.parallelism,
        hash_len=TAG_BYTES, type=Type.ID,
    )
    return raw.hex()


def login_name(typed: str, request: Any = None) -> str:
    """``typed`` when it is a user's name (exactly, as the sign-in matches it), otherwise
    ``unknown:<tag>``. With ``request``, the answer is kept on it: django-axes asks several
    times during one sign-in, and the slow hash is computed once."""
    if not typed:
        return ""
    cache: dict[str, str] | None = None
    if request is not None:
        cache = getattr(request, _CACHE, None)
        if cache is None:
            cache = {}
            setattr(request, _CACHE, cache)
        if typed in cache:
            return cache[typed]
    from brankas.web.accounts.models import User

    if User._default_manager.filter(username=typed).exists():
        name = typed
    else:
        name = UNKNOWN_PREFIX + _tag(typed)
    if cache is not None:
        cache[typed] = name
    return name


def axes_username(request: Any, credentials: dict[str, Any] | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the name django-axes stores and locks, as
    ``login_name`` gives it (the text typed for a user that does not exist never reaches
    axes's tables)."""
    typed: Any = None
    if credentials:
        typed = credentials.get("username")
    elif request is not None:
        data = getattr(request, "data", None) or getattr(request, "POST", None)
        if data is not None:
            typed = data.get("username")
    if typed is None:
        return None
    return login_name(str(typed), request)
