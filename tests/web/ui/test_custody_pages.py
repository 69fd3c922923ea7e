"""The safes and disk-custody pages: adding a safe, reading its combination with a
passphrase (Kabid only), setting a new one, printing the list, moving a disk, the
check-in offered after a backup, the custody PDF, and the dashboard's reminders. Real
SQLite, real files, real encryption; nothing is mocked."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pypdf
from django.test import Client
from django.utils import timezone

from brankas.web.audit.models import AuditEvent
from brankas.web.backup.models import Medium
from brankas.web.custody.models import MediumCustody, Safe, SafeCombination
from tests.conftest import PASSPHRASES
from tests.web.ui.conftest import born_digital, english, register_directly, text_of

MARKER = "KUNCI-55-12-90"


def add_safe(client: Client, name: str = "Brankas-A", combination: str = MARKER):  # type: ignore[no-untyped-def]
    return client.post("/safes/", {"name": name, "location": "Ruang Sandi",
                                   "description": "", "combination1": combination,
                                   "combination2": combination})


def test_a_safe_added_on_the_page_and_its_combination_shown_only_to_the_kabid(
        office, signed_in) -> None:  # type: ignore[no-untyped-def]
    client = english(signed_in("operator"))
    page = text_of(client.get("/safes/"))
    assert "Add a safe" in page and "Show the combination" not in page
    r = add_safe(client, combination="1-2")
    assert r.status_code == 302
    safe = Safe.objects.get()
    assert MARKER not in text_of(client.get("/safes/"))
    # A mistyped repeat stores nothing.
    r = client.post(f"/safes/{safe.pk}/set-combination", {
        f"s{safe.pk}-combination1": MARKER, f"s{safe.pk}-combination2": MARKER + "x"})
    assert r.status_code == 400 and "do not match" in text_of(r)
    assert SafeCombination.objects.count() == 1
    r = client.post(f"/safes/{safe.pk}/set-combination", {
        f"s{safe.pk}-combination1": MARKER, f"s{safe.pk}-combination2": MARKER})
    assert r.status_code == 302 and SafeCombination.objects.count() == 2
    r = client.post(f"/safes/{safe.pk}/combination",
                    {f"s{safe.pk}-passphrase": PASSPHRASES["kabid"]})
    assert r.status_code == 403 and MARKER not in text_of(r)

    for who in ("kasi", "kadis"):
        client = english(signed_in(who))
        assert "Show the combination" not in text_of(client.get("/safes/"))
        r = client.post(f"/safes/{safe.pk}/combination",
                        {f"s{safe.pk}-passphrase": PASSPHRASES.get(who, "x")})
        assert r.status_code == 403 and MARKER not in text_of(r)

    client = english(signed_in("kabid"))
    assert "Show the combination" in text_of(client.get("/safes/"))
    r = client.post(f"/safes/{safe.pk}/combination", {f"s{safe.pk}-passphrase": "salah"})
    assert r.status_code == 400 and MARKER not in text_of(r)
    r = client.post(f"/safes/{safe.pk}/combination",
                    {f"s{safe.pk}-passphrase": PASSPHRASES["kabid"], "history": "1"})
    page = text_of(r)
    assert r.status_code == 200 and MARKER in page and "1-2" in page
    assert "no-store" in r["Cache-Control"]
    r = client.post("/safes/print", {"print-passphrase": PASSPHRASES["kabid"]})
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(r.content)).pages)
    assert MARKER in "".join(text.split())
    assert list(AuditEvent.objects.filter(action__startswith="safe.combination.")
                .values_list("action", "actor", "outcome")) == [
        ("safe.combination.set", "operator", "ok"),
        ("safe.combination.view", "kabid", "failed"),
        ("safe.combination.view", "kabid", "ok"),
        ("safe.combination.print", "kabid", "ok")]


def test_moving_a_disk_on_its_page_and_the_check_in_after_a_backup(
        office, signed_in, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.backup.services import backup_run

    register_directly(office, subject="Undangan rapat")
    medium = backup_run(actor=office.users["operator"], dest=tmp_path / "d", label="D1").medium
    client = english(signed_in("operator"))
    add_safe(client)
    page = text_of(client.get(f"/backup/media/{medium.medium_id}/"))
    assert "out of its safe" in page and "first registered" in page and "Record a move" in page
    r = client.post(f"/backup/media/{medium.medium_id}/", {"move": "checkin", "safe": "",
                                                           "reason": "", "location": ""})
    assert r.status_code == 400 and MediumCustody.objects.get().state == "out"
    r = client.post(f"/backup/media/{medium.medium_id}/", {"move": "checkin",
                                                           "safe": "Brankas-A"})
    assert r.status_code == 302 and MediumCustody.objects.get().state == "in_safe"
    r = client.post(f"/backup/media/{medium.medium_id}/", {"move": "checkin",
                                                           "safe": "Brankas-A"})
    assert r.status_code == 400 and "already in safe Brankas-A" in text_of(r)
    page = text_of(client.get("/backup/media/"))
    assert "in a safe" in page and "Brankas-A" in page

    r = client.get(f"/backup/media/{medium.medium_id}/custody.pdf")
    assert r.status_code == 200
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(r.content)).pages)
    assert "D1" in text and "Brankas-A" in text

    for who in ("kasi", "kabid", "kadis", "admin"):
        other = signed_in(who)
        assert "Record a move" not in text_of(other.get(f"/backup/media/{medium.medium_id}/"))
        r = other.post(f"/backup/media/{medium.medium_id}/", {"move": "checkout",
                                                               "reason": "x"})
        assert r.status_code == 403, who
    assert MediumCustody.objects.get().state == "in_safe"
    assert client.get("/backup/media/no-such-disk/").status_code == 404


def test_the_backup_result_offers_the_check_in(transactional_db, office, signed_in,
                                                tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.web.ui.test_backup_pages import job_of

    register_directly(office, subject="Undangan rapat", pdf=born_digital("Undangan rapat"))
    client = english(signed_in("operator"))
    add_safe(client)
    job = job_of(client.post("/backup/", {"dest": str(tmp_path / "disk"), "label": "D9"}))
    page = text_of(client.get(f"/backup/jobs/{job.id}/"))
    assert "Return the disk to its safe" in page and "Record the check-in" in page
    medium = Medium.objects.get()
    r = client.post(f"/backup/media/{medium.medium_id}/", {
        "move": "checkin", "safe": "Brankas-A", "next": f"/backup/media/{medium.medium_id}/"})
    assert r.status_code == 302 and MediumCustody.objects.get().state == "in_safe"
    # A second backup to the disk now in the safe is refused with the way out: the
    # check-out form on the spot, not a command to type.
    job = job_of(client.post("/backup/", {"dest": str(tmp_path / "disk"), "label": ""}))
    page = text_of(client.get(f"/backup/jobs/{job.id}/"))
    assert "Record the check-out" in page and "brankas media checkout" not in page


def test_dashboard_reminders(office, signed_in, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.backup.services import backup_run

    register_directly(office, subject="Undangan rapat")
    for label in ("D1", "D2"):
        backup_run(actor=office.users["operator"], dest=tmp_path / label, label=label)
    MediumCustody.objects.filter(medium__label="D1").update(
        since=timezone.now() - timedelta(hours=30))
    Medium.objects.filter(label="D2").update(first_used_at=timezone.now() - timedelta(days=400))
    page = text_of(english(signed_in("kasi")).get("/"))
    assert "Disk D1 has been out of its safe for 30 hours" in page
    assert "Disk D2 has never been verified" in page


def test_reading_a_combination_asks_for_the_password_again_after_five_minutes(
        office, signed_in) -> None:  # type: ignore[no-untyped-def]
    from brankas.web.ui.security import PASSWORD_AT

    add_safe(signed_in("operator"))
    safe = Safe.objects.get()
    client = signed_in("kabid")
    session = client.session
    session[PASSWORD_AT] = session[PASSWORD_AT] - 6 * 60
    session.save()
    for url, data in ((f"/safes/{safe.pk}/combination",
                       {f"s{safe.pk}-passphrase": PASSPHRASES["kabid"], "back": "/safes/"}),
                      ("/safes/print", {"print-passphrase": PASSPHRASES["kabid"],
                                        "back": "/safes/"})):
        r = client.post(url, data)
        assert r.status_code == 302 and r["Location"].startswith("/reauth/"), url
        assert "next=%2Fsafes%2F" in r["Location"]
    assert not AuditEvent.objects.filter(action__startswith="safe.combination.").exists()


def test_a_refused_move_names_the_field_in_the_page_s_language_only(
        office, signed_in, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """No "lokasi / location" or "--safe" (the command line's option) on a page: the field
    by its label, in the page's language (issue 14)."""
    from brankas.web.backup.services import backup_run

    register_directly(office, subject="Undangan rapat")
    medium = backup_run(actor=office.users["operator"], dest=tmp_path / "d", label="D1").medium
    client = signed_in("operator")
    add_safe(client)
    url = f"/backup/media/{medium.medium_id}/"
    for lang in ("id", "en"):
        client.cookies["django_language"] = lang
        for body in ({"move": "offsite", "location": "", "reason": "disimpan di luar"},
                     {"move": "checkin", "safe": "", "reason": "", "location": ""},
                     {"move": "checkout", "reason": "x" * 501}):
            r = client.post(url, body)
            assert r.status_code == 400, body
            page = text_of(r)
            for leak in ("/ location", "/ reason", "--safe", "lokasi /", "alasan /"):
                assert leak not in page, (lang, body["move"], leak)
            shown = re.findall(r"error[^>]*>(?:<p>)?([^<]+)", page)
            assert ("kolom" in page) is (lang == "id"), (lang, body["move"], shown)
    client.cookies["django_language"] = "id"
    r = client.post("/safes/", {"name": "Brankas-B", "location": "", "description": "",
                                "combination1": MARKER, "combination2": MARKER})
    assert r.status_code == 400 and "/ location" not in text_of(r)
