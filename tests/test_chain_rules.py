"""Two rules of the chain interface: a role that moves no disk asking for a disk's first
use is an audited denial; receiving a request re-checks its holder under the row lock."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import timezone

from brankas.core.errors import AccessDenied, BrankasError
from brankas.core.register.intake import InputFile
from tests.conftest import make_pdf


def _denied() -> int:
    from brankas.web.audit.models import AuditEvent

    return AuditEvent.objects.filter(action="access.denied").count()


@pytest.fixture
def disk(office) -> Any:  # type: ignore[no-untyped-def]
    from brankas.web.backup.models import Medium
    from brankas.web.custody.models import MediumCustody

    now = timezone.now()
    medium = Medium.objects.create(medium_id=str(uuid.uuid4()), label="DISK-A",
                                   first_used_at=now, last_used_at=now)
    MediumCustody.objects.create(medium=medium, state="out", since=now)
    return medium


@pytest.mark.parametrize("name", ["kasi", "kabid", "kadis", "admin"])
def test_first_seen_by_a_role_that_may_not_move_disks_is_an_audited_denial(
        office, disk, name) -> None:  # type: ignore[no-untyped-def]
    """The role check comes first: permission_denied and an access.denied entry, not
    field_invalid (first_seen is recorded by a backup, never moved by hand)."""
    from brankas.web.custody.services import medium_move

    before = _denied()
    with pytest.raises(BrankasError) as err:
        medium_move(actor=office.users[name], medium="DISK-A", move="first_seen")
    assert (type(err.value), err.value.code, _denied() - before) == (
        AccessDenied, "permission_denied", 1)


def test_receive_rechecks_the_holder_under_the_lock(office, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The request is given to another Sandiman between the first check and the row lock;
    the receive is refused and nothing moves."""
    from brankas.web.accounts.services import user_create
    from brankas.web.sendrequests import services as svc
    from brankas.web.sendrequests.models import SendRequest

    users = office.users
    other = user_create(actor=users["admin"], username="operator2", role="sandiman",
                        password="Second-Pass-2026!", full_name="Operator Dua")
    req = svc.request_create(actor=users["kadis"], subject="Uji", classification="biasa",
                             addressee="Gubernur", requester_unit="Setda",
                             requester_name="Sekda",
                             files=[InputFile.from_bytes("surat.pdf", make_pdf(text="x"))])
    svc.request_assign(actor=users["kadis"], number=req.pk, assignee_username="kabid")
    svc.request_assign(actor=users["kabid"], number=req.pk, assignee_username="kasi")
    svc.request_assign(actor=users["kasi"], number=req.pk, assignee_username="operator")

    real = svc._locked

    def racing(number: int) -> SendRequest:
        SendRequest.objects.filter(pk=number).update(assignee=other)
        return real(number)

    monkeypatch.setattr(svc, "_locked", racing)
    with pytest.raises(AccessDenied) as err:
        svc.request_receive(actor=users["operator"], number=req.pk)
    assert err.value.code == "request_not_yours"
    assert err.value.params["holder"] == "operator2"
    fresh = SendRequest.objects.get(pk=req.pk)  # the refusal rolled the race back too
    assert fresh.state == "ditugaskan-sandiman" and fresh.received_at is None
    assert not fresh.steps.filter(kind="receive").exists()
