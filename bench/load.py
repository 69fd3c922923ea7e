"""Twenty users at once against ``brankas serve`` (issue 15): ``python -m bench.load``.

The tool: httpx's asyncio client (one event loop, one ``AsyncClient`` and its cookie jar
per user, so each user is a signed-in browser session). Only 127.0.0.1 is ever sent to;
the run is bounded in time (``--seconds``) and stops by itself.

Steps: an instance with ``--documents`` documents (``bench.bulk.build``, engineer C's bulk
path), on SQLite or on a PostgreSQL database (``--database-url``); ``--users`` users
created through the accounts service (half Sandiman, who also register, half Kasi);
``brankas serve`` started on a free port of 127.0.0.1; every user signs in (real Argon2,
not timed), then for ``--seconds`` each user repeats a realistic mix, one request after the
other, pausing between two as a person does (``--think``, 1.5 s on average; ``--think 0``:
back to back, the server's saturation, reported beside as the stress figure):

- dashboard (``/``), register list (``/documents/``, a random page among the first 20),
  search (``/documents/?q=WORD``), a document's page, opening a Biasa document's PDF;
- registering a 1 MB PDF (Sandiman only): the form, then its POST (timed: the POST, which
  stores, fsyncs, records and audits, answered by the redirect to the new document).

Afterwards the server is stopped and the register is checked: no agenda number twice, the
sequence of every (year, direction) without a gap, and exactly one new document per
registration answered. Figures: p50/p95/p99 per request kind (milliseconds), errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only address this bench ever sends to
KINDS = ["dashboard", "list", "search", "document", "pdf", "register"]
# The mix for a Sandiman; a Kasi does the same without registering.
WEIGHTS = {"dashboard": 15, "list": 20, "search": 20, "document": 20, "pdf": 15, "register": 10}
TARGETS_MS = {"dashboard": 200, "list": 100, "search": 100, "register": 1000}  # p95
WORDS = ["rapat", "undangan", "anggaran", "laporan", "dinas", "koordinasi", "kegiatan",
         "surat", "evaluasi", "pengadaan"]
PASSWORD = "Bench-Load-User-2026!"  # noqa: S105 - the bench users' password
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OPENED = re.compile(r'name="opened" value="([^"]*)"')


# ---------------------------------------------------------------- the 1 MB PDF

_NOISE = random.Random(15).randbytes(1000 * 1000)  # an uncompressible 1000x1000 grey scan


def scan_pdf(label: str) -> bytes:
    """A one-page PDF of about 1 MB (a 1000x1000 grey image and a line of text naming
    ``label``, which makes each file unique: no duplicate warning)."""
    text = zlib.compress(f"BT /F1 12 Tf 72 800 Td ({label}) Tj ET q 451 0 0 451 72 300 cm "
                         f"/Im1 Do Q".encode("latin-1"))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> /XObject << /Im1 6 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /XObject /Subtype /Image /Width 1000 /Height 1000 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(_NOISE) + _NOISE
        + b"\nendstream",
    ]
    from bench.bulk import pdf_file

    return pdf_file(objects)


# ---------------------------------------------------------------- set-up (a child process)

def _env(home: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(home), "BRANKAS_LANG": "en"})
    if database_url:
        env["BRANKAS_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _child(args: list[str], home: Path, database_url: str | None) -> dict[str, Any]:
    run = subprocess.run([sys.executable, "-m", "bench.load", *args],
                         env=_env(home, database_url), capture_output=True, text=True,
                         check=False, stdin=subprocess.DEVNULL)
    if run.returncode != 0:
        raise RuntimeError(f"bench.load {args[0]} failed:\n{run.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def _setup(users: int) -> dict[str, Any]:
    """In the instance's own Django process: the bench users (through ``user_create``, as
    the admin; their first-login password change waived), and samples of agendas."""
    from brankas import instance

    instance.start()
    instance.migrate()  # as `brankas serve` does first: the profile runs before it
    from brankas.web.accounts.models import User
    from brankas.web.accounts.services import user_create
    from brankas.web.documents.models import Document

    admin = User.objects.get(username="admin")
    names = []
    for i in range(users):
        role = "sandiman" if i % 2 == 0 else "kasi"
        name = f"load{role}{i:02d}"
        if not User.objects.filter(username=name).exists():
            user_create(actor=admin, username=name, role=role, password=PASSWORD,
                        full_name=f"Load {role} {i}")
        User.objects.filter(username=name).update(must_change_password=False)
        names.append((name, role))
    from django.db import connection

    if connection.vendor == "postgresql":
        # A server that has run a while has been vacuumed and analysed by autovacuum; a
        # database loaded a minute ago not yet (no statistics, no visibility map).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    rnd = random.Random(1)
    top = Document.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    picks = [rnd.randint(1, top) for _ in range(400)]
    docs = list(Document.objects.filter(pk__in=picks).values_list("agenda", "category"))
    return {
        "users": names,
        "documents": [a for a, _ in docs],
        "biasa": [a for a, c in docs if c == "biasa"],
        "before": _register_state(),
    }


def _profile(user: str, urls: list[str]) -> dict[str, Any]:
    """In process, before the server starts: each page's time (best of 3, the Django test
    client, no network) and its queries, with the slowest queries named: what the load
    test's figures are made of (``--profile``)."""
    from brankas import instance

    instance.start()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from brankas.web.accounts.models import User

    client = Client(HTTP_HOST=HOST)
    client.force_login(User.objects.get(username=user))
    pages = {}
    for url in urls:
        client.get(url)  # warm: templates, the first figures
        cpu = time.process_time()
        for _ in range(10):
            client.get(url)
        cpu_ms = (time.process_time() - cpu) * 100  # per request: CPU of this process,
        # the steadier figure on a shared machine (SQLite's work is in it; PostgreSQL's not)
        best, slow = float("inf"), []
        for _ in range(3):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                status = client.get(url).status_code
                took = time.perf_counter() - started
            if took < best:
                best = took
                slow = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:3]
        pages[url] = {"status": status, "ms": round(best * 1000, 1),
                      "cpu_ms": round(cpu_ms, 1),
                      "queries": len(captured.captured_queries),
                      "slowest": [f"{float(q['time']) * 1000:.1f} ms {q['sql'][:160]}"
                                  for q in slow]}
    return pages


def _register_state() -> dict[str, Any]:
    from django.db.models import Max

    from brankas.web.documents.models import Document

    top = Document.objects.aggregate(m=Max("pk"))["m"] or 0
    return {"count": Document.objects.count(), "top_pk": top}


def _check(top_pk: int) -> dict[str, Any]:
    """After the run: duplicate agenda numbers, gaps in the new documents' sequences."""
    from brankas import instance

    instance.start()
    from django.db.models import Count

    from brankas.web.documents.models import AgendaCounter, Document

    dup_agendas = (Document.objects.values("agenda").annotate(n=Count("pk"))
                   .filter(n__gt=1).count())
    dup_seqs = (Document.objects.values("year", "direction", "seq").annotate(n=Count("pk"))
                .filter(n__gt=1).count())
    new = Document.objects.filter(pk__gt=top_pk)
    gaps = 0
    for key in new.values("year", "direction").distinct():
        seqs = sorted(new.filter(**key).values_list("seq", flat=True))
        before = (Document.objects.filter(pk__lte=top_pk, **key)
                  .order_by("-seq").values_list("seq", flat=True).first() or 0)
        expected = list(range(before + 1, before + 1 + len(seqs)))
        counter = AgendaCounter.objects.filter(**key).values_list("last", flat=True).first()
        if seqs != expected or counter != seqs[-1]:
            gaps += 1
    return {"new_documents": new.count(), "duplicate_agendas": dup_agendas,
            "duplicate_sequences": dup_seqs, "sequences_with_gaps": gaps}


# ---------------------------------------------------------------- the server

def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(home: Path, database_url: str | None,
                 threads: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = _env(home, database_url)
    env["BRANKAS_SERVE_THREADS"] = str(threads)
    log = (home.parent / f"serve-{port}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "brankas", "serve", "--host", HOST,
                             "--port", str(port)], env=env, stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"brankas serve exited ({proc.returncode}); see {log.name}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return proc, f"http://{HOST}:{port}"
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("brankas serve did not start in 120 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------- the users

@dataclass
class Tally:
    times: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    error_samples: list[str] = field(default_factory=list)
    registered: int = 0

    def error(self, kind: str, what: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(f"{kind}: {what}")


async def _login(client: Any, name: str) -> None:
    page = await client.get("/login/")
    token = CSRF.search(page.text)
    if token is None:
        raise RuntimeError(f"no login form for {name}: {page.status_code}")
    r = await client.post("/login/", data={"csrfmiddlewaretoken": token.group(1),
                                           "username": name, "password": PASSWORD})
    if r.status_code != 302 or "/login" in r.headers.get("location", ""):
        raise RuntimeError(f"{name} could not sign in: {r.status_code}")


async def _one(client: Any, kind: str, rnd: random.Random, samples: dict[str, Any],
               tally: Tally, serial: list[int]) -> None:
    expect = 200
    if kind == "dashboard":
        method, url, kw = "GET", "/", {}
    elif kind == "list":
        method, url, kw = "GET", f"/documents/?page={rnd.randint(1, 20)}", {}
    elif kind == "search":
        method, url, kw = "GET", f"/documents/?q={rnd.choice(WORDS)}", {}
    elif kind == "document":
        method, url, kw = "GET", f"/documents/{rnd.choice(samples['documents'])}/", {}
    elif kind == "pdf":
        method, url, kw = "GET", f"/documents/{rnd.choice(samples['biasa'])}/pdf", {}
    else:  # register: the form (not timed), then the POST
        form = await client.get("/documents/new/")
        token, opened = CSRF.search(form.text), OPENED.search(form.text)
        if form.status_code != 200 or token is None or opened is None:
            tally.error(kind, f"form {form.status_code}")
            return
        serial[0] += 1
        label = f"bench load {os.getpid()} {serial[0]} {time.time_ns()}"
        data = {"csrfmiddlewaretoken": token.group(1), "opened": opened.group(1),
                "direction": rnd.choice(["penerimaan", "pengiriman"]),
                "classification": "biasa" if rnd.random() < 0.75 else "rahasia",
                "number": f"{serial[0]}/BENCH/2026", "doc_date": "05/12/2026",
                "subject": f"Uji beban {label}", "correspondent": "Dinas Uji Beban",
                "pages": "", "attachments": "", "notes": ""}
        method, url, kw = "POST", "/documents/new/", {
            "data": data, "files": {"scans": (f"{serial[0]}.pdf", scan_pdf(label),
                                              "application/pdf")}}
        expect = 302
    started = time.perf_counter()
    try:
        r = await client.request(method, url, **kw)
    except Exception as exc:  # a refused or dropped connection is an error of the run
        tally.error(kind, f"{type(exc).__name__}: {exc}")
        return
    took = (time.perf_counter() - started) * 1000
    if r.status_code != expect or (kind == "register"
                                   and "/documents/" not in r.headers.get("location", "")):
        tally.error(kind, f"{method} {url} -> {r.status_code}")
        return
    if kind == "register":
        tally.registered += 1
    tally.times[kind].append(took)


async def _user(base: str, name: str, role: str, seconds: float, seed: int,
                samples: dict[str, Any], tally: Tally, start: asyncio.Event,
                ready: list[str], think: float) -> None:
    import httpx

    rnd = random.Random(seed)
    kinds = [k for k in KINDS if role == "sandiman" or k != "register"]
    weights = [WEIGHTS[k] for k in kinds]
    serial = [0]
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False,
                                 headers={"Accept-Language": "id"}) as client:
        await _login(client, name)
        ready.append(name)
        await start.wait()
        deadline = time.monotonic() + seconds
        if think:
            await asyncio.sleep(rnd.uniform(0, 2 * think))  # users do not start in step
        while time.monotonic() < deadline:
            await _one(client, rnd.choices(kinds, weights)[0], rnd, samples, tally, serial)
            if think:
                await asyncio.sleep(min(rnd.uniform(0, 2 * think),
                                        max(0.0, deadline - time.monotonic())))


async def _drive(base: str, users: list[tuple[str, str]], seconds: float,
                 samples: dict[str, Any], think: float) -> Tally:
    tally = Tally()
    start = asyncio.Event()
    ready: list[str] = []
    tasks = [asyncio.create_task(_user(base, name, role, seconds, i, samples, tally, start,
                                       ready, think))
             for i, (name, role) in enumerate(users)]
    while len(ready) < len(tasks) and not any(t.done() for t in tasks):
        await asyncio.sleep(0.2)  # every user signed in before the clock runs
    start.set()
    await asyncio.gather(*tasks)
    return tally


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# ---------------------------------------------------------------- one run

def run(home: Path, *, documents: int, audit_entries: int, users: int = 20,
        seconds: float = 60, threads: int = 8, database_url: str | None = None,
        label: str = "sqlite", think: float = 1.5,
        profile_pages: bool = False) -> dict[str, Any]:
    """Build (unless ``home`` already holds an instance), load, check; the figures."""
    if not (home / "config").exists():
        from bench import bulk

        bulk.build(home, documents, audit_entries, database_url=database_url)
    samples = _child(["setup", str(users)], home, database_url)
    profile = None
    if profile_pages:
        agenda = samples["documents"][0]
        biasa = samples["biasa"][0]
        profile = _child(["profile", samples["users"][1][0], "/", "/documents/",
                          "/documents/?page=20", "/documents/?page=1500",
                          "/documents/?q=rapat", "/documents/?q=tidakada",
                          f"/documents/{agenda}/", f"/documents/{biasa}/pdf"],
                         home, database_url)
    proc, base = start_server(home, database_url, threads)
    load_before = os.getloadavg()
    try:
        tally = asyncio.run(_drive(base, [tuple(u) for u in samples["users"]], seconds,
                                   samples, think))
    finally:
        stop_server(proc)
    load_after = os.getloadavg()
    check = _child(["check", str(samples["before"]["top_pk"])], home, database_url)
    kinds = {}
    for kind in KINDS:
        t = tally.times[kind]
        kinds[kind] = {"requests": len(t), "errors": tally.errors[kind],
                       "p50": round(percentile(t, 50), 1), "p95": round(percentile(t, 95), 1),
                       "p99": round(percentile(t, 99), 1), "target_p95": TARGETS_MS.get(kind)}
    done = sum(len(t) for t in tally.times.values())
    return {"database": label, "documents": samples["before"]["count"], "users": users,
            "seconds": seconds, "think": think, "threads": threads, "kinds": kinds,
            "requests_per_second": round(done / seconds, 1),
            "load_average": {"before": [round(x, 2) for x in load_before],
                             "after": [round(x, 2) for x in load_after]},
            "errors": sum(tally.errors.values()), "error_samples": tally.error_samples,
            "registered": tally.registered, "check": check, "profile": profile,
            "ok": (sum(tally.errors.values()) == 0 and check["duplicate_agendas"] == 0
                   and check["duplicate_sequences"] == 0
                   and check["sequences_with_gaps"] == 0
                   and check["new_documents"] == tally.registered)}


def table(result: dict[str, Any]) -> str:
    lines = [f"Load: {result['users']} users, {result['seconds']} s, think "
             f"{result['think']} s, {result['documents']:,} documents, {result['database']} "
             f"(waitress {result['threads']} threads): {result['requests_per_second']} "
             f"requests/s; load average before {result['load_average']['before'][0]}, "
             f"after {result['load_average']['after'][0]}",
             f"  {'kind':<10} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
             f"{'p99 ms':>8}  target p95"]
    for kind, k in result["kinds"].items():
        target = f"<= {k['target_p95']} ms" if k["target_p95"] else "-"
        lines.append(f"  {kind:<10} {k['requests']:>8} {k['errors']:>6} {k['p50']:>8} "
                     f"{k['p95']:>8} {k['p99']:>8}  {target}")
    c = result["check"]
    lines.append(f"  registered {result['registered']}, new in the register "
                 f"{c['new_documents']}; duplicate agendas {c['duplicate_agendas']}, "
                 f"duplicate sequences {c['duplicate_sequences']}, sequences with a gap "
                 f"{c['sequences_with_gaps']}; errors {result['errors']}"
                 + (f" ({'; '.join(result['error_samples'][:3])})"
                    if result["error_samples"] else ""))
    return "\n".join(lines)


# The benchmarks' PostgreSQL as an office server runs it (docs/server.md).
SERVER_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on",
                   "shared_buffers": "128MB"}


def _postgresql(base: Path) -> tuple[Any, str]:
    """A throw-away cluster (scripts/pgcluster.py) configured as a server is (the test
    cluster runs with fsync off and 32 MB of shared buffers): fsync, synchronous_commit and
    full_page_writes on, and ``shared_buffers`` at PostgreSQL's (and Debian's) default of
    128 MB. At 32 MB the search's gathered windows read most of their pages from the
    operating system's cache: 1.3-1.6x the work of 128 MB (docs/benchmarks.md,
    "PostgreSQL search, session 21: the vectors' storage and the buffers")."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import pgcluster  # type: ignore[import-not-found]

    cluster = pgcluster.start(base)
    import psycopg

    with psycopg.connect(cluster.url, autocommit=True) as con:
        for setting, value in SERVER_SETTINGS.items():
            con.execute(f"ALTER SYSTEM SET {setting} = '{value}'")
        con.execute("CREATE DATABASE brankas_load")
    cluster.restart()  # shared_buffers is read at the server's start only
    return cluster, cluster.url.rsplit("/", 1)[0] + "/brankas_load"



def _print(result: dict[str, Any]) -> None:
    print(table(result), flush=True)
    for url, page in (result["profile"] or {}).items():
        print(f"  in process {url}: {page['ms']} ms (CPU {page.get('cpu_ms')} ms), "
              f"{page['queries']} queries; slowest: "
              + " | ".join(page["slowest"]), flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["setup"]:
        print(json.dumps(_setup(int(argv[1]))))
        return 0
    if argv[:1] == ["check"]:
        print(json.dumps(_check(int(argv[1]))))
        return 0
    if argv[:1] == ["profile"]:
        print(json.dumps(_profile(argv[1], argv[2:])))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / ".bench" / "load",
                        help="where the instances are built (kept: a second run reuses them)")
    parser.add_argument("--databases", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--audit-entries", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--think", type=float, default=1.5,
                        help="mean pause between a user's requests, seconds (0: none)")
    parser.add_argument("--profile", action="store_true",
                        help="first time each page in process, with its slowest queries")
    parser.add_argument("--json", type=Path, default=ROOT / ".bench" / "load.json")
    parser.add_argument("--home", type=Path, default=None,
                        help="an existing instance to load (a copy: the run registers into "
                             "it), instead of one built under --work")
    parser.add_argument("--database-url", default=None,
                        help="with --home: its PostgreSQL database (kept), instead of a "
                             "throw-away cluster")
    args = parser.parse_args(argv)
    if args.home is not None:
        label = "postgresql" if args.database_url else "sqlite"
        result = run(args.home, documents=args.documents, audit_entries=args.audit_entries,
                     users=args.users, seconds=args.seconds, threads=args.threads,
                     database_url=args.database_url, label=label, think=args.think,
                     profile_pages=args.profile)
        _print(result)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([result], indent=2))
        return 0 if result["ok"] else 1
    results, ok = [], True
    for db in (["sqlite", "postgresql"] if args.databases == "both" else [args.databases]):
        home = args.work / f"{db}-{args.documents}" / "home"
        cluster, url = (None, None)
        if db == "postgresql":
            if home.exists():  # its database went with its cluster: build again
                import shutil

                shutil.rmtree(home.parent)
            home.parent.mkdir(parents=True, exist_ok=True)
            cluster, url = _postgresql(home.parent)
        else:
            home.parent.mkdir(parents=True, exist_ok=True)
        try:
            result = run(home, documents=args.documents, audit_entries=args.audit_entries,
                         users=args.users, seconds=args.seconds, threads=args.threads,
                         database_url=url, label=db, think=args.think,
                         profile_pages=args.profile)
        finally:
            if cluster is not None:
                cluster.stop()
        _print(result)
        results.append(result)
        ok = ok and result["ok"]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
