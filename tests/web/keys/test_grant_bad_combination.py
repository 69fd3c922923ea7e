"""Review of issue 13: a safe combination that does not open (damaged, or encrypted
without the granter) makes the grant report it, not crash after every file was done and
leave the job marked running; the files' hand-over is kept and summarised."""

from __future__ import annotations

from brankas.web.custody.models import SafeCombination
from brankas.web.keys.grants import key_grant
from brankas.web.keys.models import RewrapJob
from tests.conftest import PASSPHRASES
from tests.web.keys.test_grants import archive, join_kabid2  # noqa: F401


def test_a_damaged_combination_is_reported_not_a_crash(office, archive):  # noqa: F811
    join_kabid2(office)
    combo = SafeCombination.objects.get()
    data = bytearray(bytes(combo.ciphertext))
    data[-5] ^= 1
    combo.ciphertext = bytes(data)
    combo.save(update_fields=["ciphertext"])
    try:
        summary = key_grant(actor=office.users["kabid"], to="kabid2",
                            passphrase=PASSPHRASES["kabid"])
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(f"the grant crashed: {type(exc).__name__}: {exc}") from None
    assert summary.files == 4
    assert summary.failed  # the combination named as failed
    job = RewrapJob.objects.get()
    assert job.state != RewrapJob.RUNNING
