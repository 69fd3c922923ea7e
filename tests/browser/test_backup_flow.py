"""A backup from the web page in a real browser against the real server: the page's script
polls the progress and shows the result when the run ends."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.browser.pages import sign_in
from tests.conftest import make_pdf

pytestmark = pytest.mark.browser

ADMIN_PW = "Admin-Pass-2026!"
OPERATOR_PW = "Sandiman-Pass-2026!"


def test_a_backup_from_the_page_shows_its_progress_then_its_result(server, browser, shoot,
                                                                   tmp_path: Path):
    from playwright.sync_api import expect

    r = server.cli("init", "--office", "Dinas Uji", "--admin", "admin", "--json",
                   env={"BRANKAS_PASSWORD": ADMIN_PW})
    assert r.returncode == 0, r.stderr
    r = server.cli("user", "add", "operator", "--role", "sandiman",
                   env={"BRANKAS_USER": "admin", "BRANKAS_PASSWORD": ADMIN_PW,
                        "BRANKAS_NEW_PASSWORD": OPERATOR_PW})
    assert r.returncode == 0, r.stderr
    scan = tmp_path / "surat.pdf"
    make_pdf(scan, text="Undangan")
    r = server.cli("register", str(scan), "--direction", "penerimaan", "--classification",
                   "biasa", "--number", "005/1/2026", "--date", dt.date.today().isoformat(),
                   "--subject", "Undangan rapat", "--correspondent", "Bupati", "--json",
                   env={"BRANKAS_USER": "operator", "BRANKAS_PASSWORD": OPERATOR_PW})
    assert r.returncode == 0, r.stderr
    agenda = json.loads(r.stdout)["agenda"]

    page = browser.new_page()
    sign_in(page, server.url, "operator", OPERATOR_PW)
    expect(page.get_by_text("1 dokumen belum ada di disk back up mana pun.")).to_be_visible()
    page.get_by_role("link", name="Back up", exact=True).first.click()
    disk = tmp_path / "usb" / "brankas"
    disk.parent.mkdir()
    # The backup form's field: the verify form below has one with the same label (both
    # labels pointed at this one field while the two had one id).
    start = page.locator("form#start")
    start.get_by_label("Folder di disk back up").fill(str(disk))
    start.get_by_label("Label untuk disk baru (opsional)").fill("DISK-B")
    shoot(page, "backup-page")
    page.get_by_role("button", name="Mulai", exact=True).click()
    # The job page polls its status and reloads itself when the run has ended.
    expect(page.get_by_text("Back up 1 ke disk DISK-B selesai.")).to_be_visible(timeout=60000)
    shoot(page, "backup-result")
    assert (disk / "bagit.txt").is_file()

    page.get_by_role("link", name="Daftar kontrol", exact=True).click()
    expect(page.get_by_role("link", name=agenda)).to_be_visible()
    shoot(page, "backup-control-list")
    page.goto(server.url + "/backup/media/")
    expect(page.get_by_role("heading", name="DISK-B")).to_be_visible()
    shoot(page, "backup-media")
    page.goto(server.url + "/")
    expect(page.get_by_text("belum ada di disk back up mana pun")).to_have_count(0)
    expect(page.get_by_text("hanya ada di satu disk back up")).to_be_visible()
