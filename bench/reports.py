"""The monthly messages report of 5,000 entries: time to render its PDF and its XLSX, and
peak memory (targets: under 3 s each, under 200 MiB).

``python -m bench.reports HOME`` (a child process) builds an instance in HOME with 5,000
documents registered in one month (written in bulk through the models: the register's
own speed is measured elsewhere), gathers the report's figures (set-up, not timed), then
renders the PDF and the XLSX, timing each and reporting the process's peak resident set
(VmHWM, which includes Python and Django: the whole process, as an office laptop runs it).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench import suite

ENTRIES = 5000


def _vm_hwm_mib() -> float:
    with open("/proc/self/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _child(home: Path, entries: int) -> dict[str, Any]:
    os.environ["BRANKAS_HOME"] = str(home)
    from brankas import instance

    instance.start()
    from django.core.management import call_command
    from django.utils import timezone

    from brankas.core.terms import Classification, category_of
    from brankas.web.accounts.services import office_initialize, user_create
    from brankas.web.documents.models import Document
    from brankas.web.reports.services import report_create, report_export

    call_command("migrate", verbosity=0, interactive=False)
    init = office_initialize(office_name="Dinas Kominfo (bench)", admin_username="admin",
                             admin_password=secrets.token_urlsafe(16))
    operator = user_create(actor=init.admin, username="operator", role="sandiman",
                           password=secrets.token_urlsafe(16))
    rnd = random.Random(5)
    classes = list(Classification)
    docs = []
    for i in range(1, entries + 1):
        cls = rnd.choices(classes, weights=[70, 15, 10, 5])[0]
        direction = "penerimaan" if i % 2 else "pengiriman"
        at = timezone.make_aware(datetime(2026, 5, 1 + i % 31, 8 + i % 9, i % 60))
        docs.append(Document(
            agenda=f"B-2026-{i:05d}", year=2026, seq=i, direction=direction,
            classification=cls.value, category=category_of(cls).value, number=f"{i}/B/2026",
            doc_date=at.date(), subject=f"Perihal surat nomor {i} tentang kegiatan dinas",
            correspondent=f"Instansi {rnd.randint(1, 80)}", registered_by=operator,
            form_opened_at=at - timedelta(minutes=rnd.randint(2, 15)), registered_at=at,
            source_sha256=f"{i:064x}", content_sha256="0" * 64, content_size=1,
            stored_path=f"arsip/{i}.pdf", stored_sha256="0" * 64, stored_size=1))
    Document.objects.bulk_create(docs, batch_size=1000)
    report = report_create(actor=operator, kind="messages", period="2026-05")
    before = _vm_hwm_mib()
    t0 = time.perf_counter()
    pdf = report_export(actor=operator, number=report.number, fmt="pdf")
    t1 = time.perf_counter()
    xlsx = report_export(actor=operator, number=report.number, fmt="xlsx")
    t2 = time.perf_counter()
    from io import BytesIO

    from pypdf import PdfReader

    peak = _vm_hwm_mib()
    reader = PdfReader(BytesIO(pdf))  # checked after the measurement (not timed)
    text = "".join(page.extract_text() for page in reader.pages)
    return {"entries": len(report.data["entries"]), "pdf_seconds": t1 - t0,
            "xlsx_seconds": t2 - t1, "peak_mib": peak, "peak_before_mib": before,
            "pdf_bytes": len(pdf), "pdf_pages": len(reader.pages), "xlsx_bytes": len(xlsx),
            "agendas_in_pdf": sum(1 for d in docs if d.agenda in text)}


def measure(work: Path, entries: int = ENTRIES) -> list[suite.Measure]:
    home = work / "reports-home"
    env = {**os.environ, "BRANKAS_LANG": "en"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent.parent)] + sys.path)
    r = subprocess.run([sys.executable, "-m", "bench.reports", str(home), str(entries)],
                       capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        return [suite.Measure("messages report (failed)", "s", 0, None, "", "", False,
                              problems=[r.stderr[-2000:]])]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    problems = [] if out["entries"] == entries else [f"{out['entries']} entries gathered"]
    if out["agendas_in_pdf"] != entries:
        problems.append(f"{out['agendas_in_pdf']} of {entries} agendas in the PDF's text")
    detail = {"checked": f"all {out['agendas_in_pdf']:,} agendas found in the PDF's text "
                         f"(pypdf), {out['pdf_pages']} pages", **out}
    return [
        suite.Measure(f"messages report PDF ({entries:,} entries)", "s", out["pdf_seconds"],
                      None, "", "< 3 s", out["pdf_seconds"] < 3, detail, problems),
        suite.Measure(f"messages report XLSX ({entries:,} entries)", "s", out["xlsx_seconds"],
                      None, "", "< 3 s", out["xlsx_seconds"] < 3, {}),
        suite.Measure("peak memory of rendering both", "MiB", out["peak_mib"], None, "",
                      "< 200 MiB", out["peak_mib"] < 200, {}),
    ]


if __name__ == "__main__":
    result = _child(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else ENTRIES)
    print(json.dumps(result))
