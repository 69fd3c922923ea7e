"""A process's start-up, as plain Python (CLI start-up, issue 15).

Setting Django up makes a few hundred thousand objects that live as long as the process
(modules, classes, models). The cyclic garbage collector, left on, walks them again and
again while they are made and once more at exit, for nothing: about a tenth of a short
command's CPU time. ``collector_paused`` pauses it while the set-up runs, then moves what
the set-up made to the collector's permanent generation (``gc.freeze``: never walked
again, never freed before exit) and resumes it. Reference counting frees everything else
as always; the collector is on for all the work the process does after its set-up.

Before the set-up, a command's own start (its modules, the password check's import of
``django.contrib.auth``, about 0.1 CPU-s) made the same kind of objects with the collector
running 100-odd times over them (s20: ~0.025 CPU-s of an offsite push). ``command_starting``
raises the collector's first threshold for that stretch (the ``brankas`` group's ``main``):
it still runs, rarely, so a command that never sets Django up stays bounded; the set-up's
``collector_paused`` (or the command's end) puts the threshold back.

A process's end (s22): the interpreter's teardown after a command (freeing every module,
class and object one by one, a last collection) cost a no-change offsite push ~0.02 CPU-s
on its main thread, after its result was printed. ``brankas``'s own process (``python -m
brankas``: ``own_process``) ends a command that says its work is over with nothing left
open (``finished_cleanly``: its transactions committed, its files closed, its result
written) by ``leave``: the standard streams flushed, the ``atexit`` handlers run (logging's
shutdown, temporary folders' clean-up), then ``os._exit``. Anything else (a failure, a
command that did not say so, a thread still running, a stream that cannot be flushed)
ends as it always did. A command run in-process (a test, the web's worker) never leaves.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

START_THRESHOLD = 100_000  # allocations between two young collections while a command starts
_held: list[tuple[int, int, int]] = []  # the thresholds command_starting replaced
_own = False  # this process is ``brankas``'s own (``python -m brankas``)
_finished = False  # the running command said its work is over, nothing left open


@contextmanager
def command_starting() -> Iterator[None]:
    """A command's start, up to its Django set-up: the collector's first threshold raised
    (``START_THRESHOLD``), put back by ``collector_paused`` or at the end, whichever first."""
    if _held:  # nested (a command calling another in-process)
        yield
        return
    _held.append(gc.get_threshold())
    gc.set_threshold(START_THRESHOLD, *_held[0][1:])
    try:
        yield
    finally:
        started()


def started() -> None:
    """The command's start is over: the collector's thresholds as they were."""
    if _held:
        gc.set_threshold(*_held.pop())


@contextmanager
def collector_paused(*, freeze: bool = True) -> Iterator[None]:
    """Pause the cyclic garbage collector for a process's one-time set-up, then freeze
    what it made (unless not ``freeze``: a load an in-process caller's objects share,
    which stay collectable) and resume the collector (if it was on)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        started()
        if was_on:
            gc.enable()


def own_process() -> None:
    """This process is ``brankas``'s own (its ``__main__``): nothing but the command runs
    in it, so what the command loads may be frozen, and it may ``leave``."""
    global _own
    _own = True


def is_own_process() -> bool:
    return _own


def finished_cleanly() -> None:
    """The running command's work is over and nothing it opened is left for the
    interpreter's teardown to close or flush (every transaction committed, every file
    closed, its result written to the standard streams): its own process may ``leave``."""
    global _finished
    _finished = True


def leave(code: object) -> None:
    """End ``brankas``'s own process without the interpreter's teardown, when the command
    ``finished_cleanly`` with ``code`` 0 and no other thread runs: the standard streams
    flushed, the ``atexit`` handlers run, then ``os._exit(0)``. Otherwise (or if a stream
    cannot be flushed: a closed pipe) return, and the process ends as it always did."""
    if not (_own and _finished and code in (0, None)) or threading.active_count() != 1:
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):  # a closed pipe, a closed stream: the usual exit says so
        return
    atexit._run_exitfuncs()  # as the interpreter would: logging's shutdown, finalizers
    status = 0
    try:
        for stream in (sys.stdout, sys.stderr):  # anything an exit handler wrote
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        status = 120  # as the interpreter's own exit when it cannot flush a stream
    os._exit(status)
