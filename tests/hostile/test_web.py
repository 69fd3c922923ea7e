"""The hostile corpus through the web upload, and stored markup shown escaped."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from brankas.core.errors import MESSAGES
from tests.hostile.checks import assert_nothing_stored, assert_stored_safely, last_audit_seq
from tests.hostile.corpus import CASES, OK, Case, fields_of
from tests.web.ui.conftest import REGISTER_URL, register_directly, text_of

WEB_CASES = [c for c in CASES if c.web]


def longest_literal(code: str) -> str:
    """The longest fixed part of the error's Indonesian message (the web speaks Indonesian)."""
    return max(re.split(r"\{[^}]*\}", MESSAGES[code][0]), key=len).strip()


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.parametrize("case", WEB_CASES, ids=[c.id for c in WEB_CASES])
def test_hostile_input_through_the_web_upload(signed_in, office, settings, case: Case) -> None:
    if case.max_file_mb is not None:
        settings.BRANKAS = dataclasses.replace(settings.BRANKAS, max_file_mb=case.max_file_mb)
    client = signed_in("operator")
    before = last_audit_seq()
    data: dict[str, object] = dict(fields_of(case, dt.date.today().isoformat()))
    data["scans"] = [SimpleUploadedFile(name, content) for name, content in case.files()]
    r = client.post(REGISTER_URL, data)
    code = case.web_code or case.code
    if code == OK:
        assert r.status_code == 302, text_of(r)[:2000]
        assert_stored_safely(office.home)
        return
    assert r.status_code == 200
    page = text_of(r)
    assert (case.web_text or longest_literal(code)) in page
    assert "<script>alert" not in r.content.decode()
    assert_nothing_stored(office.home, before)


MARKUP = {
    "subject": "<script>alert('xss')</script>",
    "correspondent": '"><img src=x onerror=alert(1)>',
    "number": "<b onmouseover=alert(2)>005</b>",
}


def test_stored_markup_is_shown_escaped_on_every_page(signed_in, office) -> None:
    doc = register_directly(office, subject=MARKUP["subject"],
                            correspondent=MARKUP["correspondent"], number=MARKUP["number"])
    client = signed_in("kabid")
    for url in ("/documents/", f"/documents/{doc.agenda}/", "/", "/documents/?q=script"):
        raw = client.get(url).content.decode()
        for value in MARKUP.values():
            assert value not in raw, url
        assert "<script>alert" not in raw and "<img src=x" not in raw
    detail = client.get(f"/documents/{doc.agenda}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in detail
