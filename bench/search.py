"""Full-text search at 100,000 documents (issue 19): ``python -m bench.search``.

Steps, per database (SQLite, and PostgreSQL 15 on a throw-away cluster made durable as a
server is, as bench/load.py does):

1. an instance of ``--documents`` documents made by ``bench.bulk.build`` (kept under
   ``--work``: a second run reuses it; PostgreSQL's cluster is throw-away, rebuilt);
2. ``texts``: every biasa document gets the text row the text pipeline writes (a quarter of
   the register is exempted and never has one: docs/ocr.md), its body a letter of 150-400
   words in Indonesian (``letter``): a greeting, a body drawn from a vocabulary of about
   4,000 words with a Zipf spread (s = 1.1: "dan", "yang", "dinas" in nearly every
   letter, the tail in a handful), a closing. Rows are ``DocumentText`` as the pipeline
   makes them (status ``text``, method ``pdf``, the stored file's SHA-256, read at the
   registration) through ``bulk_create`` in batches of 5,000: the index follows by its
   own triggers (SQLite) or generated column (PostgreSQL), as for any write;
3. ``measure``: for each query kind (two rare words found together, the rarest word, a
   common word, two common words, four words of an invitation, a word found nowhere),
   ``--repeats`` times in turn: the selector as the register page calls it (the first page
   of 50 and the capped count: ``BoundedPaginator(document_search(...), 50, cap=1000)``)
   and the register page itself (``GET /documents/?q=...``, the Django test client in
   process, signed in as the Kasi). Figures: p50/p95/p99 wall ms, and CPU ms of this
   process (SQLite's work is in it; PostgreSQL's server is not: on Linux, with the
   cluster on this machine, the server process's CPU per call as well, from
   ``/proc/<pid>/schedstat``), the plans (EXPLAIN).

Results: a table on stdout and ``.bench/search.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from itertools import accumulate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 50
BATCH = 5000
SEED = 19

# Words of official letters (kop surat, perihal, body, closing), the head of the
# distribution; the tail is made of syllables (a plausible long tail of rarer words).
_HEAD_TEXT = """dan yang dengan dinas untuk dalam kepada tersebut kegiatan pada ini dari
tahun surat bidang daerah kabupaten kepala sebagai bahwa akan rapat pelaksanaan data
informasi nomor tanggal hal perihal lampiran tembusan sekretariat bagian pegawai laporan
anggaran koordinasi undangan hormat demikian disampaikan atas perhatian kerja sama
terima kasih kami mohon hadir acara tempat waktu pukul wita bertempat ruang aula kantor
pemerintah provinsi kecamatan desa kelurahan masyarakat program pembangunan kesehatan
pendidikan sosial ekonomi keuangan perencanaan evaluasi monitoring pelaporan pengadaan
barang jasa penyedia kontrak pekerjaan pembayaran realisasi target capaian indikator
kinerja rencana strategis peraturan bupati gubernur menteri keputusan surat edaran
instruksi pedoman petunjuk teknis pelayanan publik administrasi kepegawaian mutasi cuti
pensiun jabatan fungsional struktural pelatihan bimbingan sosialisasi workshop seminar
narasumber peserta konsumsi akomodasi transportasi perjalanan dinas biaya dipa dpa
rka apbd apbn bantuan hibah stunting gizi posyandu puskesmas imunisasi sanitasi air
bersih jalan jembatan irigasi pertanian perikanan peternakan pariwisata kebudayaan
persandian keamanan jaringan aplikasi server internet website domain sertifikat
elektronik tanda tangan arsip dokumen naskah rahasia biasa terbatas penting segera
mohon agar dapat segera menindaklanjuti sesuai ketentuan berlaku paling lambat
selambat lambatnya diharapkan kehadiran bapak ibu saudara tepat waktu mengingat
pentingnya acara dimaksud adapun hasil berdasarkan menindaklanjuti sehubungan
"""
_HEAD = _HEAD_TEXT.split()
_SYLLABLES = ["ba", "ka", "la", "ma", "na", "pa", "ra", "sa", "ta", "da", "ga", "ja", "ha",
              "bi", "ki", "li", "mi", "ni", "pi", "ri", "si", "ti", "di", "gu", "ju", "hu",
              "ber", "ter", "per", "men", "pen", "kan", "an", "nya", "lah", "kah"]
TAIL_WORDS = 4000
QUERIES = {
    "rare words": None,  # two tail words found together in 1-60 letters (_pick_words)
    "uncommon word": None,  # the rarest word of the vocabulary: a few hundred letters
    "common word": "dinas",
    "two common words": "rapat koordinasi",
    "invitation phrase": "undangan rapat koordinasi stunting",
    "word found nowhere": "zyxwvutsrq",
    # the register's fields (session 19, O2b): a letter's own number (a few rows; SQLite's
    # trigram field index), two characters (under the trigram: the scan)
    "letter number": "251/E/20",
    "two characters": "qx",
}


def vocabulary() -> list[str]:
    rnd = random.Random(SEED)
    seen = dict.fromkeys(_HEAD)
    while len(seen) < len(_HEAD) + TAIL_WORDS:
        seen.setdefault("".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(2, 4))))
    return list(seen)


class Letters:
    """Letter bodies from a fixed seed: the same ``letter(i)`` on every run and database."""

    def __init__(self) -> None:
        self.words = vocabulary()
        self.cumulative = list(accumulate(1 / (r + 1) ** 1.1 for r in range(len(self.words))))

    def letter(self, i: int) -> str:
        rnd = random.Random(SEED * 1_000_003 + i)
        n = rnd.randint(150, 400)
        body = rnd.choices(self.words, cum_weights=self.cumulative, k=n)
        sentences = [" ".join(body[k:k + 12]).capitalize() + "." for k in range(0, n, 12)]
        return ("Dengan hormat,\n" + " ".join(sentences)
                + "\nDemikian disampaikan, atas perhatian dan kerja samanya diucapkan terima "
                "kasih.")


# ---------------------------------------------------------------- in the instance's process

def _texts() -> dict[str, Any]:
    """Step 2: a text row for every biasa document without one."""
    from brankas import instance

    instance.start()
    instance.migrate()
    from brankas.core.terms import Category
    from brankas.core.text import METHOD_PDF, STATUS_TEXT
    from brankas.web.documents.models import Document
    from brankas.web.text.models import DocumentText

    letters = Letters()
    t0 = time.perf_counter()
    todo = (Document.objects.filter(category=Category.REGULAR.value, text__isnull=True)
            .order_by("pk").values_list("pk", "pages", "stored_sha256", "registered_at"))
    made, batch = 0, []
    for pk, pages, sha, at in todo.iterator(chunk_size=BATCH):
        batch.append(DocumentText(document_id=pk, status=STATUS_TEXT, method=METHOD_PDF,
                                  body=letters.letter(pk), pages=pages or 1, engine="bench",
                                  content_sha256=sha, read_at=at))
        if len(batch) == BATCH:
            DocumentText.objects.bulk_create(batch)
            made += len(batch)
            batch = []
            print(f"texts: {made:,}", file=sys.stderr, flush=True)
    DocumentText.objects.bulk_create(batch)
    made += len(batch)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {"made": made, "texts": DocumentText.objects.count(),
            "seconds": round(time.perf_counter() - t0, 1)}


def _shared_buffers() -> str | None:
    """PostgreSQL's ``shared_buffers`` (the figures of the gathered windows depend on it:
    docs/benchmarks.md); None on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        return str(cursor.fetchone()[0])


def _document_frequency(word: str) -> int:
    from brankas.web.documents.models import Document
    from brankas.web.text.selectors import text_count

    return text_count(word, within=Document.objects.all())


def _pick_words() -> dict[str, str]:
    """The uncommon word: the vocabulary's last (the rarest: a few hundred letters); the
    rare query: two tail words found together in 1-60 letters (counted by the index)."""
    words = vocabulary()
    picked = {"uncommon word": words[-1]}
    for a in range(len(words) - 1, len(words) - 400, -7):
        pair = f"{words[a]} {words[a - 3]}"
        if 1 <= _document_frequency(pair) <= 60:
            picked["rare words"] = pair
            break
    return picked


def _percentiles(values: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(qs[49], 1), "p95": round(qs[94], 1), "p99": round(qs[98], 1)}


def _plans(query: str) -> dict[str, str]:
    from django.db import connection

    from brankas.web.documents.models import Document
    from brankas.web.text import fts
    from brankas.web.text.selectors import DOC, _where

    within = Document.objects.filter(year=2020).exclude(category="dikecualikan")
    where, params = _where(within)  # type: ignore[misc]
    sql = fts.matches_sql(connection.vendor, where, score=True, below=False, limit=True,
                          offset=False, doc_table=DOC)
    param = fts.match_param(connection.vendor, fts.words(query))
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql.replace("%s", "?"),
                           [param, *params, 1000])
            plan = "\n".join(str(r[-1]) for r in cursor.fetchall())
        else:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql,
                           [param, *params, 1000])
            plan = "\n".join(r[0] for r in cursor.fetchall())
    return {"ranked window, year filter": plan}


def _server_clock() -> Any:
    """PostgreSQL on this machine (Linux): a function giving the CPU time (ns) the
    connection's server process has run (``/proc/<pid>/schedstat``: its work, which the
    client's CPU figures leave out; s22), else None."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    path = Path(f"/proc/{int(pid)}/schedstat")
    try:
        path.read_text()
    except OSError:  # another machine, another system
        return None
    return lambda: int(path.read_text().split()[0])


def _measure(repeats: int) -> dict[str, Any]:
    """Step 3, in the instance's process."""
    from brankas import instance

    instance.start()
    from django.db import connection
    from django.test import Client

    from brankas.web.accounts.models import User
    from brankas.web.text.selectors import document_search
    from brankas.web.ui.common import BoundedPaginator

    kasi = User.objects.filter(role="kasi").first() or User.objects.get(username="kabid")
    queries = {**QUERIES, **_pick_words()}
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(kasi)

    def selector(q: str) -> int:
        page = BoundedPaginator(document_search(actor=kasi, query=q), 50, cap=1000).get_page(1)
        return len(page.object_list) + page.paginator.count

    def web(q: str) -> int:
        response = client.get("/documents/", {"q": q})
        assert response.status_code == 200, response.status_code
        return len(response.content)

    kinds = {name: q for name, q in queries.items() if q}
    for q in kinds.values():  # warm: caches, the first figures
        selector(q)
        web(q)
    server_ns = _server_clock()
    wall: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    server: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeats):  # interleaved: a noisy moment falls on every kind alike
        for name, q in kinds.items():
            for what, call in (("selector", selector), ("web", web)):
                s0 = server_ns() if server_ns else 0
                c0, t0 = time.process_time(), time.perf_counter()
                call(q)
                wall.setdefault((what, name), []).append((time.perf_counter() - t0) * 1000)
                cpu.setdefault((what, name), []).append((time.process_time() - c0) * 1000)
                if server_ns:
                    server.setdefault((what, name), []).append((server_ns() - s0) / 1e6)
    from brankas.web.documents.models import Document
    from brankas.web.text.models import DocumentText

    return {
        "database": connection.vendor, "documents": Document.objects.count(),
        "texts": DocumentText.objects.count(), "repeats": repeats,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "shared_buffers": _shared_buffers(),
        "queries": {name: {"query": q, "matches": _document_frequency(q)}
                    for name, q in kinds.items()},
        "figures": [{"what": what, "kind": name, **_percentiles(wall[(what, name)]),
                     "cpu_p50": round(statistics.median(cpu[(what, name)]), 1),
                     "cpu_p95": _percentiles(cpu[(what, name)])["p95"],
                     **({"server_cpu_p50": round(statistics.median(server[(what, name)]), 1)}
                        if server else {})}
                    for (what, name) in wall],
        "plans": {name: _plans(q) for name, q in kinds.items()
                  if name in ("rare words", "common word")},
    }


# ---------------------------------------------------------------- the parent

def _child(args: list[str], home: Path, database_url: str | None) -> dict[str, Any]:
    from bench.load import _env

    run = subprocess.run([sys.executable, "-m", "bench.search", *args],
                         env=_env(home, database_url), stdout=subprocess.PIPE, text=True,
                         check=False, stdin=subprocess.DEVNULL)
    if run.returncode != 0:
        raise RuntimeError(f"bench.search {args[0]} failed ({run.returncode})")
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def run(home: Path, *, documents: int, repeats: int,
        database_url: str | None = None) -> dict[str, Any]:
    if not (home / "config").exists():
        from bench import bulk

        bulk.build(home, documents, documents + 100, database_url=database_url)
    texts = _child(["texts"], home, database_url)
    result = _child(["measure", str(repeats)], home, database_url)
    return {**result, "made_texts": texts}


def table(result: dict[str, Any]) -> str:
    lines = [f"Search: {result['documents']:,} documents, {result['texts']:,} with text, "
             f"{result['database']}, {result['repeats']} rounds, load average "
             f"{result['load_average'][0]}"
             + (f", shared_buffers {result['shared_buffers']}"
                if result.get("shared_buffers") else ""),
             f"  {'what':<9} {'kind':<20} {'matches':>8} {'p50':>7} {'p95':>7} {'p99':>7} "
             f"{'cpu p50':>8} {'cpu p95':>8} {'server':>7}  (ms; target p95 <= "
             f"{TARGET_P95_MS} ms; server: the PostgreSQL process's CPU, p50)"]
    for f in result["figures"]:
        q = result["queries"][f["kind"]]
        lines.append(f"  {f['what']:<9} {f['kind'] + ' (' + q['query'][:12] + ')':<20} "
                     f"{q['matches']:>8} {f['p50']:>7} {f['p95']:>7} {f['p99']:>7} "
                     f"{f['cpu_p50']:>8} {f.get('cpu_p95', ''):>8} "
                     f"{f.get('server_cpu_p50', ''):>7}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["texts"]:
        print(json.dumps(_texts()))
        return 0
    if argv[:1] == ["measure"]:
        print(json.dumps(_measure(int(argv[1]))))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / ".bench" / "search")
    parser.add_argument("--databases", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--home", type=Path, default=None,
                        help="an existing bench instance (bench.bulk) instead of one under --work")
    parser.add_argument("--database-url", default=None, help="with --home: its PostgreSQL")
    parser.add_argument("--json", type=Path, default=ROOT / ".bench" / "search.json")
    args = parser.parse_args(argv)
    results = []
    if args.home is not None:
        results.append(run(args.home, documents=args.documents, repeats=args.repeats,
                           database_url=args.database_url))
        print(table(results[-1]), flush=True)
    else:
        for db in (["sqlite", "postgresql"] if args.databases == "both" else [args.databases]):
            home = args.work / f"{db}-{args.documents}" / "home"
            if db == "sqlite":
                results.append(run(home, documents=args.documents, repeats=args.repeats))
            else:
                import shutil

                from bench.load import _postgresql

                base = args.work / "pg"
                shutil.rmtree(base, ignore_errors=True)
                shutil.rmtree(home.parent, ignore_errors=True)  # its database is gone
                base.mkdir(parents=True)
                cluster, url = _postgresql(base)
                try:
                    results.append(run(home, documents=args.documents, repeats=args.repeats,
                                       database_url=url))
                finally:
                    cluster.stop()
            print(table(results[-1]), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
