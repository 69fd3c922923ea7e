"""The measurements: each Brankas command against the standard tools, same files, same run."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import checks, data, proc
from bench.instance import Instance

MIB = 1 << 20


@dataclass
class Measure:
    """One row of the table: Brankas against the standard tools on the same data."""

    name: str
    unit: str
    brankas: float
    baseline: float | None
    baseline_label: str
    target: str
    met: bool | None
    detail: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # from the correctness checks

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.brankas / self.baseline  # type: ignore[operator]


def _mib(kib: int) -> float:
    return kib / 1024


def _runs(runs: list[proc.Run]) -> list[dict[str, float]]:
    return [{"seconds": round(r.seconds, 4), "cpu_seconds": round(r.cpu_seconds, 3),
             "sys_seconds": round(r.sys_seconds, 3),
             "peak_rss_mib": round(_mib(r.peak_rss_kib), 1),
             "ru_maxrss_mib": round(_mib(r.ru_maxrss_kib), 1)} for r in runs]


QUIET_WAIT = 20.0  # seconds a round may wait for other work on the machine to calm down
busy_log: list[float] = []  # the busy share (other work) seen as each round started


def round_start() -> None:
    busy_log.append(round(proc.wait_for_quiet(QUIET_WAIT), 3))
    proc.settle()


def register(inst: Instance, big: Path, out_dir: Path, repeats: int) -> list[Measure]:
    """``brankas register`` of one big exempted scan against ``age`` + ``sha256sum``."""
    size = big.stat().st_size
    proc.warm([big])
    age_out = out_dir / "out.age"
    args = ["register", str(big), "--direction", "penerimaan", "--classification", "rahasia",
            "--number", "B-256/2026", "--date", "2026-01-15", "--subject", "Pindaian besar",
            "--correspondent", "Bench", "--allow-duplicate", "--json"]
    recipient_args = [a for r in inst.recipients for a in ("-r", r)]
    brankas_runs: list[proc.Run] = []
    age_runs: list[proc.Run] = []
    sha_runs: list[proc.Run] = []
    for _ in range(repeats):
        # Interleaved, so drift on the machine touches both sides alike.
        round_start()
        run = inst.brankas(*args)
        doc = json.loads(run.stdout)
        if doc["content_size"] != size or len(doc["recipients"]) != 2:
            raise RuntimeError(f"unexpected registration: {doc}")
        brankas_runs.append(run)
        age_out.unlink(missing_ok=True)
        proc.settle()
        age_runs.append(proc.run(["age", *recipient_args, "-o", str(age_out), str(big)]))
        sha_runs.append(proc.run(["sha256sum", str(big)]))
        expected = sha_runs[-1].stdout.split()[0]
        if expected != doc["content_sha256"]:
            raise RuntimeError("brankas and sha256sum disagree on the file's SHA-256")
    # One more registration through the same CLI with the memory probe: splits the peak
    # into "through the password check" and "after it" (the file work).
    proc.settle()
    probe = inst.brankas(*args, module="bench.memwrap")
    marks = next(json.loads(line[len("BENCH-MEM "):]) for line in probe.stderr.splitlines()
                 if line.startswith("BENCH-MEM "))
    age_out.unlink(missing_ok=True)

    problems = checks.registered(inst, doc, expected)
    best = min(r.seconds for r in brankas_runs)
    best_age = min(r.seconds for r in age_runs)
    best_sha = min(r.seconds for r in sha_runs)
    peak = max(r.peak_rss_kib for r in brankas_runs)
    after_auth = marks.get("hwm_after_auth_kib") or 0
    through_auth = marks.get("hwm_through_auth_kib") or 0
    mib = size / MIB
    return [
        Measure(
            name=f"register {mib:.0f} MiB exempted scan (2 recipients)",
            unit="s", brankas=best, baseline=best_age + best_sha,
            baseline_label=f"age {best_age:.2f} + sha256sum {best_sha:.2f}",
            target="ratio <= 1.2", met=best / (best_age + best_sha) <= 1.2,
            detail={"file_bytes": size, "brankas_runs": _runs(brankas_runs),
                    "age_runs": _runs(age_runs), "sha256sum_runs": _runs(sha_runs),
                    "brankas_mib_per_s": round(mib / best, 1),
                    "checked": "stored file hash; age -d with the recovery key gives the scan"},
            problems=problems,
        ),
        Measure(
            name="  peak memory of that registration, whole process",
            unit="MiB", brankas=_mib(peak),
            baseline=_mib(max(r.peak_rss_kib for r in age_runs)),
            baseline_label=f"age; sha256sum {_mib(max(r.peak_rss_kib for r in sha_runs)):.0f}",
            target="<= 100 MiB", met=_mib(peak) <= 100,
            detail={"probe_hwm_through_password_check_mib": round(_mib(through_auth), 1),
                    "probe_hwm_after_password_check_mib": round(_mib(after_auth), 1),
                    "probe_run": _runs([probe])[0]},
        ),
        Measure(
            name="  peak memory after the password check (file work)",
            unit="MiB", brankas=_mib(after_auth), baseline=None, baseline_label="",
            target="reported", met=None,
        ),
        Measure(
            name="  time after the password check (file work, 1 run)",
            unit="s", brankas=float(marks.get("seconds_after_auth") or 0),
            baseline=best_age + best_sha, baseline_label="age + sha256sum",
            target="reported", met=None,
            detail={"seconds_to_auth": marks.get("seconds_to_auth")},
        ),
    ]


def import_tree(inst: Instance, pristine: Path, tree: data.Tree, out_dir: Path,
                repeats: int) -> list[Measure]:
    """``brankas import`` of a four-folder tree against ``cp -r`` + ``sha256sum``.

    Each run gets its own fresh copy of the empty instance and its own target folder;
    nothing is deleted until all runs are done (deleting thousands of files just before
    creating thousands slows ext4's inode allocation, and would do so unevenly)."""
    proc.warm(tree.files)
    relative = [p.relative_to(tree.root) for p in tree.files]
    brankas_runs: list[proc.Run] = []
    cp_runs: list[proc.Run] = []
    sha_runs: list[proc.Run] = []
    summaries: list[dict[str, Any]] = []
    for i in range(repeats):
        home = out_dir / f"import-home-{i}"
        shutil.copytree(pristine, home, symlinks=True)
        run_inst = replace(inst, home=home)
        round_start()
        run = run_inst.brankas("import", str(tree.root), "--json")
        summary = json.loads(run.stdout)
        if summary["imported"] != len(tree.files) or summary["refused"] or summary["skipped"]:
            raise RuntimeError(
                f"import: {summary['imported']} imported, {summary['skipped']} skipped, "
                f"{summary['refused']} refused: {summary['refused_files'][:3]}"
            )
        brankas_runs.append(run)
        summaries.append({k: summary[k] for k in ("imported", "skipped", "refused")})
        copy = out_dir / f"copy-{i}"
        proc.settle()
        cp_runs.append(proc.run(["cp", "-r", str(tree.root), str(copy)]))
        sha_runs.append(proc.run(["sha256sum", *(str(copy / r) for r in relative)]))
    # Resuming a finished import: every file is checked again and skipped.
    proc.settle()
    again = replace(inst, home=out_dir / "import-home-0").brankas(
        "import", str(tree.root), "--json")
    if json.loads(again.stdout)["skipped"] != len(tree.files):
        raise RuntimeError("re-running the import did not skip every file")
    problems, checked = checks.imported(replace(inst, home=out_dir / "import-home-0"),
                                        len(tree.files))
    best = min(r.seconds for r in brankas_runs)
    best_cp = min(r.seconds for r in cp_runs)
    best_sha = min(r.seconds for r in sha_runs)
    ratio = best / (best_cp + best_sha)
    peak = max(r.peak_rss_kib for r in brankas_runs)
    return [
        Measure(
            name=f"import {len(tree.files):,} scans ({tree.total_bytes / MIB:.0f} MiB)",
            unit="s", brankas=best, baseline=best_cp + best_sha,
            baseline_label=f"cp -r {best_cp:.2f} + sha256sum {best_sha:.2f}",
            target="ratio <= 3", met=ratio <= 3,
            detail={"files": len(tree.files), "bytes": tree.total_bytes, "pdfs": tree.pdfs,
                    "jpegs": tree.jpegs, "exempted": tree.exempted,
                    "brankas_runs": _runs(brankas_runs), "cp_runs": _runs(cp_runs),
                    "sha256sum_runs": _runs(sha_runs), "summaries": summaries,
                    "brankas_ms_per_file": round(best / len(tree.files) * 1000, 2),
                    "rerun_all_skipped": _runs([again])[0], "checked": checked},
            problems=problems,
        ),
        Measure(
            name="  peak memory of that import, whole process",
            unit="MiB", brankas=_mib(peak),
            baseline=_mib(max(r.peak_rss_kib for r in cp_runs)),
            baseline_label=f"cp; sha256sum {_mib(max(r.peak_rss_kib for r in sha_runs)):.0f}",
            target="reported", met=None,
        ),
        Measure(
            name="  re-run of the finished import (all skipped)",
            unit="s", brankas=again.seconds, baseline=None, baseline_label="",
            target="reported", met=None,
        ),
    ]
