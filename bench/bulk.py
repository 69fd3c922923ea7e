"""Bench data at office scale: 100,000 documents and 1,000,000 audit entries, in minutes.

``build(home, documents, audit_entries)`` makes an instance in ``home`` as ``brankas init``
does (``brankas.instance.initialise``: the admin, the office recovery and signing keys),
adds a Sandiman (``operator``, who registers), a Kabid and a Kadis (each with a holder
key, so exempted documents are encrypted to the Kabid, the Kadis and the recovery key),
then loads the documents and the audit log through the *bulk path* below, in a child
process of its own (Django is set up once per process, on one data folder).

The bulk path (docs/benchmarks.md, "Bench data at office scale") produces the records the
real services produce, through the services' own pieces:

- each document is a one-page PDF of 1.5-4 KB (fixed seed), checked by the real intake
  and written to a staging file by ``documents.services.stage_files`` (the PDF checks,
  the SHA-256s, age encryption to ``recipients_for(Purpose.DOCUMENT)`` for the quarter
  that is exempted): the same call ``brankas import`` makes;
- its record is ``documents.services._new_document`` and its audit entry
  ``documents.services._register_entry``, as ``documents_commit`` makes them, with the
  registration time set to a moment of the last ten years (oldest first) instead of now:
  the agenda number, year folder and file name follow from that moment exactly as the
  service derives them (``format_agenda``, ``store.relative_path``), and the agenda
  counters end at the last number given per year and direction;
- the audit log grows in registration order: each document's ``document.register`` entry,
  then the sign-ins and document views of the day up to the next registration, hashed
  with ``audit.services.audit_content`` and ``hashchain.entry_hash`` (what
  ``audit_record_many`` does, with the entry's own moment for ``at``); the sequence
  counter ends at the last entry. ``brankas audit verify`` checks the result;
- durability is batched: a batch of 1,000 staged files is renamed into the four folders,
  then one ``sync`` makes them and their folders durable, then the batch's records and
  audit entries commit in one transaction. The generator is not a service: nothing else
  runs on the instance while it loads.

The entries ``brankas init`` and the user set-up write come first in the chain (dated
today), the loaded history after them (dated over the ten years before).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

PASSWORDS = {
    "admin": "Bench-Admin-Pass-2026!",
    "operator": "Bench-Sandiman-Pass-2026!",
    "kabid": "Bench-Kabid-Pass-2026!",
    "kadis": "Bench-Kadis-Pass-2026!",
}
PASSPHRASES = {
    "kabid": "kuda merah berlari di sawah hijau pagi",
    "kadis": "lembah sunyi menara biru di ujung senja",
}
ROLES = {"operator": "sandiman", "kabid": "kabid", "kadis": "kadis"}
OFFICE = "Dinas Kominfo (bench)"
YEARS = 10
BATCH = 1000
EXEMPTED_SHARE = 0.25

_SUBJECTS = [
    "Undangan rapat koordinasi", "Laporan kegiatan bulanan", "Permohonan data statistik",
    "Surat edaran kepala dinas", "Nota dinas pengadaan", "Pemberitahuan jadwal",
    "Rekapitulasi anggaran", "Permintaan narasumber", "Sosialisasi peraturan daerah",
    "Evaluasi jaringan intra pemerintah", "Penyampaian dokumen rahasia",
    "Pengamanan informasi persandian",
]
_WORDS = [
    "dinas", "kabupaten", "kegiatan", "laporan", "rapat", "koordinasi", "anggaran",
    "tahun", "bidang", "persandian", "keamanan", "informasi", "jaringan", "data",
    "pegawai", "surat", "nomor", "tanggal", "perihal", "lampiran", "tembusan", "kepala",
    "bagian", "sekretariat", "daerah",
]


# ---------------------------------------------------------------- the parent's call

def build(home: Path, documents: int, audit_entries: int, *, database_url: str | None = None,
          seed: int = 0) -> dict[str, Any]:
    """A bench instance in ``home`` (which must not hold one): ``documents`` documents and
    ``audit_entries`` audit entries in all (at least the set-up's own and one per
    document). Returns what the child reports: the users and their passwords, the key
    holders' passphrases, the recovery identity, the counts and the seconds it took."""
    home = Path(home)
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(home), "BRANKAS_LANG": "en"})
    if database_url:
        env["BRANKAS_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    run = subprocess.run(
        [sys.executable, "-m", "bench.bulk", str(home), str(documents), str(audit_entries),
         "--seed", str(seed)],
        env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"bench.bulk failed ({run.returncode}):\n{run.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- the documents

def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file of ``objects`` (numbered from 1, the first the catalog) with an exact
    cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def one_page_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF (Helvetica text, a compressed content stream, an exact
    cross-reference table) that the intake checks accept."""
    text = ["BT", "/F1 11 Tf", "14 TL", "72 780 Td"]
    for line in lines:
        safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text.append(f"({safe}) '")
    text.append("ET")
    stream = zlib.compress("\n".join(text).encode("latin-1", "replace"), 6)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    return pdf_file(objects)


def document_spec(i: int, rnd: random.Random, registered: dt.datetime) -> dict[str, Any]:
    """The ``i``-th document's form and file (``rnd`` seeded by the caller)."""
    from brankas.core.terms import Classification, Direction

    exempted = rnd.random() < EXEMPTED_SHARE
    cls = (rnd.choices([Classification.TERBATAS, Classification.RAHASIA,
                        Classification.SANGAT_RAHASIA], weights=[6, 3, 1])[0]
           if exempted else Classification.BIASA)
    direction = Direction.INCOMING if rnd.random() < 0.6 else Direction.OUTGOING
    subject = f"{rnd.choice(_SUBJECTS)} nomor {i + 1}"
    doc_date = registered.date() - dt.timedelta(days=rnd.randint(0, 6))
    number = f"{rnd.randint(1, 999):03d}/{rnd.choice('ABCDE')}/{doc_date.year}"
    correspondent = f"Instansi Pemerintah {rnd.randint(1, 120)}"
    body = [OFFICE, f"Nomor: {number}", f"Tanggal: {doc_date.isoformat()}",
            f"Perihal: {subject}", f"Kepada: {correspondent}", ""]
    body += [" ".join(rnd.choice(_WORDS) for _ in range(12))
             for _ in range(rnd.randint(10, 40))]
    return {"direction": direction, "classification": cls, "number": number,
            "doc_date": doc_date, "subject": subject, "correspondent": correspondent,
            "pdf": one_page_pdf(body), "name": f"surat-{i + 1:06d}.pdf"}


def timeline(count: int, *, end: dt.datetime, rnd: random.Random,
             span: dt.timedelta = dt.timedelta(days=365 * YEARS)) -> list[dt.datetime]:
    """``count`` registration moments over ``span`` (ten years) before ``end``,
    ascending, in office hours (08:00-16:00 local time) when the span is days long."""
    from django.utils import timezone

    start = end - span
    seconds = span.total_seconds()
    moments = []
    for k in range(count):
        at = start + dt.timedelta(seconds=seconds * (k + rnd.random()) / max(count, 1))
        local = timezone.localtime(at)
        if span >= dt.timedelta(days=2):
            local = local.replace(hour=8 + local.hour % 8)
        moments.append(local)
    moments.sort()
    return moments


def stage(spec: dict[str, Any], recipients: list[Any], settings: Any) -> Any:
    """The document's staged file and its ``Pending``, as ``document_stage`` makes them
    (without the duplicate look-up: every generated PDF is different)."""
    from brankas.core.register import intake, metadata
    from brankas.web.documents.services import stage_files

    meta = metadata.DocumentInput(
        direction=spec["direction"], classification=spec["classification"],
        number=spec["number"], doc_date=spec["doc_date"], subject=spec["subject"],
        correspondent=spec["correspondent"])
    done = stage_files([intake.InputFile.from_bytes(spec["name"], spec["pdf"])],
                       recipients=recipients, settings=settings, sync=False)
    return meta, done


def load(*, actor: Any, documents: int, audit_entries: int, seed: int = 0,
         end: dt.datetime | None = None, span: dt.timedelta = dt.timedelta(days=365 * YEARS),
         viewers: list[Any] | None = None,
         progress: Any = None) -> dict[str, int]:
    """Load ``documents`` documents registered by ``actor`` over ``span`` (ten years)
    before ``end`` (default: the start of today), and audit entries up to ``audit_entries`` in
    all, into the instance this process's Django is set up on (the bulk path above)."""
    from django.db import transaction
    from django.utils import timezone

    from brankas.core import fsutil
    from brankas.core.register import store
    from brankas.core.terms import Category, category_of
    from brankas.web.accounts.models import Office
    from brankas.web.audit.models import AuditEvent, AuditSequence
    from brankas.web.documents.models import AgendaCounter, Document
    from brankas.web.documents.services import Pending, _new_document, _register_entry
    from brankas.web.keys.selectors import Purpose, recipients_for
    from brankas.web.runtime import brankas_settings

    rnd = random.Random(seed)
    settings = brankas_settings()
    office = Office.objects.get()
    if end is None:
        end = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    moments = timeline(documents, end=end, rnd=rnd, span=span)
    exempt_to = recipients_for(purpose=Purpose.DOCUMENT).all()
    viewers = viewers or [actor]
    filler = max(0, audit_entries - AuditEvent.objects.count() - documents)
    appender = _Chain()
    # Numbers continue after those already given (a second load adds to the first).
    counters: dict[tuple[int, str], int] = {
        (year, direction): last for year, direction, last in
        AgendaCounter.objects.values_list("year", "direction", "last")}
    agendas: list[str] = []
    written = 0
    for first in range(0, max(documents, 1), BATCH):
        batch = range(first, min(first + BATCH, documents))
        docs, entries, finals = [], [], []
        staged: list[Any] = []
        for k in batch:
            now = moments[k]
            spec = document_spec(k, rnd, now)
            cat = category_of(spec["classification"])
            recipients = exempt_to if cat is Category.EXEMPTED else []
            meta, done = stage(spec, recipients, settings)
            p = Pending.of_staged(meta, done, recipients=recipients,
                                  form_opened_at=now - dt.timedelta(
                                      seconds=rnd.randint(60, 900)),
                                  source="cli")
            staged.append(p)
            year = now.year
            seq = counters.get((year, meta.direction.value), 0) + 1
            counters[(year, meta.direction.value)] = seq
            doc = _new_document(actor, p, office, year=year, seq=seq, now=now)
            docs.append(doc)
            entries.append((now, _register_entry(actor, doc, p)))
            agendas.append(doc.agenda)
            finals.append(store.absolute(settings, doc.stored_path))
            # The day's other work up to the next registration: sign-ins and views.
            share = filler * (k + 1) // documents - filler * k // documents
            after = moments[k + 1] if k + 1 < documents else now + dt.timedelta(hours=1)
            gap = max((after - now).total_seconds(), 1.0)
            for j in range(share):
                at = now + dt.timedelta(seconds=gap * (j + 1) / (share + 1))
                who = viewers[rnd.randrange(len(viewers))]
                if rnd.random() < 0.3:
                    entries.append((at, _entry(who.username, "auth.login", "",
                                               {"via": "web"})))
                else:
                    seen = agendas[rnd.randrange(len(agendas))]
                    entries.append((at, _entry(who.username, "document.view", seen,
                                               {"via": "web"})))
        if documents == 0:
            entries += [(end, _entry(viewers[0].username, "auth.login", "", {"via": "web"}))
                        for _ in range(filler)]
        for folder in dict.fromkeys(f.parent for f in finals):
            fsutil.make_private_dir(folder)
        for p, final in zip(staged, finals, strict=True):
            fsutil.publish(p.staged.path, final, sync_dir=False, make_parent=False)
        # The batch's files and folder entries durable before any record of them.
        fsutil.sync_filesystem(settings.home, [*finals, *dict.fromkeys(f.parent for f in finals)])
        with transaction.atomic():
            Document.objects.bulk_create(docs, batch_size=500)
            appender.append(entries)
        written += len(entries)
        if progress is not None:
            progress(len(agendas), written)
    with transaction.atomic():
        for (year, direction), last in counters.items():
            AgendaCounter.objects.update_or_create(year=year, direction=direction,
                                                   defaults={"last": last})
        AuditSequence.objects.update_or_create(id=1, defaults={"last": appender.last_seq})
    return {"documents": len(agendas), "audit_entries_added": written,
            "exempted": Document.objects.filter(category=Category.EXEMPTED.value).count()}


def _entry(actor: str, action: str, target: str, detail: dict[str, Any]) -> Any:
    from brankas.web.audit.services import AuditEntry

    return AuditEntry(actor=actor, action=action, target=target, detail=detail)


class _Chain:
    """Appends entries to the audit chain as ``audit_record_many`` does, each with its own
    moment: the same content (``audit_content``), the same hash (``entry_hash``)."""

    def __init__(self) -> None:
        from brankas.core.audit import hashchain
        from brankas.web.audit.models import AuditEvent, AuditSequence

        last = AuditEvent.objects.order_by("-seq").first()
        counted = AuditSequence.objects.filter(id=1).values_list("last", flat=True).first()
        self.last_seq = max(counted or 0, last.seq if last else 0)
        self.prev = last.hash if last else hashchain.GENESIS

    def append(self, entries: list[tuple[dt.datetime, Any]]) -> None:
        from brankas.core.audit import hashchain
        from brankas.web.audit.models import AuditEvent
        from brankas.web.audit.services import audit_content

        events = []
        seq, prev = self.last_seq, self.prev
        for at, e in entries:
            seq += 1
            # In UTC, as ``timezone.now()`` gives it: the hash covers ``at.isoformat()``,
            # and the database gives the moment back in UTC.
            event = AuditEvent(seq=seq, at=at.astimezone(dt.UTC), actor=e.actor, action=e.action,
                               target=e.target, outcome=e.outcome, detail=e.detail,
                               prev_hash=prev)
            event.hash = hashchain.entry_hash(prev, audit_content(event))
            prev = event.hash
            events.append(event)
        AuditEvent.objects.bulk_create(events, batch_size=2000)
        self.last_seq, self.prev = seq, prev


# ---------------------------------------------------------------- the child process

def office_users() -> tuple[Any, dict[str, Any], dict[str, str]]:
    """A new office (``brankas init``'s service) with the bench's users and key holders:
    the initialisation's result, the users by name, and each holder's public recipient."""
    from brankas import instance

    init = instance.initialise(office_name=OFFICE, admin_username="admin",
                               admin_password=PASSWORDS["admin"], admin_full_name="Admin")
    from brankas.web.accounts.services import user_create
    from brankas.web.keys.services import key_create

    admin = init.result.admin
    users = {"admin": admin}
    for name, role in ROLES.items():
        users[name] = user_create(actor=admin, username=name, role=role,
                                  password=PASSWORDS[name], full_name=name.title())
    recipients = {}
    for name, passphrase in PASSPHRASES.items():
        key = key_create(actor=users[name], holder_username=name, passphrase=passphrase)
        recipients[name] = key.recipient
    return init.result, users, recipients


def _child(home: Path, documents: int, audit_entries: int, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    init, users, recipients = office_users()
    t1 = time.perf_counter()

    def progress(docs: int, entries: int) -> None:
        print(f"bulk: {docs:,} documents, {entries:,} audit entries "
              f"({time.perf_counter() - t1:.0f} s)", file=sys.stderr, flush=True)

    loaded = load(actor=users["operator"], documents=documents, audit_entries=audit_entries,
                  seed=seed, viewers=list(users.values()), progress=progress)
    from brankas.web.audit.models import AuditEvent

    t2 = time.perf_counter()
    return {
        "home": str(home),
        "users": {name: {"role": u.role, "password": PASSWORDS[name]}
                  for name, u in users.items()},
        "passphrases": dict(PASSPHRASES),
        "recipients": {**recipients, "recovery": init.office.recovery_recipient},
        "recovery_identity": init.recovery_identity,
        "documents": loaded["documents"],
        "exempted": loaded["exempted"],
        "audit_entries": AuditEvent.objects.count(),
        "setup_seconds": round(t1 - t0, 2),
        "load_seconds": round(t2 - t1, 2),
    }


def _add(documents: int, seed: int) -> dict[str, Any]:
    """``documents`` more documents registered by ``operator`` in the hour before now
    (the "+100" backup's new documents), each with its audit entry."""
    from brankas import instance

    instance.start()
    from django.utils import timezone

    from brankas.web.accounts.models import User
    from brankas.web.audit.models import AuditEvent

    operator = User.objects.get(username="operator")
    t0 = time.perf_counter()
    loaded = load(actor=operator, documents=documents,
                  audit_entries=AuditEvent.objects.count() + documents, seed=seed,
                  end=timezone.now(), span=dt.timedelta(hours=1))
    return {**loaded, "seconds": round(time.perf_counter() - t0, 2)}


def add(home: Path, documents: int, *, seed: int = 1) -> dict[str, Any]:
    """Add ``documents`` documents to the bench instance in ``home`` (a child process)."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_HOME": str(home), "BRANKAS_LANG": "en"})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    run = subprocess.run([sys.executable, "-m", "bench.bulk", str(home), str(documents), "0",
                          "--add", "--seed", str(seed)],
                         env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"bench.bulk --add failed:\n{run.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bulk", description=__doc__)
    parser.add_argument("home", type=Path)
    parser.add_argument("documents", type=int)
    parser.add_argument("audit_entries", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--add", action="store_true",
                        help="add DOCUMENTS to the instance in HOME (registered in the last hour)")
    args = parser.parse_args(argv)
    os.environ["BRANKAS_HOME"] = str(args.home)
    if args.add:
        print(json.dumps(_add(args.documents, args.seed)))
    else:
        print(json.dumps(_child(args.home, args.documents, args.audit_entries, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
