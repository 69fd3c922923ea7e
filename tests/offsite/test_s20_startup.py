"""A no-change ``brankas offsite push`` is mostly start-up (issue 18's bench: against
``rclone copy`` of nothing new). Guarded here without a clock, as tests/cli/
test_startup_imports.py guards ``brankas list``: what the push's process imports, and the
cyclic collector's thresholds around a command's start (``core.startup``)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from brankas.core import startup

RUN_AND_REPORT = """
import gc, json, sys
from brankas.cli import main
default = gc.get_threshold()
try:
    main(sys.argv[2:], prog_name="brankas")
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules), "threshold": gc.get_threshold(),
               "default": default, "collector_on": gc.isenabled()}, fh)
"""

# Not needed by a push that sends nothing new (each was imported by one before, s20).
NOT_NEEDED = ["zxcvbn", "brankas.web.backup.services", "brankas.cli.backup", "rich",
              "brankas.web.backup.snapshot", "cryptography.hazmat.primitives.serialization",
              "brankas.core.disk.bag"]
# Needed: the check is live.
NEEDED = ["brankas.web.offsite.services", "brankas.core.offsite.remote", "urllib3",
          "botocore.auth", "brankas.web.backup.registerseq", "argon2"]


def test_a_command_start_raises_the_first_threshold_until_the_set_up() -> None:
    before = gc.get_threshold()
    with startup.command_starting():
        assert gc.get_threshold() == (startup.START_THRESHOLD, *before[1:])
        with startup.command_starting():  # nested: no second hold
            assert gc.get_threshold()[0] == startup.START_THRESHOLD
        with startup.collector_paused():
            assert not gc.isenabled()
        # the set-up is over: the command's own work runs under the usual thresholds
        assert gc.get_threshold() == before
        assert gc.isenabled()
    assert gc.get_threshold() == before


def test_a_command_that_fails_before_its_set_up_puts_the_threshold_back() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), startup.command_starting():
        raise RuntimeError("usage")
    assert gc.get_threshold() == before


@pytest.mark.s3
def test_a_no_change_push_imports_only_what_it_needs(  # type: ignore[no-untyped-def]
        pushed, cli_home, tmp_path) -> None:
    from tests.conftest import cli_env

    out = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-c", RUN_AND_REPORT, str(out), "offsite", "push",
                           pushed, "--json"], env=cli_env(cli_home, tmp_path, "operator"),
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert out.exists(), done.stdout + done.stderr
    report: dict[str, Any] = json.loads(out.read_text())
    assert report["code"] in (0, None), done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["status"] == "completed" and outcome["objects_skipped"] >= 1, outcome
    modules = set(report["modules"])
    assert [m for m in NEEDED if m not in modules] == []
    assert [m for m in NOT_NEEDED if m in modules] == []
    assert report["threshold"] == report["default"]  # the work ran under the usual ones
    assert report["collector_on"] is True


def test_the_backup_and_the_push_share_one_rule_for_the_register_s_last_change() -> None:
    from brankas.web.backup import registerseq, services

    assert services._register_seq is registerseq.register_seq
    assert Path(registerseq.__file__).name == "registerseq.py"
