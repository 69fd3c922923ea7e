"""``python -m tests.cli.keys.killpoint ARGS...``: the real ``brankas`` command, killed
(SIGKILL, by itself) at a chosen point of a grant's group recording, for the kill tests.

``BRANKAS_TEST_KILL=module:attribute:N:when`` wraps that function (once Django is set up;
``attribute`` may name a method, ``Class.method``);
at its N-th call (counted in every thread: the fsync threads count) the process kills
itself ``before`` the call, ``after`` it, or at the ``commit`` of the transaction it ran
in (the moment between the commit and what follows it). ``BRANKAS_TEST_SEALED_ROWS`` sets
``grants.SEALED_ROWS_MEANWHILE`` (1: the group fsync runs in its thread beside the sealed
values' steps). ``install(env)`` does the same in a process whose Django is already set
up: a child of the fork server (tests/hostile_disk/forkcli.py) given those variables."""

from __future__ import annotations

import importlib
import os
import signal
import threading
from collections.abc import Mapping
from typing import Any


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install(env: Mapping[str, str]) -> None:
    spec = env.get("BRANKAS_TEST_KILL", "")
    rows = env.get("BRANKAS_TEST_SEALED_ROWS")
    if rows:
        from brankas.web.keys import grants

        grants.SEALED_ROWS_MEANWHILE = int(rows)
    if not spec:
        return
    module_name, attr, nth, when = spec.split(":")
    owner: Any = importlib.import_module(module_name)
    *path, attr = attr.split(".")
    for name in path:  # Class.method: the class's attribute is wrapped
        owner = getattr(owner, name)
    real = getattr(owner, attr)
    calls = [0]
    lock = threading.Lock()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls[0] += 1
            hit = calls[0] == int(nth)
        if hit and when == "before":
            _die()
        result = real(*args, **kwargs)
        if hit and when == "after":
            _die()
        if hit and when == "commit":
            from django.db import transaction

            transaction.on_commit(_die)
        return result

    setattr(owner, attr, wrapper)


def main() -> None:
    import django

    real_setup = django.setup

    def setup(*args: Any, **kwargs: Any) -> None:
        real_setup(*args, **kwargs)
        install(os.environ)

    django.setup = setup  # type: ignore[assignment]
    from brankas.cli import main as brankas_main

    brankas_main()


if __name__ == "__main__":
    main()
