"""The operator's daily path in a real browser against the real server: first-run setup,
users, a key, registering a Biasa and a Rahasia scan, finding them, opening the secret one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import make_pdf

pytestmark = pytest.mark.browser

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


def test_first_run_to_opening_an_exempted_document(server, browser, shoot, tmp_path):
    from playwright.sync_api import expect

    context = browser.new_context(locale="id-ID", accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    url = server.url
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    # First run: the setup page, then the recovery identity, once.
    page.goto(url + "/")
    expect(page).to_have_url(url + "/setup/")
    # The stylesheet shipped in the package is served and applied.
    background = page.evaluate("getComputedStyle(document.querySelector('.topbar'))"
                               ".backgroundColor")
    assert background == "rgb(23, 65, 94)"
    page.get_by_label("Nama kantor").fill("Dinas Komunikasi dan Informatika")
    page.get_by_label("Pemerintah").fill("Pemerintah Kabupaten Bolaang Mongondow")
    page.get_by_label("Bidang").fill("Bidang Persandian dan Statistik")
    page.get_by_label("Kota/kabupaten").fill("Lolak")
    page.get_by_label("Nama pengguna").fill("admin")
    page.get_by_label("Nama lengkap").fill("Admin Kantor")
    page.locator("#id_password1").fill(ADMIN_PW)
    page.locator("#id_password2").fill(ADMIN_PW)
    shoot(page, "01-setup")
    page.get_by_role("button", name="Siapkan kantor").click()
    secret = page.locator("#recovery-identity")
    expect(secret).to_contain_text("AGE-SECRET-KEY-1")
    identity = secret.inner_text().strip()
    shoot(page, "02-recovery")
    page.get_by_role("link", name="Sudah saya catat").click()
    expect(page).to_have_url(url + "/login/")
    page.goto(url + "/setup/")  # never shown again
    expect(page).to_have_url(url + "/login/")
    assert identity not in page.content()

    # The admin adds a Sandiman and a Kabid.
    sign_in(page, url, "admin", ADMIN_PW)
    expect(page.get_by_text("Belum ada pemegang kunci")).to_be_visible()
    shoot(page, "03-dashboard-admin")
    menu(page, "Pengguna").click()
    add_user(page, "operator", "sandiman", "Siti Sandiman", OPERATOR_PW)
    add_user(page, "kabid", "kabid", "Budi Kabid", KABID_PW)
    shoot(page, "04-users")
    sign_out(page)

    # The Kabid creates a key.
    sign_in(page, url, "kabid", KABID_PW)
    menu(page, "Kunci").click()
    page.locator("#id_own-passphrase1").fill(KABID_PP)
    page.locator("#id_own-passphrase2").fill(KABID_PP)
    page.get_by_role("button", name="Buat kunci").click()
    expect(page.locator(".alert-success")).to_contain_text("Kunci baru dibuat untuk Budi Kabid")
    shoot(page, "05-keys")
    sign_out(page)

    # The Sandiman registers a Biasa and a Rahasia scan.
    sign_in(page, url, "operator", OPERATOR_PW)
    biasa_pdf, rahasia_pdf = tmp_path / "undangan.pdf", tmp_path / "sandi.pdf"
    make_pdf(biasa_pdf, text="Undangan upacara")
    secret_bytes = make_pdf(rahasia_pdf, text="Daftar sandi baru", pages=2)
    biasa = register(page, url, pdf=biasa_pdf, direction="Penerimaan", classification="Biasa",
                     subject="Undangan upacara hari jadi", correspondent="Bupati",
                     expected_label="Pengirim")
    expect(page.locator("iframe.pdf-frame")).to_be_visible()
    shoot(page, "06-document-biasa")
    page.goto(url + "/documents/new/")
    shoot(page, "07-register-form")
    rahasia = register(page, url, pdf=rahasia_pdf, direction="Pengiriman",
                       classification="Rahasia", subject="Daftar sandi baru",
                       correspondent="Gubernur Sulawesi Utara", expected_label="Tujuan")
    expect(page.get_by_text("hanya pemegang kunci yang boleh membukanya")).to_be_visible()
    assert (server.home / "arsip" / "dikecualikan" / "pengiriman").rglob("*.pdf.age")

    # Both are in the register; the filters and the search find each.
    menu(page, "Daftar agenda").click()
    table = page.locator("table.table tbody")
    expect(table).to_contain_text(biasa)
    expect(table).to_contain_text(rahasia)
    shoot(page, "08-register-list")
    page.get_by_label("Klasifikasi").select_option("rahasia")
    page.get_by_role("button", name="Cari").click()
    expect(table).to_contain_text(rahasia)
    expect(table).not_to_contain_text(biasa)
    page.get_by_role("link", name="Hapus filter").click()
    page.get_by_role("searchbox").fill("upacara")
    page.get_by_role("button", name="Cari").click()
    expect(table).to_contain_text(biasa)
    expect(table).not_to_contain_text(rahasia)
    sign_out(page)

    # The Kabid opens the Rahasia one with the passphrase and gets the exact bytes.
    sign_in(page, url, "kabid", KABID_PW)
    page.goto(url + f"/documents/{rahasia}/")
    page.get_by_label("Frasa sandi kunci Anda").fill("bukan frasa sandinya sama sekali")
    page.get_by_role("button", name="Dekripsi dan unduh").click()
    expect(page.get_by_text("frasa sandi salah untuk kunci kabid")).to_be_visible()
    page.get_by_label("Frasa sandi kunci Anda").fill(KABID_PP)
    shoot(page, "09-document-rahasia")
    with page.expect_download() as info:
        page.get_by_role("button", name="Dekripsi dan unduh").click()
    download = info.value
    assert download.suggested_filename == f"{rahasia}.pdf"
    assert Path(download.path()).read_bytes() == secret_bytes

    # English on request.
    page.get_by_role("button", name="EN").click()
    expect(page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Register", exact=True)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    shoot(page, "10-english")
    context.close()
    # Everything came from the office's own server: no CDN, no web font, no remote URL
    # (the browser's own PDF viewer loads chrome: and chrome-extension: pages, all local).
    network = [u for u in requested if u.split(":", 1)[0] in {"http", "https", "ws", "wss"}]
    remote = {u for u in network if not u.startswith(url + "/")}
    assert requested and remote == set()
