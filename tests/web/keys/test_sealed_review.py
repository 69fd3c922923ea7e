"""Sealed register fields (issue 16), an outside review's findings: each test names a path
by which a sealed value was still readable (or lost) and failed before its fix."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from brankas.core import sealing
from brankas.web.documents.models import Document
from brankas.web.documents.sealing import lock, unlock, unlocked
from brankas.web.documents.sealmigrate import seal_existing
from brankas.web.keys.revocation import key_revoke
from brankas.web.sendrequests import services as svc
from tests.conftest import PASSPHRASES, make_pdf
from tests.web.keys.test_grants import register
from tests.web.keys.test_sealed_rewrap import shown

MARKER = "ZQXREVIEWSEGEL"


def test_a_revoked_key_unlocked_in_memory_reveals_nothing(office) -> None:
    """A revoked key opens nothing through Brankas (``identities_unlock``): the copy of it
    unlocked in server memory before the revocation must stop revealing sealed values at
    once, not at its idle time, in this process and any other (the database says so)."""
    register(office, f"Perihal {MARKER}")
    kasi = office.users["kasi"]
    token = unlock(actor=kasi, passphrase=PASSPHRASES["kasi"], via="test")
    assert unlocked(token, kasi) is not None
    key_revoke(actor=office.users["admin"], holder="kasi")
    assert unlocked(token, kasi) is None
    lock(token, actor="kasi", reason="test")
