"""Review of issue 13: a safe's combination changed while a grant runs (a grant of a large
archive takes a long time; the combination is an operator's everyday work) must not be
put back to the old combination when the grant re-wraps the combinations at its end."""

from __future__ import annotations

from brankas.web.custody.services import safe_combinations_read, safe_set_combination
from brankas.web.keys.grants import key_grant
from tests.conftest import PASSPHRASES
from tests.web.keys.test_grants import KABID2_PASSPHRASE, archive, join_kabid2  # noqa: F401


def test_a_combination_changed_during_a_grant_is_not_lost(office, archive):  # noqa: F811
    join_kabid2(office)
    changed = []

    def meanwhile(progress) -> None:  # type: ignore[no-untyped-def]
        # While the files are being re-encrypted, the operator changes the combination.
        if progress.files_done == 1 and not changed:
            safe_set_combination(actor=office.users["operator"], name="Brankas-A",
                                 combination="98-76-54")
            changed.append(True)

    summary = key_grant(actor=office.users["kabid"], to="kabid2",
                        passphrase=PASSPHRASES["kabid"], on_progress=meanwhile)
    assert changed and summary.failed == []
    (kabid,) = safe_combinations_read(actor=office.users["kabid"],
                                      passphrase=PASSPHRASES["kabid"])
    assert kabid.combination == "98-76-54"
    (kabid2,) = safe_combinations_read(actor=office.users["kabid2"],
                                       passphrase=KABID2_PASSPHRASE)
    assert kabid2.combination == "98-76-54"
