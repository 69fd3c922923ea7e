"""CLI start-up (issue 15): ``python -m bench.startup``.

The warm wall-clock time of an authenticated ``brankas list --limit 1`` (Python, Django
set-up, the Argon2 password check with the hasher's full parameters, one page of the
register), median of ``--runs`` runs after two untimed ones (the page cache and Python's
compiled modules warm), against ``python -c pass`` (the interpreter alone) and
``restic version`` (a Go program's start-up), each timed from spawn to exit. The instance
is a fresh one made through the CLI (bench/instance.py). Target: <= 0.25 s warm.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import instance

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 0.25


def _children_cpu() -> float | None:
    try:
        import resource
    except ImportError:  # Windows: no CPU figure, the wall clock only
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def _time(cmd: list[str], env: dict[str, str] | None, cwd: Path,
          runs: int) -> tuple[float, float | None]:
    """The median wall-clock time of ``cmd`` and the median CPU time (user + system) it
    used: on a machine shared with other work the CPU time is the steadier figure."""
    for _ in range(2):  # warm: page cache, compiled modules
        subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=True,
                       stdin=subprocess.DEVNULL)
    walls, cpus = [], []
    for _ in range(runs):
        cpu = _children_cpu()
        started = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=True,
                       stdin=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        after = _children_cpu()
        if cpu is not None and after is not None:
            cpus.append(after - cpu)
    return statistics.median(walls), (statistics.median(cpus) if cpus else None)


def measure(work: Path, runs: int = 15) -> dict[str, Any]:
    inst = instance.create(work / "home", work / "scratch")
    env = inst.env("operator")
    # Compiled modules are kept (as `make` does): a shell that sets
    # PYTHONDONTWRITEBYTECODE would bill every run for compiling Brankas again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    result: dict[str, Any] = {"runs": runs, "target": TARGET_S,
                              "load_average_before": round(os.getloadavg()[0], 2)}
    commands = {"brankas_list": [sys.executable, "-m", "brankas", "list", "--limit", "1"],
                "python_pass": [sys.executable, "-c", "pass"]}
    if shutil.which("restic"):
        commands["restic_version"] = ["restic", "version"]
    for name, cmd in commands.items():
        result[name], result[name + "_cpu"] = _time(cmd, env, inst.tmp, runs)
    result["load_average_after"] = round(os.getloadavg()[0], 2)
    return result


def table(r: dict[str, Any]) -> str:
    def cpu(name: str) -> str:
        value = r.get(name + "_cpu")
        return "" if value is None else f"  (CPU {value:.3f} s)"

    lines = [f"Start-up (warm, median of {r['runs']}; load average {r['load_average_before']}"
             f" -> {r['load_average_after']}): authenticated `brankas list --limit 1`",
             f"  brankas list --limit 1   {r['brankas_list']:.3f} s{cpu('brankas_list')}"
             f"   target <= {TARGET_S} s"
             f"   {'met' if r['brankas_list'] <= TARGET_S else 'NOT MET'}",
             f"  python -c pass           {r['python_pass']:.3f} s{cpu('python_pass')}"]
    if "restic_version" in r:
        lines.append(f"  restic version           {r['restic_version']:.3f} s"
                     f"{cpu('restic_version')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, default=ROOT / ".bench" / "startup.json")
    args = parser.parse_args(argv)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="startup-", dir=args.json.parent))
    try:
        result = measure(work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(result))
    args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
