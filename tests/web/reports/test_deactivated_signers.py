"""Review of issue 14: a user who leaves is deactivated, never deleted. The reports they
signed stay approved reports: ``report verify`` still checks every signature, with the
signers' own keys, after the Kabid who approved was deactivated (their holder key
revoked) and the Kasi who forwarded was given another role."""

from __future__ import annotations

import pytest

from brankas.web.accounts.administration import user_deactivate, user_set_role
from brankas.web.reports.models import Report
from brankas.web.reports.services import (
    report_acknowledge,
    report_approve,
    report_create,
    report_forward,
    report_submit,
    report_verify,
)
from tests.web.reports.conftest import MONTH, SIGNING


def test_an_approved_report_still_verifies_after_its_signers_left(office, small_month):  # type: ignore[no-untyped-def]
    u = office.users
    n = report_create(actor=u["operator"], kind="messages", period=MONTH).number
    report_submit(actor=u["operator"], number=n, passphrase=SIGNING["operator"])
    report_forward(actor=u["kasi"], number=n, summary="Ringkasan eksekutif bulan ini.",
                   passphrase=SIGNING["kasi"])
    report_approve(actor=u["kabid"], number=n, passphrase=SIGNING["kabid"])
    report_acknowledge(actor=u["kadis"], number=n, passphrase=SIGNING["kadis"])
    pdf = bytes(Report.objects.get(number=n).final_pdf)
    before = report_verify(actor=u["kadis"], pdf=pdf)
    assert before.ok

    change = user_deactivate(actor=u["admin"], username="kabid")
    assert change.revoked is not None  # their holder key: out of every future encryption
    user_set_role(actor=u["admin"], username="kasi", role="sandiman")
    after = report_verify(actor=u["operator"], pdf=pdf)
    assert after.ok and after.reason == ""
    assert [(s.step, s.signer, s.ok) for s in after.signatures] == [
        (s.step, s.signer, True) for s in before.signatures]
    assert {"kabid", "kasi"} <= {s.signer for s in after.signatures}
    # A byte changed is still refused.
    assert not report_verify(actor=u["operator"], pdf=pdf + b" ").ok


def test_a_user_given_another_role_signs_no_second_step_of_the_same_report(office,  # type: ignore[no-untyped-def]
                                                                          small_month):
    """Review of issue 14: the sign-off chain is four people checking each other. With role
    changes, the Kasi who forwarded a report could be made Kabid and approve it too (and the
    Kabid made Kadis acknowledge what they approved): one person, two signatures."""
    from brankas.core.errors import Conflict
    from brankas.web.audit.models import AuditEvent

    u = office.users
    n = report_create(actor=u["operator"], kind="messages", period=MONTH).number
    report_submit(actor=u["operator"], number=n, passphrase=SIGNING["operator"])
    report_forward(actor=u["kasi"], number=n, summary="Ringkasan eksekutif bulan ini.",
                   passphrase=SIGNING["kasi"])
    user_set_role(actor=u["admin"], username="kasi", role="kabid")
    kasi = type(u["kasi"]).objects.get(username="kasi")
    with pytest.raises(Conflict) as refused:
        report_approve(actor=kasi, number=n, passphrase=SIGNING["kasi"])
    assert refused.value.code == "report_signer_twice"
    assert "kasi" in refused.value.message("id") and "kasi" in refused.value.message("en")
    entry = AuditEvent.objects.filter(action="report.approve").order_by("-seq").first()
    assert entry is not None and entry.outcome == "failed"
    assert entry.detail["error"] == "report_signer_twice"
    assert Report.objects.get(number=n).state == "forwarded"
    report_approve(actor=u["kabid"], number=n, passphrase=SIGNING["kabid"])
    user_set_role(actor=u["admin"], username="kabid", role="kadis")
    kabid = type(u["kabid"]).objects.get(username="kabid")
    with pytest.raises(Conflict):
        report_acknowledge(actor=kabid, number=n, passphrase=SIGNING["kabid"])
    assert report_acknowledge(actor=u["kadis"], number=n,
                              passphrase=SIGNING["kadis"]).state == "acknowledged"
