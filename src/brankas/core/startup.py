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
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

START_THRESHOLD = 100_000  # allocations between two young collections while a command starts
_held: list[tuple[int, int, int]] = []  # the thresholds command_starting replaced


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
