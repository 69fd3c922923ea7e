"""The backup report's paper shows a disk's last check in words (issue 14's SOP walk found
"utuh (drill, 5 Desember 2026 20.28)" on the Indonesian paper after a restore drill)."""

from __future__ import annotations

from brankas.core.reports.render import _verify_words


def test_a_disks_last_check_reads_in_indonesian_also_after_a_drill():
    assert "(uji pemulihan," in _verify_words("utuh (drill, 2026-12-05 20:28)")
    assert "drill" not in _verify_words("utuh (drill, 2026-12-05 20:28)")
    assert "(penuh," in _verify_words("utuh (full, 2026-12-05 20:28)")
