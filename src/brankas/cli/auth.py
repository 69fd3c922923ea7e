"""The acting user of a command: ``--user/--password-file`` or BRANKAS_USER/BRANKAS_PASSWORD."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from brankas.cli.runtime import ensure_initialized, read_secret_file
from brankas.core.errors import AuthenticationFailed

F = TypeVar("F", bound=Callable[..., Any])


def acting_user(fn: F) -> F:
    """Add ``--user`` and ``--password-file`` and pass the authenticated ``actor``."""
    return _acting_user(fn, "--password-file")


def acting_user_with(password_option: str) -> Callable[[F], F]:
    """As ``acting_user``, for a command whose ``--password-file`` means something else
    (``user add``: the new user's password, as the CLI contract says)."""
    return lambda fn: _acting_user(fn, password_option)


def _command_name() -> str:
    """``brankas user list``, whatever the program was called (``python -m brankas``)."""
    names = []
    ctx: click.Context | None = click.get_current_context()
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["brankas", *reversed(names)])[:200]


def _check_ahead(name: str, password: str) -> None:
    """Begin the password check on the second core while Django sets up
    (``accounts.early``); any problem is left for the sign-in to meet and report as it
    always did."""
    with contextlib.suppress(Exception):
        from brankas.web.accounts import early

        early.begin(name, password)


def _acting_user(fn: F, password_option: str) -> F:
    @click.option(
        "--user", "acting_username", metavar="USERNAME", help="Acting user (or BRANKAS_USER)."
    )
    @click.option(
        password_option,
        "password_file",
        type=click.Path(dir_okay=False),
        help="File whose first line is the acting user's password (or BRANKAS_PASSWORD).",
    )
    @functools.wraps(fn)
    def wrapper(
        *args: Any, acting_username: str | None, password_file: str | None, **kwargs: Any
    ) -> Any:
        name = acting_username or os.environ.get("BRANKAS_USER")
        # A password given without a prompt is read once, here (a file may give its text
        # only once: a pipe, ``<(...)``), and its check begun early; a problem reading it
        # is reported where it always was, after the set-up.
        given: tuple[str | None, BaseException | None] | None = None
        if name and (password_file or os.environ.get("BRANKAS_PASSWORD")):
            try:
                given = (read_secret_file(password_file, "BRANKAS_PASSWORD", ""), None)
            except Exception as exc:  # noqa: BLE001 - raised again below, in its turn
                given = (None, exc)
            if given[0]:
                _check_ahead(name, given[0])
        ensure_initialized()
        from brankas.web.accounts.services import user_authenticate

        if given is None:
            password = read_secret_file(password_file, "BRANKAS_PASSWORD",
                                        "Kata sandi / Password")
        elif given[1] is not None:
            raise given[1]
        else:
            password = given[0]
        if not name or password is None:
            raise AuthenticationFailed("auth_required")
        actor = user_authenticate(username=name, password=password)
        from brankas.web.accounts.totp import totp_check

        totp_check(user=actor, token=os.environ.get("BRANKAS_TOTP"), via="brankas-cli")
        if actor.must_change_password:  # reset by the admin: `brankas user password` first
            from brankas.web.audit.guard import DENIED
            from brankas.web.audit.services import audit_record

            audit_record(actor=actor.username, action=DENIED, target=_command_name(),
                         outcome="denied",
                         detail={"error": "password_change_required", "via": "cli"})
            raise AuthenticationFailed("password_change_required")
        return fn(*args, actor=actor, **kwargs)

    return wrapper  # type: ignore[return-value]
