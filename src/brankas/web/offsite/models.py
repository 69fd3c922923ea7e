"""Offsite copies (issue 18): the remotes an office pushes to, each push, and every object
version it wrote. The secret of a remote's credentials is never stored: only the path of
the file that holds it (or nothing: the standard AWS environment variables)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Remote(models.Model):
    """An S3-compatible bucket with Object Lock, registered by ``offsite add``."""

    name = models.CharField(max_length=60, unique=True)
    remote_id = models.CharField(max_length=32, unique=True)  # random; the seals name it
    endpoint = models.CharField(max_length=500)
    bucket = models.CharField(max_length=63)
    region = models.CharField(max_length=60, default="us-east-1")
    prefix = models.CharField(max_length=200, blank=True)
    retention_days = models.PositiveIntegerField(default=400)
    credentials_file = models.CharField(max_length=500, blank=True)  # a path, never the secret
    # The canary (docs/offsite.md): None before the first one; False: a locked version
    # could be deleted (loud warning).
    immutable = models.BooleanField(null=True, blank=True)
    canary_at = models.DateTimeField(null=True, blank=True)
    canary_detail = models.TextField(blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="offsite_remotes")
    added_at = models.DateTimeField()
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    last_verify_ok = models.BooleanField(null=True, blank=True)
    # A large object's multipart upload cut short, for the next push to resume: {"path",
    # "sha256", "key", "state": MultipartState JSON} (ids of the server, no secret).
    upload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Push(models.Model):
    """One ``offsite push``, with its progress (a job shows it; an interrupted push is
    failed by the next, which resumes: the objects already there are not sent again)."""

    RUNNING, COMPLETED, FAILED = "running", "completed", "failed"
    STATUSES = [(RUNNING, RUNNING), (COMPLETED, COMPLETED), (FAILED, FAILED)]

    remote = models.ForeignKey(Remote, on_delete=models.PROTECT, related_name="pushes")
    number = models.PositiveIntegerField()
    folder = models.CharField(max_length=40)  # data/backup/<folder>/ in the bag
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="offsite_pushes")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=RUNNING)
    error = models.TextField(blank=True)
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    objects_sent = models.PositiveIntegerField(default=0)
    bytes_sent = models.BigIntegerField(default=0)
    objects_skipped = models.PositiveIntegerField(default=0)  # already on the remote
    retention_extended = models.PositiveIntegerField(default=0)
    audit_seq = models.BigIntegerField(default=0)  # the audit head its segment ends at
    # The last audit entry that changes what a snapshot restores, as of this push, and
    # whether its folder holds a snapshot (a push with no such change since writes none).
    register_seq = models.BigIntegerField(default=0)
    snapshot = models.BooleanField(default=False)
    audit_hash = models.CharField(max_length=64, blank=True)
    seal_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["remote", "number"]
        constraints = [models.UniqueConstraint(fields=["remote", "number"],
                                               name="offsite_push_number")]


class PushedObject(models.Model):
    """One object version a push wrote (and the server confirmed). ``bag_path`` is the
    file of the disk bag it holds (a payload path) or, for a tag object, its name."""

    PAYLOAD, TAG = "payload", "tag"
    KINDS = [(PAYLOAD, PAYLOAD), (TAG, TAG)]

    remote = models.ForeignKey(Remote, on_delete=models.PROTECT, related_name="pushed")
    push = models.ForeignKey(Push, on_delete=models.PROTECT, related_name="pushed")
    kind = models.CharField(max_length=8, choices=KINDS, default=PAYLOAD)
    key = models.CharField(max_length=200)  # relative to the remote's prefix
    version_id = models.CharField(max_length=1024, blank=True)
    sha256 = models.CharField(max_length=64)  # of the object as stored
    size = models.BigIntegerField()
    bag_path = models.CharField(max_length=1000)
    bag_sha256 = models.CharField(max_length=64, blank=True)  # of the file in the disk bag
    bag_size = models.BigIntegerField(default=0)
    wrap = models.CharField(max_length=8, blank=True)  # "age" (encrypted by the push), "plain"
    confirmed = models.CharField(max_length=12, blank=True)  # "checksum" or "read-back"
    retain_until = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField()

    class Meta:
        ordering = ["remote", "id"]
        indexes = [models.Index(fields=["remote", "bag_path"], name="offsite_obj_path"),
                   models.Index(fields=["remote", "key"], name="offsite_obj_key")]


# s18 OC: the daily push (web/offsite/schedule.py; migration 0002_s18_schedule)
class Schedule(models.Model):
    """A remote's daily push: at ``daily_at`` (local time, settings.TIME_ZONE) the worker
    queues one push job in the name of ``set_by`` (a Sandiman, checked again at each run),
    the scheduler recorded in the audit log. ``last_day``: the day of the last push queued
    (never two for one day; a day missed while the computer was off runs once at the
    next start)."""

    remote = models.OneToOneField(Remote, on_delete=models.CASCADE, related_name="schedule")
    daily_at = models.TimeField(null=True, blank=True)  # None: off
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="offsite_schedules")
    set_at = models.DateTimeField()
    last_day = models.DateField(null=True, blank=True)
    last_job = models.CharField(max_length=32, blank=True)  # the job queued for last_day
