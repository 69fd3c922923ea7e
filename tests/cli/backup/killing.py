"""A real ``brankas backup`` killed (SIGKILL) by a prelude at a chosen point: the CLI run
in a process of its own, as an operator would start it (``tests/hostile_disk/forkcli``)."""

from __future__ import annotations

import os
import signal

from tests.cli.backup.conftest import Office
from tests.conftest import PASSWORDS
from tests.hostile_disk import forkcli, harness


def killed_backup(office: Office, prelude: str, **env_extra: str) -> None:
    """Run ``brankas backup`` of ``office`` to its disk with ``prelude`` (which kills the
    process at the point ``env_extra`` names) and check it was killed, not hung."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(office.home), "BRANKAS_LANG": "en",
                "BRANKAS_USER": "operator", "BRANKAS_PASSWORD": PASSWORDS["operator"],
                forkcli.PRELUDE: prelude, **env_extra})
    code, _, err, hung = harness._commands().run(
        ["backup", str(office.disk), "--json"], env, office.base, 300, on_hang=lambda: None)
    assert not hung and code == -signal.SIGKILL, (env_extra, code, err[-2000:])
