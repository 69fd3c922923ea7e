"""Requests to send a message through the services: the whole chain, returns, the role
rules, the letter and its link to the register, the report's selector."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.utils import timezone

from brankas.core.chains.request import State
from brankas.core.errors import AccessDenied, BrankasError, InvalidInput
from brankas.core.register.intake import InputFile
from brankas.web.accounts.services import user_create
from brankas.web.audit.models import AuditEvent
from brankas.web.documents.models import Document
from brankas.web.sendrequests import services as svc
from brankas.web.sendrequests.models import SendRequest
from brankas.web.sendrequests.selectors import (
    request_inbox,
    request_lookup,
    request_overdue,
    request_turnaround,
)
from tests.conftest import PASSPHRASES, PASSWORDS, make_pdf


def new_request(office, *, classification: str = "biasa", letter: bytes | None = None,
                actor: str = "operator", **kw):  # type: ignore[no-untyped-def]
    files = [InputFile.from_bytes("surat.pdf", letter)] if letter is not None else None
    return svc.request_create(actor=office.users[actor], subject="Kirim berita rapat",
                              classification=classification, addressee="Gubernur Sulut",
                              urgency=kw.pop("urgency", "segera"), requester_unit="Setda",
                              requester_name="Sekda", files=files, **kw)


def through_chain(office, req):  # type: ignore[no-untyped-def]
    u = office.users
    svc.request_assign(actor=u["kadis"], number=req.pk, assignee_username="kabid", note="mohon")
    svc.request_assign(actor=u["kabid"], number=req.pk, assignee_username="kasi")
    svc.request_assign(actor=u["kasi"], number=req.pk, assignee_username="operator")
    return request_lookup(req.pk)


def test_the_whole_chain_with_a_return(office):
    u = office.users
    letter = make_pdf(text="surat biasa untuk dikirim")
    req = new_request(office, letter=letter)
    assert req.state == State.SUBMITTED.value and req.assignee is None
    assert list(request_inbox(u["kadis"])) == [req]
    assert list(request_inbox(u["kabid"])) == []

    svc.request_assign(actor=u["kadis"], number=req.pk, assignee_username="kabid")
    svc.request_assign(actor=u["kabid"], number=req.pk, assignee_username="kasi")
    # The Kasi gives it back to the Kabid, with the reason the Kabid sees.
    back = svc.request_return(actor=u["kasi"], number=req.pk, note="alamat tidak lengkap")
    assert back.state == State.AT_KABID.value and back.assignee == u["kabid"]
    assert list(request_inbox(u["kabid"])) == [back]
    assert list(request_inbox(u["kasi"])) == []
    assert back.steps.last().note == "alamat tidak lengkap"

    svc.request_assign(actor=u["kabid"], number=req.pk, assignee_username="kasi")
    svc.request_assign(actor=u["kasi"], number=req.pk, assignee_username="operator")
    assert list(request_inbox(u["operator"])) == [request_lookup(req.pk)]
    got = svc.request_receive(actor=u["operator"], number=req.pk)
    assert got.state == State.RECEIVED.value and got.received_at is not None

    with pytest.raises(InvalidInput) as info:  # not sent before it is in the register
        svc.request_send(actor=u["operator"], number=req.pk, channel="JKS", reference="1")
    assert info.value.code == "request_not_registered"

    doc = svc.request_register(actor=u["operator"], number=req.pk, doc_number="480/12/2026",
                               doc_date=dt.date.today())
    req = request_lookup(req.pk)
    assert req.document == doc and doc.send_request == req
    assert doc.direction == "pengiriman" and doc.correspondent == "Gubernur Sulut"
    assert doc.subject == req.subject and doc.classification == "biasa"
    assert (office.home / doc.stored_path).read_bytes() == letter

    done = svc.request_send(actor=u["operator"], number=req.pk, channel="JKS",
                            reference="B-12/2026")
    assert done.state == State.SENT.value and done.closed_at is not None
    assert done.assignee is None and list(request_inbox(u["operator"])) == []
    kinds = [s.kind for s in done.steps.all()]
    assert kinds == ["create", "assign", "assign", "return", "assign", "assign", "receive",
                     "register", "send"]
    actions = list(AuditEvent.objects.filter(target=str(req.pk), action__startswith="request.")
                   .values_list("action", flat=True))
    assert actions == [f"request.{k}" for k in kinds]

    # The report's selector: each step's last time, how long each took, and the returns.
    start = timezone.now() - dt.timedelta(hours=1)
    (row,) = request_turnaround(start=start, end=timezone.now() + dt.timedelta(seconds=1))
    assert row.number == req.pk and row.agenda == doc.agenda and row.returns == 1
    steps = done.steps.all()
    assert row.at["kasi_assigned"] == steps[4].at  # the assignment after the return counts
    assert row.at["sent"] == steps[8].at
    assert row.total == steps[8].at - steps[0].at
    assert row.took["sent"] == steps[8].at - steps[7].at
    assert row.took["created"] is None
    assert request_turnaround(start=start - dt.timedelta(days=2), end=start) == []


def test_the_kadis_returning_a_request_closes_it(office):
    req = new_request(office)
    done = svc.request_return(actor=office.users["kadis"], number=req.pk, note="tidak perlu")
    assert done.state == State.DECLINED.value and done.closed_at is not None
    with pytest.raises(InvalidInput) as info:
        svc.request_assign(actor=office.users["kadis"], number=req.pk, assignee_username="kabid")
    assert info.value.code == "request_wrong_state"


def test_a_return_needs_a_reason(office):
    req = new_request(office)
    with pytest.raises(InvalidInput) as info:
        svc.request_return(actor=office.users["kadis"], number=req.pk, note="  ")
    assert info.value.code == "request_note_required"


@pytest.mark.parametrize(
    ("state_steps", "who", "to"),
    [
        # Only the Kadis assigns the Kabid.
        (0, "kabid", "kabid"), (0, "kasi", "kabid"), (0, "operator", "kabid"),
        (0, "admin", "kabid"),
        # Only the Kabid assigns the Kasi.
        (1, "kadis", "kasi"), (1, "kasi", "kasi"), (1, "operator", "kasi"),
        # Only the Kasi assigns a Sandiman.
        (2, "kadis", "operator"), (2, "kabid", "operator"), (2, "operator", "operator"),
    ],
)
def test_only_the_holder_assigns_the_next(office, state_steps, who, to):
    u = office.users
    req = new_request(office)
    chain = [("kadis", "kabid"), ("kabid", "kasi"), ("kasi", "operator")]
    for actor, assignee in chain[:state_steps]:
        svc.request_assign(actor=u[actor], number=req.pk, assignee_username=assignee)
    before = request_lookup(req.pk).state
    with pytest.raises(AccessDenied) as info:
        svc.request_assign(actor=u[who], number=req.pk, assignee_username=to)
    assert info.value.code == "permission_denied"  # the role rule itself, not only the holder
    assert request_lookup(req.pk).state == before


@pytest.mark.parametrize(("state_steps", "to"), [(0, "kasi"), (0, "operator"), (1, "operator"),
                                                  (1, "kabid"), (2, "kasi"), (0, "nobody")])
def test_nobody_skips_a_link(office, state_steps, to):
    u = office.users
    req = new_request(office)
    chain = [("kadis", "kabid"), ("kabid", "kasi"), ("kasi", "operator")]
    for actor, assignee in chain[:state_steps]:
        svc.request_assign(actor=u[actor], number=req.pk, assignee_username=assignee)
    holder = chain[state_steps][0]
    with pytest.raises(InvalidInput) as info:
        svc.request_assign(actor=u[holder], number=req.pk, assignee_username=to)
    assert info.value.code == "request_assignee_invalid"


def test_only_the_assigned_user_acts(office):
    u = office.users
    other = user_create(actor=u["admin"], username="kasi2", role="kasi",
                        password=PASSWORDS["kasi"])
    req = new_request(office)
    svc.request_assign(actor=u["kadis"], number=req.pk, assignee_username="kabid")
    svc.request_assign(actor=u["kabid"], number=req.pk, assignee_username="kasi")
    with pytest.raises(AccessDenied) as info:
        svc.request_assign(actor=other, number=req.pk, assignee_username="operator")
    assert info.value.code == "request_not_yours"
    assert list(request_inbox(other)) == []


def test_who_records_a_request(office):
    for name in ("operator", "kasi", "kabid", "kadis"):
        assert new_request(office, actor=name).created_by == office.users[name]
    with pytest.raises(AccessDenied):
        new_request(office, actor="admin")
    req = svc.request_create(actor=office.users["kabid"], subject="s", classification="biasa",
                             addressee="a")
    assert req.requester_name == office.users["kabid"].display()  # the recorder's own
    assert req.urgency == "biasa"
    with pytest.raises(InvalidInput) as info:
        new_request(office, urgency="pelan")
    assert info.value.code == "urgency_invalid"


def test_only_the_sandiman_receives_registers_and_sends(office):
    u = office.users
    req = through_chain(office, new_request(office, letter=make_pdf(text="x")))
    for name in ("kasi", "kabid", "kadis", "admin"):
        with pytest.raises(AccessDenied):
            svc.request_receive(actor=u[name], number=req.pk)
    svc.request_receive(actor=u["operator"], number=req.pk)
    with pytest.raises(AccessDenied):
        svc.request_register(actor=u["kasi"], number=req.pk, doc_number="1",
                             doc_date=dt.date.today())


def test_an_exempted_letter_is_stored_encrypted_and_registered_as_is(office):
    u = office.users
    marker = b"RAHASIA-SURAT-" + hashlib.sha256(b"m").hexdigest().encode()
    letter = make_pdf(text=marker.decode())
    req = new_request(office, classification="rahasia", letter=letter)
    stored = office.home / req.letter_path
    assert req.letter_path.startswith("permintaan/") and stored.name.endswith(".pdf.age")
    data = stored.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n") and marker not in data
    assert len(req.letter_recipients) == 3  # the Kasi, the Kabid and the recovery key

    # The Kabid opens it with their own key; the Sandiman cannot.
    out = io.BytesIO()
    svc.request_letter_open(actor=u["kabid"], number=req.pk, dst=out,
                            passphrase=PASSPHRASES["kabid"])
    assert out.getvalue() == letter
    with pytest.raises(AccessDenied):
        svc.request_letter_open(actor=u["operator"], number=req.pk, dst=io.BytesIO())
    opens = AuditEvent.objects.filter(action="request.letter_open", target=str(req.pk))
    assert sorted(opens.values_list("outcome", flat=True)) == ["denied", "ok"]

    through_chain(office, req)
    svc.request_receive(actor=u["operator"], number=req.pk)
    doc = svc.request_register(actor=u["operator"], number=req.pk, doc_number="R-1",
                               doc_date=dt.date.today(), correspondent="Gubernur")
    assert doc.stored_path.startswith("arsip/dikecualikan/pengiriman/")
    assert (office.home / doc.stored_path).read_bytes() == data  # the same ciphertext
    assert doc.stored_sha256 == req.letter_stored_sha256
    assert doc.content_sha256 == hashlib.sha256(letter).hexdigest()
    assert doc.recipients == req.letter_recipients and doc.correspondent == "Gubernur"
    # Key holders open the registered document as any other.
    from brankas.web.documents.services import document_open

    out = io.BytesIO()
    document_open(actor=u["kasi"], agenda=doc.agenda, dst=out, passphrase=PASSPHRASES["kasi"])
    assert out.getvalue() == letter
    assert AuditEvent.objects.get(action="document.register").detail["request"] == req.pk


def test_the_letter_can_come_when_the_sandiman_receives_it_or_be_scanned_again(office):
    u = office.users
    req = through_chain(office, new_request(office))
    with pytest.raises(BrankasError) as info:  # nothing to register yet
        svc.request_receive(actor=u["operator"], number=req.pk)
        svc.request_register(actor=u["operator"], number=req.pk, doc_number="1",
                             doc_date=dt.date.today())
    assert info.value.code == "request_no_letter"
    assert Document.objects.count() == 0
    assert request_lookup(req.pk).state == State.RECEIVED.value

    req2 = through_chain(office, new_request(office))
    scan = make_pdf(text="diterima bersama")
    got = svc.request_receive(actor=u["operator"], number=req2.pk,
                              files=[InputFile.from_bytes("s.pdf", scan)])
    assert (office.home / got.letter_path).read_bytes() == scan
    # A new scan given at registration (e.g. the signed letter) is registered instead.
    signed = make_pdf(text="sudah ditandatangani")
    doc = svc.request_register(actor=u["operator"], number=req.pk, doc_number="2",
                               doc_date=dt.date.today(),
                               files=[InputFile.from_bytes("t.pdf", signed)])
    assert (office.home / doc.stored_path).read_bytes() == signed
    with pytest.raises(InvalidInput):  # registered once only
        svc.request_register(actor=u["operator"], number=req.pk, doc_number="2",
                             doc_date=dt.date.today(),
                             files=[InputFile.from_bytes("t.pdf", make_pdf(text="lagi"))])
    assert Document.objects.count() == 1


def test_a_changed_letter_is_not_registered(office):
    u = office.users
    req = through_chain(office, new_request(office, letter=make_pdf(text="asli")))
    svc.request_receive(actor=u["operator"], number=req.pk)
    (office.home / req.letter_path).write_bytes(make_pdf(text="palsu"))
    with pytest.raises(BrankasError) as info:
        svc.request_register(actor=u["operator"], number=req.pk, doc_number="1",
                             doc_date=dt.date.today())
    assert info.value.code == "request_attachment_changed"
    assert Document.objects.count() == 0
    assert list((office.home / "tmp").iterdir()) == []


def test_overdue_requests(office):
    req = new_request(office)
    assert list(request_overdue(actor=office.users["kadis"], hours=1)) == []
    SendRequest.objects.filter(pk=req.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=30))
    assert list(request_overdue(actor=office.users["kadis"], hours=24)) == [request_lookup(req.pk)]
    svc.request_return(actor=office.users["kadis"], number=req.pk, note="ditolak")
    assert list(request_overdue(actor=office.users["kadis"], hours=24)) == []  # closed
