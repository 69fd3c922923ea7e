"""A realistic generated month for the reports: sixty-odd documents of each direction
(with exempted ones; a real month's few hundred only make every rendering of the PDF
slower, the rows all go through the same code: tests/web/test_papers.py checks a report of
5,000), the month before for comparison, several backups onto two disks,
custody moves and verifications. Written through the models in bulk (the services that
make them are tested elsewhere); the report code reads only these records."""

from __future__ import annotations

import base64
import functools
import random
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from brankas.core.reports import signing as reportsign
from brankas.core.terms import Classification, Direction, category_of

SIGNING = {"operator": "tanda tangan sandiman pagi", "kasi": "tanda tangan kasi siang",
           "kabid": "tanda tangan kabid sore", "kadis": "tanda tangan kadis malam"}
MONTH = "2026-05"
CLASS_WEIGHTS = {Classification.BIASA: 70, Classification.TERBATAS: 15,
                 Classification.RAHASIA: 10, Classification.SANGAT_RAHASIA: 5}


@functools.cache
def _signer_pair(passphrase: str) -> reportsign.SignerKeyPair:
    """A signing key as ``reportsign.generate`` makes it, its private key in an age
    passphrase file of a small work factor (tests/agefile.py): each signature in the tests
    opens it in milliseconds, not a second."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from tests.agefile import passphrase_encrypt

    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return reportsign.SignerKeyPair(base64.b64encode(public).decode("ascii"),
                                    passphrase_encrypt(pem, passphrase))


def add_signer_keys(users: dict) -> None:  # type: ignore[type-arg]
    from brankas.web.reports.models import SignerKey

    for name, passphrase in SIGNING.items():
        pair = _signer_pair(passphrase)
        SignerKey.objects.create(holder=users[name], public=pair.public,
                                 fingerprint=pair.fingerprint,
                                 protected_private=pair.protected_private,
                                 created_at=timezone.now())


def _at(day: int, hour: int, minute: int = 0, month: int = 5) -> datetime:
    return timezone.make_aware(datetime(2026, month, day, hour, minute))


def generate_month(office, *, incoming: int = 64, outgoing: int = 56,  # type: ignore[no-untyped-def]
                   previous: int = 50, seed: int = 5) -> SimpleNamespace:
    from brankas.web.backup.models import BackupRun, Medium, MediumCheck
    from brankas.web.custody.models import CustodyMove, MediumCustody, Safe
    from brankas.web.documents.models import Document

    rnd = random.Random(seed)
    operator = office.users["operator"]
    docs: list[Document] = []
    seqs = {d: 0 for d in Direction}
    counts: dict[tuple[str, str], int] = {}
    form_minutes: list[float] = []

    def make(direction: Direction, month: int, day: int) -> None:
        seqs[direction] += 1
        seq = seqs[direction]
        cls = rnd.choices(list(CLASS_WEIGHTS), weights=list(CLASS_WEIGHTS.values()))[0]
        minutes = rnd.choice([3, 5, 6, 8, 9, 12, 25])
        registered = _at(day, rnd.randint(8, 15), rnd.randint(0, 59), month)
        code = "M" if direction is Direction.INCOMING else "K"
        agenda = f"{code}-2026-{seq:04d}"
        if month == 5:
            counts[(direction.value, cls.value)] = counts.get((direction.value, cls.value), 0) + 1
            form_minutes.append(minutes)
        docs.append(Document(
            agenda=agenda, year=2026, seq=seq, direction=direction.value,
            classification=cls.value, category=category_of(cls).value,
            number=f"{seq}/DK/{month:02d}/2026", doc_date=registered.date(),
            subject=f"Perihal {agenda} {'umum' if cls is Classification.BIASA else 'RAHASIA-ISI'}",
            correspondent=f"Instansi {rnd.randint(1, 40)}", registered_by=operator,
            form_opened_at=registered - timedelta(minutes=minutes), registered_at=registered,
            source="web", source_sha256=f"{len(docs):064x}", content_sha256="0" * 64,
            content_size=1000, stored_path=f"arsip/{agenda}.pdf", stored_sha256="0" * 64,
            stored_size=1000))

    for _ in range(previous):
        make(rnd.choice(list(Direction)), 4, rnd.randint(1, 30))
    for direction, n in ((Direction.INCOMING, incoming), (Direction.OUTGOING, outgoing)):
        for _ in range(n):
            make(direction, 5, rnd.randint(1, 31))
    Document.objects.bulk_create(docs, batch_size=500)

    safe = Safe.objects.create(name="Brankas-Utama", location="Ruang Sandi lt. 2",
                               created_by=operator, created_at=_at(1, 7))
    media = []
    for i, label in enumerate(("DISK-A", "DISK-B")):
        medium = Medium.objects.create(
            medium_id=f"{i}" * 8 + "-0000-4000-8000-000000000000", label=label,
            first_used_at=_at(1, 8), last_used_at=_at(28, 16), last_backup_at=_at(28, 16),
            last_verified_at=_at(29, 9), last_verify_mode="full", last_verify_ok=True)
        MediumCustody.objects.create(medium=medium, state="in_safe", safe=safe,
                                     since=_at(28, 17))
        media.append(medium)
    may = [d for d in docs if d.registered_at.month == 5]
    run_minutes, store_minutes = [], []
    for number, day in enumerate((7, 14, 21, 28), start=1):
        medium = media[number % 2]
        started = _at(day, 16)
        minutes = (6, 8, 14, 9)[number - 1]
        finished = started + timedelta(minutes=minutes)
        carried = [d for d in may if d.registered_at.day <= day
                   and d.registered_at.day > day - 7]
        cats: dict[str, dict[str, int]] = {}
        for d in carried:
            slot = cats.setdefault(f"{d.category}/{d.direction}", {"files": 0, "bytes": 0})
            slot["files"] += 1
            slot["bytes"] += 1000
        BackupRun.objects.create(
            number=number, medium=medium, operator=operator, folder=f"run-{number}",
            dest="/media/disk", started_at=started, finished_at=finished,
            status=BackupRun.COMPLETED, categories=cats, agendas=[d.agenda for d in carried],
            files_added=len(carried), bytes_added=1000 * len(carried), verified=True)
        run_minutes.append(minutes)
        stored = (5, 12, 7, 4)[number - 1]
        store_minutes.append(stored)
        CustodyMove.objects.create(medium=medium, move="checkout", from_state="in_safe",
                                   to_state="out", from_safe=safe, actor=operator,
                                   at=started - timedelta(minutes=5), reason="back up")
        CustodyMove.objects.create(medium=medium, move="checkin", from_state="out",
                                   to_state="in_safe", to_safe=safe, actor=operator,
                                   at=finished + timedelta(minutes=stored))
    MediumCheck.objects.create(medium=media[0], kind="verify", mode="full", actor=operator,
                               dest="/media/disk", started_at=_at(29, 9),
                               finished_at=_at(29, 9, 20), ok=True, files_checked=600)
    add_signer_keys(office.users)
    return SimpleNamespace(counts=counts, docs=docs, may=may, form_minutes=form_minutes,
                           run_minutes=run_minutes, store_minutes=store_minutes,
                           media=media, safe=safe)


def _office_profile(office) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.accounts.models import Office

    Office.objects.filter().update(
        government="Pemerintah Kabupaten Bolaang Mongondow",
        department="Dinas Komunikasi dan Informatika",
        division="Bidang Persandian dan Statistik", address="Jl. Trans Sulawesi",
        city="Lolak")
    office.users["kabid"].position = "Kepala Bidang Persandian dan Statistik"
    office.users["kabid"].save()


@pytest.fixture
def month(office):  # type: ignore[no-untyped-def]
    _office_profile(office)
    return generate_month(office)


@pytest.fixture
def small_month(office):  # type: ignore[no-untyped-def]
    """For the role rules: the same shape, a tenth of the documents."""
    _office_profile(office)
    return generate_month(office, incoming=30, outgoing=25, previous=20)
