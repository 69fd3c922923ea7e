"""What each test costs, recorded on request: ``BRANKAS_TEST_COSTS=FILE pytest ...``.

For each test (set-up, call and tear-down, so a module or session fixture counts in the
first test that needs it) one JSON line: the worker's CPU seconds (``time.process_time``),
the CPU seconds of the child processes it waited for (``RUSAGE_CHILDREN``; not on
Windows), the wall seconds and the processes it started (``spawned``: each
``subprocess.Popen`` of the test process, each command of a fork server). Besides: one
line per module- or session-scoped fixture set-up (``kind: fixture``; included in its
test's figures), one per worker for its start up to the end of collection (``kind:
collect``) and one for its whole life (``kind: session``). Every xdist worker appends its
lines to the same FILE (one ``write`` a line, in append mode), so the file is the merge
of the run.

``python -m tests.costs FILE [--top N]`` sums the file by folder and by file (CPU = own +
children) and lists the dearest tests and fixtures.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Generator
from typing import Any

import pytest

ENV = "BRANKAS_TEST_COSTS"

try:
    import resource
except ImportError:  # Windows: no children's figures
    resource = None  # type: ignore[assignment]


_OTHERS = [0.0]  # processes the tests ran that are not this one's children (add_children)
_SPAWNED = [0]  # processes started: subprocess.Popen in this process, a fork server's children


def add_children(cpu: float, processes: int = 1) -> None:
    """Count ``cpu`` seconds of a process this one caused but did not wait for (a fork
    server's child) as its children's, and ``processes`` as started."""
    _OTHERS[0] += cpu
    _SPAWNED[0] += processes


def _count_popen() -> None:
    """Count every ``subprocess.Popen`` this process starts (a test's ``python -m brankas``,
    ``age``, a server; the product's own helpers run in this process): ``spawned``."""
    import subprocess

    init = subprocess.Popen.__init__
    if getattr(init, "_brankas_counted", False):
        return

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        _SPAWNED[0] += 1
        init(self, *args, **kwargs)

    counted._brankas_counted = True  # type: ignore[attr-defined]
    subprocess.Popen.__init__ = counted  # type: ignore[method-assign]


def _children() -> float:
    if resource is None:
        return _OTHERS[0]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + _OTHERS[0]


def _now() -> tuple[float, float, float]:
    return time.process_time(), _children(), time.perf_counter()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _write(record: dict[str, Any]) -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    record["worker"] = _worker()
    line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _since(start: tuple[float, float, float]) -> dict[str, float]:
    cpu, children, wall = _now()
    return {"cpu": round(cpu - start[0], 4), "children": round(children - start[1], 4),
            "wall": round(wall - start[2], 4)}


_START_WALL = time.perf_counter()


def pytest_configure(config: pytest.Config) -> None:
    _count_popen()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None
                            ) -> Generator[None, None, None]:
    start = _now()
    spawned = _SPAWNED[0]
    yield
    _write({"kind": "test", "id": item.nodeid, **_since(start),
            "spawned": _SPAWNED[0] - spawned})


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, None, None]:
    if fixturedef.scope == "function":
        yield
        return
    start = _now()
    yield
    _write({"kind": "fixture", "id": f"{fixturedef.scope}:{fixturedef.argname}",
            "at": request.node.nodeid, **_since(start)})


def pytest_collection_finish(session: pytest.Session) -> None:
    _write({"kind": "collect", "id": "collect", "cpu": round(time.process_time(), 4),
            "children": round(_children(), 4),
            "wall": round(time.perf_counter() - _START_WALL, 4)})


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    _write({"kind": "session", "id": "session", "cpu": round(time.process_time(), 4),
            "children": round(_children(), 4),
            "wall": round(time.perf_counter() - _START_WALL, 4)})


# ---------------------------------------------------------------- the sums

def _folder(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return path.rsplit("/", 1)[0] if "/" in path else "."


def report(path: str, top: int = 25) -> str:
    tests: list[dict[str, Any]] = []
    fixtures: list[dict[str, Any]] = []
    workers: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["kind"] == "test":
                tests.append(record)
            elif record["kind"] == "fixture":
                fixtures.append(record)
            else:
                workers[record["worker"]][record["kind"]] = record

    def total(r: dict[str, Any]) -> float:
        return float(r["cpu"] + r["children"])

    out: list[str] = []

    def table(title: str, key: Any, rows: list[dict[str, Any]], limit: int | None = None
              ) -> None:
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
        for r in rows:
            s = sums[key(r)]
            s[0] += r["cpu"]
            s[1] += r["children"]
            s[2] += r["wall"]
            s[3] += 1
        out.append(f"\n{title}")
        out.append(f"{'cpu+child':>9} {'cpu':>8} {'child':>8} {'wall':>8} {'n':>5}  name")
        ordered = sorted(sums.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))
        for name, (cpu, children, wall, n) in ordered[:limit]:
            out.append(f"{cpu + children:9.1f} {cpu:8.1f} {children:8.1f} {wall:8.1f} "
                       f"{int(n):5d}  {name}")

    all_cpu = sum(total(r) for r in tests)
    out.append(f"{len(tests)} tests: {all_cpu:.1f} CPU-s (own + children), "
               f"{sum(r['wall'] for r in tests):.1f} wall-s summed over workers")
    for worker, kinds in sorted(workers.items()):
        c, s = kinds.get("collect"), kinds.get("session")
        parts = [worker]
        if c:
            parts.append(f"start+collect {c['cpu']:.1f} CPU-s {c['wall']:.1f} wall-s")
        if s:
            parts.append(f"whole {s['cpu'] + s['children']:.1f} CPU-s {s['wall']:.1f} wall-s")
        out.append("  " + "; ".join(parts))
    table("by folder", lambda r: _folder(r["id"]), tests)
    table("by file", lambda r: r["id"].split("::", 1)[0], tests, top)
    out.append(f"\ndearest {top} tests (set-up of shared fixtures included)")
    for r in sorted(tests, key=lambda r: -total(r))[:top]:
        out.append(f"{total(r):9.2f} cpu {r['cpu']:.2f} child {r['children']:.2f} "
                   f"wall {r['wall']:.2f}  {r['id']}")
    table("shared fixtures (module/session set-ups, summed over workers)",
          lambda r: r["id"], fixtures, top)
    spawning = [r for r in tests if r.get("spawned")]
    out.append(f"\nprocesses started by the tests: {sum(r['spawned'] for r in spawning)} "
               f"by {len(spawning)} tests (subprocess.Popen in the test process, a fork "
               f"server's children); the {top} that start the most")
    for r in sorted(spawning, key=lambda r: (-r["spawned"], -total(r)))[:top]:
        out.append(f"{r['spawned']:5d} {total(r):9.2f} cpu+child  {r['id']}")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.costs")
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    print(report(args.file, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
