"""The served home's gate: requests wait while a recover on the first-run page swaps the
rebuilt home into the served one's place (``recovering.recover_in_place``).

The swap renames the served home aside and the rebuilt one into its place; a request that
opened the database in between met a missing folder or a moved write-ahead log ("disk I/O
error", a 500) and the recover page's polling stopped on it. Every request passes the gate
(``brankas.web.ui.middleware.SwitchGateMiddleware``, first in the chain); ``closed()``
waits until the requests already inside are done (at most ``DRAIN_SECONDS``), holds new
ones at the gate (at most ``WAIT_SECONDS``) for the few milliseconds of the swap, then lets
them through onto the rebuilt home. A plain condition variable: no library does this.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

DRAIN_SECONDS = 10.0  # how long a swap waits for the requests already inside
WAIT_SECONDS = 30.0  # how long a request waits at a closed gate before going on anyway


class Gate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._inside = 0
        self._closed = False

    @contextmanager
    def request(self, wait: float = WAIT_SECONDS) -> Iterator[None]:
        """One request, through the gate: it waits while the gate is closed."""
        with self._cond:
            self._cond.wait_for(lambda: not self._closed, timeout=wait)
            self._inside += 1
        try:
            yield
        finally:
            with self._cond:
                self._inside -= 1
                self._cond.notify_all()

    @contextmanager
    def closed(self, drain: float = DRAIN_SECONDS) -> Iterator[None]:
        """The gate closed around a swap: entered once the requests inside are done."""
        with self._cond:
            self._closed = True
            self._cond.wait_for(lambda: self._inside == 0, timeout=drain)
        try:
            yield
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()

    @property
    def inside(self) -> int:
        with self._cond:
            return self._inside


SERVED = Gate()  # the gate of the home this process serves
