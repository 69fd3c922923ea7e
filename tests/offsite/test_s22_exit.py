"""A no-change ``brankas offsite push`` is mostly start-up (issue 18's bench against
``rclone copy`` of nothing new). Two of its costs are guarded here without a clock (s22,
``core/startup.py``): ``python -m brankas`` ends a push that finished cleanly without the
interpreter's shutdown, and in its own process the push's modules are frozen for the
collector with the set-up's; a push run by another caller (a test, the web's worker)
returns to it and leaves them collectable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_startup_imports import RUN_AS_MAIN

RUN_AND_REPORT = """
import gc, json, sys
from brankas.core import startup
if sys.argv[2] == "own":
    startup.own_process()
from brankas.cli import main
try:
    main(sys.argv[3:], prog_name="brankas")
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as fh:
    json.dump({"code": code, "frozen": gc.get_freeze_count()}, fh)
"""




def _run(script: str, cli_home: Path, scratch: Path, *args: str
         ) -> subprocess.CompletedProcess[str]:
    from tests.conftest import cli_env

    return subprocess.run([sys.executable, "-c", script, *args],
                          env=cli_env(cli_home, scratch, "operator"), cwd=scratch,
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


@pytest.mark.s3
def test_a_failed_push_ends_as_it_always_did(  # type: ignore[no-untyped-def]
        cli_office, cli_home, tmp_path) -> None:
    marks = tmp_path / "marks.txt"
    done = _run(RUN_AS_MAIN, cli_home, tmp_path, str(marks), "offsite", "push", "nowhere",
                "--json")  # no such remote: refused
    assert done.returncode == 1
    assert done.stderr.startswith("brankas: ")
    assert sorted(marks.read_text().split()) == ["atexit", "shutdown"]


@pytest.mark.s3
def test_a_clean_push_ends_quickly_and_freezes_its_modules_in_its_own_process_only(  # type: ignore[no-untyped-def]
        pushed, cli_home, tmp_path) -> None:
    marks = tmp_path / "marks.txt"
    done = _run(RUN_AS_MAIN, cli_home, tmp_path, str(marks), "offsite", "push", pushed,
                "--json")
    assert done.returncode == 0, done.stderr
    outcome: dict[str, Any] = json.loads(done.stdout)  # written whole before the end
    assert outcome["status"] == "completed" and outcome["objects_skipped"] >= 1, outcome
    assert marks.read_text().split() == ["atexit"]  # not the interpreter's shutdown
    frozen = {}
    for kind in ("own", "caller"):
        out = tmp_path / f"{kind}.json"
        done = _run(RUN_AND_REPORT, cli_home, tmp_path, str(out), kind, "offsite", "push",
                    pushed, "--json")
        assert out.exists(), done.stdout + done.stderr
        report = json.loads(out.read_text())
        assert report["code"] in (0, None), done.stderr
        frozen[kind] = report["frozen"]
    # both froze Django's set-up; only its own process froze urllib3, botocore and the
    # push's services besides (tens of thousands of objects)
    assert frozen["caller"] > 10_000
    assert frozen["own"] > frozen["caller"] + 10_000, frozen
