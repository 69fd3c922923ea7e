from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from brankas.core.config import DEFAULT_AGENDA_FORMAT
from brankas.core.terms import ROLE_LABELS, Role, choices


class Office(models.Model):
    """The office profile (one row): the letterhead of reports and the agenda format."""

    name = models.CharField(max_length=200)
    government = models.CharField(max_length=200, blank=True)  # e.g. Pemerintah Kabupaten …
    department = models.CharField(max_length=200, blank=True)  # e.g. Dinas Kominfo
    division = models.CharField(max_length=200, blank=True)  # e.g. Bidang Persandian …
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    email = models.CharField(max_length=100, blank=True)
    agenda_format = models.CharField(max_length=100, default=DEFAULT_AGENDA_FORMAT)
    recovery_recipient = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=choices(ROLE_LABELS))
    full_name = models.CharField(max_length=200, blank=True)
    position = models.CharField(max_length=200, blank=True)  # jabatan
    nip = models.CharField(max_length=30, blank=True)  # civil servant ID number

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def display(self) -> str:
        return self.full_name or self.username
