"""Property-based tests of the disk readers over generated trees.

Hypothesis builds a disk: a small bag (bagit.txt, brankas-medium.json, manifests) whose
tag files and ``data/`` entries are at random replaced or joined by files, folders, links
(to the disk, to a folder and a FIFO outside it, up with ``..``, dangling) and FIFOs, and
a manifest with generated lines, some of them hostile. Beside the disk lies ``outside/``:
a canary folder that nothing may read.

Every reader (``disk.fs``, the ``disk.format`` readers, ``disk.reader.BagReader``,
``disk.verify.verify``) must, on any such disk:

- raise nothing but a ``BrankasError`` (or ``FileNotFoundError`` where documented);
- open no path that leaves the disk, pass through a link, or follow one at its end
  (every ``os.open``, ``open`` and ``os.scandir`` is recorded while it runs);
- never block (FIFOs are everywhere; a watchdog would release them and fail the test);
- never report as intact a disk with a link or FIFO under ``data/``, and never return
  bytes that were not read from a regular file on the disk.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import io
import json
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brankas.core.disk import format as bagformat
from brankas.core.disk import fs as diskfs
from brankas.core.disk.reader import BagReader
from brankas.core.disk.verify import verify
from brankas.core.errors import BrankasError
from tests.hostile_disk.harness import release_fifos

if os.name != "posix":
    pytest.skip("the generated trees use symbolic links and FIFOs (POSIX)",
                allow_module_level=True)

pytestmark = pytest.mark.slow  # generated trees of links and FIFOs, 60 of each property

# BRANKAS_PROPS_EXAMPLES=1500 for a longer search (each property passed 1,500 examples).
PROPS = settings(max_examples=int(os.environ.get("BRANKAS_PROPS_EXAMPLES", "60")),
                 deadline=None, suppress_health_check=[HealthCheck.too_slow])

TAG_FILES = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "brankas-sizes.txt",
             "brankas-medium.json", "tagmanifest-sha256.txt", "RESTORE-GUIDE.txt"]
NAMES = ["a", "b", "arsip", "backup", "x.pdf", "segel.json", "C:x", "a b"]
KINDS = ["file", "dir", "link_in", "link_out_file", "link_out_dir", "link_out_fifo", "link_up",
         "dangling", "fifo"]
MEDIUM = json.dumps({"format": "brankas-medium/1",
                     "medium_id": "0b6f6c2e-3f0a-4d43-9a57-2f0f7c1d2e3a", "label": "X"})


@dataclass
class Disk:
    root: Path  # holds disk/ and outside/
    disk: Path
    outside: Path
    files: dict[str, bytes] = field(default_factory=dict)  # data/ regular files, as written
    odd: set[str] = field(default_factory=set)  # data/ entries that are links or FIFOs


entry = st.tuples(
    st.one_of(st.sampled_from(TAG_FILES + [".brankas-staging", ".brankas-staging/lock"]),
              st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map(
                  lambda parts: "data/" + "/".join(parts))),
    st.sampled_from(KINDS),
    st.binary(max_size=40),
)
hostile_line = st.sampled_from([
    "data/../outside/secret.txt", "data/a/../../outside/secret.txt", "/{outside}/secret.txt",
    "data//{outside}/secret.txt", "data/a\\..\\..\\outside\\secret.txt", "C:/x", "//srv/x",
    "data/out/secret.txt", "data/a/\x00b", "data/" + "d" * 300, "data/a/./b", "data/a%2Fb",
    "../outside/secret.txt", "data/outdir/secret.txt", "data/fifo-out",
])
manifest_extra = st.lists(st.tuples(hostile_line, st.sampled_from(["0" * 64, "zz", ""])),
                          max_size=5)


def build(spec: list[tuple[str, str, bytes]], extra: list[tuple[str, str]],
          base: Path) -> Disk:
    """The generated disk under ``base`` (a fresh folder)."""
    root = Path(os.path.realpath(base))
    disk, outside = root / "disk", root / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "secret.txt").write_bytes(b"canary: never to be read\n")
    os.mkfifo(outside / "fifo")
    (disk / "data").mkdir(parents=True)
    (disk / ".brankas-staging").mkdir()
    made = Disk(root, disk, outside)
    tags = {"bagit.txt": bagformat.BAGIT_CONTENT, "brankas-medium.json": MEDIUM.encode(),
            "bag-info.txt": b"Payload-Oxum: 0.0\n", "RESTORE-GUIDE.txt": b"guide\n"}
    for name, data in tags.items():
        (disk / name).write_bytes(data)
    for rel, kind, data in spec:
        _place(made, rel, kind, data)
    lines = []
    for rel in sorted(made.files):
        lines.append(f"{hashlib.sha256(made.files[rel]).hexdigest()}  {rel}")
    lines += [f"{'1' * 64}  {rel}" for rel in sorted(made.odd)]
    lines += [f"{value}  {path.format(outside=str(outside).lstrip('/'))}"
              for path, value in extra]
    _write_tag(disk, "manifest-sha256.txt", "\n".join(lines) + "\n")
    _write_tag(disk, "brankas-sizes.txt", "".join(
        f"{len(made.files[rel])}  {rel}\n" for rel in sorted(made.files)))
    present = {n: (disk / n).read_bytes() for n in TAG_FILES[:-2] + ["RESTORE-GUIDE.txt"]
               if diskfs.lkind(disk / n) == "file"}
    _write_tag(disk, "tagmanifest-sha256.txt", "".join(
        f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(present.items())))
    return made


def _write_tag(disk: Path, name: str, text: str) -> None:
    if diskfs.lkind(disk / name) in {None, "file"}:
        (disk / name).write_bytes(text.encode("utf-8", "surrogateescape"))


def _place(made: Disk, rel: str, kind: str, data: bytes) -> None:
    path = made.disk / rel
    parent = path.parent
    if diskfs.lkind(parent) != "dir" and not _mkdirs(made.disk, parent):
        return
    current = diskfs.lkind(path)
    if current == "dir":
        return
    if current is not None:
        path.unlink()
    under_data = rel.startswith("data/")
    made.files.pop(rel, None)
    made.odd.discard(rel)
    if kind == "file":
        path.write_bytes(data)
        if under_data:
            made.files[rel] = data
        return
    if kind == "dir":
        path.mkdir()
        return
    if kind == "fifo":
        os.mkfifo(path)
    else:
        target = {"link_in": "bagit.txt" if not under_data else os.path.relpath(
                      made.disk / "bagit.txt", parent),
                  "link_out_file": str(made.outside / "secret.txt"),
                  "link_out_dir": str(made.outside),
                  "link_out_fifo": str(made.outside / "fifo"),
                  "link_up": "..", "dangling": "nowhere"}[kind]
        os.symlink(target, path)
    if under_data:
        made.odd.add(rel)


def _mkdirs(disk: Path, folder: Path) -> bool:
    """Make ``folder`` and its parents as real folders; False where something else is."""
    for step in reversed([folder, *folder.parents]):
        if not str(step).startswith(str(disk)):
            continue
        kind = diskfs.lkind(step)
        if kind is None:
            step.mkdir()
        elif kind != "dir":
            return False
    return True


# -- watching what the readers touch -----------------------------------------------------

@contextlib.contextmanager
def recorded() -> Iterator[list[tuple[str, str, int]]]:
    """Every os.open, open and os.scandir while the block runs: (call, path, flags)."""
    calls: list[tuple[str, str, int]] = []
    real = os.open, builtins.open, io.open, os.scandir

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        calls.append(("os.open", os.fspath(path), flags))
        return real[0](path, flags, *args, **kwargs)

    def py_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if not isinstance(file, int):
            calls.append(("open", os.fspath(file), 0))
        return real[1](file, mode, *args, **kwargs)

    def scandir(path: Any = ".") -> Any:
        if not isinstance(path, int):
            calls.append(("scandir", os.fspath(path), 0))
        return real[3](path)

    os.open, builtins.open, io.open, os.scandir = os_open, py_open, py_open, scandir
    try:
        yield calls
    finally:
        os.open, builtins.open, io.open, os.scandir = real


@contextlib.contextmanager
def watchdog(made: Disk, seconds: float = 20) -> Iterator[threading.Event]:
    hung = threading.Event()

    def release() -> None:
        hung.set()
        for _ in range(20):
            if release_fifos(made.disk) + release_fifos(made.outside) == 0:
                break

    timer = threading.Timer(seconds, release)
    timer.start()
    try:
        yield hung
    finally:
        timer.cancel()


def check_calls(made: Disk, calls: list[tuple[str, str, int]], *, out: Path | None = None,
                writer_lock: bool = False) -> None:
    """Every path touched under the example's folder is on the disk, reached through
    real folders only, and a file is opened not following a link, not blocking, not for
    writing (but the lock, opened without O_CREAT)."""
    for call, raw, flags in calls:
        path = os.path.normpath(os.path.abspath(raw))
        if not path.startswith(str(made.root) + os.sep):
            continue  # not the example's (Python's own files)
        if out is not None and (path == str(out) or path.startswith(str(out) + os.sep)):
            continue  # the caller's target
        assert path.startswith(str(made.disk) + os.sep) or path == str(made.disk), (call, raw)
        assert ".." not in Path(raw).parts, (call, raw)
        folder = os.path.dirname(path) if call != "scandir" else path
        assert os.path.realpath(folder) == folder, f"{call} {raw}: through a link"
        if call == "open":
            raise AssertionError(f"open() on the disk, not disk.fs: {raw}")
        if call == "os.open":
            assert flags & getattr(os, "O_NOFOLLOW", 0), (raw, flags)
            assert flags & getattr(os, "O_NONBLOCK", 0), (raw, flags)
            assert not flags & (os.O_CREAT | os.O_TRUNC | os.O_WRONLY), (raw, flags)
            if flags & os.O_RDWR:
                assert path.endswith(os.sep + os.path.join(".brankas-staging", "lock")), raw


def canary(made: Disk) -> tuple[bytes, list[str]]:
    return (made.outside / "secret.txt").read_bytes(), sorted(os.listdir(made.outside))


@contextlib.contextmanager
def example(spec: list[tuple[str, str, bytes]],
            extra: list[tuple[str, str]]) -> Iterator[Disk]:
    with tempfile.TemporaryDirectory(prefix="hostile-props-") as base:
        made = build(spec, extra, Path(base))
        before = canary(made)
        yield made
        assert canary(made) == before


# -- the properties -------------------------------------------------------------------------

@PROPS
@given(st.lists(entry, max_size=20), manifest_extra, st.sampled_from(["full", "fast"]))
def test_verify_never_follows_reads_outside_blocks_or_says_intact_wrongly(
        spec: list[tuple[str, str, bytes]], extra: list[tuple[str, str]], mode: str) -> None:
    with example(spec, extra) as made, watchdog(made) as hung, recorded() as calls:
        try:
            report = verify(made.disk, mode=mode, workers=2)
        except BrankasError:
            report = None
    assert not hung.is_set(), "verify blocked"
    check_calls(made, calls)
    if report is not None and (made.odd or extra):
        assert not report.ok, report
    if report is not None:
        # A listed link or FIFO is never hashed as if it were the file.
        odd_listed = {rel[len("data/"):] for rel in made.odd}
        hashed_ok = {c.path for c in report.changed} | set(report.missing)
        for rel in odd_listed & set(bagformat.read_payload_manifest(made.disk, [])
                                    if diskfs.lkind(made.disk / bagformat.MANIFEST) == "file"
                                    else {}):
            assert rel in hashed_ok, (rel, report)


@PROPS
@given(st.lists(entry, max_size=20), manifest_extra)
def test_bag_reader_returns_only_bytes_read_from_regular_files_on_the_disk(
        spec: list[tuple[str, str, bytes]], extra: list[tuple[str, str]]) -> None:
    with example(spec, extra) as made, watchdog(made) as hung:
        out = made.root / "out"
        out.mkdir()
        with recorded() as calls:
            try:
                reader = BagReader(made.disk)
            except BrankasError:
                reader = None
            results: dict[str, bytes | None] = {}
            if reader is not None:
                for payload in sorted(reader.entries):
                    try:
                        results[payload] = reader.read_bytes(payload, limit=1 << 16)
                    except BrankasError:
                        results[payload] = None
                    with contextlib.suppress(BrankasError):
                        reader.copy_out(payload, out.joinpath(*payload.split("/")))
                    reader.check(payload)
        assert not hung.is_set(), "the reader blocked"
        check_calls(made, calls, out=out)
        for payload, data in results.items():
            if data is not None:
                assert made.files.get(f"data/{payload}") == data, payload
                assert diskfs.lkind(made.disk / "data" / payload) == "file"
        for path in (p for p in out.rglob("*") if p.is_file() or p.is_symlink()):
            rel = "data/" + path.relative_to(out).as_posix()
            assert not path.is_symlink() and made.files.get(rel) == path.read_bytes(), rel


relative = st.one_of(
    st.lists(st.sampled_from(NAMES + ["data", "..", ".", "", "outside", "bagit.txt"]),
             min_size=1, max_size=4).map("/".join),
    st.text(max_size=12),
)


@PROPS
@given(st.lists(entry, min_size=1, max_size=20), st.data())
def test_diskfs_opens_exactly_the_regular_files_reached_through_real_folders(
        spec: list[tuple[str, str, bytes]], data: st.DataObject) -> None:
    placed = sorted({rel for rel, _, _ in spec})
    rels = data.draw(st.lists(st.one_of(st.sampled_from(placed), relative), min_size=1,
                              max_size=8))
    with example(spec, []) as made, watchdog(made) as hung, recorded() as calls:
        got: dict[str, Any] = {}
        for rel in rels:
            try:
                got[rel] = diskfs.read_file(made.disk, rel, limit=1 << 16)
            except BrankasError as exc:
                got[rel] = exc.code
            except FileNotFoundError:
                got[rel] = "missing"
        assert not hung.is_set(), "disk.fs blocked"
        check_calls(made, calls)
        for rel, result in got.items():
            expected = _model(made.disk, rel)
            if expected == "file":
                assert result == (made.disk / rel).read_bytes(), (rel, result)
            else:
                assert result == expected, (rel, result, expected)


def _model(disk: Path, rel: str) -> str:
    """What disk.fs must make of ``rel``, from the tree itself: "file" (readable), a
    refusal's code, or "missing"."""
    if diskfs.check_relative(rel) is not None:
        return "disk_path_invalid"
    parts = rel.split("/")
    here = disk
    for i, part in enumerate(parts):
        here = here / part
        try:
            st_ = os.lstat(here)
        except (FileNotFoundError, NotADirectoryError):
            return "missing"
        last = i == len(parts) - 1
        if stat.S_ISLNK(st_.st_mode):
            return "disk_link"
        if not last and not stat.S_ISDIR(st_.st_mode):
            return "disk_not_regular"
        if last:
            return "file" if stat.S_ISREG(st_.st_mode) else "disk_not_regular"
    return "missing"


@PROPS
@given(st.lists(st.tuples(st.text(max_size=40), st.text(max_size=70)), max_size=12))
def test_manifest_paths_that_are_kept_pass_the_disk_path_rules(
        lines: list[tuple[str, str]]) -> None:
    """What the lenient manifest reader keeps is a payload path disk.fs accepts under
    data/ (no '..', absolute path, drive, backslash, control character, excess length);
    every other line is named, never returned."""
    with tempfile.TemporaryDirectory() as base:
        dest = Path(base)
        text = "".join(f"{'a' * 64}  data/{path}\n" for path, _ in lines)
        text += "".join(f"{value}  {path}\n" for value, path in lines)
        (dest / bagformat.MANIFEST).write_bytes(text.encode("utf-8", "surrogateescape"))
        problems: list[str] = []
        kept = bagformat.read_payload_manifest(dest, problems)
    for path in kept:
        assert bagformat.check_payload_path(path) is None
        assert diskfs.check_relative(f"data/{path}") is None, path
    assert all(len(p) <= 2000 for p in problems), max(map(len, problems))
