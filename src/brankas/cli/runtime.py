"""Starting Django for a command, and turning library errors into one clean CLI error."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from brankas.core.errors import BrankasError, SetupError

F = TypeVar("F", bound=Callable[..., Any])


# The commands whose process needs the job queue's apps (``instance.QUEUE_APPS``): they
# migrate a database or copy every table. ``serve`` and ``worker`` start the instance
# themselves, with them. Every other command is set up without (CLI start-up, issue 15);
# one that migrated would fail loudly (``instance.migrate``), never leave a partial schema.
# The same commands keep the web-only apps and Django's default logging (``serve`` serves
# the pages; the others migrate, as the web does); every other command serves no page
# and renders no template: ``instance.start(web=False)``.
QUEUE_COMMANDS = frozenset({"init", "migrate-db", "serve", "worker"})


def _command_wants_queue() -> bool:
    ctx = click.get_current_context(silent=True)
    if ctx is None:  # called outside a command (a caller of its own): as Django's default
        return True
    return ctx.find_root().invoked_subcommand in QUEUE_COMMANDS


def setup_django() -> None:
    """Prepare the data folder and set Django up on it (the instance service's ``start``)."""
    from brankas import instance

    whole = _command_wants_queue()
    instance.start(queue=whole, web=whole)
    # Django's own sentences (a password or a user name refused by its validators) in the
    # language of every other message (BRANKAS_LANG), not the web's default.
    from django.utils import translation

    from brankas.core.errors import current_language

    translation.activate(current_language())


def ensure_initialized() -> None:
    setup_django()
    from django.conf import settings

    from brankas.web.accounts.selectors import is_initialized

    brankas = settings.BRANKAS
    if not brankas.database_url and not brankas.database_path.exists():
        raise SetupError("not_initialized", home=str(brankas.home))
    from django.db.utils import OperationalError, ProgrammingError

    try:
        ready = is_initialized()
    except (OperationalError, ProgrammingError):  # no table yet (SQLite; PostgreSQL)
        # (a file that is not a database at all stays a crash, not "not set up")
        ready = False
    if not ready:
        raise SetupError("not_initialized", home=str(brankas.home))


def fail(message: str, code: int = 1) -> None:
    click.echo(f"brankas: {message}", err=True)
    sys.exit(code)


# What SQLite and PostgreSQL say of a table or column a migration has not made yet.
_MISSING_SCHEMA = ("no such table", "no such column", "does not exist")


def _outdated_schema(exc: Exception) -> SetupError | None:
    """A database error that means the schema is older than this Brankas (a command run
    after an upgrade, before ``serve`` or ``worker`` migrated the database), as a clear
    refusal; None for any other error (which stays a crash, with its traceback)."""
    from django.db.utils import OperationalError, ProgrammingError

    if not isinstance(exc, (OperationalError, ProgrammingError)):
        return None
    text = str(exc).splitlines()[0] if str(exc) else ""
    if not any(words in text for words in _MISSING_SCHEMA):
        return None
    from brankas import instance

    if not instance.migrations_pending():
        return None
    from django.conf import settings

    return SetupError("database_outdated", home=str(settings.BRANKAS.home), detail=text[:200])


def handles_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BrankasError as exc:
            fail(exc.message())
        except Exception as exc:
            outdated = _outdated_schema(exc)
            if outdated is None:
                raise
            fail(outdated.message())
        except KeyboardInterrupt:
            fail("dibatalkan / interrupted", 130)

    return wrapper  # type: ignore[return-value]


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def emit(data: Any, as_json: bool, text: str) -> None:
    """A command's result: ``data`` as JSON (``--json``), else ``text`` for a person."""
    if as_json:
        emit_json(data)
    else:
        click.echo(text)


def emit_rows(rows: list[dict[str, Any]], as_json: bool,
              line: Callable[[dict[str, Any]], str]) -> None:
    """A list command's output: the rows as JSON (``--json``), else one line a row."""
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(line(row))


def read_text_file(path: str) -> str:
    """A small text file the user names (an identity, a summary), or a usage error."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        from brankas.cli.usage import Usage

        raise Usage("usage_read_file", path=path,
                    detail=getattr(exc, "strerror", None) or str(exc)) from None


def read_secret_file(
    path: str | None, env: str, prompt: str, *, confirm: bool = False
) -> str | None:
    """A secret from a file (first line), an environment variable, or a hidden prompt."""
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            from brankas.cli.usage import Usage

            raise Usage("usage_read_file", path=path, detail=exc.strerror or str(exc)) from None
        return text.splitlines()[0] if text else ""
    if os.environ.get(env):
        return os.environ[env]
    if sys.stdin.isatty():
        return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return None



class SharesOption(click.Option):
    """An option that takes several values after one flag: ``--shares A B C`` takes every
    following argument up to the next option (or ``--``), and ``--shares A --shares B``
    adds up; the value is a tuple of ``Path``, empty when the option is not given.

    Click has no variadic options (``nargs=-1`` is for arguments only), so the option is
    registered as ``multiple`` and its parser entry, after taking its first value, takes
    the arguments that follow as further values. Put a positional argument before the
    option, or after ``--``: ``recover DEST --shares A B`` or ``--shares A B -- DEST``."""

    def __init__(self, param_decls: Sequence[str] | None = None, **attrs: Any) -> None:
        attrs.setdefault("multiple", True)
        attrs.setdefault("type", click.Path(exists=True, dir_okay=False, path_type=Path))
        attrs.setdefault("metavar", "SHARE_FILE...")
        super().__init__(param_decls, **attrs)
        if not self.multiple or self.nargs != 1 or self.is_flag:
            raise TypeError("SharesOption is multiple, with one value at a time")

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        # The parser entry (click's private ``_Option``) of our spellings; one for all.
        entry = next(table[name] for name in self.opts
                     for table in (parser._long_opt, parser._short_opt) if name in table)
        take_one = entry.process
        prefixes = parser._opt_prefixes

        def take_following(value: Any, state: Any) -> None:
            take_one(value, state)
            while state.rargs:
                following = state.rargs[0]
                if following == "--" or (following[:1] in prefixes and len(following) > 1):
                    break
                take_one(state.rargs.pop(0), state)

        entry.process = take_following


def local_time(value: str | None) -> str:
    """An ISO moment (as ``--json`` gives it) as a line of text shows it: ``YYYY-MM-DD
    HH:MM`` in the office's time zone (``BRANKAS_TIME_ZONE``), as the web pages do."""
    if not value:
        return "-"
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    moment = parse_datetime(value)
    if moment is None:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")
