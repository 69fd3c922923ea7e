"""The recovery key pages (admin only): printing share sheets asks for the password again
after five minutes and answers the POST with the sheets as one PDF, keeping nothing;
checking shares pasted in text boxes."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from brankas.core import crypto
from brankas.core.keyring import shares as core_shares
from brankas.web.audit.models import AuditEvent
from brankas.web.keys.models import RecoverySplit
from brankas.web.keys.recovery import recovery_split
from brankas.web.ui.security import PASSWORD_AT
from tests.web.ui.conftest import files_under, text_of

SPLIT, CHECK = "/keys/recovery/split", "/keys/recovery/check"


def _pages(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", " ", p.extract_text())
            for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_the_admin_gets_the_sheets_as_one_pdf_and_nothing_is_kept(office, signed_in) -> None:
    client = signed_in("admin")
    page = text_of(client.get(SPLIT))
    assert 'type="password"' in page and 'name="identity"' in page
    before = set(files_under(office.home))
    r = client.post(SPLIT, {"identity": office.recovery_identity, "shares": "5",
                            "threshold": "3"})
    assert r.status_code == 200, text_of(r)[:2000]
    assert r["Content-Type"] == "application/pdf"
    assert "no-store" in r["Cache-Control"]
    assert "attachment" in r["Content-Disposition"]
    pages = _pages(r.content)
    assert len(pages) == 5
    for i, text in enumerate(pages, start=1):
        assert f"Bagian {i} dari 5" in text and "RAHASIA" in text and office.office.name in text
    split = RecoverySplit.objects.get()
    assert (split.shares, split.threshold) == (5, 3)
    # Nothing on disk, nothing in the session: the words are in the response only.
    assert set(files_under(office.home)) == before
    session_text = repr(dict(client.session.items()))
    assert office.recovery_identity not in session_text
    assert "AGE-SECRET-KEY" not in session_text
    # The printed words rebuild the key.
    typed = []
    for i, text in enumerate(pages[:3], start=1):
        boxes = text[text.index("numbers") + len("numbers"):text.index("RAHASIA:")]
        typed.append((f"hal {i}", boxes))
    assert str(core_shares.identity(typed)) == office.recovery_identity
    ev = AuditEvent.objects.get(action="recovery.split")
    assert ev.actor == "admin" and ev.detail["identifier"] == split.identifier


def test_splitting_asks_for_the_password_again_after_five_minutes(office, signed_in) -> None:
    client = signed_in("admin")
    # The form names itself as the page to come back to (the default, the POST's path
    # cut at its last "/", would be /keys/recovery/: no page).
    back = re.search(r'name="back" value="([^"]+)"', text_of(client.get(SPLIT)))
    assert back is not None and back.group(1) == SPLIT
    session = client.session
    session[PASSWORD_AT] = session[PASSWORD_AT] - 6 * 60
    session.save()
    r = client.post(SPLIT, {"identity": office.recovery_identity, "shares": "3",
                            "threshold": "2", "back": back.group(1)})
    assert r.status_code == 302 and r["Location"].startswith("/reauth/")
    assert r["Location"].endswith("?next=%2Fkeys%2Frecovery%2Fsplit")
    assert not RecoverySplit.objects.exists()
    assert not AuditEvent.objects.filter(action="recovery.split").exists()


def test_a_wrong_identity_or_numbers_come_back_on_the_form(office, signed_in) -> None:
    client = signed_in("admin")
    r = client.post(SPLIT, {"identity": crypto.generate().identity, "shares": "3",
                            "threshold": "2"})
    assert r.status_code == 400 and r["Content-Type"].startswith("text/html")
    assert "kunci pemulihan kantor ini" in text_of(r)
    r = client.post(SPLIT, {"identity": office.recovery_identity, "shares": "4",
                            "threshold": "1"})
    assert r.status_code == 400
    assert "ambang" in text_of(r)
    assert office.recovery_identity not in text_of(r)  # a password field is not refilled
    assert not RecoverySplit.objects.exists()


@pytest.mark.parametrize("name", ["kabid", "operator"])
def test_other_roles_are_refused(office, signed_in, name) -> None:
    client = signed_in(name)
    for url in (SPLIT, CHECK):
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403
    assert AuditEvent.objects.filter(action="access.denied", actor=name).count() == 4


def test_checking_shares(office, signed_in) -> None:
    result = recovery_split(actor=office.users["admin"], identity_text=office.recovery_identity,
                            shares=5, threshold=3)
    client = signed_in("admin")
    page = text_of(client.get(CHECK))
    assert page.count("<textarea") == 5
    numbered = "\n".join(f"{i}. {w}" for i, w in enumerate(result.mnemonics[4].split(), 1))
    r = client.post(CHECK, {"boxes": "5", "share1": result.mnemonics[0],
                            "share2": result.mnemonics[2].upper(), "share3": numbered})
    assert r.status_code == 200
    page = text_of(r)
    fingerprint = crypto.recipient_fingerprint(office.office.recovery_recipient)
    assert fingerprint in page
    assert result.mnemonics[0].split()[5] not in page.split()  # the words are not echoed
    result.split.refresh_from_db()
    assert result.split.last_checked_at is not None
    # Two shares: too few. One word changed: refused by the box's name.
    r = client.post(CHECK, {"boxes": "5", "share1": result.mnemonics[0],
                            "share2": result.mnemonics[1]})
    assert r.status_code == 400 and "perlu 3 bagian" in text_of(r)
    words = result.mnemonics[3].split()
    words[7] = "acid" if words[7] != "acid" else "acne"
    r = client.post(CHECK, {"boxes": "5", "share1": result.mnemonics[0],
                            "share4": " ".join(words), "share5": result.mnemonics[1]})
    assert r.status_code == 400 and "Bagian 4" in text_of(r)
    assert [e.outcome for e in AuditEvent.objects.filter(action="recovery.check")
            .order_by("seq")] == ["ok", "failed", "failed"]
    assert client.get(CHECK + "?boxes=8").content.decode().count("<textarea") == 8
