"""Error pages that no GET reaches (issue 14, no English in the Indonesian interface): a
POST too large or with too many fields is refused with the office's own page in the
user's language, not Django's bare "Bad Request (400)"."""

from __future__ import annotations

import pytest

from tests.web.ui.conftest import text_of


@pytest.mark.parametrize("body", [
    {f"f{i}": "x" for i in range(1100)},  # more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
    {"note": "x" * (1024 * 1024 + 10)},  # more than DATA_UPLOAD_MAX_MEMORY_SIZE
], ids=["too-many-fields", "too-large"])
@pytest.mark.parametrize("lang,words,other", [
    ("id", "Permintaan tidak dapat diproses", "Bad Request"),
    ("en", "The request could not be processed", "Permintaan tidak"),
])
def test_a_refused_post_is_a_page_in_the_user_s_language(signed_in, body, lang, words,  # type: ignore[no-untyped-def]
                                                         other) -> None:
    client = signed_in("admin")
    client.cookies["django_language"] = lang
    r = client.post("/office/", body)
    assert r.status_code == 400
    text = text_of(r)
    assert words in text and other not in text, text[:300]
