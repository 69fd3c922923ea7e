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
    # Issue 14: the profile is editable by the admin (audited); papers printed afterwards
    # show it, approved reports keep their own bytes.
    place = models.CharField(max_length=100, blank=True)  # place name beside signatures
    letterhead_extra = models.CharField(max_length=300, blank=True)  # an optional last line
    logo = models.BinaryField(null=True, blank=True)  # a PNG or JPEG, checked on upload
    logo_type = models.CharField(max_length=20, blank=True)  # image/png or image/jpeg
    # The SOP sheet's own heading (NOMOR SOP, TGL. PEMBUATAN/REVISI/EFEKTIF, DISAHKAN OLEH)
    sop_number = models.CharField(max_length=100, blank=True)
    sop_made_on = models.DateField(null=True, blank=True)
    sop_revised_on = models.DateField(null=True, blank=True)
    sop_effective_on = models.DateField(null=True, blank=True)
    sop_approved_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    @property
    def signature_place(self) -> str:
        """The place name printed before the date beside signatures."""
        return self.place or self.city

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=20, choices=choices(ROLE_LABELS))
    full_name = models.CharField(max_length=200, blank=True)
    position = models.CharField(max_length=200, blank=True)  # jabatan
    nip = models.CharField(max_length=30, blank=True)  # civil servant ID number
    # Set when the admin resets the password: the next sign-in asks for a new one first.
    must_change_password = models.BooleanField(default=False)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def display(self) -> str:
        return self.full_name or self.username


class Qualification(models.Model):
    """A user's qualification to carry out the SOP (KUALIFIKASI PELAKSANA): the Diklat
    Sandiman training (or another), with its certificate number and date. History is kept:
    a record is never edited, a wrong one is withdrawn (``withdrawn_at``)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="qualifications")
    training = models.CharField(max_length=200)  # e.g. Diklat Sandiman
    certificate_number = models.CharField(max_length=100, blank=True)
    passed_on = models.DateField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+",
                                     null=True, blank=True)

    class Meta:
        ordering = ["user_id", "-passed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.training} {self.certificate_number}".strip()
