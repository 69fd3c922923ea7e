"""The hostile corpus through the services, as the CLI and the web call them."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from brankas.core.errors import BrankasError
from brankas.core.register import intake, metadata
from tests.hostile.checks import assert_nothing_stored, assert_stored_safely, last_audit_seq
from tests.hostile.corpus import CASES, OK, Case, fields_of


def register(office, case: Case):  # type: ignore[no-untyped-def]
    from brankas.web.documents.services import document_register

    fields = fields_of(case, dt.date.today().isoformat())
    meta = metadata.build(**fields)
    files = [intake.InputFile.from_bytes(name, data) for name, data in case.files()]
    return document_register(actor=office.users["operator"], meta=meta, files=files,
                             source="web")


def test_the_corpus_is_large_and_each_case_named_once() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_through_the_service(office, settings, case: Case) -> None:
    if case.max_file_mb is not None:
        settings.BRANKAS = dataclasses.replace(settings.BRANKAS, max_file_mb=case.max_file_mb)
    before = last_audit_seq()
    if case.code == OK:
        doc = register(office, case)
        assert_stored_safely(office.home)
        for key, value in case.fields.items():
            assert getattr(doc, key) == value  # stored as text, exactly: never interpreted
        return
    with pytest.raises(BrankasError) as info:
        register(office, case)
    assert info.value.code == case.code
    for lang in ("id", "en"):
        assert "{" not in info.value.message(lang)
    assert_nothing_stored(office.home, before)
