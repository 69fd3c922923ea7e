"""A duration (a job's time left and elapsed, the time a registration took) in the page's
language: "1 jam 05 menit" on the Indonesian pages, not "1 h 05 min"."""

from __future__ import annotations

import datetime as dt

import pytest


@pytest.mark.parametrize("seconds,indonesian,english", [
    (3900, "1 jam 05 menit", "1 h 05 min"),
    (250, "4 menit 10 detik", "4 min 10 s"),
    (7, "7 detik", "7 s"),
])
def test_a_duration_is_written_in_the_page_s_language(seconds, indonesian, english) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation

    from brankas.web.ui.templatetags.brankas_ui import duration

    with translation.override("id"):
        assert duration(dt.timedelta(seconds=seconds)) == indonesian
    with translation.override("en"):
        assert duration(dt.timedelta(seconds=seconds)) == english
