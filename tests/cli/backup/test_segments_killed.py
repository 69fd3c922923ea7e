"""A real ``brankas backup`` killed (SIGKILL, by itself, at a chosen point) while it writes
the audit segment: half-way through encrypting it to the run's files; once it is staged on
the disk, before the checkpoint lists it; and in the checkpoint's window, after the
segment and the seal were renamed into ``data/`` and before the manifest names them.
After each kill the disk verifies (or the next run repairs the window), the next run
completes and continues the log from the last sealed segment, and a recover rebuilds the
whole log. The kill points are injected in the child process around the real code (the
bag's fault hooks, ``core.disk.state.Hooks``, and the run's file writer); the child is one
of the fork server's (tests/hostile_disk/forkcli.py: no interpreter and Django start-up)."""

from __future__ import annotations

import os

import pytest

from brankas.core.disk import segments as segs
from tests.cli.backup.conftest import Office, manifest
from tests.cli.backup.killing import killed_backup
from tests.hostile_disk import forkcli

pytestmark = [pytest.mark.skipif(not forkcli.available(), reason="SIGKILL and fork are POSIX"),
              pytest.mark.slow]

# Run in the killed command's process before the command (tests/hostile_disk/forkcli.py:
# the command a child of the fork server, in a process of its own).
PRELUDE = r"""
import contextlib, dataclasses, os, signal

point = env["BRANKAS_TEST_POINT"]


def die():
    os.kill(os.getpid(), signal.SIGKILL)


if point == "writing":
    from brankas.web.backup import runfiles

    original = runfiles.RunFiles.write

    @contextlib.contextmanager
    def write(self, name, **kwargs):
        with original(self, name, **kwargs) as (out, done):
            if not name.endswith(".jsonl.age"):
                yield out, done
                return

            class Half:
                def write(self, data):
                    out.write(data[: len(data) // 2])
                    out.flush()
                    die()

            yield Half(), done

    runfiles.RunFiles.write = write
else:
    from brankas.core.disk import state

    original = state.BagState._write_commit

    def write_commit(self, batch, *args, **kwargs):
        if any(s.path.startswith("audit/") for s in batch):
            if point == "staged":
                die()
            self.hooks = dataclasses.replace(self.hooks, committing=die)
        return original(self, batch, *args, **kwargs)

    state.BagState._write_commit = write_commit
"""


def _killed_run(office: Office, point: str) -> None:
    killed_backup(office, PRELUDE, BRANKAS_TEST_POINT=point)


def _sealed_ranges(office: Office) -> list[tuple[int, int]]:
    names = sorted(p[len("data/"):] for p in manifest(office.disk)
                   if p.startswith("data/audit/"))
    return [segs.name_range(n) for n in names]  # type: ignore[misc]


def _seals(office: Office) -> list[str]:
    return [p for p in manifest(office.disk)
            if p.startswith("data/backup/") and p.endswith("/segel.json")]


def test_a_run_killed_while_writing_its_segment_leaves_a_valid_disk_and_the_next_continues(
        office: Office) -> None:
    before = _sealed_ranges(office)
    assert len(before) == 1
    for point in ("writing", "staged", "window"):
        seals = len(_seals(office))
        office.register("penerimaan", "biasa", f"Surat segmen {point}")
        _killed_run(office, point)
        r = office.cli("verify", str(office.disk), "--json", user="operator")
        in_window = (office.disk / ".brankas-staging" / "commit.json").exists()
        assert point == "window" or (r.returncode == 0 and not in_window), (point, r.stdout)
        # Nothing of the killed run's segment is listed without its seal. Killed in the
        # window (after the renames into data/), the lists already hold the checkpoint's
        # lines (they are appended before the renames, core/disk/state.py): its segment
        # may be listed then, in data/ and beside its run's seal, never alone.
        listed = _sealed_ranges(office)
        if point == "window" and listed != before:
            assert listed[:len(before)] == before and len(listed) == len(before) + 1, listed
            seg = next(p for p in manifest(office.disk) if p.startswith("data/audit/")
                       and segs.name_range(p[len("data/"):]) == listed[-1])
            assert (office.disk / seg).is_file(), seg
            assert len(_seals(office)) == seals + 1, point
        else:
            assert listed == before, point
        r = office.backup()
        assert r.returncode == 0, (point, r.stderr)
        after = _sealed_ranges(office)
        # The next run continues from the last sealed segment: one segment more, right
        # after it (holding the killed run's entries too). Killed in the window, the
        # killed run's checkpoint (its segment and seal) is rolled forward by the next
        # run's opening of the disk: then two.
        grown = 2 if point == "window" else 1
        assert after[:len(before)] == before and len(after) == len(before) + grown, (
            point, after)
        assert all(b[0] == a[1] + 1 for a, b in zip(after, after[1:], strict=False)), after
        before = after
        r = office.cli("verify", str(office.disk), "--json", user="operator")
        assert r.returncode == 0, (point, r.stdout)
        assert os.listdir(office.disk / ".brankas-staging") == ["lock"], point
    new = office.base / "pulih"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["ok"] is True and r.json()["audit_ok"] is True
