"""The web side of a document's text: the "Teks" section of its page, reading it again
(POST, CSRF, role-checked, audited), the OCR job's page, and a web registration whose text
a worker reads."""

# ruff: noqa: F811 (the page tests' fixtures, imported)
from __future__ import annotations

import pytest
from django.test import Client

from brankas.core.text import ocr_engine
from brankas.web.audit.models import AuditEvent
from brankas.web.jobs.models import Job
from brankas.web.jobs.services import job_execute
from brankas.web.text.models import DocumentText
from tests.web.text.test_pipeline import letter
from tests.web.ui.conftest import (  # noqa: F401 (fixtures)
    english,
    no_job_left_running,
    post_register,
    register_directly,
    signed_in,
    text_of,
)


def page(client: Client, agenda: str) -> str:
    response = client.get(f"/documents/{agenda}/")
    assert response.status_code == 200
    return text_of(response)


def test_an_exempted_document_shows_it_is_never_read_and_offers_nothing(office, signed_in):  # type: ignore[no-untyped-def]
    doc = register_directly(office, classification="rahasia")
    shown = page(english(signed_in("operator")), doc.agenda)
    assert "The text of an exempted document is never read" in shown
    assert "Read the text again" not in shown
    response = signed_in("operator").post(f"/documents/{doc.agenda}/text")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="text.refused", target=doc.agenda).exists()
    assert not Job.objects.filter(kind="ocr").exists()
    assert not DocumentText.objects.exists()


@pytest.mark.skipif(ocr_engine() is not None, reason="OCR is installed here")
def test_without_ocr_the_page_says_so_and_the_notice_shows_once(office, signed_in):  # type: ignore[no-untyped-def]
    doc = register_directly(office)
    client = signed_in("operator")
    first = page(client, doc.agenda)
    assert "OCR tidak terpasang" in first and 'id="ocr-notice"' in first
    assert 'id="ocr-notice"' not in page(client, doc.agenda)
    assert "OCR tidak terpasang" in page(client, doc.agenda)


def test_reading_again_is_a_post_with_csrf_for_the_roles_allowed_and_audited(office, signed_in):  # type: ignore[no-untyped-def]
    doc = register_directly(office, pdf=letter("Rapat <b>stunting</b> desa"))
    url = f"/documents/{doc.agenda}/text"
    assert signed_in("operator").get(url).status_code == 405
    kasi = signed_in("kasi")
    assert "Read the text again" not in page(english(kasi), doc.agenda)
    assert kasi.post(url).status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", actor="kasi",
                                     detail__action="read-text").exists()
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(office.users["operator"])
    assert guarded.post(url).status_code == 403
    assert not Job.objects.filter(kind="ocr").exists()

    response = signed_in("operator").post(url)
    job = Job.objects.get(kind="ocr")
    assert response.status_code == 302 and response["Location"] == f"/text/jobs/{job.id}/"
    assert AuditEvent.objects.filter(action="text.request", actor="operator",
                                     target=doc.agenda).exists()
    waiting = english(signed_in("operator")).get(f"/text/jobs/{job.id}/")
    assert "Waiting for a worker" in text_of(waiting)
    status = signed_in("operator").get(f"/text/jobs/{job.id}/status").json()
    assert status["state"] == "running" and status["kind"] == "ocr"

    job_execute(job.id)  # the worker's part, here
    done = text_of(english(signed_in("operator")).get(f"/text/jobs/{job.id}/"))
    assert "Done: 1 documents, 1 with text" in done
    shown = page(signed_in("kadis"), doc.agenda)  # a reader sees the text, escaped
    assert "has text" in shown
    raw = signed_in("kadis").get(f"/documents/{doc.agenda}/").content.decode()
    assert "Rapat &lt;b&gt;stunting&lt;/b&gt; desa" in raw and "<b>stunting" not in raw
    assert signed_in("kadis").get(f"/text/jobs/{job.id}/").status_code == 403


def test_a_web_registration_gets_its_text_from_the_worker(transactional_db, office,  # type: ignore[no-untyped-def]
                                                          signed_in):
    from tests.web.ui.conftest import wait_for_jobs

    client = signed_in("operator")
    response = post_register(client, [("undangan.pdf",
                                       letter("Undangan rapat koordinasi stunting"))])
    assert response.status_code == 302
    wait_for_jobs(60)
    row = DocumentText.objects.get()
    assert "koordinasi stunting" in row.body
    job = Job.objects.get(kind="ocr")
    assert job.state == "done" and job.result["read"] == 1
    assert "ada teks" in page(client, row.document.agenda)
