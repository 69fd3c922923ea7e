"""Page helpers for the SOP walk (tests/browser/test_sop_walk.py).

Everything is found by what does not change with the language (field ids, form actions, the
value of a choice), so one step function walks the Indonesian and the English interface. Every
page the walk sees goes through ``Walk.look``: a server error, a word of the other language, a
command to type, a raw ISO timestamp or a duplicate element id is noted as a finding, with the
step and the page, for the checks at the end of the module."""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdf

from tests.browser.conftest import Server
from tests.browser.language import foreign_words, split_words

# The walk's people: role -> (username, full name, NIP, password).
PEOPLE = {
    "admin": ("admin", "Rudi Hartono", "", "Admin-Pass-2026!"),
    "sandiman": ("siti", "Siti Rahmawati", "199001012015032001", "Sandiman-Pass-2026!"),
    "kasi": ("wayan", "Wayan Sudarsa", "198505052010011002", "Kasi-Pass-2026!"),
    "kabid": ("budi", "Budi Santoso", "198001012005011003", "Kabid-Pass-2026!"),
    "kadis": ("agus", "Agus Salim", "197501012000031004", "Kadis-Pass-2026!"),
}
POSITIONS = {"sandiman": "Sandiman Ahli Pertama", "kasi": "Kepala Seksi Persandian",
             "kabid": "Kepala Bidang Persandian", "kadis": "Kepala Dinas Kominfo"}
# Key passphrases (the key holders) and signing passphrases (every signer).
KEY_PP = {"kasi": "lembah sunyi menara biru pagi", "kabid": "kuda merah berlari di sawah hijau",
          "kadis": "elang putih terbang di atas danau toba"}
SIGN_PP = {"sandiman": "padi kuning di tepi sungai deras",
           "kasi": "gunung api tidur di balik kabut", "kabid": "perahu kayu berlayar ke pulau jauh",
           "kadis": "burung hantu menjaga hutan malam"}
OFFICE = {
    "office_name": "Dinas Komunikasi dan Informatika",
    "government": "Pemerintah Kabupaten Bolaang Mongondow",
    "department": "Dinas Komunikasi dan Informatika",
    "division": "Bidang Persandian dan Statistik",
    "address": "Jalan Trans Sulawesi Nomor 1",
    "city": "Lolak",
}
# Text the walk types itself, removed before the language check (it is the office's data).
TYPED = [*OFFICE.values(), *(p[1] for p in PEOPLE.values()), *(p[0] for p in PEOPLE.values()),
         *POSITIONS.values()]

COMMAND = re.compile(r"\bbrankas (?:audit|verify|media|backup|report|import|restore|drill|"
                     r"recover|init|user|key|safe|register|open|request)\b")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:T| )\d{2}:\d{2}")
# Machine names shown as such (the audit log's actions: ``report.submit``; the error code
# beside a refused one: ``signing_passphrase_wrong``), not prose.
IDENTIFIER = re.compile(r"\b[a-z_]+(?:\.(?:[a-z_]+\b|\*))+|\b[a-z]+(?:_[a-z]+)+\b")
# age keys shown as data (the recovery identity on the setup page, a holder's recipient):
# their letters make no word ("any" in "AGE-SECRET-KEY-1…QANY7…"), even before the walk
# has added them to what it typed.
AGE_KEY = re.compile(r"\bAGE-SECRET-KEY-1[0-9A-Z]{20,}\b|\bage1[0-9a-z]{20,}\b")
# Paths and numbers with slashes (``arsip/biasa/…``, ``005/12/2026``) are data, not prose.
PATHLIKE = re.compile(r"\S*[/\\]\S*")
SERVER_ERROR = re.compile(r"Server Error|Kesalahan server|Traceback", re.IGNORECASE)
# Re-authenticate before the server's 5-minute window (security.REAUTH_SECONDS) runs out.
FRESH_SECONDS = 4 * 60
# How long a page may take to show what the walk waits for (a job is waited for by its status).
TIMEOUT_MS = 15_000


@dataclass
class Walk:
    """One office walked through in one language; the state the steps share."""

    server: Server
    browser: Any
    lang: str
    tmp: Path
    pages: dict[str, Any] = field(default_factory=dict)
    signed_at: dict[str, float] = field(default_factory=dict)
    findings: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    done: set[str] = field(default_factory=set)
    outcomes: dict[str, BaseException] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    snapshots: dict[str, str] = field(default_factory=dict)
    step: str = ""
    where: str = ""  # the page seen last (named in a failure)
    typed: list[str] = field(default_factory=lambda: list(TYPED))
    # Each role's password now (a user may change their own).
    passwords: dict[str, str] = field(
        default_factory=lambda: {role: p[3] for role, p in PEOPLE.items()})

    @property
    def url(self) -> str:
        return self.server.url

    # ------------------------------------------------------------------ the checks

    def note(self, kind: str, problem: str) -> None:
        self.findings[kind].append(f"[{self.lang}] {self.step}: {problem}")

    def watch(self, page: Any) -> None:
        """Note the page's server errors; install the context's clock (its time runs as
        the real one: ``wait_job`` moves it on once a job has ended). Called once for
        the one page of each context the walk opens."""
        page.clock.install()
        # The browser's own name, recorded with each sign-in ("… like Gecko"): data.
        agent = page.evaluate("() => navigator.userAgent")
        if agent not in self.typed:
            self.typed.append(agent)

        def on_response(response: Any) -> None:
            if response.status >= 500:
                self.note("server_error", f"{response.status} {response.request.method} "
                          f"{response.url.removeprefix(self.url)}")
        page.on("response", on_response)

    def shown(self, page: Any) -> tuple[str, list[str]]:
        """The page's visible text (typed data removed) and its duplicate element ids, read
        in one call to the page (a look is made on every page: one round trip, not two)."""
        # Text marked as in another language (``lang="id"`` on the English page: a paper's
        # letterhead previewed as the paper prints it, always in Indonesian) is not the
        # interface's: hidden while the page's text is read.
        text, dupes = page.evaluate("""lang => {
            const other = [...document.querySelectorAll('body [lang]')]
              .filter(e => !e.lang.startsWith(lang));
            const shown = other.map(e => e.style.display);
            other.forEach(e => { e.style.display = 'none'; });
            const text = document.body.innerText;
            other.forEach((e, i) => { e.style.display = shown[i]; });
            const seen = {}; for (const e of document.querySelectorAll('[id]'))
              seen[e.id] = (seen[e.id] || 0) + 1;
            return [text, Object.keys(seen).filter(k => seen[k] > 1)]; }""", self.lang)
        for typed in sorted(self.typed, key=len, reverse=True):
            text = text.replace(typed, " ")
        return text, dupes

    def look(self, page: Any, name: str = "") -> str:
        """Check the page as shown now; returns its visible text (typed data removed)."""
        where = name or page.url.removeprefix(self.url)
        self.where = where
        text, dupes = self.shown(page)
        if SERVER_ERROR.search(text):
            self.note("server_error", f"{where} shows a server error")
        # Paths first: a folder named ".home.before-recover-…" is no action name.
        foreign = foreign_words(IDENTIFIER.sub(" ", PATHLIKE.sub(" ", AGE_KEY.sub(" ", text))),
                                self.lang)
        if foreign:
            self.note("language", f"{where}: {sorted(foreign)}")
        for m in sorted(set(COMMAND.findall(text))):
            self.note("command", f"{where} tells the user to type {m!r}")
        for m in sorted(set(ISO_TIME.findall(text))):
            self.note("iso_time", f"{where} shows the raw timestamp {m!r}")
        if dupes:
            self.note("duplicate_id", f"{where}: duplicate element ids {sorted(dupes)}")
        self.snapshots[where] = text
        return text

    def paper(self, pdf: bytes, name: str) -> str:
        """A paper's text; in the Indonesian walk, an English word on it is noted."""
        assert pdf.startswith(b"%PDF-"), name
        text = "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        clean = text
        for typed in sorted(self.typed, key=len, reverse=True):
            clean = clean.replace(typed, " ")
        foreign = foreign_words(PATHLIKE.sub(" ", clean), "id")
        if foreign and self.lang == "id":
            self.note("paper_language", f"{name}: {sorted(foreign)}")
        split = split_words(text, self.typed)
        if split:
            self.note("paper_split_word", f"{name}: {sorted(split)}")
        dates = sorted(set(ISO_DATE.findall(text)))
        if dates:
            self.note("paper_iso_date", f"{name}: {dates[:5]}")
        pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
        numbered = len(re.findall(rf"Halaman \d+ dari {pages}\b", text))
        if numbered != pages:
            self.note("paper_page_numbers", f"{name}: {numbered} of {pages} pages read "
                      f"'Halaman x dari {pages}'")
        return text

    # ------------------------------------------------------------------ pages and people

    def as_(self, role: str) -> Any:
        """The page of ``role``'s own browser context, signed in (the language chosen with
        the switch on the sign-in page), its password fresh."""
        page = self.pages.get(role)
        if page is None:
            page = self.sign_in_fresh(role)
            self.pages[role] = page
        elif time.monotonic() - self.signed_at[role] > FRESH_SECONDS:
            self.goto(page, "/reauth/?next=/")
            page.locator("#id_password").fill(self.passwords[role])
            self.click(page, page.locator("main form button[type=submit]"))
            self.signed_at[role] = time.monotonic()
        return page

    def sign_in_fresh(self, role: str) -> Any:
        """A new browser context signed in as ``role`` (its page; the context stays open
        when it becomes the role's own, in ``as_``, and is closed here otherwise only when
        the sign-in fails)."""
        context = self.browser.new_context(locale="id-ID", accept_downloads=True,
                                           viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        self.watch(page)
        self.goto(page, "/login/", look=False)
        self.switch_language(page)
        page.locator("#id_username").fill(PEOPLE[role][0])
        page.locator("#id_password").fill(self.passwords[role])
        self.click(page, page.locator("main form button[type=submit]"))
        if page.locator("nav.mainnav").count() != 1:
            context.close()
            raise AssertionError(f"{role} could not sign in")
        self.signed_at[role] = time.monotonic()
        if role in self.pages:  # a second sign-in: its page is not the role's own
            context.close()
        return page

    def role_of(self, page: Any) -> str:
        return next((role for role, p in self.pages.items() if p is page), "?")

    def switch_language(self, page: Any) -> None:
        with page.expect_navigation():
            page.locator(f".lang-switch button[value={self.lang}]").click()
        assert page.locator("html").get_attribute("lang") == self.lang
        self.look(page)

    def goto(self, page: Any, path: str, *, ok: bool = True, look: bool = True) -> Any:
        """``look=False``: a page seen before the language is chosen (not checked)."""
        response = page.goto(self.url + path)
        if ok:
            assert response is not None and response.status < 400, (
                f"{path}: {response.status if response else 'no response'}")
        if look:
            self.look(page)
        return response

    def click(self, page: Any, target: Any, *, ok: bool = True) -> None:
        """Click what submits a form or follows a link, wait for the next page, check it."""
        with page.expect_navigation() as nav:
            target.click()
        response = nav.value
        if ok:
            assert response is not None and response.status < 400, (
                f"{page.url}: {response.status if response else 'no response'}\n"
                f"{errors_on(page)}")
        self.look(page)

    def form(self, page: Any, action_end: str) -> Any:
        return page.locator(f"form[action$='{action_end}']")

    def form_with(self, page: Any, selector: str) -> Any:
        return page.locator("form", has=page.locator(selector))

    def submit(self, page: Any, form: Any, *, ok: bool = True) -> None:
        self.click(page, form.locator("button[type=submit]").first, ok=ok)

    def download(self, page: Any, path: str) -> bytes:
        """A file the page links to, fetched with the page's own session."""
        response = page.request.get(self.url + path)
        assert response.status == 200, f"{path}: {response.status}"
        return bytes(response.body())

    def wait_job(self, page: Any, result: str = ".alert-success, .alert-error") -> None:
        """A job page polls its status (every second, on a timer) and reloads itself when
        the work has ended: wait for the work to end (asking its status), then for the
        page's own reload to show the result, its clock moved on a second at a time (the
        page's timer fires now instead of up to a second later). A page that does not
        reload itself is a finding (then reloaded here, so the walk goes on)."""
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        page.bring_to_front()
        loads = 0

        def loaded(_: Any) -> None:
            nonlocal loads
            loads += 1
        page.on("load", loaded)
        status = page.url.split("?")[0] + "status"
        for _ in range(1200):
            if page.locator(result).count():
                break
            answer = page.request.get(status)
            if answer.ok and answer.json().get("state") != "running":
                break
            page.wait_for_timeout(100)
        shown = page.locator(result).first
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    shown.wait_for(timeout=250)
                    break
                except PlaywrightTimeout:
                    if time.monotonic() > deadline:
                        raise
                with contextlib.suppress(PlaywrightError):  # (it may be reloading now)
                    page.clock.fast_forward(1000)
        except PlaywrightTimeout:
            polling = page.locator("[data-job-status]").count()
            answer = page.request.get(status)
            self.note("job_page", f"{page.url.removeprefix(self.url)} did not show the result "
                      f"of the ended job by itself (loads {loads}, polling box {polling}, "
                      f"status {answer.status} {answer.text()[:200]})")
            page.reload()
            try:
                shown.wait_for(timeout=5_000)
            except PlaywrightTimeout:
                raise AssertionError(f"no result on {page.url}:\n{self.look(page)}") from None
        finally:
            page.remove_listener("load", loaded)
        self.look(page)


def errors_on(page: Any) -> str:
    alerts = page.locator(".alert-error, .has-error")
    return " | ".join(alerts.all_inner_texts())
