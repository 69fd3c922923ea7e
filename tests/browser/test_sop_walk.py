"""The whole SOP walked through the web in real Chromium, as each role, every page seen in
Bahasa Indonesia and in English: each role works in its own language (tests/browser/sop.py
``ROLE_LANG``: the Sandiman and the Kabid in Indonesian, the admin, the Kasi and the Kadis in
English, chosen with the interface's language switch), and every page a role is shown is also
looked at in the other language (``Walk.twin_look``: the same URL in the same session with the
other language's cookie; a page a refused form rendered, the same POST sent again).

setup → users → the office profile → a user's page (the Sandiman's qualification, which the
dashboard asked for) → one's own password → keys → a lock-out lifted by the admin from the
dashboard → registration (Biasa and Dikecualikan, both directions) → import of an old archive
→ a request to send (Kadis → Kabid → Kasi → Sandiman: received, registered, sent) → backup to
a disk folder → safe and custody (add a safe, return the disk, check it out) → verify the disk
→ restore from it → the restore drill → the disk back to the safe → both reports through the
chain (create, submit, return, resubmit, forward with the summary, approve with the signing
passphrase, acknowledged by the Kadis) → the audit page, its chain check, and the check
against the backup disk; the office then recovered from that disk on a fresh computer at
first run.

Each step is walked as the role the SOP gives it, the refusal a user would meet tried first
where it is cheap (a wrong entry, a page of another role). Every page seen is checked by
``Walk.look`` (tests/browser/sop.py: a server error, a word of the other language, a command
to type, a raw timestamp, a duplicate element id); the ``check_*`` functions at the end check
what the walk kept against the items of issue 14 that a browser can see.

ONE test (``test_sop_walk``): it walks every step and runs every check (those of what a page
shows in each language: on both), and fails at the end with the list of what failed (each
naming the step, the language, the page and the problem). A step that fails does not stop the
walk: the steps after it that need it are listed as not walked. (Until session 20 the walk was
made twice, once in each language: twice the server's and Chromium's work for the same
steps, the forms filled and the jobs run again.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import serve, starting
from tests.browser.sop import KEY_PP, OFFICE, OTHER, PEOPLE, POSITIONS, SIGN_PP, Walk
from tests.conftest import make_pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The language of the pages no role has (the setup, the lock-out, the first-run recovery).
LANG = "id"
COMBINATION = "12-34-56"
TODAY = dt.date.today()
PERIOD = TODAY.strftime("%Y-%m")
# The office profile as the admin edits it (B): the place above signatures and the SOP sheet.
PLACE = "Inobonto"
SOP_NUMBER = "SOP/PERSANDIAN/01/2026"


class NotWalked(Exception):  # noqa: N818 - a step skipped, not an error of its own
    """A step that needs one that did not finish."""


def needs(w: Walk, *steps: str) -> None:
    missing = [s for s in steps if s not in w.done]
    if missing:
        raise NotWalked(f"needs {', '.join(missing)}, which did not finish")


def refused(w: Walk, page: Any, path: str, status: int = 403) -> None:
    """A page of another role: refused (``status``), in this language."""
    response = w.goto(page, path, ok=False)
    assert response is not None and response.status == status, (
        f"{path} as {w.role_of(page)}: {response.status if response else 'no response'}, "
        f"not {status}")


# ====================================================================== the walk


def step_01_setup(w: Walk) -> None:
    """First run: the setup page, the recovery key shown once, then the sign-in page."""
    page = w.browser.new_page(locale="id-ID")
    w.watch(page)
    try:
        w.goto(page, "/", look=False)
        assert page.url == w.url + "/setup/"
        # The stylesheet shipped in the package is served and applied.
        assert page.evaluate("getComputedStyle(document.querySelector('.topbar'))"
                             ".backgroundColor") == "rgb(23, 65, 94)"
        w.switch_language(page)
        for name, value in OFFICE.items():
            page.locator(f"#id_{name}").fill(value)
        username, full_name, _, password = PEOPLE["admin"]
        page.locator("#id_admin_username").fill(username)
        page.locator("#id_admin_full_name").fill(full_name)
        page.locator("#id_password1").fill(password)
        page.locator("#id_password2").fill(password)
        w.submit(page, page.locator("main form"))
        identity = page.locator("#recovery-identity").inner_text().strip()
        assert identity.startswith("AGE-SECRET-KEY-1")
        w.data["recovery_identity"] = identity
        w.typed.append(identity)
        w.typed.extend(t.strip() for t in page.locator("pre.public").all_inner_texts())
        w.look(page)
        w.click(page, page.locator("main a[href='/login/']"))
        w.goto(page, "/setup/")
        assert page.url == w.url + "/login/"  # never shown again
        assert identity not in page.content()
    finally:
        page.close()


def step_02_users(w: Walk) -> None:
    """The admin adds the Sandiman, the Kasi, the Kabid and the Kadis, with NIP and jabatan;
    a wrong NIP is refused first (in the interface's language)."""
    needs(w, "01_setup")
    page = w.as_("admin")
    w.goto(page, "/users/")
    for role in ("sandiman", "kasi", "kabid", "kadis"):
        username, full_name, nip, password = PEOPLE[role]
        form = w.form_with(page, "#id_password1")
        page.locator("#id_username").fill(username)
        page.locator("#id_role").select_option(role)
        page.locator("#id_full_name").fill(full_name)
        page.locator("#id_position").fill(POSITIONS[role])
        page.locator("#id_nip").fill(nip if role != "sandiman" else "12345")
        page.locator("#id_password1").fill(password)
        page.locator("#id_password2").fill(password)
        if role == "sandiman":  # a NIP has 18 digits: refused, and said so in this language
            w.submit(page, form, ok=False)
            assert page.locator(".has-error #id_nip, .has-error").count() >= 1
            page.locator("#id_nip").fill(nip)
            page.locator("#id_password1").fill(password)
            page.locator("#id_password2").fill(password)
            form = w.form_with(page, "#id_password1")
        w.submit(page, form)
        assert page.locator(".alert-success").count() == 1, page.url
    table = page.locator("main table").inner_text()
    for role in ("sandiman", "kasi", "kabid", "kadis"):
        assert PEOPLE[role][2] in table


def step_03_office_profile(w: Walk) -> None:
    """The admin edits the office profile (the place above signatures, the SOP's number);
    the Sandiman may not (the page is refused). Papers printed afterwards show it
    (check_papers_show_the_edited_office_profile)."""
    needs(w, "02_users")
    refused(w, w.as_("sandiman"), "/office/")
    page = w.as_("admin")
    w.goto(page, "/")
    w.click(page, page.locator("nav a[href='/office/']"))
    w.typed.extend([PLACE, SOP_NUMBER])
    form = w.form_with(page, "input[name=place]")
    form.locator("input[name=place]").fill(PLACE)
    form.locator("input[name=sop_number]").fill(SOP_NUMBER)
    w.submit(page, form)
    assert page.locator(".alert-success").count() == 1, w.look(page)
    assert SOP_NUMBER in page.locator("main").inner_text()


def step_04_qualification(w: Walk) -> None:
    """The admin's dashboard warns that the Sandiman has no qualification recorded (the SOP's
    KUALIFIKASI PELAKSANA); the Kasi may not open a user's page; the admin records the
    Sandiman's Diklat Sandiman on the Sandiman's page (a date in the wrong form refused
    first), and the warning is gone."""
    needs(w, "02_users")
    username, full_name = PEOPLE["sandiman"][:2]
    refused(w, w.as_("kasi"), f"/users/{username}/")
    page = w.as_("admin")
    w.goto(page, "/")
    warnings = page.locator("main .alert-warning", has_text=full_name)
    assert warnings.count() == 1, "no warning of the Sandiman's missing qualification"
    w.click(page, warnings.locator("a[href='/users/']"))
    w.click(page, page.locator(f"main a[href='/users/{username}/']"))
    w.typed.extend(["Diklat Sandiman Tingkat I", "DS-123/2024"])
    form = w.form_with(page, "input[name=op][value=qualify]")
    form.locator("input[name=training]").fill("Diklat Sandiman Tingkat I")
    form.locator("input[name=certificate_number]").fill("DS-123/2024")
    form.locator("input[name=passed_on]").fill(f"{TODAY.year + 1}-01-31")  # in the future
    w.submit(page, form, ok=False)
    assert page.locator(".has-error, .alert-error").count() >= 1, "a future date was taken"
    form = w.form_with(page, "input[name=op][value=qualify]")
    form.locator("input[name=training]").fill("Diklat Sandiman Tingkat I")
    form.locator("input[name=certificate_number]").fill("DS-123/2024")
    form.locator("input[name=passed_on]").fill("2024-03-15")
    w.submit(page, form)
    assert "DS-123/2024" in page.locator("main table").inner_text()
    # The other forms of the user's page: the role, a password reset, deactivation.
    for op in ("role", "reset", "deactivate"):
        assert w.form_with(page, f"input[name=op][value={op}]").count() == 1, op
    w.goto(page, "/")
    assert page.locator("main .alert-warning", has_text=full_name).count() == 0


def step_05_own_password(w: Walk) -> None:
    """The Kasi changes their own password on "My account" (the wrong current password
    refused first) and signs in with the new one."""
    needs(w, "02_users")
    page = w.as_("kasi")
    w.click(page, page.locator("a[href='/account/']").first)
    new = "Kasi-Baru-2026!#"
    form = w.form_with(page, "input[name=old_password]")
    form.locator("input[name=old_password]").fill("bukan-sandi-saya-2026")
    form.locator("input[name=password1]").fill(new)
    form.locator("input[name=password2]").fill(new)
    w.submit(page, form, ok=False)
    assert page.locator(".has-error, .alert-error").count() >= 1, "a wrong password was taken"
    form = w.form_with(page, "input[name=old_password]")
    form.locator("input[name=old_password]").fill(w.passwords["kasi"])
    form.locator("input[name=password1]").fill(new)
    form.locator("input[name=password2]").fill(new)
    w.submit(page, form)
    assert page.locator(".alert-success").count() == 1, w.look(page)
    w.passwords["kasi"] = new
    w.sign_in_fresh("kasi")


def step_06_keys(w: Walk) -> None:
    """The Kasi, the Kabid and the Kadis each make their own key; a weak passphrase is
    refused first, with its hint in the interface's language."""
    needs(w, "02_users")
    for role in ("kasi", "kabid", "kadis"):
        page = w.as_(role)
        w.goto(page, "/keys/")
        form = w.form_with(page, "#id_own-passphrase1")
        if role == "kasi":
            page.locator("#id_own-passphrase1").fill("password123")
            page.locator("#id_own-passphrase2").fill("password123")
            w.submit(page, form, ok=False)
            assert page.locator(".has-error").count() >= 1
            form = w.form_with(page, "#id_own-passphrase1")
        page.locator("#id_own-passphrase1").fill(KEY_PP[role])
        page.locator("#id_own-passphrase2").fill(KEY_PP[role])
        w.submit(page, form)
        made = page.locator(".alert-success")
        assert made.count() == 1, page.url
        w.typed.extend(re.findall(r"age1[0-9a-z]+", made.inner_text()))


def step_07_lockout(w: Walk) -> None:
    """Five wrong passwords for the Kadis lock the Kadis out (the right one is refused then);
    the admin's dashboard says so and links to the Kadis's page, where the admin unlocks;
    the Kadis signs in again. The attempts alternate between the languages (a sign-in is
    not sent twice: each wrong one counts), so the refusal and the lock-out are each shown
    in both."""
    needs(w, "02_users")
    username = PEOPLE["kadis"][0]
    page = w.browser.new_page(locale="id-ID")
    w.watch(page)
    try:
        w.goto(page, "/login/", look=False)
        w.switch_language(page)
        attempts = ["salah-sekali-2026"] * 5 + [w.passwords["kadis"]] * 2
        for i, password in enumerate(attempts):
            lang = w.lang if i % 2 == 0 else OTHER[w.lang]
            page.context.add_cookies([{"name": "django_language", "value": lang,
                                       "url": w.url}])
            w.langs[id(page)] = lang
            w.goto(page, "/login/", ok=False)
            page.locator("#id_username").fill(username)
            page.locator("#id_password").fill(password)
            w.click(page, page.locator("main form button[type=submit]"), ok=False)
        assert page.locator("nav.mainnav").count() == 0, "the Kadis signed in while locked"
        assert username in page.locator("main .alert-error").inner_text(), w.look(page)
    finally:
        page.close()
    admin = w.as_("admin")
    w.goto(admin, "/")
    notice = admin.locator("main .alert-warning", has_text=username)
    assert notice.count() == 1, "no lock-out notice on the admin's dashboard"
    w.click(admin, notice.locator(f"a[href='/users/{username}/']"))
    w.submit(admin, w.form_with(admin, "input[name=op][value=unlock]"))
    assert admin.locator("input[name=op][value=unlock]").count() == 0, "still locked"
    w.goto(admin, "/")
    assert admin.locator("main .alert-warning", has_text=username).count() == 0
    w.sign_in_fresh("kadis")


# The scans' text layer beside the subject: enough words (text.extract.MIN_LAYER_WORDS) for
# a born-digital PDF, whose text is read, not OCR'd (three OCR runs in the server's worker:
# about 12 CPU-s the walk does not check; OCR is tests/core/text's and tests/web/text's).
BODY = "surat dinas ini disimpan sebagai arsip kantor persandian daerah"
REGISTRATIONS = [  # (direction, classification, subject, correspondent)
    ("penerimaan", "biasa", "Undangan upacara hari jadi", "Bupati Bolaang Mongondow"),
    ("pengiriman", "biasa", "Laporan kegiatan bulanan", "Sekretaris Daerah"),
    ("penerimaan", "rahasia", "Daftar sandi baru", "Gubernur Sulawesi Utara"),
    ("pengiriman", "terbatas", "Jadwal pengamanan komunikasi", "Kodim Bolaang Mongondow"),
]


def step_08_registration(w: Walk) -> None:
    """The Sandiman registers a Biasa and an exempted scan each way; the register lists
    them; the Kabid opens the Rahasia one with the key passphrase."""
    needs(w, "06_keys")
    page = w.as_("sandiman")
    agendas = {}
    for i, (direction, classification, subject, correspondent) in enumerate(REGISTRATIONS):
        pdf = w.tmp / f"scan-{i}.pdf"
        # The scan's own text (its text layer, shown as a search result's snippet) too.
        w.typed.extend([subject, correspondent, pdf.name, f"{BODY} MARKER page 1"])
        plain = make_pdf(pdf, text=f"{subject} {BODY} MARKER")
        w.goto(page, "/documents/new/")
        page.check(f"input[name=direction][value={direction}]")
        # The page's script names the other side after the direction (sender, addressee).
        labels = page.locator("[data-correspondent-labels]")
        assert labels.locator("label").inner_text().strip() == (
            labels.get_attribute(f"data-{direction}") or "").strip(), direction
        page.check(f"input[name=classification][value={classification}]")
        page.locator("#id_number").fill(f"00{i}/{TODAY:%m}/{TODAY:%Y}")
        page.locator("#id_doc_date").fill(TODAY.isoformat())
        page.locator("#id_subject").fill(subject)
        page.locator("#id_correspondent").fill(correspondent)
        page.locator("#id_attachments").fill("1")
        page.locator("#id_scans").set_input_files(str(pdf))
        w.submit(page, w.form_with(page, "#id_scans"))
        match = re.fullmatch(re.escape(w.url) + r"/documents/(.+)/", page.url)
        assert match, f"not on the document's page: {page.url} {w.snapshots.get(page.url)}"
        agendas[(direction, classification)] = (match.group(1), plain)
        if classification == "biasa":  # shown on its page
            assert page.locator("iframe.pdf-frame").count() == 1, page.url
    w.data["agendas"] = agendas
    w.goto(page, "/documents/")
    listed = page.locator("main table").inner_text()
    assert all(a in listed for a, _ in agendas.values())
    # The register's filters and its search box find each.
    biasa, rahasia = (agendas[("penerimaan", c)][0] for c in ("biasa", "rahasia"))
    form = page.locator("main form[role=search]")
    form.locator("select[name=classification]").select_option("rahasia")
    w.submit(page, form)
    listed = page.locator("main table").inner_text()
    assert rahasia in listed and biasa not in listed, listed
    w.goto(page, "/documents/")
    form.locator("input[name=q]").fill("upacara")
    w.submit(page, form)
    listed = page.locator("main table").inner_text()
    assert biasa in listed and rahasia not in listed, listed
    secret = w.server.home / "arsip" / "dikecualikan"
    assert len(list(secret.rglob("*.pdf.age"))) == 2
    assert not list(secret.rglob("*.pdf"))

    kabid = w.as_("kabid")
    agenda, plain = agendas[("penerimaan", "rahasia")]
    w.goto(kabid, f"/documents/{agenda}/")
    form = w.form(kabid, "/open")
    form.locator("input[type=password]").fill("bukan frasa sandinya sama sekali")
    w.submit(kabid, form, ok=False)
    assert kabid.locator(".alert-error, .has-error").count() >= 1, "a wrong passphrase taken"
    form = w.form(kabid, "/open")
    form.locator("input[type=password]").fill(KEY_PP["kabid"])
    with kabid.expect_download() as info:
        form.locator("button[type=submit]").click()
    assert info.value.suggested_filename == f"{agenda}.pdf"
    assert Path(info.value.path()).read_bytes() == plain


def step_09_import(w: Walk) -> None:
    """The Sandiman imports an old archive kept by hand in the four folders (a folder that
    does not exist refused first); the Kasi may not (the page is refused)."""
    needs(w, "08_registration")
    refused(w, w.as_("kasi"), "/import/")
    old = w.tmp / "arsip-lama"
    scan = old / "biasa" / "penerimaan" / str(TODAY.year - 1) / "Surat edaran lama.pdf"
    scan.parent.mkdir(parents=True)
    make_pdf(scan, text=f"SURAT EDARAN LAMA {BODY} MARKER")
    # The import writes register values of its own, in Indonesian as the register is kept
    # (and printed on the control lists): data in both interfaces, as typed values are.
    w.typed.extend(["Surat edaran lama", str(old), "(tidak diketahui)", "Diimpor dari",
                    f"SURAT EDARAN LAMA {BODY} MARKER page 1"])
    page = w.as_("sandiman")
    w.goto(page, "/")
    w.click(page, page.locator("nav a[href='/import/']"))
    form = w.form_with(page, "input[name=folder]")
    form.locator("input[name=folder]").fill(str(w.tmp / "tidak-ada"))
    w.submit(page, form, ok=False)
    assert page.locator(".has-error, .alert-error").count() >= 1, "a missing folder was taken"
    form = w.form_with(page, "input[name=folder]")
    form.locator("input[name=folder]").fill(str(old))
    w.submit(page, form)
    w.wait_job(page)
    assert page.locator(".alert-success").count() == 1, w.look(page)
    imported = page.locator("main a[href^='/documents/']").all_inner_texts()
    assert len(imported) == 1, imported
    w.goto(page, f"/documents/{imported[0].strip()}/")


def step_10_request_chain(w: Walk) -> None:
    """The Kadis records a request to send a Rahasia letter and assigns the Kabid, who assigns
    the Kasi, who assigns the Sandiman; the Sandiman receives it, registers it as an outgoing
    document and records it as sent."""
    needs(w, "08_registration")
    subject, addressee = "Berita pengamanan kunjungan kerja", "Pangdam XIII Merdeka"
    w.typed.extend([subject, addressee, "Sekretariat Daerah", "Kepala Bagian Umum"])
    letter = w.tmp / "letter.pdf"
    w.typed.append(letter.name)
    make_pdf(letter, text="SURAT RAHASIA MARKER")
    page = w.as_("kadis")
    w.goto(page, "/requests/new/")
    page.locator("#id_requester_unit").fill("Sekretariat Daerah")
    page.locator("#id_requester_name").fill("Kepala Bagian Umum")
    page.locator("#id_subject").fill(subject)
    page.locator("#id_addressee").fill(addressee)
    page.check("input[name=classification][value=rahasia]")
    page.check("input[name=urgency][value=segera]")
    page.locator("#id_letter").set_input_files(str(letter))
    w.submit(page, w.form_with(page, "#id_letter"))
    match = re.fullmatch(re.escape(w.url) + r"/requests/(\d+)/", page.url)
    assert match, page.url
    number = match.group(1)
    w.data["request"] = number
    for role, to in (("kadis", "kabid"), ("kabid", "kasi"), ("kasi", "sandiman")):
        page = w.as_(role)
        w.goto(page, f"/requests/{number}/")
        form = w.form(page, "/assign")
        form.locator("select[name=to]").select_option(PEOPLE[to][0])
        w.submit(page, form)
    page = w.as_("sandiman")
    w.goto(page, "/")
    w.goto(page, f"/requests/{number}/")
    w.submit(page, w.form(page, "/receive"))
    w.click(page, page.locator(f"a[href='/requests/{number}/register/']"))
    assert page.locator("#id_correspondent").input_value() == addressee
    page.locator("#id_number").fill(f"005/{number}/Persandian/{TODAY:%Y}")
    page.locator("#id_doc_date").fill(TODAY.isoformat())
    w.submit(page, w.form_with(page, "#id_number"))
    assert page.url == f"{w.url}/requests/{number}/", page.url
    form = w.form(page, "/sent")
    form.locator("input[name=channel]").fill("JKS")
    form.locator("input[name=reference]").fill("B-17")
    w.submit(page, form)
    assert page.locator("#request-agenda").count() == 1
    w.data["request_page"] = page.locator("main").inner_text()
    w.data["request_agenda"] = page.locator("#request-agenda").inner_text().strip()
    # The request list as the Sandiman sees it by default, and with every request.
    w.goto(page, "/requests/")
    w.data["requests_status"] = [page.locator("main [role=status]").inner_text().strip()]
    other = w.other(page)  # in the other language too
    w.goto(other, "/requests/")
    w.data["requests_status"].append(other.locator("main [role=status]").inner_text().strip())
    w.goto(page, "/requests/?show=all")
    assert number in page.locator("main table").inner_text()


def step_11_backup(w: Walk) -> None:
    """The Sandiman backs up to a new disk (a folder on a temporary "disk")."""
    needs(w, "08_registration")
    page = w.as_("sandiman")
    # A long folder name, as a disk's can be: the audit log shows it as a target, and its
    # table must still fit the page (check_audit_table_fits_the_page).
    disk = w.tmp / "usb" / "cadangan-arsip-persandian-dinas-kominfo-bolaang-mongondow-2026"
    disk.parent.mkdir()
    w.data["disk"] = disk
    w.goto(page, "/backup/")
    form = page.locator("form#start")
    form.locator("input[name=dest]").fill(str(disk))
    form.locator("input[name=label]").fill("DISK-A")
    w.submit(page, form)
    w.wait_job(page)
    assert page.locator(".alert-success").count() == 1, w.look(page)
    assert (disk / "bagit.txt").is_file()
    w.data["backup_result"] = page.locator("main").inner_html()
    w.data["backup_result_safe_choices"] = page.locator(
        "main form select[name=safe] option").all_inner_texts()
    links = page.locator("main a[href^='/backup/runs/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    runs = {m.group(1) for h in links if (m := re.fullmatch(r"/backup/runs/(\d+)/", h))}
    assert len(runs) == 1, links
    w.data["run"] = runs.pop()
    w.goto(page, f"/backup/runs/{w.data['run']}/")
    w.goto(page, "/backup/media/")
    href = page.locator("main h2 a[href^='/backup/media/']").first.get_attribute("href")
    w.data["medium"] = href.strip("/").split("/")[-1]  # type: ignore[union-attr]


def move_disk(w: Walk, page: Any, move: str, *, safe: str = "", reason: str = "") -> None:
    w.goto(page, f"/backup/media/{w.data['medium']}/")
    form = w.form(page, f"/backup/media/{w.data['medium']}/")
    form.locator("select[name=move]").select_option(move)
    if safe:
        form.locator("select[name=safe]").select_option(safe)
    form.locator("input[name=reason]").fill(reason)
    w.submit(page, form)
    assert page.locator(".alert-error").count() == 0, w.look(page)


def step_12_safe_and_custody(w: Walk) -> None:
    """The Sandiman adds a safe, returns the disk to it; a backup to the disk in the safe is
    refused; the disk is checked out (to verify it). The Kabid reads the combination and
    prints the combination list; the custody record is printed."""
    needs(w, "11_backup")
    page = w.as_("sandiman")
    w.typed.extend(["Brankas-1", "Ruang Persandian lantai 2", "Kembali ke brankas",
                    "Pemeriksaan disk"])
    w.goto(page, "/safes/")
    form = w.form_with(page, "input[name=name]")
    form.locator("input[name=name]").fill("Brankas-1")
    form.locator("input[name=location]").fill("Ruang Persandian lantai 2")
    form.locator("input[name=combination1]").fill(COMBINATION)
    form.locator("input[name=combination2]").fill(COMBINATION)
    w.submit(page, form)
    assert page.locator("main h2", has_text="Brankas-1").count() == 1
    move_disk(w, page, "checkin", safe="Brankas-1", reason="Kembali ke brankas")

    # A backup to the disk while it is in the safe: refused (what the page offers is checked
    # by check_refused_backup_offers_the_check_out).
    w.goto(page, "/backup/")
    form = page.locator("form#start")
    form.locator("input[name=dest]").fill(str(w.data["disk"]))
    w.submit(page, form, ok=False)
    if page.locator(".alert-success, .alert-error").count() == 0 and "/jobs/" in page.url:
        w.wait_job(page)
    assert page.locator(".alert-success").count() == 0, "a backup to a disk in its safe ran"
    w.data["refused_backup"] = page.locator("main").inner_html()
    move_disk(w, page, "checkout", reason="Pemeriksaan disk")
    custody = w.download(page, f"/backup/media/{w.data['medium']}/custody.pdf")
    w.data["custody_pdf"] = w.paper(custody, "custody record")

    kabid = w.as_("kabid")
    w.goto(kabid, "/safes/")
    form = w.form(kabid, "/combination")
    form.locator("input[type=password]").fill(KEY_PP["kabid"])
    w.submit(kabid, form)
    assert kabid.locator(".combination code.secret").first.inner_text() == COMBINATION
    w.goto(kabid, "/safes/")
    form = w.form(kabid, "/safes/print")
    form.locator("input[type=password]").fill(KEY_PP["kabid"])
    with kabid.expect_download() as info:
        form.locator("button[type=submit]").click()
    w.data["combination_pdf"] = w.paper(Path(info.value.path()).read_bytes(), "combination list")


def step_13_verify_disk(w: Walk) -> None:
    """The Sandiman verifies the disk (checked out of the safe) in full."""
    needs(w, "12_safe_and_custody")
    page = w.as_("sandiman")
    w.goto(page, "/backup/verify/")
    form = page.locator("form#verify")
    form.locator("input[name=dest]").fill(str(w.data["disk"]))
    form.locator("input[name=mode][value=full]").check()
    w.submit(page, form)
    w.wait_job(page)
    assert page.locator(".alert-success").count() == 1, w.look(page)


def step_14_restore(w: Walk) -> None:
    """The Sandiman restores the documents from the (checked-out) disk into a new folder; a
    folder on the disk itself is refused first; the admin may not restore (refused)."""
    needs(w, "13_verify_disk")
    refused(w, w.as_("admin"), "/backup/restore/")
    page = w.as_("sandiman")
    w.goto(page, "/backup/")
    w.click(page, page.locator("main a[href='/backup/restore/']"))
    target = w.tmp / "pemulihan"
    w.typed.append(str(target))
    form = w.form_with(page, "input[name=to]")
    form.locator("input[name=dest]").fill(str(w.data["disk"]))
    form.locator("input[name=to]").fill(str(w.data["disk"] / "pemulihan"))
    w.submit(page, form, ok=False)
    assert page.locator(".has-error, .alert-error").count() >= 1, "a folder on the disk taken"
    form = w.form_with(page, "input[name=to]")
    form.locator("input[name=dest]").fill(str(w.data["disk"]))
    form.locator("input[name=to]").fill(str(target))
    w.submit(page, form)
    w.wait_job(page)
    assert page.locator(".alert-success").count() == 1, w.look(page)
    restored = {p.name for p in target.rglob("*") if p.is_file()}
    assert sum(n.endswith(".pdf") for n in restored) >= 3, sorted(restored)
    assert sum(n.endswith(".pdf.age") for n in restored) >= 2, sorted(restored)


def step_15_drill(w: Walk) -> None:
    """The Sandiman runs the restore drill on the disk (a folder that does not exist refused
    first)."""
    needs(w, "13_verify_disk")
    page = w.as_("sandiman")
    w.goto(page, "/backup/")
    w.click(page, page.locator("main a[href='/backup/drill/']"))
    form = w.form_with(page, "input[name=dest]")
    form.locator("input[name=dest]").fill(str(w.tmp / "usb" / "tidak-ada"))
    w.submit(page, form, ok=False)
    assert page.locator(".has-error, .alert-error").count() >= 1, "a missing folder was taken"
    form = w.form_with(page, "input[name=dest]")
    form.locator("input[name=dest]").fill(str(w.data["disk"]))
    w.submit(page, form)
    w.wait_job(page)
    assert page.locator(".alert-success").count() == 1, w.look(page)


def step_16_disk_back_to_the_safe(w: Walk) -> None:
    needs(w, "12_safe_and_custody")
    page = w.as_("sandiman")
    move_disk(w, page, "checkin", safe="Brankas-1", reason="Kembali ke brankas")
    w.goto(page, f"/backup/media/{w.data['medium']}/")


def sign(w: Walk, role: str, number: str, step_name: str, *, passphrase: str = "",
         ok: bool = True) -> Any:
    page = w.as_(role)
    w.goto(page, f"/reports/{number}/")
    button = page.locator(f"button[formaction$='/reports/{number}/{step_name}']")
    assert button.count() == 1, f"no {step_name} for {role}: {w.look(page)[:1500]}"
    form = page.locator("form", has=button)
    form.locator("input[name$=passphrase]").fill(passphrase or SIGN_PP[role])
    w.click(page, button, ok=ok)
    return page


def step_17_reports(w: Walk) -> None:
    """Both reports through the chain: the Sandiman drafts (a future period is refused first)
    and submits; the Kasi returns it with a note; the Sandiman submits again; the Kasi forwards
    it with the executive summary; the Kabid approves it (a wrong signing passphrase refused
    first, on the second); the Kadis acknowledges it. The approved PDF checks out on the verify
    page."""
    needs(w, "11_backup")
    w.typed.extend(["Lampiran kurang lengkap", "Back up bulan ini lengkap dan terverifikasi"])
    page = w.as_("sandiman")
    w.goto(page, "/reports/")
    form = w.form(page, "/reports/")
    form.locator("select[name=kind]").select_option("backup")
    form.locator("input[name=period]").fill(f"{TODAY.year + 1}-01")
    w.submit(page, form, ok=False)
    w.data["future_period_refused"] = page.url.endswith("/reports/") and (
        page.locator(".alert-error, .has-error").count() > 0)
    numbers = []
    for kind in ("backup", "messages"):
        w.goto(page, "/reports/")
        form = w.form(page, "/reports/")
        form.locator("select[name=kind]").select_option(kind)
        form.locator("input[name=period]").fill(PERIOD)
        if kind == "backup":
            form.locator("input[name=runs]").fill(w.data["run"])
        w.submit(page, form)
        match = re.fullmatch(re.escape(w.url) + r"/reports/(\d+)/", page.url)
        assert match, f"{page.url}: {w.look(page)}"
        numbers.append(match.group(1))
    w.data["reports"] = numbers
    # Each view of a report page renders its PDF again in the preview frame (about 20 views
    # per report in this step, a third of the walk's time). Only the Kadis's frames load:
    # enough for the audit to show whether a preview is recorded as an export (the Kadis's
    # 4 report page views against 4 downloads: check_report_preview_is_not_an_export). The
    # papers themselves are downloaded and read (``w.download`` is not the page's frame).
    for role, page in w.pages.items():
        if role != "kadis":
            page.context.route("**/reports/*/report.pdf", lambda route: route.abort())
    downloads = 0
    for i, number in enumerate(numbers):
        sign(w, "sandiman", number, "submit")
        kasi = w.as_("kasi")
        w.goto(kasi, f"/reports/{number}/")
        form = w.form(kasi, f"/reports/{number}/return")
        form.locator("textarea[name$=note]").fill("Lampiran kurang lengkap")
        w.submit(kasi, form)
        page = w.as_("sandiman")
        w.goto(page, f"/reports/{number}/")
        w.data.setdefault("returned_report_textareas", []).append(
            page.locator("main textarea").count())
        sign(w, "sandiman", number, "submit")
        kasi = w.as_("kasi")
        w.goto(kasi, f"/reports/{number}/")
        form = w.form(kasi, f"/reports/{number}/forward")
        form.locator("textarea[name$=summary]").fill("Back up bulan ini lengkap dan terverifikasi")
        form.locator("input[name$=passphrase]").fill(SIGN_PP["kasi"])
        w.submit(kasi, form)
        if i == 1:  # the Kabid's signing key exists from the first report: a wrong passphrase
            kabid = sign(w, "kabid", number, "approve", passphrase="bukan frasa sandi ini",
                         ok=False)
            assert kabid.locator(".alert-error, .has-error").count() >= 1
        sign(w, "kabid", number, "approve")
        kadis = sign(w, "kadis", number, "acknowledge")
        assert kadis.locator(".alert-error, .has-error").count() == 0, w.look(kadis)
        w.data[f"report_page_{i}"] = kadis.locator("main").inner_text()
        pdf = w.download(kadis, f"/reports/{number}/report.pdf")
        w.data[f"report_pdf_{i}"] = pdf
        (w.tmp / f"report-{number}.pdf").write_bytes(pdf)
        w.data[f"report_text_{i}"] = w.paper(pdf, f"report {number}")
        w.download(kadis, f"/reports/{number}/report.xlsx")
        downloads += 2
    w.data["report_downloads"] = downloads
    # The approved PDF on the verify page.
    kadis = w.as_("kadis")
    w.goto(kadis, "/reports/verify")
    approved = w.tmp / "approved.pdf"
    approved.write_bytes(w.data["report_pdf_0"])
    form = w.form_with(kadis, "input[type=file]")
    form.locator("input[type=file]").set_input_files(str(approved))
    w.submit(kadis, form)
    assert kadis.locator(".alert-error").count() == 0, w.look(kadis)


def step_18_audit(w: Walk) -> None:
    """The admin reads the audit log and checks the chain from the page."""
    needs(w, "17_reports")
    page = w.as_("admin")
    w.goto(page, "/audit/")
    w.data["audit_html"] = page.locator("main").inner_html()
    w.click(page, page.locator("main a[href='/audit/verify/'], "
                               "main form[action='/audit/verify/'] button").first)
    assert page.url.startswith(w.url + "/audit/verify/")
    assert page.locator(".alert-warning, .alert-error").count() == 0, w.look(page)
    # What the log shows, read in the admin's language and in the other one.
    for shown in (page, w.other(page)):
        lang = w.lang_of(shown)
        w.data.setdefault("audit_rows", {})[lang] = audit_rows(w, shown)
        w.goto(shown, "/audit/")
        w.data.setdefault("audit_time_lines", {})[lang] = shown.evaluate("""() =>
            [...document.querySelectorAll('main table tbody tr')].map(tr => tr.cells[1])
            .map(td => {
              const r = document.createRange(); r.selectNodeContents(td);
              return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; })""")
        w.data.setdefault("audit_overflow", {})[lang] = shown.evaluate("""() =>
            [...document.querySelectorAll('main .table-wrap, main')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.className || e.tagName)""")
        w.data.setdefault("audit_outcome_choices", {})[lang] = {
            t.strip() for t in shown.locator("select[name=outcome] option").all_inner_texts()}


# Each row of an audit page as shown: its cells' text and its number of "ok" badges in the
# outcome column, read in one call to the page (two calls a row, a few hundred rows in each
# language, cost more CPU than the pages' loads: Playwright, Chromium and this process).
AUDIT_ROWS = """() => [...document.querySelectorAll('main table tbody tr')].map(tr => [
    [...tr.querySelectorAll(':scope td')].map(td => td.innerText),
    tr.querySelectorAll(':scope td:nth-child(6) .badge-ok').length])"""


def audit_rows(w: Walk, page: Any) -> list[dict[str, str]]:
    """Every entry of the audit log, from every page of it (as the page shows them)."""
    rows: list[dict[str, str]] = []
    path = "/audit/"
    while True:
        w.goto(page, path)
        for cells, badges in page.evaluate(AUDIT_ROWS):
            ok = badges == 1
            rows.append({"seq": cells[0], "time": cells[1], "user": cells[2],
                         "action": cells[3].strip(), "target": cells[4],
                         "outcome": cells[5].strip(), "ok": "yes" if ok else "no",
                         "detail": cells[6]})
        following = page.locator("nav.pagination a[rel=next]")
        if following.count() == 0:
            return rows
        path = following.get_attribute("href") or ""
        if path.startswith("?"):
            path = "/audit/" + path


def step_19_audit_verify_against_the_disk(w: Walk) -> None:
    """The admin checks the audit log against the backup disk and the approved report's PDF
    (a job, its progress on its page); the Sandiman may not (refused)."""
    needs(w, "18_audit")
    refused(w, w.as_("sandiman"), "/audit/verify/")
    page = w.as_("admin")
    w.goto(page, "/audit/verify/")
    form = page.locator("form#against")
    form.locator("textarea[name=disks]").fill(str(w.data["disk"]))
    form.locator("input[name=pdfs]").set_input_files(str(w.tmp / "approved.pdf"))
    w.submit(page, form)
    w.wait_job(page, result="main .alert")
    assert page.locator("main .alert-warning, main .alert-error").count() == 0, w.look(page)
    assert page.locator("main .alert-info").count() == 1, w.look(page)
    given = page.locator("main table tbody tr").all_inner_texts()
    assert len(given) >= 3, given  # two reports' heads, the PDF's and the disk's


def step_20_recover_at_first_run(w: Walk) -> None:
    """On a fresh computer, the first-run page offers to recover the office from the backup
    disk: a wrong recovery key is refused first; with the office recovery key the office is
    rebuilt, and the Sandiman signs in with the same password."""
    needs(w, "16_disk_back_to_the_safe")
    fresh_start = w.data["fresh"]  # started a few steps before (test_sop_walk, FRESH_FROM)
    server = fresh_start.ready()
    base = fresh_start.base
    fresh = Walk(server=server, browser=w.browser, lang=w.lang, tmp=base,
                 findings=w.findings, snapshots=w.snapshots, typed=w.typed)
    fresh.step = w.step
    page = w.browser.new_page(locale="id-ID")
    fresh.watch(page)
    try:
        fresh.goto(page, "/", look=False)
        assert page.url == fresh.url + "/setup/"
        fresh.switch_language(page)
        fresh.click(page, page.locator("main a[href='/setup/recover/']"))
        # The refusal is the rebuild's own words, in the language the recover was asked in
        # (its process's): a wrong key tried in each language rather than looked at in the
        # other one.
        fresh.twin_off = True
        for lang in (fresh.lang, OTHER[fresh.lang]):
            page.context.add_cookies([{"name": "django_language", "value": lang,
                                       "url": fresh.url}])
            fresh.langs[id(page)] = lang
            fresh.goto(page, "/setup/recover/")
            form = page.locator("main form")
            form.locator("input[name=dest]").fill(str(w.data["disk"]))
            form.locator("input[name=unlock][value=identity]").check()
            form.locator("textarea[name=identity]").fill(
                "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ")
            fresh.submit(page, form, ok=False)
            if "/setup/recover/" in page.url and page.url != fresh.url + "/setup/recover/":
                fresh.wait_job(page)
            assert page.locator(".has-error, .alert-error").count() >= 1, "a wrong key taken"
        fresh.twin_off = False
        page.context.add_cookies([{"name": "django_language", "value": fresh.lang,
                                   "url": fresh.url}])
        fresh.langs[id(page)] = fresh.lang
        fresh.goto(page, "/setup/recover/")
        form = page.locator("main form")
        form.locator("input[name=dest]").fill(str(w.data["disk"]))
        form.locator("input[name=unlock][value=identity]").check()
        form.locator("textarea[name=identity]").fill(w.data["recovery_identity"])
        fresh.submit(page, form)
        fresh.wait_job(page)
        assert page.locator(".alert-success").count() == 1, fresh.look(page)
        fresh.passwords = w.passwords
        fresh.sign_in_fresh("sandiman").context.close()
    finally:
        w.not_twinned += fresh.not_twinned
        page.close()
        for other in [*fresh.pages.values(), *fresh.twins.values()]:
            other.context.close()


# The step before which the fresh computer's server (step_20_recover_at_first_run) starts:
# a few steps ahead, seconds of walking.
FRESH_FROM = "17_reports"

# The walk, in order.
STEPS: list[tuple[str, Callable[[Walk], None]]] = [
    ("01_setup", step_01_setup),
    ("02_users", step_02_users),
    ("03_office_profile", step_03_office_profile),
    ("04_qualification", step_04_qualification),
    ("05_own_password", step_05_own_password),
    ("06_keys", step_06_keys),
    ("07_lockout", step_07_lockout),
    ("08_registration", step_08_registration),
    ("09_import", step_09_import),
    ("10_request_chain", step_10_request_chain),
    ("11_backup", step_11_backup),
    ("12_safe_and_custody", step_12_safe_and_custody),
    ("13_verify_disk", step_13_verify_disk),
    ("14_restore", step_14_restore),
    ("15_drill", step_15_drill),
    ("16_disk_back_to_the_safe", step_16_disk_back_to_the_safe),
    ("17_reports", step_17_reports),
    ("18_audit", step_18_audit),
    ("19_audit_verify_against_the_disk", step_19_audit_verify_against_the_disk),
    ("20_recover_at_first_run", step_20_recover_at_first_run),
]


def problem(exc: BaseException) -> str:
    """An exception as one entry of the failure list: its message, and the line of the walk
    that raised it."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.endswith(("test_sop_walk.py", "sop.py"))]
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    text = str(exc).strip() or type(exc).__name__
    if len(text) > 1500:
        text = text[:1500] + " …"
    return f"{type(exc).__name__}{where}: {text}"


def test_sop_walk(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every step, then every check; what failed, listed (step, language, page, problem)."""
    base = tmp_path_factory.mktemp("sop")
    failures: list[str] = []
    timings: list[str] = []
    with serve(base, quick_keys=True) as server, contextlib.ExitStack() as later:
        w = Walk(server=server, browser=browser, lang=LANG, tmp=base)
        (base / "fresh").mkdir()
        try:
            for name, function in STEPS:
                if name == FRESH_FROM:
                    # The fresh computer's server of the last step, started now: its start
                    # (an interpreter, Django, a new database) goes on while the steps
                    # before it run, and it does not sit idle through the whole walk (its
                    # jobs' worker polls: about a CPU-s a minute).
                    w.data["fresh"] = later.enter_context(
                        starting(base / "fresh", quick_keys=True))
                w.step, w.where = name, ""
                started = time.monotonic()
                try:
                    function(w)
                except NotWalked as exc:
                    failures.append(f"{name}: not walked: {exc}")
                except Exception as exc:  # noqa: BLE001 - listed, and the walk goes on
                    failures.append(f"{name}: page {w.where or '-'}: {problem(exc)}")
                else:
                    w.done.add(name)
                finally:
                    timings.append(f"{time.monotonic() - started:6.1f} s  {name}")
            w.step = "checks"
            for check in CHECKS:
                try:
                    check(w)
                except NotWalked as exc:
                    failures.append(f"{check.__name__}: not run: {exc}")
                except Exception as exc:  # noqa: BLE001 - listed
                    failures.append(f"{check.__name__}: {problem(exc)}")
            for kind, found in w.findings.items():
                failures.extend(f"{entry} ({kind})" for entry in found)
        finally:
            # What the walk saw, to read when a check fails (under pytest's --basetemp).
            (base / "timings.txt").write_text("\n".join(timings) + "\n", encoding="utf-8")
            (base / "pages.txt").write_text("".join(
                f"==== {where}\n{text}\n" for where, text in w.snapshots.items()),
                encoding="utf-8")
            for page in [*w.pages.values(), *w.twins.values()]:
                page.context.close()
    assert not failures, f"{len(failures)} failed (pages seen: {base / 'pages.txt'}):\n" + (
        "\n".join(failures))


# ====================================================================== what the walk kept
# Each check raises AssertionError with what is wrong; the findings of ``Walk.look`` (a server
# error, a word of the other language, a command to type, a raw timestamp, a duplicate id,
# a job page that did not show its result, the papers' layout) are listed with them.


def check_backup_result_offers_a_safe_when_there_is_none(w: Walk) -> None:
    """After the first backup, with no safe yet: no check-in form with an empty choice of
    safes, but a way to add a safe."""
    needs(w, "11_backup")
    html = w.data["backup_result"]
    safes = [s for s in w.data["backup_result_safe_choices"] if s.strip("— ")]
    assert 'name="move" value="checkin"' not in html or safes, "check-in offered, no safe"
    assert "/safes/" in html


def check_refused_backup_offers_the_check_out(w: Walk) -> None:
    needs(w, "12_safe_and_custody")
    html = w.data["refused_backup"]
    assert re.search(r'value="checkout"', html), "no check-out form on the refusal"


def check_report_period_not_in_the_future(w: Walk) -> None:
    needs(w, "17_reports")
    assert w.data["future_period_refused"]


def check_returned_report_takes_a_reply_note(w: Walk) -> None:
    needs(w, "17_reports")
    assert all(n >= 1 for n in w.data["returned_report_textareas"])


def check_request_list_shows_its_filter_state(w: Walk) -> None:
    """The default list hides the finished request: its count line must say more than
    "0 permintaan" (what is hidden, how to see it)."""
    needs(w, "10_request_chain")
    for status in w.data["requests_status"]:  # in each language
        assert not re.fullmatch(r"\d+ \w+", status), status


def check_audit_details_are_readable(w: Walk) -> None:
    needs(w, "18_audit")
    for lang, rows in w.data["audit_rows"].items():
        python_like = [r for r in rows if re.search(r"[{}]|'\w+':|\bNone\b", r["detail"])]
        assert python_like == [], (lang, [r["detail"] for r in python_like[:5]])


def check_audit_times_on_one_line(w: Walk) -> None:
    needs(w, "18_audit")
    for lang, lines in w.data["audit_time_lines"].items():
        assert lines and max(lines) == 1, f"[{lang}] lines per time cell: {lines}"


def check_audit_table_fits_the_page(w: Walk) -> None:
    needs(w, "18_audit")
    for lang, overflow in w.data["audit_overflow"].items():
        assert overflow == [], f"[{lang}] wider than the page at 1280 px"


def check_audit_outcomes_are_one_filterable_vocabulary(w: Walk) -> None:
    needs(w, "18_audit")
    assert len(w.data["audit_rows"]) == 2, "the audit log was not read in both languages"
    for lang, rows in w.data["audit_rows"].items():
        shown, choices = {r["outcome"] for r in rows}, w.data["audit_outcome_choices"][lang]
        assert shown <= choices, (lang, shown - choices)


def check_wrong_signing_passphrase_is_audited(w: Walk) -> None:
    needs(w, "18_audit")
    number = w.data["reports"][1]
    refused = [r for r in w.data["audit_rows"][w.lang_of(w.pages["admin"])]
               if "report" in r["action"]
               and number in r["target"] and PEOPLE["kabid"][0] in r["user"]
               and r["ok"] == "no"]
    assert refused, "no audit entry for the Kabid's wrong signing passphrase"


def check_report_preview_is_not_an_export(w: Walk) -> None:
    """Each report page view shows the PDF in a frame: that is not an export (download)."""
    needs(w, "18_audit")
    exports = [r for r in w.data["audit_rows"][w.lang_of(w.pages["admin"])]
               if r["action"] == "report.export"]
    assert len(exports) <= w.data["report_downloads"], len(exports)


def check_approved_report_paper(w: Walk) -> None:
    """The acknowledged report: the Kadis's "Mengetahui, Kepala Dinas …" block and "Halaman
    x dari y" (every page numbered: the paper_page_numbers finding).

    Not the Kadis's name: the approved PDF is frozen at the Kabid's approval, which comes
    before the Kadis's acknowledgement, so its block is left to be signed by hand
    (dots for the name and NIP; reports/services.py ``_meta``), as B built it."""
    needs(w, "17_reports")
    for i in range(2):
        text = re.sub(r"\s+", " ", w.data[f"report_text_{i}"])
        assert f"Mengetahui, Kepala {OFFICE['department']}" in text, f"report {i}"


def check_same_numbers_on_pages_and_papers(w: Walk) -> None:
    """A report's and a request's number on their pages as on the papers."""
    needs(w, "17_reports")
    for i in range(2):
        paper_number = re.search(r"Nomor: (\S+)", w.data[f"report_text_{i}"])
        assert paper_number, f"report {i}: no number on the paper"
        assert paper_number.group(1) in w.data[f"report_page_{i}"], paper_number.group(1)
    request_number = re.search(r"\bP-\d+\b", w.data["report_text_1"])
    assert request_number, "no request number on the messages report"
    assert request_number.group(0) in w.data["request_page"], request_number.group(0)


def check_report_verification_names_the_verify_page(w: Walk) -> None:
    """The verification block points to the page that checks a report PDF, as well as to
    the command."""
    needs(w, "17_reports")
    for i in range(2):
        text = re.sub(r"\s+", " ", w.data[f"report_text_{i}"])
        assert re.search(r"reports/verify|Periksa keaslian PDF laporan", text, re.IGNORECASE), (
            f"report {i}")


def check_custody_papers_name_people_with_nip(w: Walk) -> None:
    needs(w, "12_safe_and_custody")
    for name, role in (("custody_pdf", "sandiman"), ("combination_pdf", "kabid")):
        _, full_name, nip, _ = PEOPLE[role]
        text = w.data[name]
        assert full_name in text and nip in text, name


def check_papers_were_read(w: Walk) -> None:
    """The papers' checks (language, words split, dates, page numbers) had papers to read."""
    needs(w, "12_safe_and_custody", "17_reports")


def check_papers_show_the_edited_office_profile(w: Walk) -> None:
    """A paper printed after the admin edited the office profile shows it: the place above
    the signatures and the SOP's number."""
    needs(w, "03_office_profile", "17_reports")
    for i in range(2):
        text = re.sub(r"\s+", " ", w.data[f"report_text_{i}"])
        assert PLACE in text, f"report {i}: not signed at {PLACE}"
        assert SOP_NUMBER in text, f"report {i}: the SOP's number is not cited"


def check_every_page_was_seen_in_both_languages(w: Walk) -> None:
    """Every page looked at was looked at in the other language too (``Walk.twin_look``),
    and there were pages to look at: the check of the other language cannot be skipped
    silently."""
    assert w.not_twinned == [], w.not_twinned
    assert len(w.twinned) >= 60, f"only {len(w.twinned)} pages seen in the other language"
    assert sum(method != "GET" for method, _, _ in w.twinned) >= 8, "few refusals sent again"


CHECKS: list[Callable[[Walk], None]] = [
    check_every_page_was_seen_in_both_languages,
    check_backup_result_offers_a_safe_when_there_is_none,
    check_refused_backup_offers_the_check_out,
    check_report_period_not_in_the_future,
    check_returned_report_takes_a_reply_note,
    check_request_list_shows_its_filter_state,
    check_audit_details_are_readable,
    check_audit_times_on_one_line,
    check_audit_table_fits_the_page,
    check_audit_outcomes_are_one_filterable_vocabulary,
    check_wrong_signing_passphrase_is_audited,
    check_report_preview_is_not_an_export,
    check_approved_report_paper,
    check_same_numbers_on_pages_and_papers,
    check_report_verification_names_the_verify_page,
    check_custody_papers_name_people_with_nip,
    check_papers_were_read,
    check_papers_show_the_edited_office_profile,
]
