"""``test_pipeline.py`` on PostgreSQL: the selection of what is left to read (a correlated
``EXISTS``), the row written under the document's row lock, the job's audit, the journal's
text rows by time."""

from __future__ import annotations

import pytest

from tests.web.text.test_pipeline import (  # noqa: F401 (collected here too)
    test_a_journal_part_holds_the_text_rows_written_since_not_the_whole_table,
    test_a_registration_queues_its_biasa_document_and_an_import_one_job,
    test_a_stale_row_is_read_again_and_a_redo_resumes_where_it_stopped,
    test_an_exempted_document_is_refused_by_rule_and_gets_no_row,
    test_an_ocr_job_runs_as_a_job_and_never_holds_the_office,
    test_one_failed_document_is_counted_and_the_job_goes_on,
    test_the_job_reads_every_biasa_document_and_never_an_exempted_one,
    test_who_may_ask_for_text_and_every_refusal_is_audited,
)
from tests.web.text.test_pipeline_review import (  # noqa: F401 (s19 review, on PostgreSQL)
    test_a_text_written_while_the_clock_was_behind_is_carried_by_the_next_part,
    test_an_exempted_document_row_never_gives_text_to_the_registers,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""
