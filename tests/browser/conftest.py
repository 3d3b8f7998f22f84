"""Browser harness: the real app under waitress, driven by Debian's chromium through Playwright.

What a test gets:

- `browser`: one headless chromium for the whole session (never downloaded: /usr/bin/chromium).
- `page`: a fresh context and page per test, 1280x800, watched for Content-Security-Policy
  violations, script errors and broken resources; any left unreported fail the test at teardown.
- `live_server`: the real app, `create_app(settings)`, served by waitress from a background thread on a
  free 127.0.0.1 port; NEWSLETTER_BASE_URL points at it before settings are read, so links, CSS and
  media in rendered pages resolve there. One server per session; each test plugs in its own app.
- `example_issue`: examples/co-production-week.yaml imported as a draft; its slug.
- `assert_accessible(page, name)`: axe-core with the WCAG 2.0/2.1/2.2 A and AA rules, zero violations,
  and a full-page screenshot saved as test-artifacts/screenshots/<name>.png (kept by CI).
- `screenshot(page, name)`, `assert_no_horizontal_scroll(page, label)`, `set_text_size(page, percent)`,
  `apply_text_spacing(page)`, `assert_focus_visible(page)`, `assert_no_page_problems(page)`.

Browser tests run on SQLite only (the backends are covered by the rest of the suite): `db` is
narrowed to its SQLite half for everything under tests/browser. Waits are conditions with
deadlines (Playwright's auto-waiting, `wait_for_function`), never fixed sleeps.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, Response, sync_playwright

from newsletter.config import Settings, get_settings, reset_settings

from tests.conftest import EXAMPLE, ROOT

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: CI runs as root in a container. The rest stops chromium phoning home during tests.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000
SERVER_START_SECONDS = 10.0

T = TypeVar("T")


class _OnePerProcess(Generic[T]):
    """A session resource shared by every copy of its fixture.

    Tests outside tests/browser import these fixtures, and pytest makes a separate fixture for each
    importing module; but Playwright's sync API allows one driver per thread (a second one fails with
    "using Playwright Sync API inside the asyncio loop"), and one browser and one server are enough.
    So the first user starts the resource, later users share it, and the last one to finish stops it.
    """

    def __init__(self, stop: Callable[[T], object]) -> None:
        self._stop = stop
        self._value: T | None = None
        self._users = 0

    @contextmanager
    def use(self, start: Callable[[], T]) -> Iterator[T]:
        if self._users == 0:
            self._value = start()
        self._users += 1
        try:
            yield self._value  # type: ignore[misc]
        finally:
            self._users -= 1
            if self._users == 0:
                value, self._value = self._value, None
                self._stop(value)  # type: ignore[arg-type]


# --- the browser ---------------------------------------------------------------------------------

_DRIVER: _OnePerProcess[Playwright] = _OnePerProcess(stop=lambda driver: driver.stop())
_CHROMIUM: _OnePerProcess[Browser] = _OnePerProcess(stop=lambda browser: browser.close())


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with _DRIVER.use(lambda: sync_playwright().start()) as driver:
        yield driver


def _launch(driver: Playwright) -> Browser:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`make test` does, or apt-get install chromium)")
    return driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    with _CHROMIUM.use(lambda: _launch(playwright)) as launched:
        yield launched


@dataclass
class _Watch:
    """What went wrong while a page was open, in words for a failure message."""

    problems: list[str] = field(default_factory=list)
    document_urls: set[str] = field(default_factory=set)


_WATCHES: WeakKeyDictionary[Page, _Watch] = WeakKeyDictionary()


def watch(page: Page) -> Page:
    """Record CSP violations, console errors, script errors and failed sub-resources on `page`.

    The document itself may be a 404 or 400 on purpose (error pages are tested), so only the
    resources it loads count as broken.
    """
    record = _WATCHES.setdefault(page, _Watch())

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and (
            where in record.document_urls or where.endswith("/favicon.ico")
        ):
            return  # the document's own status (error pages are tested), or the browser's own favicon guess
        record.problems.append(f"console error: {message.text} ({where or 'no location'})")

    def on_response(response: Response) -> None:
        if response.request.resource_type == "document":
            record.document_urls.add(response.url)
        elif response.status >= 400:
            record.problems.append(f"{response.status} for {response.request.resource_type} {response.url}")

    def on_request_failed(request: Request) -> None:
        if request.failure == "net::ERR_ABORTED":
            return  # cancelled because the page moved on (a form submitted while pictures loaded): not broken
        record.problems.append(f"request failed ({request.failure}): {request.resource_type} {request.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: record.problems.append(f"script error: {error}"))
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    return page


def assert_no_page_problems(page: Page) -> None:
    """Fail on CSP violations (Chromium reports each as a console error), script errors or broken resources."""
    record = _WATCHES.get(page)
    if record is None or not record.problems:
        return
    found, record.problems = record.problems, []  # reported once, not again at teardown
    raise AssertionError(f"{page.url}: {len(found)} problem(s) in the browser:\n  " + "\n  ".join(found))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(TIMEOUT_MS)
    opened = watch(context.new_page())
    yield opened
    try:
        assert_no_page_problems(opened)
    finally:
        context.close()


# --- the live server -----------------------------------------------------------------------------


class _CurrentApp:
    """The WSGI app the session's server hands requests to: the running test's app, or a 503 between tests.

    One server and port for the whole session keeps NEWSLETTER_BASE_URL the same in every test, so an issue
    rendered once (the pipeline caches by content and address) is not rendered again for each test.
    """

    def __init__(self) -> None:
        self.app: Callable[..., Iterable[bytes]] | None = None

    def __call__(self, environ: dict, start_response: Callable[..., object]) -> Iterable[bytes]:
        app = self.app
        if app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"No browser test is running."]
        return app(environ, start_response)


@dataclass(frozen=True)
class _Serving:
    url: str
    current: _CurrentApp


def _wait_until_answering(url: str) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live server did not answer at {url}: {error}") from None
            time.sleep(0.05)  # poll interval inside a deadline, not a fixed wait


def _start_server() -> tuple[_Serving, Any, threading.Thread]:
    from waitress import create_server

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    host, port = sock.getsockname()
    current = _CurrentApp()
    server = create_server(current, sockets=[sock], threads=4)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    url = f"http://{host}:{port}"
    _wait_until_answering(url + "/")
    return _Serving(url=url, current=current), server, thread


def _stop_server(running: tuple[_Serving, Any, threading.Thread]) -> None:
    _, server, thread = running

    def close_everything() -> None:  # runs in the server's own loop; an empty socket map ends it
        for dispatcher in list(server._map.values()):
            dispatcher.close()

    server.trigger.pull_trigger(close_everything)
    thread.join(timeout=5)
    server.task_dispatcher.shutdown(timeout=5)
    assert not thread.is_alive(), "the live server did not stop"


_SERVER: _OnePerProcess[tuple[_Serving, Any, threading.Thread]] = _OnePerProcess(stop=_stop_server)


@pytest.fixture(scope="session")
def _serving() -> Iterator[_Serving]:
    """waitress on a free 127.0.0.1 port in a background thread, for the whole session."""
    with _SERVER.use(_start_server) as (serving, _, _):
        yield serving


@pytest.fixture
def settings(settings: Settings, _serving: _Serving, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The suite's settings, with public addresses on the live server, set before anything renders or serves."""
    monkeypatch.setenv("NEWSLETTER_BASE_URL", _serving.url)
    reset_settings()
    yield get_settings()
    reset_settings()


@pytest.fixture(params=["sqlite"])
def db(db: Settings) -> Settings:
    """The suite's `db`, SQLite half only: what a browser sees does not depend on the backend."""
    return db


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings

    def at(self, path: str) -> str:
        return f"{self.url}/{path.lstrip('/')}"


@pytest.fixture
def live_server(db: Settings, _serving: _Serving) -> Iterator[LiveServer]:
    """The real app, `create_app(settings)` on `db`'s database, answering at `live_server.url` for this test."""
    from newsletter.web import create_app

    _serving.current.app = create_app(db)
    yield LiveServer(url=_serving.url, settings=db)
    _serving.current.app = None


@pytest.fixture
def example_issue(live_server: LiveServer) -> str:
    """examples/co-production-week.yaml imported as a draft (its images copied to the media folder); its slug."""
    from newsletter.db import session_scope
    from newsletter.issues import service

    with session_scope() as session:
        issue, _ = service.import_issue(session, EXAMPLE, live_server.settings)
        return issue.slug


# --- helpers for tests ---------------------------------------------------------------------------


def _artifact_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")


def wait_for_images(page: Page) -> None:
    """Load lazy images too, so a full-page screenshot shows them; fails if any image is broken."""
    page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(img => { img.loading = 'eager'; })")
    page.wait_for_function("() => Array.from(document.images).every(img => img.complete)", timeout=TIMEOUT_MS)
    broken = page.evaluate(
        "() => Array.from(document.images).filter(img => img.naturalWidth === 0).map(img => img.currentSrc || img.src)"
    )
    assert not broken, f"{page.url}: images that did not load: {broken}"


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save test-artifacts/screenshots/<name>.png (the folder is gitignored; CI keeps it)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{_artifact_name(name)}.png"
    wait_for_images(page)
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="initial")
    return path


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact') or 'no impact given'}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"][:10]:
            target = " ".join(str(part) for part in node["target"])
            snippet = " ".join(node.get("html", "").split())
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    at {target}  {snippet[:160]}")
            lines.append(f"      {summary}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    ... and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Run axe-core (WCAG 2.0/2.1/2.2 A and AA) on the page as it is now and save its screenshot.

    Fails with every violation's rule id, impact and target selectors; the full axe result goes to
    test-artifacts/axe/<name>.json beside the screenshot. `full_page=False` keeps only the first
    screenful, for a page already pictured in full elsewhere (long pages cost seconds to encode).
    """
    assert_no_page_problems(page)
    shot = screenshot(page, name, full_page=full_page)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]})
    violations = results.response["violations"]
    if violations:
        report = ARTIFACTS / "axe" / f"{_artifact_name(name)}.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(violations, indent=2), encoding="utf-8")
        raise AssertionError(
            f"{name} ({page.url}): {len(violations)} WCAG 2.2 AA rule(s) failed in axe-core "
            f"(details in {report.relative_to(ROOT)}, screenshot {shot.relative_to(ROOT)}):\n{_describe(violations)}"
        )
    return shot


def set_text_size(page: Page, percent: int) -> None:
    """Text-only zoom, as a reader's browser text size setting does it: the root size, so every rem and em follows.

    Set through the CSSOM, which the page's CSP allows (it forbids style attributes in markup, not this). The
    devtools way (Page.setFontSizes) is undone by Playwright's full-page screenshots, so it is not used.
    """
    page.evaluate("percent => { document.documentElement.style.fontSize = percent + '%'; }", percent)
    expected = 16 * percent / 100
    page.wait_for_function(
        "expected => parseFloat(getComputedStyle(document.documentElement).fontSize) === expected", arg=expected
    )


# WCAG 1.4.12 text spacing: the values a reader's own style sheet may set, which must lose no content.
TEXT_SPACING_CSS = (
    "* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }"
    " p, li, figcaption, blockquote { margin-bottom: 2em !important; }"
)


def apply_text_spacing(page: Page) -> None:
    """Add the WCAG 1.4.12 spacing as a constructed style sheet (CSSOM, so the page's CSP allows it)."""
    page.evaluate(
        """css => {
            const sheet = new CSSStyleSheet();
            sheet.replaceSync(css);
            document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
        }""",
        TEXT_SPACING_CSS,
    )
    page.wait_for_function("() => getComputedStyle(document.body).letterSpacing !== 'normal'")


def assert_focus_visible(page: Page) -> int:
    """Every link, button and field shows a focus indicator (an outline of 2px or more, or a box shadow),
    and where the focus style paints its own background, the text on it keeps 4.5:1 contrast.

    Tab first so the browser is in keyboard mode, where :focus-visible applies to each element focused after.
    Returns how many elements were checked.
    """
    page.keyboard.press("Tab")
    found = page.evaluate(
        """() => {
            const selector = 'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])';
            const rgba = value => (value.match(/[\\d.]+/g) || []).map(Number);
            const luminance = ([r, g, b]) => {
                const [R, G, B] = [r, g, b].map(c => c / 255)
                    .map(c => c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
                return 0.2126 * R + 0.7152 * G + 0.0722 * B;
            };
            const ratio = (a, b) => {
                const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
                return (hi + 0.05) / (lo + 0.05);
            };
            const problems = [];
            let checked = 0;
            for (const el of document.querySelectorAll(selector)) {
                el.focus();
                if (document.activeElement !== el) continue;
                checked += 1;
                const style = getComputedStyle(el);
                const html = el.outerHTML.slice(0, 120);
                const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
                if (!outline && style.boxShadow === 'none') problems.push('no visible focus indicator: ' + html);
                const background = rgba(style.backgroundColor);
                if (background.length === 3 || background[3] === 1) {
                    const contrast = ratio(rgba(style.color), background);
                    if (contrast < 4.5) problems.push(`focused text contrast ${contrast.toFixed(2)}:1: ` + html);
                }
            }
            return {checked, problems};
        }"""
    )
    assert found["checked"] > 0, f"{page.url}: nothing on the page takes keyboard focus"
    assert not found["problems"], f"{page.url}: focus problems:\n  " + "\n  ".join(found["problems"])
    return int(found["checked"])


def assert_no_horizontal_scroll(page: Page, label: str) -> None:
    """WCAG 1.4.10 reflow: nothing wider than the viewport; names the elements that stick out if it fails."""
    sizes = page.evaluate(
        """() => {
            const root = document.documentElement;
            const width = root.clientWidth;
            const classes = el => typeof el.className === 'string' && el.className.trim()
                ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
            const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes(el);
            const wide = Array.from(document.body.querySelectorAll('*'))
                .filter(el => el.getBoundingClientRect().right > width + 1)
                .slice(0, 8)
                .map(el => describe(el) + ' right edge ' + Math.round(el.getBoundingClientRect().right) + 'px');
            return {scroll: root.scrollWidth, client: width, wide};
        }"""
    )
    assert sizes["scroll"] <= sizes["client"] + 1, (
        f"{label}: scrolls sideways ({sizes['scroll']}px of content in {sizes['client']}px); "
        f"too wide: {', '.join(sizes['wide']) or 'nothing visible (check margins)'}"
    )


TEAM_PASSWORD = "a long enough password"


def sign_in(page: Page, server: LiveServer, email: str, password: str = TEAM_PASSWORD) -> None:
    """Sign in to the composer through its real form, as a team member would."""
    from playwright.sync_api import expect

    page.goto(server.at("/team/sign-in"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Issues")).to_be_visible()
