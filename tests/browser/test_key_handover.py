"""Keys over time in a real browser against the real server (issue 13).

The mutasi scenario through the pages: kabid1 holds the key; three Rahasia documents, a
request letter and a safe combination exist; kabid2 joins and makes a key; kabid1 hands
over access and watches the progress page; the admin revokes kabid1; kabid2 opens all of
them; the standard ``age -d`` opens a stored file with kabid2's identity; a document
registered afterwards is encrypted to kabid2 and the recovery key only.

And the office recovery key on paper: the admin prints the share sheets (the password
typed again), checks three shares' words (the fingerprint), and is refused two."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pyrage
import pytest

from brankas.core import crypto
from tests.browser.conftest import Server, serve
from tests.browser.pages import add_user, menu, register, sign_in, sign_out
from tests.conftest import make_pdf, quick_key_making

pytestmark = pytest.mark.browser

ADMIN_PW = "Admin-Pass-2026!"
OPERATOR_PW = "Sandiman-Pass-2026!"
KADIS_PW = "Kadis-Pass-2026!"
KABID1_PW = "Kabid-Satu-Pass-2026!"
KABID2_PW = "Kabid-Dua-Pass-2026!"
KABID1_PP = "kuda merah berlari di sawah hijau"
KABID2_PP = "elang putih terbang di atas danau toba"
COMBINATION = "12-34-56"


def as_user(name: str, password: str) -> dict[str, str]:
    return {"BRANKAS_USER": name, "BRANKAS_PASSWORD": password}


def check(result) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr


def init_office(server) -> str:  # type: ignore[no-untyped-def]
    """``brankas init`` for the served data folder; the recovery identity."""
    r = server.cli("init", "--office", "Dinas Kominfo Bolaang Mongondow", "--admin", "admin",
                   "--json", env={"BRANKAS_PASSWORD": ADMIN_PW})
    check(r)
    return str(r.json()["recovery_identity"])


def add_cli_user(server, name: str, role: str, password: str) -> None:  # type: ignore[no-untyped-def]
    check(server.cli("user", "add", name, "--role", role, "--full-name", name.title(),
                     env={**as_user("admin", ADMIN_PW), "BRANKAS_NEW_PASSWORD": password}))


def field_value(page, term: str):  # type: ignore[no-untyped-def]
    """The <dd> after the <dt> reading ``term`` in a result list."""
    return page.locator("dt", has_text=term).locator("xpath=following-sibling::dd[1]")


def open_identity(key_file: Path, passphrase: str, out: Path) -> str:
    """A holder's identity as ``age -d -i`` takes it: the key file opened with the
    passphrase (as age itself would ask for it), written to ``out``."""
    identity = pyrage.passphrase.decrypt(key_file.read_bytes(), passphrase)
    out.write_bytes(identity)
    return identity.decode("ascii").strip()


def age_decrypt(identity_file: Path, stored: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["age", "-d", "-i", str(identity_file), str(stored)],
                          capture_output=True, check=False)


def stored_file(server, agenda: str) -> tuple[Path, set[str]]:  # type: ignore[no-untyped-def]
    r = server.cli("show", agenda, "--json", env=as_user("kadis", KADIS_PW))
    check(r)
    shown = r.json()
    return server.home / shown["stored_path"], set(shown["recipients"])


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory,
           django_db_setup) -> Iterator[tuple[Server, str]]:  # type: ignore[no-untyped-def]
    """One served office for the module's two tests (a server's start and an office's
    setup: most of the cost of the shorter one), and its recovery identity. Neither test
    needs the other's records absent: the hand-over adds its own users, documents and keys;
    the share sheets are the admin's, of the office's recovery key."""
    with serve(tmp_path_factory.mktemp("handover"), quick_keys=True) as served:
        yield served, init_office(served)


def test_mutasi_hand_over_through_the_pages(office, browser, shoot, tmp_path: Path):
    from playwright.sync_api import expect

    # The starting state, through the command line against the served data folder:
    # kabid1 holds the key; three Rahasia documents, a request letter, a safe combination.
    server, recovery_identity = office
    add_cli_user(server, "operator", "sandiman", OPERATOR_PW)
    add_cli_user(server, "kadis", "kadis", KADIS_PW)
    add_cli_user(server, "kabid1", "kabid", KABID1_PW)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "kabid1.pp").write_text(KABID1_PP + "\n")
    with quick_key_making():
        r = server.cli("key", "new", "--holder", "kabid1", "--passphrase-file",
                       str(secrets / "kabid1.pp"), env=as_user("kabid1", KABID1_PW))
    check(r)
    kabid1_fp = crypto.recipient_fingerprint(r.stdout.strip())
    docs = []
    for i in range(3):
        pdf = tmp_path / f"operasi-{i}.pdf"
        plain = make_pdf(pdf, text=f"OPERASI SENYAP {i} MARKER")
        r = server.cli("register", str(pdf), "--direction", "penerimaan", "--classification",
                       "rahasia", "--subject", f"Operasi Senyap {i}", "--number", f"{i}/2026",
                       "--date", "2026-11-20", "--correspondent", "Sekda", "--json",
                       env=as_user("operator", OPERATOR_PW))
        check(r)
        docs.append((r.json()["agenda"], plain))
    letter = tmp_path / "surat.pdf"
    letter_plain = make_pdf(letter, text="SURAT RAHASIA MARKER")
    r = server.cli("request", "create", "--subject", "Berita rahasia", "--classification",
                   "rahasia", "--addressee", "Pangdam", "--attach", str(letter), "--json",
                   env=as_user("kadis", KADIS_PW))
    check(r)
    request_number = r.json()["request"]
    (secrets / "combination.txt").write_text(COMBINATION + "\n")
    check(server.cli("safe", "add", "Brankas-A", "--location", "Ruang Sandi",
                     "--combination-file", str(secrets / "combination.txt"),
                     env=as_user("operator", OPERATOR_PW)))

    context = browser.new_context(locale="id-ID", accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    url = server.url

    # kabid2 joins: the admin adds the account.
    sign_in(page, url, "admin", ADMIN_PW)
    menu(page, "Pengguna").click()
    add_user(page, "kabid2", "kabid", "Kabid Baru", KABID2_PW)
    sign_out(page)

    # kabid2 makes a key on the keys page; the archive is not encrypted to it yet.
    sign_in(page, url, "kabid2", KABID2_PW)
    menu(page, "Kunci").click()
    page.locator("#id_own-passphrase1").fill(KABID2_PP)
    page.locator("#id_own-passphrase2").fill(KABID2_PP)
    page.get_by_role("button", name="Buat kunci").click()
    made = page.locator(".alert-success")
    expect(made).to_contain_text("Kunci baru dibuat untuk Kabid Baru")
    recipient = re.search(r"age1[0-9a-z]+", made.inner_text())
    assert recipient is not None
    kabid2_fp = crypto.recipient_fingerprint(recipient.group(0))
    page.goto(url + f"/documents/{docs[0][0]}/")
    expect(page.get_by_text("kunci Anda tidak termasuk kunci penerima dokumen ini")
           ).to_be_visible()
    expect(page.get_by_role("button", name="Dekripsi dan unduh")).to_have_count(0)
    sign_out(page)

    # kabid1 hands over access with the passphrase and follows the progress page.
    sign_in(page, url, "kabid1", KABID1_PW)
    menu(page, "Kunci").click()
    page.get_by_role("link", name="Serah terima akses").click()
    expect(page).to_have_url(url + "/keys/grant/")
    page.get_by_label("Beri akses kepada").select_option("kabid2")
    page.get_by_label("Frasa sandi kunci Anda").fill(KABID1_PP)
    shoot(page, "grant-form")
    page.get_by_role("button", name="Serahkan akses").click()
    expect(page).to_have_url(re.compile(re.escape(url) + r"/keys/jobs/[^/]+/$"))
    # While running, the page's script polls the status and reloads with the result.
    expect(page.get_by_role("heading", name="Hasil")).to_be_visible(timeout=30000)
    shoot(page, "grant-result")
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(field_value(page, "Akses diberikan kepada")).to_contain_text(kabid2_fp)
    expect(field_value(page, "Naskah yang dienkripsi ulang")).to_have_text("3")
    expect(field_value(page, "Surat permintaan yang dienkripsi ulang")).to_have_text("1")
    expect(field_value(page, "Kombinasi brankas")).to_have_text("1")
    status = page.request.get(page.url + "status").json()
    assert status["state"] != "running" and status["files_done"] == status["files_total"] == 4
    sign_out(page)

    # The admin revokes kabid1 from the row's link on the keys page.
    sign_in(page, url, "admin", ADMIN_PW)
    menu(page, "Kunci").click()
    page.get_by_role("row", name=re.compile("kabid1")).get_by_role("link", name="Cabut").click()
    expect(page.get_by_role("heading", name="Cabut kunci pemegang kunci")).to_be_visible()
    expect(page.get_by_label("Pemegang kunci")).to_have_value("kabid1")
    page.get_by_label("Saya mengerti").check()
    page.get_by_role("button", name="Cabut").click()
    expect(page.get_by_text("Kunci kabid1 telah dicabut.")).to_be_visible()
    expect(page.get_by_text("Tidak ada salinan di disk back up yang terbuka dengan kunci ini."
                            )).to_be_visible()
    shoot(page, "revoked")
    sign_out(page)

    # kabid1's key opens nothing through Brankas any more.
    sign_in(page, url, "kabid1", KABID1_PW)
    page.goto(url + f"/documents/{docs[0][0]}/")
    page.get_by_label("Frasa sandi kunci Anda").fill(KABID1_PP)
    page.get_by_role("button", name="Dekripsi dan unduh").click()
    expect(page.get_by_text("sudah dicabut")).to_be_visible()
    sign_out(page)

    # kabid2 opens all of them through their pages.
    sign_in(page, url, "kabid2", KABID2_PW)
    for agenda, plain in docs:
        page.goto(url + f"/documents/{agenda}/")
        page.get_by_label("Frasa sandi kunci Anda").fill(KABID2_PP)
        with page.expect_download() as info:
            page.get_by_role("button", name="Dekripsi dan unduh").click()
        data = Path(info.value.path()).read_bytes()
        assert data == plain and b"MARKER" in data
    page.goto(url + f"/requests/{request_number}/")
    page.get_by_label("Frasa sandi kunci Anda").fill(KABID2_PP)
    with page.expect_download() as info:
        page.get_by_role("button", name="Dekripsi dan unduh").click()
    assert Path(info.value.path()).read_bytes() == letter_plain
    page.goto(url + "/safes/")
    safe = page.get_by_role("region", name="Brankas-A")
    safe.get_by_label("Frasa sandi kunci Anda").fill(KABID2_PP)
    safe.get_by_role("button", name="Tampilkan kombinasi").click()
    expect(page.locator(".combination code.secret")).to_have_text(COMBINATION)
    shoot(page, "combination")
    sign_out(page)

    # The standard age tool opens a stored file with kabid2's identity.
    kabid2_key = server.home / "keys" / f"kabid2-{kabid2_fp}.age"
    kabid2_identity_file = tmp_path / "kabid2.identity"
    open_identity(kabid2_key, KABID2_PP, kabid2_identity_file)
    stored, _ = stored_file(server, docs[1][0])
    opened = age_decrypt(kabid2_identity_file, stored)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == docs[1][1]

    # A new registration through the page goes to kabid2 and the recovery key only.
    sign_in(page, url, "operator", OPERATOR_PW)
    new_pdf = tmp_path / "sesudah.pdf"
    new_plain = make_pdf(new_pdf, text="SESUDAH MUTASI MARKER")
    new = register(page, url, pdf=new_pdf, direction="Penerimaan", classification="Rahasia",
                   subject="Sesudah mutasi", correspondent="Sekda", expected_label="Pengirim")
    context.close()
    stored, recipients = stored_file(server, new)
    recovery_fp = crypto.recipient_fingerprint(
        str(crypto.parse_identity(recovery_identity).to_public()))
    assert recipients == {kabid2_fp, recovery_fp}
    opened = age_decrypt(kabid2_identity_file, stored)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout == new_plain
    recovery_file = tmp_path / "recovery.identity"
    recovery_file.write_text(recovery_identity + "\n")
    opened = age_decrypt(recovery_file, stored)
    assert opened.returncode == 0 and opened.stdout == new_plain
    kabid1_identity_file = tmp_path / "kabid1.identity"
    open_identity(server.home / "keys" / f"kabid1-{kabid1_fp}.age", KABID1_PP,
                  kabid1_identity_file)
    refused = age_decrypt(kabid1_identity_file, stored)
    assert refused.returncode != 0 and refused.stdout == b""
    r = server.cli("audit", "verify", "--json", env=as_user("admin", ADMIN_PW))
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["ok"]


# ---------------------------------------------------------------- recovery shares

def age_password(server, context, seconds: int) -> None:  # type: ignore[no-untyped-def]
    """Move back, in the server's session record, the moment the browser's user last typed
    their password (as if ``seconds`` had passed since)."""
    from django.core import signing

    from brankas.web.ui.security import PASSWORD_AT

    key = next(c["value"] for c in context.cookies() if c["name"] == "sessionid")
    secret = (server.home / "config" / "secret_key").read_text(encoding="ascii").strip()
    salt = "django.contrib.sessions.SessionStore"
    with sqlite3.connect(server.home / "brankas.sqlite3") as db:
        (data,) = db.execute("SELECT session_data FROM django_session WHERE session_key = ?",
                             (key,)).fetchone()
        session = signing.loads(data, key=secret, salt=salt)
        session[PASSWORD_AT] = float(session[PASSWORD_AT]) - seconds
        db.execute("UPDATE django_session SET session_data = ? WHERE session_key = ?",
                   (signing.dumps(session, key=secret, salt=salt, compress=True), key))


def share_words(pdf: bytes) -> list[str]:
    """The words of each share sheet, in the order of their numbered boxes."""
    pages = [re.sub(r"\s+", " ", p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    return [text[text.index("numbers") + len("numbers"):text.index("RAHASIA:")]
            for text in pages]


def test_recovery_share_sheets_and_check_as_the_admin(office, browser, shoot, tmp_path: Path):
    from playwright.sync_api import expect

    server, recovery_identity = office
    recovery_fp = crypto.recipient_fingerprint(
        str(crypto.parse_identity(recovery_identity).to_public()))
    context = browser.new_context(locale="id-ID", accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    url = server.url
    sign_in(page, url, "admin", ADMIN_PW)
    menu(page, "Kunci").click()
    page.get_by_role("link", name="Bagi kunci pemulihan").click()
    page.get_by_label("Kunci pemulihan kantor (AGE-SECRET-KEY-1...)").fill(recovery_identity)
    page.get_by_label("Jumlah bagian (N)").fill("5")
    page.get_by_label("Bagian yang diperlukan (K)").fill("3")
    # The recovery key took long to type from paper: the password is asked again, and the
    # admin comes back to the form.
    age_password(server, context, 6 * 60)
    page.get_by_role("button", name="Buat lembar bagian (PDF)").click()
    expect(page.get_by_role("heading", name="Konfirmasi kata sandi")).to_be_visible()
    page.get_by_label("Kata sandi").fill(ADMIN_PW)
    page.get_by_role("button", name="Lanjutkan").click()
    expect(page).to_have_url(url + "/keys/recovery/split")
    field = page.get_by_label("Kunci pemulihan kantor (AGE-SECRET-KEY-1...)")
    expect(field).to_have_value("")  # a password field is not refilled
    field.fill(recovery_identity)
    page.get_by_label("Jumlah bagian (N)").fill("5")
    page.get_by_label("Bagian yang diperlukan (K)").fill("3")
    shoot(page, "split-form")
    with page.expect_download() as info:
        page.get_by_role("button", name="Buat lembar bagian (PDF)").click()
    download = info.value
    assert download.suggested_filename.startswith("bagian-kunci-pemulihan-")
    sheets = Path(download.path()).read_bytes()
    assert sheets.startswith(b"%PDF-")
    words = share_words(sheets)
    assert len(words) == 5
    assert all(sum(t.isalpha() for t in w.split()) == 33 for w in words)  # 33 boxes each
    assert recovery_identity.encode() not in sheets

    # Three shares' words, pasted one per box: the fingerprint of this office's key.
    page.goto(url + "/keys/")
    page.get_by_role("link", name="Uji bagian kunci").first.click()
    expect(page.get_by_role("heading", name="Uji bagian kunci pemulihan")).to_be_visible()
    for box, text in zip((1, 2, 3), (words[0], words[2], words[4]), strict=True):
        page.get_by_label(f"Bagian {box}", exact=True).fill(text)
    page.get_by_role("button", name="Uji bagian kunci").click()
    done = page.locator(".alert-success")
    expect(done).to_contain_text("menyusun kunci pemulihan kantor ini")
    expect(done.locator("code")).to_have_text(recovery_fp)
    expect(page.get_by_label("Bagian 1", exact=True)).to_have_value("")  # not echoed
    shoot(page, "shares-checked")

    # Two shares: refused, in Bahasa Indonesia.
    page.get_by_label("Bagian 1", exact=True).fill(words[1])
    page.get_by_label("Bagian 2", exact=True).fill(words[3])
    page.get_by_role("button", name="Uji bagian kunci").click()
    expect(page.get_by_text("bagian kunci pemulihan kurang: perlu 3 bagian, yang diberikan 2"
                            )).to_be_visible()
    expect(page.locator(".alert-success")).to_have_count(0)
    shoot(page, "shares-refused")
    context.close()
