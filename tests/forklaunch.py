"""The fork launcher of the concurrency tests (tests/cli/test_concurrency*.py): one process
sets Django up once, then forks a child for each group of work; every child waits on a
pipe until all are forked, so they start together (no child ahead by its start-up), as a
preloading server's workers do. Imported by the launcher scripts those tests run with
``python -c`` from the repository's root."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from typing import Any


def run_together(groups: Sequence[Any], work: Callable[[int, Any], None]) -> list[int]:
    """``work(n, group)`` in a child of its own for each group, all released at once; the
    children's wait statuses, in order (0: ``work`` returned; else it raised, its
    traceback on standard error)."""
    go_read, go_write = os.pipe()
    pids = []
    for n, group in enumerate(groups):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(go_write)
                os.read(go_read, 1)  # every child waits here until all are forked
                work(n, group)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        pids.append(pid)
    os.close(go_read)
    os.close(go_write)  # all forked: they start
    return [os.waitpid(pid, 0)[1] for pid in pids]
