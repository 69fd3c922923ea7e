"""Page helpers for the SOP walk (tests/browser/test_sop_walk.py).

Everything is found by what does not change with the language (field ids, form actions, the
value of a choice), so one step function walks the Indonesian and the English interface. Every
page the walk sees goes through ``Walk.look``: a server error, a word of the other language, a
command to type, a raw ISO timestamp or a duplicate element id is noted as a finding, with the
step and the page, for the checks at the end of the module.

One walk, both languages: each role works in its own language (``ROLE_LANG``, chosen with
the interface's switch), and every page a role is shown is also shown in the other language
(``Walk.twin_look``): the same URL in a second browser context of the same session with the
other language's cookie, or, for a page a form's POST rendered (a refusal beside its field),
the same POST sent again from there. The twin is looked at as the page itself is."""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
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
# Each typed value's pattern (``Walk.without_typed``), made once.
_TYPED_PATTERNS: dict[str, re.Pattern[str]] = {}
SERVER_ERROR = re.compile(r"Server Error|Kesalahan server|Traceback", re.IGNORECASE)
# Re-authenticate before the server's 5-minute window (security.REAUTH_SECONDS) runs out.
FRESH_SECONDS = 4 * 60
# How long a page may take to show what the walk waits for (a job is waited for by its status).
TIMEOUT_MS = 15_000
# The language each role works in (the pages it is shown are seen in the other one too).
ROLE_LANG = {"admin": "en", "sandiman": "id", "kasi": "en", "kabid": "id", "kadis": "en"}
OTHER = {"id": "en", "en": "id"}
# Pages a POST rendered that are not sent again in the other language: the setup's (the
# office's recovery key is shown once; tests/web/ui/test_setup.py shows it in English) and
# the sign-in's (each wrong password counts towards the lock-out; step_07 alternates the
# language of its attempts instead).
NOT_REPLAYED = ("/setup/", "/login/")


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
    # The language of each page (by id: the page shown in it), the other-language page of
    # each browser context (``twin_look``), the request that brought each page its document,
    # and the pages already seen in the other language (URL and text: seen again, skipped).
    langs: dict[int, str] = field(default_factory=dict)
    twins: dict[int, Any] = field(default_factory=dict)
    arrived: dict[int, Any] = field(default_factory=dict)
    twinned: set[tuple[str, str, int]] = field(default_factory=set)
    # No other-language look while set: a page whose words were fixed in the language it
    # was asked in (a rebuild's refusal, in its process's language); walked in both instead.
    twin_off: bool = False
    # Pages looked at that could not be asked for again (no request of their own seen):
    # check_every_page_was_seen_in_both_languages lists them.
    not_twinned: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    # ------------------------------------------------------------------ the checks

    def note(self, kind: str, problem: str, lang: str = "") -> None:
        self.findings[kind].append(f"[{lang or self.lang}] {self.step}: {problem}")

    def lang_of(self, page: Any) -> str:
        return self.langs.get(id(page), self.lang)

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
                          f"{response.url.removeprefix(self.url)}", self.lang_of(page))
            request = response.request
            if (request.is_navigation_request() and request.frame == page.main_frame
                    and not 300 <= response.status < 400):
                self.arrived[id(page)] = request  # what brought the page its document
        page.on("response", on_response)

        def on_request(request: Any) -> None:
            # Everything comes from the office's own server: no CDN, no web font, no remote
            # URL (the browser's own PDF viewer loads chrome: and chrome-extension: pages).
            if (request.url.split(":", 1)[0] in {"http", "https", "ws", "wss"}
                    and not request.url.startswith(self.url + "/")):
                self.note("remote", f"{request.url} asked for", self.lang_of(page))
        page.on("request", on_request)

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
            return [text, Object.keys(seen).filter(k => seen[k] > 1)]; }""", self.lang_of(page))
        return self.without_typed(text), dupes

    def without_typed(self, text: str) -> str:
        """``text`` without the data the walk typed (longest first), matched across any
        run of white space: a search result splits a typed subject round its highlighted
        words (``Undangan <mark>upacara</mark> hari jadi``), on a line each in the text
        read without a browser."""
        for typed in sorted(self.typed, key=len, reverse=True):
            pattern = _TYPED_PATTERNS.get(typed)
            if pattern is None:
                pattern = _TYPED_PATTERNS[typed] = re.compile(
                    r"\s+".join(re.escape(part) for part in typed.split()))
            text = pattern.sub(" ", text)
        return text

    def look(self, page: Any, name: str = "", *, twin: bool = True) -> str:
        """Check the page as shown now, and (``twin``) the same page in the other language
        (``twin_look``); returns its visible text (typed data removed)."""
        lang = self.lang_of(page)
        where = name or page.url.removeprefix(self.url)
        self.where = where
        text, dupes = self.shown(page)
        self.check(text, dupes, where, lang)
        if twin and id(page) not in self.twin_ids():
            self.twin_look(page, text)
        return text

    def check(self, text: str, dupes: list[str], where: str, lang: str) -> None:
        """A page's text (typed data removed) and duplicate ids, in ``lang``: its findings."""
        if SERVER_ERROR.search(text):
            self.note("server_error", f"{where} shows a server error", lang)
        # Paths first: a folder named ".home.before-recover-…" is no action name.
        foreign = foreign_words(IDENTIFIER.sub(" ", PATHLIKE.sub(" ", AGE_KEY.sub(" ", text))),
                                lang)
        if foreign:
            self.note("language", f"{where}: {sorted(foreign)}", lang)
        for m in sorted(set(COMMAND.findall(text))):
            self.note("command", f"{where} tells the user to type {m!r}", lang)
        for m in sorted(set(ISO_TIME.findall(text))):
            self.note("iso_time", f"{where} shows the raw timestamp {m!r}", lang)
        if dupes:
            self.note("duplicate_id", f"{where}: duplicate element ids {sorted(dupes)}", lang)
        self.snapshots[f"[{lang}] {where}"] = text

    # ------------------------------------------------------------------ the other language

    def twin_ids(self) -> set[int]:
        return {id(t) for t in self.twins.values()}

    def other(self, page: Any) -> Any:
        """The page of ``page``'s browser context in the other language: a context of its
        own with the same cookies (the same session), but the other language's."""
        lang = OTHER[self.lang_of(page)]
        twin = self.twins.get(id(page.context))
        if twin is None:
            context = self.browser.new_context(locale="id-ID", accept_downloads=True,
                                               viewport={"width": 1280, "height": 900})
            context.set_default_timeout(TIMEOUT_MS)
            # A report page's PDF preview is not read here (the page's text is; the
            # previews the walk counts are the Kadis's own: step_17_reports).
            context.route("**/reports/*/report.pdf", lambda route: route.abort())
            twin = context.new_page()
            self.watch(twin)
            self.twins[id(page.context)] = twin
        cookies = [c for c in page.context.cookies() if c["name"] != "django_language"]
        twin.context.add_cookies([*cookies, {"name": "django_language", "value": lang,
                                             "url": self.url}])
        self.langs[id(twin)] = lang
        return twin

    def twin_look(self, page: Any, text: str) -> None:
        """``page`` as it is shown in the other language, checked as ``look`` checks a page:
        the same URL asked for again in the same session with the other language's cookie,
        or, when a form's POST rendered the page, the same POST sent again (a refusal:
        nothing is written). Asked over HTTP and read from its HTML (``_Shown``: the text a
        browser shows, and what its script shows from the page: the ``data-`` labels, a
        job's status texts), not drawn by Chromium. Skipped when the same URL showed the
        same text before."""
        request = self.arrived.get(id(page))
        if self.twin_off:
            return
        if request is None or request.url != page.url:
            self.not_twinned.append(f"[{self.lang_of(page)}] {self.step}: {page.url} "
                                    f"(arrived: {request.url if request else None})")
            return
        key = (request.method, page.url, hash(text))
        path = page.url.removeprefix(self.url)
        if key in self.twinned or (request.method != "GET"
                                   and path.split("?")[0] in NOT_REPLAYED):
            return
        self.twinned.add(key)
        lang = OTHER[self.lang_of(page)]
        cookies = {c["name"]: c["value"] for c in page.context.cookies(self.url)}
        cookies["django_language"] = lang
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if request.method == "GET":
            status, html = _http(page.url, headers)
        else:
            sent = {k: v for k, v in request.all_headers().items() if k == "content-type"}
            status, html = _http(page.url, {**headers, **sent, "Origin": self.url},
                                 data=request.post_data_buffer or b"")
        where = f"{path} ({request.method}, {lang})"
        if status >= 500 or html is None:
            self.note("server_error", f"{where}: {status}", lang)
            return
        shown = _Shown(lang)
        shown.feed(html)
        shown.close()
        parts = shown.parts
        if shown.job_status:  # what the page's script writes into it from the job's status
            status, answer = _http(self.url + shown.job_status, headers)
            if status == 200 and answer:
                parts += [str(v) for v in (json.loads(answer).get("text") or {}).values()]
        seen = self.without_typed(" \n".join(parts))
        dupes = sorted(k for k, n in shown.ids.items() if n > 1)
        self.check(seen, dupes, where, lang)

    def paper(self, pdf: bytes, name: str) -> str:
        """A paper's text; in the Indonesian walk, an English word on it is noted."""
        assert pdf.startswith(b"%PDF-"), name
        text = "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        clean = self.without_typed(text)
        foreign = foreign_words(PATHLIKE.sub(" ", clean), "id")
        if foreign:  # a paper is in Indonesian whatever the interface's language
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
        """The page of ``role``'s own browser context, signed in (the role's language
        chosen with the switch on the sign-in page), its password fresh."""
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
        self.switch_language(page, ROLE_LANG.get(role, self.lang))
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

    def switch_language(self, page: Any, lang: str = "") -> None:
        """The interface's language switch on ``page``: its context now speaks ``lang``."""
        lang = lang or self.lang
        with page.expect_navigation():
            page.locator(f".lang-switch button[value={lang}]").click()
        self.langs[id(page)] = lang
        assert page.locator("html").get_attribute("lang") == lang
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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _http(url: str, headers: dict[str, str], data: bytes | None = None) -> tuple[int, str | None]:
    """(status, HTML) of ``url`` (a POST when ``data``: its redirect, if any, followed as a
    browser does, with a GET)."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - ours
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location")
        if 300 <= exc.code < 400 and location:
            target = urllib.parse.urljoin(url, location)
            return _http(target, headers) if data is not None or target != url else (
                exc.code, None)
        return exc.code, exc.read().decode(errors="replace")


class _Shown(HTMLParser):
    """The text a browser shows of an HTML page's body, as ``Walk.shown`` reads it: not
    script, style, template or noscript, nor what is marked as in another language than
    ``lang``. What the page's script writes into it is taken too: every ``data-`` value
    (brankas.js shows some as labels), and ``job_status`` names the status its job page asks
    for. Hidden elements are read as well (stricter than a browser's text: a word of the
    other language there is one all the same)."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                      "meta", "source", "track", "wbr"})
    SKIPPED = frozenset({"script", "style", "template", "noscript", "head"})

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        self.parts: list[str] = []
        self.ids: dict[str, int] = defaultdict(int)
        self.job_status = ""
        self._open: list[tuple[str, bool]] = []  # (tag, hidden)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids[str(values["id"])] += 1
        hidden = bool(self._open and self._open[-1][1]) or tag in self.SKIPPED or (
            values.get("lang") is not None and not str(values["lang"]).startswith(self.lang))
        if not hidden:
            for key, value in attrs:
                if key == "data-job-status" and value:
                    self.job_status = urllib.parse.urlsplit(value).path
                elif key.startswith("data-") and value:
                    self.parts.append(value)
        if tag not in self.VOID:
            self._open.append((tag, hidden))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):  # what the tag closes (and any left open)
            if self._open[i][0] == tag:
                del self._open[i:]
                return

    def handle_data(self, data: str) -> None:
        if data.strip() and not (self._open and self._open[-1][1]):
            self.parts.append(" ".join(data.split()))
