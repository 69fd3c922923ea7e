"""``python -m bench.offsite [WORK] [ROUNDS]`` (in ``make bench``; ``--help``): ``brankas
offsite push`` against ``rclone copy`` of the same files to the same S3 server (issue 18).
WORK (default ``.bench/offsite``) is a scratch folder, deleted before and after the run.

Set-up (not timed): 1,000 PDFs of 50-500 KiB (``data.backup_tree``: about 270 MB, a
quarter exempted) imported into a fresh instance; a throw-away SeaweedFS server
(scripts/s3server.py: versioned bucket with Object Lock) on 127.0.0.1. Each round, on a
prefix of its own (locked objects cannot be deleted): ``offsite add`` (untimed, with its
canary), then timed, alternating sides:

- full: ``brankas offsite push`` of the whole archive (every biasa document encrypted with
  age on the way; each object sent with its SHA-256 and a COMPLIANCE lock; registers,
  snapshot, keys, audit segment, index, manifest and seal) against ``rclone copy`` of the
  archive folder (plain files, no lock, no encryption: rclone's defaults, 4 transfers);
- no-change: the same again with nothing changed (Brankas: its own records say what the
  remote holds, then a new index, manifest and seal; rclone: lists the destination and
  compares each file).

rclone is configured through the environment only (``RCLONE_CONFIG_BENCH_*``: s3,
provider Other, path style, the endpoint and the server's credentials). Wall time, CPU
seconds (user+system) and peak memory (VmHWM) of each process; each round's ratios (wall
and CPU, the sides run back to back: the fairer reading on a shared machine), the ratio of
the best of ROUNDS (default 2), and the median of the rounds' ratios.
The S3 server runs on the same two cores: its CPU is not counted for either side.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import data, instance, proc

ROOT = Path(__file__).resolve().parent.parent
COUNT = int(os.environ.get("BRANKAS_BENCH_OFFSITE_DOCS") or 1000)
TARGET_FULL, TARGET_NOCHANGE = 1.2, 1.0


def _s3server() -> ModuleType:
    spec = importlib.util.spec_from_file_location("s3server", ROOT / "scripts" / "s3server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["s3server"] = module
    spec.loader.exec_module(module)
    return module


def _line(tag: str, run: proc.Run, extra: str = "") -> str:
    return (f"{tag:<26} wall {run.seconds:7.2f} s  cpu {run.cpu_seconds:6.2f} s  "
            f"peak {run.peak_rss_kib / 1024:5.0f} MiB  {extra}")


def _medians(paired: list[dict[str, float]]) -> dict[str, float]:
    """Each ratio's median over the rounds (s21): the best-over-best ratio pairs runs from
    different rounds; the lead's quiet figures have been read as this median."""
    import statistics

    return {k: statistics.median(r[k] for r in paired) for k in paired[0]} if paired else {}


def _arguments(argv: list[str]) -> tuple[Path, int]:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m bench.offsite",
        description="brankas offsite push (full, then no change) against rclone copy of the "
                    "same files to the same throw-away S3 server (issue 18).")
    parser.add_argument("work", nargs="?", type=Path, default=ROOT / ".bench" / "offsite",
                        help="a scratch folder: DELETED before and after the run "
                             "(default .bench/offsite)")
    parser.add_argument("rounds", nargs="?", type=int, default=2,
                        help="rounds, each on a prefix of its own (default 2)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("rounds must be at least 1")
    return args.work.absolute(), args.rounds


def main(argv: list[str] | None = None) -> int:
    work, rounds = _arguments(sys.argv[1:] if argv is None else argv)
    if shutil.which("rclone") is None:
        print("bench.offsite: rclone is missing (sh scripts/system-deps.sh rclone)",
              file=sys.stderr)
        return 3
    # An office's installation has its bytecode compiled: a process that may not write it
    # compiles Brankas's modules afresh at every command (half a second here).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    tree = data.backup_tree(work / "inputs" / "arsip", COUNT)
    inst = instance.create(work / "home", work)
    imported = json.loads(inst.brankas("import", str(tree.root), "--json").stdout)
    assert imported["imported"] == COUNT, imported
    arsip = inst.home / "arsip"
    server = _s3server().start(work)
    try:
        env = server.env()
        s3 = {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        benv = {**inst.env("operator"), **s3}
        rclone_env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
                      "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
                      "RCLONE_CONFIG_BENCH_ENDPOINT": server.endpoint,
                      "RCLONE_CONFIG_BENCH_REGION": "us-east-1",
                      "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
                      "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": s3["AWS_ACCESS_KEY_ID"],
                      "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": s3["AWS_SECRET_ACCESS_KEY"],
                      "RCLONE_CONFIG": str(work / "rclone.conf")}  # none: env only
        print(f"offsite push vs rclone copy: {COUNT} documents, "
              f"{tree.total_bytes / 2**20:,.0f} MiB, {server.kind} {server.version}",
              flush=True)
        proc.warm(tree.files)
        best: dict[str, proc.Run] = {}
        sent: dict[str, Any] = {}
        paired: list[dict[str, float]] = []  # each round's ratios (the fairer reading)
        for n in range(rounds):
            name = f"bench{n}"
            proc.run([sys.executable, "-m", "brankas", "offsite", "add", name, "--endpoint",
                      server.endpoint, "--bucket", server.bucket, "--prefix", f"brankas-{n}",
                      "--retention-days", "1", "--json"], env=benv, cwd=inst.tmp)
            dest = f"bench:{server.bucket}/rclone-{n}"
            this: dict[str, proc.Run] = {}
            for side, argv, e in (
                    ("brankas full", [sys.executable, "-m", "brankas", "offsite", "push", name,
                                      "--json"], benv),
                    ("rclone full", ["rclone", "copy", str(arsip), dest], rclone_env),
                    ("brankas no-change", [sys.executable, "-m", "brankas", "offsite", "push",
                                           name, "--json"], benv),
                    ("rclone no-change", ["rclone", "copy", str(arsip), dest], rclone_env)):
                proc.settle()
                run = proc.run(argv, env=e, cwd=inst.tmp)
                extra = ""
                if side.startswith("brankas"):
                    out = json.loads(run.stdout)
                    assert out["status"] == "completed", out
                    sent[side] = out
                    extra = (f"sent {out['objects_sent']} objects, "
                             f"{out['bytes_sent'] / 2**20:,.1f} MiB")
                print(_line(f"{side} #{n + 1}", run, extra), flush=True)
                this[side] = run
                if side not in best or run.seconds < best[side].seconds:
                    best[side] = run
            ratios = {f"{what}_{kind}": getattr(this[f"brankas {what}"], attr)
                      / max(getattr(this[f"rclone {what}"], attr), 1e-9)
                      for what in ("full", "no-change")
                      for kind, attr in (("wall", "seconds"), ("cpu", "cpu_seconds"))}
            paired.append(ratios)
            print(f"round {n + 1}: full {ratios['full_wall']:.2f}x wall, "
                  f"{ratios['full_cpu']:.2f}x cpu; no-change {ratios['no-change_wall']:.2f}x "
                  f"wall, {ratios['no-change_cpu']:.2f}x cpu", flush=True)
        full = best["brankas full"].seconds / best["rclone full"].seconds
        same = best["brankas no-change"].seconds / best["rclone no-change"].seconds
        print(f"full push / rclone copy: {full:.2f}x (target <= {TARGET_FULL}); "
              f"no-change push / rclone no-change copy: {same:.2f}x "
              f"(target <= {TARGET_NOCHANGE})")
        medians = _medians(paired)
        print(f"median of the paired rounds: full {medians['full_wall']:.2f}x wall, "
              f"{medians['full_cpu']:.2f}x cpu; no-change {medians['no-change_wall']:.2f}x "
              f"wall, {medians['no-change_cpu']:.2f}x cpu")
        results = {"documents": COUNT, "bytes": tree.total_bytes,
                   "server": f"{server.kind} {server.version}",
                   "runs": {k: {"seconds": r.seconds, "cpu_seconds": r.cpu_seconds,
                                "peak_mib": r.peak_rss_kib / 1024} for k, r in best.items()},
                   "ratio_full": full, "ratio_nochange": same, "rounds": paired,
                   "median_rounds": medians}
        (ROOT / ".bench").mkdir(exist_ok=True)
        (ROOT / ".bench" / "offsite.json").write_text(json.dumps(results, indent=2))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
