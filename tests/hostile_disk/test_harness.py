"""The corpus's own instruments can fail: the sentinel sees a change, an addition, a
removal and a replaced link; a blocked read is reported as a hang, not waited for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from brankas.core.errors import SetupError
from tests.hostile_disk.harness import (
    Outcome,
    code_in,
    release_fifos,
    run_cli,
    run_service,
    tree_diff,
    tree_state,
)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need a privilege on Windows")
def test_the_sentinel_sees_every_kind_of_change(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b").write_text("b")
    os.symlink("a", tmp_path / "link")
    before = tree_state(tmp_path)
    assert tree_diff(before, tree_state(tmp_path)) == []
    (tmp_path / "a").write_text("A")
    (tmp_path / "d" / "b").unlink()
    (tmp_path / "d" / "c").write_text("c")
    (tmp_path / "link").unlink()
    os.symlink("d", tmp_path / "link")
    changes = tree_diff(before, tree_state(tmp_path))
    assert [c.split(":")[0] for c in changes] == ["removed d/b", "added d/c", "changed a",
                                                  "changed link"]
    skipped = tree_diff(tree_state(tmp_path, skip=[tmp_path / "d"]),
                        tree_state(tmp_path, skip=[tmp_path / "d"]))
    assert skipped == [] and "d/c" not in tree_state(tmp_path, skip=[tmp_path / "d"])


@pytest.mark.skipif(os.name != "posix", reason="FIFOs")
def test_a_blocked_read_is_a_hang_and_is_released(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    before = tree_state(tmp_path)  # never opens the FIFO
    outcome = run_service("verify", lambda: fifo.read_bytes(), disk=tmp_path, timeout=0.5)
    assert outcome.hung
    assert tree_diff(before, tree_state(tmp_path)) == []
    assert release_fifos(tmp_path) == 0  # nobody waits on it any more


@pytest.mark.skipif(os.name != "posix", reason="FIFOs")
def test_a_command_blocked_on_a_read_is_a_hang_and_is_killed(tmp_path: Path) -> None:
    """The real command (a child of the fork server, or a subprocess) reading a FIFO
    nobody writes to: reported as a hang, killed, the FIFO released; the next command
    runs, with its exit status and its message."""
    fifo = tmp_path / "password"
    os.mkfifo(fifo)
    outcome = run_cli(tmp_path / "home", tmp_path, "init", "--office", "X", "--admin",
                      "admin", "--password-file", str(fifo), timeout=1, disk=tmp_path)
    assert outcome.hung and outcome.exit == -1
    assert release_fifos(tmp_path) == 0  # nobody waits on it any more
    after = run_cli(tmp_path / "none", tmp_path, "verify", str(tmp_path / "disk"), "--json",
                    user="operator")
    assert not after.hung and after.exit == 1
    assert code_in(after, "not_initialized") and "brankas: " in after.text


def test_a_refusal_is_recognised_by_its_code_or_its_message(tmp_path: Path) -> None:
    def refuse() -> None:
        raise SetupError("disk_link", path="/media/x", name="data")

    outcome = run_service("backup", refuse, disk=tmp_path)
    assert (outcome.exit, outcome.code) == (1, "disk_link") and code_in(outcome, "disk_link")
    printed = Outcome("backup", "cli", 1, f"brankas: {outcome.text}\n")
    assert code_in(printed, "disk_link") and not code_in(printed, "disk_not_regular")


def test_the_security_doc_shows_the_corpus_as_it_is() -> None:
    from tests.hostile_disk.corpus import outcome_table

    doc = Path(__file__).resolve().parents[2] / "docs" / "security.md"
    assert outcome_table() in doc.read_text(encoding="utf-8")
