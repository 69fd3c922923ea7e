"""Python code run in this process as a process of its own would run it against a data
folder: the environment, working folder and Django of ``tests/clirun.py``'s in-process
runner (Django set up from that environment by ``brankas.cli.runtime.setup_django``, the
database connections the code's own, everything put back afterwards).

For the steps a test only needs done, not proven in a fresh process (what a web process
does when a form is posted: a job recorded and queued), without a second of interpreter
and Django start-up each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from tests import clirun

T = TypeVar("T")


def call(fn: Callable[[], T], *, env: dict[str, str], cwd: Path, set_up: bool = True) -> T:
    """``fn()`` with Django set up from ``env`` (its data folder, its database), in ``cwd``;
    ``set_up=False``: ``fn`` sets Django up itself (``brankas.instance.start``), as in a
    fresh process."""
    with clirun._lock, clirun._isolated(env, cwd):
        if set_up:
            from brankas.cli.runtime import setup_django

            setup_django()
        return fn()
