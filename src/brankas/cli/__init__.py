"""The ``brankas`` command: a thin caller of the services.

Output rules (as age's): results on stdout (one JSON object or array with ``--json``),
messages on stderr prefixed ``brankas:``. Exit status: 0 success, 1 refused or failed
(``verify``: problems found), 2 usage error.
"""

from __future__ import annotations

from brankas.cli.app import main  # its commands' modules load when called (LazyGroup)

__all__ = ["main"]
