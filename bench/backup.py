"""The backup disk: ``brankas backup`` and ``brankas verify`` against the standard tools.

On one instance holding a few thousand imported PDFs (``prepare``), in one run on the
same data (``measure``):

- a full backup into an empty folder, read-after-write verified, against ``rsync -a`` of
  the archive plus ``sha256sum`` of every copied file;
- a backup with nothing changed (into a disk that has everything) against a second
  ``restic backup`` of the archive with nothing changed;
- a fixity check of the whole disk against ``sha256sum -c`` of the bag's manifest.

Afterwards (not timed) standard tools decide whether the disk is right: the Library of
Congress ``bagit`` library validates the bag, the bag's manifest is compared with
``sha256sum`` of the rsync copy, and ``brankas verify`` must name a changed, a missing
and an unexpected file on a copy that was tampered with.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench import data, proc
from bench.instance import Instance
from bench.suite import MIB, Measure, _mib, _runs, round_start

RESTIC_PASSWORD = "bench-restic-repository-pass"  # noqa: S105 - a throwaway repository


@dataclass(frozen=True)
class Prepared:
    inst: Instance  # an instance whose archive holds the imported tree, nothing else
    tree: data.Tree
    documents: int  # records the import made
    import_seconds: float


def prepare(inst: Instance, pristine: Path, inputs: Path, work: Path, count: int) -> Prepared:
    """Generate ``count`` PDFs (fixed seed) and import them into a fresh copy of the empty
    instance ``pristine`` (set-up, not timed)."""
    tree = data.backup_tree(inputs / "arsip-cadangan", count)
    home = work / "backup-home"
    shutil.copytree(pristine, home, symlinks=True)
    binst = replace(inst, home=home)
    run = binst.brankas("import", str(tree.root), "--json")
    summary = json.loads(run.stdout)
    if summary["imported"] != count or summary["refused"] or summary["skipped"]:
        raise RuntimeError(
            f"backup set-up import: {summary['imported']} imported, {summary['skipped']}"
            f" skipped, {summary['refused']} refused: {summary.get('refused_files', [])[:3]}")
    # The generated tree stays until the end: deleting thousands of files just before the
    # timed rounds create thousands would slow ext4's inode allocation, unevenly.
    return Prepared(binst, tree, summary["imported"], run.seconds)


def _clone(inst: Instance, home: Path) -> Instance:
    """A copy of the instance in the state the import left it: the database and the small
    files copied, the archive's files hard-linked (same bytes, same cached pages)."""
    shutil.copytree(inst.home, home, symlinks=True, ignore=lambda d, names: (
        ["arsip"] if Path(d) == inst.home else []))
    shutil.copytree(inst.home / "arsip", home / "arsip", copy_function=os.link)
    return replace(inst, home=home)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _drop_cache(paths: list[Path]) -> None:
    """Forget the files' cached pages (they are written back already), so the next read
    comes from the disk: what ``brankas verify`` does itself for each file it reads."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _manifest(bag: Path) -> dict[str, str]:
    """The bag's payload manifest: path (``data/...``) -> SHA-256."""
    entries = {}
    for line in (bag / "manifest-sha256.txt").read_text("utf-8").splitlines():
        if line.strip():
            digest, path = line.split(None, 1)
            entries[path.strip()] = digest.lower()
    return entries


def _sha256sum_output(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        digest, path = line.split(None, 1)
        out[path.lstrip("*").strip()] = digest
    return out


def _restic_summary(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict) and msg.get("message_type") == "summary":
            return msg
    raise RuntimeError(f"restic backup printed no summary: {stdout[-500:]}")


def measure(prep: Prepared, out_dir: Path, repeats: int) -> list[Measure]:
    archive = prep.inst.home / "arsip"
    sources = _files(archive)
    relative = [p.relative_to(archive).as_posix() for p in sources]
    source_bytes = sum(p.stat().st_size for p in sources)
    count = prep.documents
    problems: list[str] = []
    if len(sources) != count:
        problems.append(f"{len(sources)} files in the archive for {count} imported documents")

    # Full backup, read-after-write verified, against rsync -a + sha256sum of the copy.
    # Each round starts from the same state: its own copy of the instance, which knows no
    # earlier run or disk (a backup also writes the register and a database snapshot).
    insts = [_clone(prep.inst, out_dir / f"home-{i}") for i in range(repeats)]
    proc.warm(sources)
    full_runs: list[proc.Run] = []
    rsync_runs: list[proc.Run] = []
    sha_runs: list[proc.Run] = []
    writeback: list[float] = []
    full_json: list[dict[str, Any]] = []
    bags = [out_dir / f"bag-{i}" for i in range(repeats)]
    for i, bag in enumerate(bags):
        round_start()
        run = insts[i].brankas("backup", str(bag), "--label", "bench", "--json")
        full_runs.append(run)
        full_json.append(json.loads(run.stdout))
        copy = out_dir / f"rsync-{i}"
        proc.settle()
        rsync_runs.append(proc.run(["rsync", "-a", f"{archive}/", f"{copy}/"]))
        # rsync does not fsync: its writes are flushed here, untimed, so they are billed
        # to neither tool (the time is kept in the details).
        t0 = time.perf_counter()
        proc.settle()
        writeback.append(time.perf_counter() - t0)
        sha_runs.append(proc.run(["sha256sum", *relative], cwd=copy))
        # Untimed: forget the copy's cached pages, as Brankas's read-after-write does for
        # its own copies, so every round of either side starts with the same page cache.
        _drop_cache([copy / r for r in relative])
    copy_sums = _sha256sum_output(sha_runs[0].stdout)

    # No-change backup: the first round's instance into its disk again, against restic's
    # second backup.
    inst = insts[0]
    restic_env = {**os.environ, "RESTIC_PASSWORD": RESTIC_PASSWORD,
                  "RESTIC_CACHE_DIR": str(out_dir / "restic-cache")}
    repo = out_dir / "restic-repo"
    restic = ["restic", "-r", str(repo)]
    proc.settle()
    proc.run([*restic, "init"], env=restic_env)
    first = proc.run([*restic, "backup", "--json", str(archive)], env=restic_env)
    restic_first = _restic_summary(first.stdout)
    proc.settle()
    inst.brankas("backup", str(bags[0]), "--label", "bench", "--json")  # untimed, warms up
    again_runs: list[proc.Run] = []
    again_json: list[dict[str, Any]] = []
    restic_runs: list[proc.Run] = []
    restic_json: list[dict[str, Any]] = []
    for _ in range(repeats):
        round_start()
        run = inst.brankas("backup", str(bags[0]), "--label", "bench", "--json")
        again_runs.append(run)
        again_json.append(json.loads(run.stdout))
        proc.settle()
        run = proc.run([*restic, "backup", "--json", str(archive)], env=restic_env)
        restic_runs.append(run)
        restic_json.append(_restic_summary(run.stdout))

    # Verify the whole disk against sha256sum -c of its manifest. brankas verify reads
    # past the page cache (posix_fadvise) by design, so both sides read the disk: the
    # bag's files are dropped from the cache before each timed run of either side.
    bag = bags[0]
    bag_files = _files(bag)
    verify_runs: list[proc.Run] = []
    verify_json: list[dict[str, Any]] = []
    check_runs: list[proc.Run] = []
    warm_runs: list[proc.Run] = []
    check_argv = ["sha256sum", "-c", "--quiet", "manifest-sha256.txt"]
    inst.brankas("verify", str(bag), "--json")  # untimed: Python's own files, the database
    proc.run(check_argv, cwd=bag)
    for _ in range(repeats):
        _drop_cache(bag_files)
        round_start()
        run = inst.brankas("verify", str(bag), "--json")
        verify_runs.append(run)
        verify_json.append(json.loads(run.stdout))
        _drop_cache(bag_files)
        proc.settle()
        check_runs.append(proc.run(check_argv, cwd=bag))
        # For reference: the same check with every file already in the page cache.
        warm_runs.append(proc.run(check_argv, cwd=bag))

    # Afterwards, not timed: is the disk right?
    checked: dict[str, Any] = {}
    problems += _check_full(full_json, count, source_bytes)
    problems += _check_again(again_json, count)
    manifest = _manifest(bag)
    arsip = {p[len("data/arsip/"):]: h for p, h in manifest.items() if p.startswith("data/arsip/")}
    if arsip != copy_sums:
        differ = sorted(set(arsip.items()) ^ set(copy_sums.items()))
        problems.append(f"the bag's manifest and sha256sum of the rsync copy differ for "
                        f"{len(differ)} entries, e.g. {differ[:2]}")
    checked["manifest_against_sha256sum_of_the_rsync_copy"] = f"{len(copy_sums)} files"
    problems += _check_verify(verify_json, manifest)
    for summary in restic_json:
        if summary.get("files_new") or summary.get("files_changed"):
            problems.append(f"restic's no-change backup found changes: {summary}")
            break
    invalid = _validate_with_bagit(bag)
    problems += invalid
    checked["bagit_library"] = "INVALID" if invalid else "valid"
    bag_bytes = sum(p.stat().st_size for p in bag_files)
    spare = bags[-1]  # the last round's disk, checked by the last round's instance
    if spare == bag:
        spare = out_dir / "bag-spare"
        shutil.copytree(bag, spare)
    tamper = _tampered(insts[-1], spare, manifest)
    problems += tamper
    checked["verify_of_a_tampered_copy"] = ("wrong" if tamper else
                                            "names the changed, missing and unexpected file")

    best_full = min(r.seconds for r in full_runs)
    best_rsync = min(r.seconds for r in rsync_runs)
    best_sha = min(r.seconds for r in sha_runs)
    base_full = best_rsync + best_sha
    best_again = min(r.seconds for r in again_runs)
    best_restic = min(r.seconds for r in restic_runs)
    best_verify = min(r.seconds for r in verify_runs)
    best_check = min(r.seconds for r in check_runs)
    best_warm = min(r.seconds for r in warm_runs)
    peak = _mib(max(r.peak_rss_kib for r in full_runs))
    mib = source_bytes / MIB
    return [
        Measure(
            name=f"backup {count:,} files ({mib:,.0f} MiB), read-after-write verified",
            unit="s", brankas=best_full, baseline=base_full,
            baseline_label=f"rsync -a {best_rsync:.2f} + sha256sum {best_sha:.2f}",
            target="ratio <= 1.0", met=best_full / base_full <= 1.0,
            detail={"files": count, "bytes": source_bytes, "pdfs": prep.tree.pdfs,
                    "exempted": prep.tree.exempted, "import_seconds": round(prep.import_seconds, 2),
                    "brankas_runs": _runs(full_runs), "rsync_runs": _runs(rsync_runs),
                    "sha256sum_runs": _runs(sha_runs),
                    "rsync_writeback_seconds": [round(s, 3) for s in writeback],
                    "brankas_mib_per_s": round(mib / best_full, 1),
                    "summaries": [_short(j) for j in full_json],
                    "checked": checked},
            problems=problems,
        ),
        Measure(
            name="  peak memory of that backup, whole process",
            unit="MiB", brankas=peak,
            baseline=_mib(max(r.peak_rss_kib for r in rsync_runs)),
            baseline_label=f"rsync; sha256sum {_mib(max(r.peak_rss_kib for r in sha_runs)):.0f}",
            target="<= 150 MiB", met=peak <= 150,
        ),
        Measure(
            name="backup again, nothing changed",
            unit="s", brankas=best_again, baseline=best_restic,
            baseline_label="restic backup",
            target="ratio <= 1.0", met=best_again / best_restic <= 1.0,
            detail={"brankas_runs": _runs(again_runs), "restic_runs": _runs(restic_runs),
                    "summaries": [_short(j) for j in again_json],
                    "restic_first_backup": {"seconds": round(first.seconds, 2),
                                            "files_new": restic_first.get("files_new")},
                    "restic_summaries": [{k: s.get(k) for k in
                                          ("files_new", "files_changed", "files_unmodified")}
                                         for s in restic_json]},
        ),
        Measure(
            name=f"verify the whole disk ({len(manifest):,} files, {bag_bytes / MIB:,.0f} MiB)",
            unit="s", brankas=best_verify, baseline=best_check,
            baseline_label="sha256sum -c",
            target="ratio <= 0.8", met=best_verify / best_check <= 0.8,
            detail={"brankas_runs": _runs(verify_runs), "sha256sum_runs": _runs(check_runs),
                    "sha256sum_warm_runs": _runs(warm_runs),
                    "peak_rss_mib": round(_mib(max(r.peak_rss_kib for r in verify_runs)), 1),
                    "brankas_mib_per_s": round(bag_bytes / MIB / best_verify, 1)},
        ),
        Measure(
            name="  against sha256sum -c from the page cache",
            unit="s", brankas=best_verify, baseline=best_warm,
            baseline_label="sha256sum -c, warm",
            target="reported", met=None,
        ),
    ]


SUMMARY_KEYS = ("run", "files_added", "bytes_added", "skipped", "files", "bytes", "agendas",
                "verified", "ok", "files_total", "bytes_total", "files_hashed", "missing",
                "changed", "unexpected")


def _short(summary: dict[str, Any]) -> dict[str, Any]:
    """A backup's or verify's JSON: the counts, lists by their length."""
    return {k: (len(v) if isinstance(v, list) else v) for k, v in summary.items()
            if k in SUMMARY_KEYS}


def _check_full(runs: list[dict[str, Any]], count: int, source_bytes: int) -> list[str]:
    problems = []
    for i, s in enumerate(runs):
        where = f"full backup {i + 1}"
        if not isinstance(s.get("run"), int):
            problems.append(f"{where}: no run number in the JSON")
        if s.get("verified") is not True:
            problems.append(f"{where}: not verified")
        if len(s.get("agendas", [])) != count:
            problems.append(f"{where}: {len(s.get('agendas', []))} agendas for {count} documents")
        if s.get("files_added", 0) < count or s.get("files") != s.get("files_added"):
            problems.append(f"{where}: files_added {s.get('files_added')}, files {s.get('files')}"
                            f" for {count} documents")
        if s.get("bytes_added", 0) < source_bytes or s.get("bytes") != s.get("bytes_added"):
            problems.append(f"{where}: bytes_added {s.get('bytes_added')}, bytes {s.get('bytes')}"
                            f" for {source_bytes} bytes of archive")
        if s.get("skipped"):
            problems.append(f"{where}: {s['skipped']} skipped on an empty disk")
    return problems


def _check_again(runs: list[dict[str, Any]], count: int) -> list[str]:
    problems = []
    for i, s in enumerate(runs):
        where = f"no-change backup {i + 1}"
        if s.get("verified") is not True:
            problems.append(f"{where}: not verified")
        if s.get("agendas"):
            problems.append(f"{where}: carried {len(s['agendas'])} documents again")
        if s.get("skipped", 0) < count:
            problems.append(f"{where}: skipped {s.get('skipped')} of {count} documents")
    return problems


def _check_verify(runs: list[dict[str, Any]], manifest: dict[str, str]) -> list[str]:
    problems = []
    for i, r in enumerate(runs):
        where = f"verify {i + 1}"
        if r.get("ok") is not True or r.get("missing") or r.get("changed") or r.get("unexpected"):
            problems.append(f"{where}: not ok: {_short(r)}")
        if r.get("files_total") != len(manifest) or r.get("files_hashed") != len(manifest):
            problems.append(f"{where}: {r.get('files_total')} files, {r.get('files_hashed')}"
                            f" hashed; the manifest lists {len(manifest)}")
    return problems


def _validate_with_bagit(bag: Path) -> list[str]:
    import bagit

    logging.getLogger("bagit").setLevel(logging.ERROR)
    try:
        bagit.Bag(str(bag)).validate(processes=2)
    except bagit.BagError as exc:
        details = getattr(exc, "details", None) or []
        return [f"bagit library: {exc}"] + [f"bagit library: {d}" for d in details[:5]]
    return []


def _tampered(inst: Instance, bag: Path, manifest: dict[str, str]) -> list[str]:
    """On a spare disk: change one byte of one file, delete another, add one; ``brankas
    verify`` must exit 1 and name all three."""
    payload = sorted(p for p in manifest if p.startswith("data/arsip/"))
    changed, missing = payload[0], payload[1]
    unexpected = "data/arsip/unexpected.pdf"
    with open(bag / changed, "r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    (bag / missing).unlink()
    (bag / unexpected).write_bytes(b"%PDF-1.7\n")
    run = inst.brankas("verify", str(bag), "--json", check=False)
    problems = []
    if run.returncode != 1:
        problems.append(f"verify of a tampered disk exited {run.returncode}, not 1")
    try:
        report = json.loads(run.stdout)
    except ValueError:
        return [*problems, f"verify of a tampered disk printed no JSON: {run.stderr[-300:]}"]
    for key, path in (("changed", changed), ("missing", missing), ("unexpected", unexpected)):
        named = json.dumps(report.get(key, []), ensure_ascii=False)
        if path[len("data/"):] not in named:
            problems.append(f"verify of a tampered disk did not name {path} as {key}")
    if report.get("ok") is not False:
        problems.append("verify of a tampered disk said ok")
    return problems
