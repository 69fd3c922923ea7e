"""Page helpers for the browser tests written against the Indonesian interface (signing in
and out, the main menu, adding a user, registering a scan).

Until session 20 this module also held the operator's daily path (first-run setup, users, a
key, registering a Biasa and a Rahasia scan, finding them, opening the secret one). All of
it is in the SOP walk (tests/browser/test_sop_walk.py, steps 01, 02, 06 and 08, which now
also check what only that test checked: the stylesheet applied, the direction's label set
by the page's script, the register's filter and search box, a wrong passphrase refused, the
download's name, nothing asked of another server); its own server and office cost about
8 CPU-s for no check of their own."""

from __future__ import annotations

import re
from pathlib import Path

ADMIN_PW = "Admin-Pass-2026!"
OPERATOR_PW = "Sandiman-Pass-2026!"
KABID_PW = "Kabid-Pass-2026!"
KABID_PP = "kuda merah berlari di sawah hijau"


def sign_in(page, url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.goto(url + "/login/")
    page.get_by_label("Nama pengguna").fill(username)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Beranda", exact=True)).to_be_visible()


def menu(page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("navigation", name="Menu utama").get_by_role("link", name=name,
                                                                       exact=True)


def sign_out(page) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_text("Anda sudah keluar.")).to_be_visible()


def add_user(page, username: str, role: str, full_name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_role("combobox", name="Peran").select_option(role)
    page.get_by_label("Nama lengkap").fill(full_name)
    page.locator("#id_password1").fill(password)
    page.locator("#id_password2").fill(password)
    page.get_by_role("button", name="Tambahkan pengguna").click()
    expect(page.get_by_text(f"Pengguna {username} ditambahkan")).to_be_visible()


def register(page, url: str, *, pdf: Path, direction: str, classification: str,  # type: ignore[no-untyped-def]
             subject: str, correspondent: str, expected_label: str) -> str:
    from playwright.sync_api import expect

    page.goto(url + "/documents/new/")
    page.get_by_role("radio", name=re.compile(f"^{direction} ")).check()
    # The progressive-enhancement script names the other side after the direction.
    expect(page.locator("label[for=id_correspondent]")).to_contain_text(expected_label)
    page.get_by_role("radio", name=re.compile(f"^{classification} ")).check()
    page.get_by_label("Nomor surat").fill("005/12/2026")
    page.get_by_label("Tanggal surat").fill("2026-01-05")
    page.get_by_label("Perihal").fill(subject)
    page.locator("#id_correspondent").fill(correspondent)
    page.get_by_label("Lampiran").fill("1 berkas")
    page.get_by_label("Dokumen hasil pindaian").set_input_files(str(pdf))
    page.get_by_role("button", name="Daftarkan dokumen").click()
    notice = page.locator(".alert-success")
    expect(notice).to_contain_text("Didaftarkan sebagai agenda")
    match = re.search(r"agenda (\S+) dan", notice.inner_text())
    assert match is not None
    return match.group(1)
