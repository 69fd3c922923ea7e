"""The database snapshot holds every model of an instance, the key life cycle's records
(issue 13) among them, and loads them back."""

from __future__ import annotations

from django.apps import apps
from django.utils import timezone

from brankas.web.backup.models import Medium
from brankas.web.backup.snapshot import MODELS, snapshot_bytes, snapshot_load
from brankas.web.keys.models import (
    HolderKey,
    RecoverySplit,
    RewrapJob,
    SupersededCopy,
    SupersededFile,
)

# Not the office's records but this instance's work in progress (issue 15): a job row names
# folders of this computer and a worker process; an instance rebuilt from a disk starts with
# none (web/jobs, docs/architecture.md "Jobs that survive a restart").
NOT_RECORDS = {"jobs.Job",
               # s18 OB: the offsite remotes and what this instance pushed there (issue 18):
               # a copy's own bookkeeping, not the archive's records (its audit entries
               # are); a rebuilt instance adds its remote again (docs/offsite.md)
               "offsite.Remote", "offsite.Push", "offsite.PushedObject",
               "offsite.Schedule"}  # s18 OC: a remote's daily push, with its remote


def test_every_brankas_model_is_in_the_snapshot_once() -> None:
    ours = {m._meta.label for m in apps.get_models() if m.__module__.startswith("brankas.")}
    assert sorted(set(MODELS)) == sorted(MODELS)  # none twice
    assert ours - set(MODELS) == NOT_RECORDS
    assert not NOT_RECORDS & set(MODELS)


def test_each_model_comes_after_the_models_it_refers_to() -> None:
    order = {label: i for i, label in enumerate(MODELS)}
    for label in MODELS:
        for field in apps.get_model(label)._meta.concrete_fields:
            target = field.related_model
            parent = target._meta.label if field.is_relation and target is not None else None
            if parent in order and parent != label:
                assert order[parent] < order[label], (label, field.name)


def test_the_key_life_cycle_records_come_back_from_a_snapshot(office) -> None:
    now = timezone.now()
    admin, kabid = office.users["admin"], office.keys["kabid"]
    HolderKey.objects.filter(pk=kabid.pk).update(revoked_at=now, revoked_by=admin,
                                                 last_checked_at=now, protection=3)
    RecoverySplit.objects.create(identifier=12345, threshold=3, shares=5,
                                 recovery_fingerprint="0123456789abcdef", created_by=admin)
    job = RewrapJob.objects.create(kind=RewrapJob.GRANT, actor=admin, grantee_key=kabid,
                                   via="recovery", started_at=now, files_total=2,
                                   summary={"documents": 2})
    old = SupersededFile.objects.create(kind=SupersededFile.DOCUMENT, object_id=7,
                                        path="arsip/x.pdf.age", sha256="a" * 64, size=10,
                                        recipients=["0123456789abcdef"], superseded_at=now,
                                        job=job)
    medium = Medium.objects.create(medium_id="m-1", label="A", first_used_at=now,
                                   last_used_at=now)
    SupersededCopy.objects.create(superseded=old, medium=medium)
    data = snapshot_bytes()

    SupersededCopy.objects.all().delete()
    SupersededFile.objects.all().delete()
    RewrapJob.objects.all().delete()
    RecoverySplit.objects.all().delete()
    HolderKey.objects.filter(pk=kabid.pk).update(revoked_at=None, revoked_by=None,
                                                 last_checked_at=None, protection=1)
    snapshot_load(data)  # over the same rows: each is saved back as it was

    kabid.refresh_from_db()
    assert (kabid.revoked_at, kabid.revoked_by, kabid.protection) == (now, admin, 3)
    assert not kabid.active
    split = RecoverySplit.objects.get()
    assert (split.identifier, split.threshold, split.shares) == (12345, 3, 5)
    job = RewrapJob.objects.get()
    assert (job.grantee_key, job.summary, job.state) == (kabid, {"documents": 2}, "running")
    copy = SupersededCopy.objects.select_related("superseded").get()
    assert copy.superseded.job == job and copy.superseded.recipients == ["0123456789abcdef"]
    assert copy.medium == medium
