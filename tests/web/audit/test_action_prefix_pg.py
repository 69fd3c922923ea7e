"""tests/web/audit/test_action_prefix.py on PostgreSQL, and under a linguistic collation:
an office's database made with the server's locale (``createdb`` on a Debian server in
en_US.UTF-8 or id_ID.UTF-8, docs/server.md section 1) compares text by that locale, where
punctuation weighs nothing at first (``document.open`` sorts after ``document/``). An ICU
collation that ignores punctuation the same way (``ka-shifted``) stands in for it: the
glibc locales may not be installed where the tests run."""

from __future__ import annotations

import pytest

from tests.web.audit.test_action_prefix import (  # noqa: F401 (collected here too)
    check_prefixes,
    test_a_prefix_lists_exactly_the_actions_that_start_with_it,
    test_a_prefix_with_filters_combined,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module", autouse=True)
def _on_postgresql(pg_database: str) -> None:
    """Every test of this module on this module's PostgreSQL database."""


@pytest.mark.django_db
def test_a_prefix_under_a_linguistic_collation() -> None:
    from django.db import connection

    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute("CREATE COLLATION linguistic "
                       "(provider = icu, locale = 'en-US-u-ka-shifted')")
        cursor.execute('ALTER TABLE audit_auditevent ALTER COLUMN "action" '
                       'TYPE varchar(50) COLLATE linguistic')
        cursor.execute("SELECT 'document.open' < 'document/' COLLATE linguistic")
        assert cursor.fetchone() == (False,)  # the collation is the one that matters
    check_prefixes()


@pytest.mark.django_db
def test_the_audit_actions_in_order_under_a_linguistic_collation() -> None:
    """The action filter's choices in the order they had (Python's, by code point), not
    the collation's."""
    from django.db import connection

    from brankas.web.audit.selectors import audit_actions
    from tests.web.audit.test_action_prefix import _record

    with connection.cursor() as cursor:
        cursor.execute("CREATE COLLATION linguistic "
                       "(provider = icu, locale = 'en-US-u-ka-shifted')")
        cursor.execute('ALTER TABLE audit_auditevent ALTER COLUMN "action" '
                       'TYPE varchar(50) COLLATE linguistic')
    _record(["document.view", "documents.list", "document-x", "Document.upper", "a.first"])
    actions = audit_actions()
    assert actions == sorted(set(actions)), actions
    assert actions.index("document.view") < actions.index("documents.list")
