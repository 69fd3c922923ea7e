"""Usage errors in the user's language, as every other CLI error: ``brankas: <message>`` on
stderr, exit status 2.

Click words its own parsing errors in English ("Invalid value for '--classification'…",
"No such option…"), after a usage line. ``BrankasGroup`` catches them where click would
print them and words them from ``brankas.core.errors.MESSAGES`` instead, from what the
exception holds (the option, the value, the choices), so no English sentence of click's
is ever shown. A command that finds a usage problem itself raises ``Usage(code, ...)``.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from brankas.core import startup
from brankas.core.errors import message

USAGE_STATUS = 2

# An unknown value of these options is worded with the register's own message.
CHOICE_CODES = {"classification": "classification_invalid", "direction": "direction_invalid"}


class Usage(click.UsageError):
    """A usage error a command raises itself: a code of ``MESSAGES`` and its parameters."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.params = params
        super().__init__(message(code, "en", **params))

    def text(self) -> str:
        return message(self.code, **self.params)


def _option(exc: click.BadParameter) -> str:
    param = exc.param
    if param is None:
        return str(exc.param_hint or "")
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return (param.human_readable_name or param.name or "").upper()


def _value(text: str) -> str:
    """The value click quotes in its message (``'x' is not one of …``)."""
    found = re.search(r"(['\"])(.*?)\1", text)
    return found.group(2) if found else text


def usage_text(exc: click.UsageError) -> str:
    """The message of a usage error, in the user's language."""
    if isinstance(exc, Usage):
        return exc.text()
    if isinstance(exc, click.MissingParameter):
        return message("usage_missing", option=_option(exc))
    if isinstance(exc, click.BadParameter):
        option, param = _option(exc), exc.param
        if param is not None and isinstance(param.type, click.Choice):
            value = _value(exc.message)
            code = CHOICE_CODES.get(param.name or "")
            if code:
                return message(code, value=value)
            choices = ", ".join(str(c) for c in param.type.choices)
            return message("usage_choice", option=option, value=value, choices=choices)
        if param is not None and isinstance(param.type, (click.Path, click.File)):
            return message("usage_path", option=option, value=_value(exc.message))
        return message("usage_value", option=option, value=_value(exc.message))
    if isinstance(exc, click.NoSuchOption):
        return message("usage_no_option", option=exc.option_name)
    if type(exc).__name__ == "NoSuchCommand":
        return message("usage_no_command", command=getattr(exc, "command_name", ""))
    if isinstance(exc, click.BadOptionUsage):
        return message("usage_option", option=exc.option_name)
    text = exc.message
    extra = re.match(r"Got unexpected extra arguments? \((.*)\)", text)
    if extra:
        return message("usage_extra", args=extra.group(1))
    return message("usage_other", detail=text)


def _help_hint(exc: click.UsageError) -> str:
    command = exc.ctx.command_path if exc.ctx is not None else "brankas"
    return message("usage_help", command=command)


class CommandUnavailable(click.ClickException):
    """A command whose module could not be imported (exit status 1)."""

    exit_code = 1

    def __init__(self, command: str, module: str, exc: ImportError) -> None:
        self.params = {"command": command, "module": module, "detail": str(exc)}
        super().__init__(message("command_unavailable", "en", **self.params))

    def text(self) -> str:
        return message("command_unavailable", **self.params)


class LazyGroup(click.Group):
    """A group whose commands live in modules imported when a command is first asked for
    (``lazy``: command name -> the modules that define it and extend it): a call of one
    command does not import the others (CLI start-up, issue 15). ``--help`` and
    ``list_commands`` import them all."""

    lazy: dict[str, tuple[str, ...]] = {}

    def _load(self, name: str) -> None:
        import importlib

        for module in self.lazy.get(name, ()):
            try:
                importlib.import_module(module)
            except ImportError as exc:  # a broken install: say which command, which module
                raise CommandUnavailable(name, module, exc) from exc

    def load_all(self) -> None:
        for name in self.lazy:
            self._load(name)
        for command in self.commands.values():
            if isinstance(command, LazyGroup):
                command.load_all()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        # Every module named, even when the command exists already: a group defined in one
        # module (``key`` in users) is extended by others (keygrant, keylife...).
        self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_all()
        return super().list_commands(ctx)


class BrankasGroup(LazyGroup):
    """The ``brankas`` group: usage errors as ``brankas: ...`` in the user's language."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        standalone = kwargs.pop("standalone_mode", True)
        try:
            with startup.command_starting():
                done = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except click.UsageError as exc:
            click.echo(f"brankas: {usage_text(exc)}", err=True)
            click.echo(_help_hint(exc), err=True)
            if not standalone:
                raise
            sys.exit(USAGE_STATUS)
        except click.Abort:
            click.echo(f"brankas: {message('usage_aborted')}", err=True)
            if not standalone:
                raise
            sys.exit(1)
        except CommandUnavailable as exc:
            click.echo(f"brankas: {exc.text()}", err=True)
            if not standalone:
                raise
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"brankas: {message('usage_other', detail=exc.format_message())}",
                       err=True)
            if not standalone:
                raise
            sys.exit(exc.exit_code)
        if not standalone:
            return done
        # --help and --version end with their exit status; a command with its own.
        sys.exit(done if isinstance(done, int) else 0)
