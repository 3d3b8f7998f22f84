"""The harness itself: a checker that never fails proves nothing, so each check is shown failing once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import (
    ARTIFACTS,
    SCREENSHOTS,
    assert_accessible,
    assert_focus_visible,
    assert_no_horizontal_scroll,
    assert_no_page_problems,
)

pytestmark = pytest.mark.browser

BROKEN = """<!doctype html><html><head><title>Broken</title></head><body>
<main><p class="pale">Pale grey words</p>
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==">
<a href="#x"></a></main>
<style>.pale { color: #c8c8c8; }</style></body></html>"""


def test_axe_failure_names_rule_impact_and_target(page: Page) -> None:
    page.set_content(BROKEN)
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, "harness-self-test")
    message = str(failure.value)
    for rule in ("html-has-lang", "image-alt", "color-contrast", "link-name"):
        assert f"- {rule} (" in message
    assert "- image-alt (critical)" in message
    assert "at p  <p class=\"pale\">Pale grey words</p>" in message
    report, shot = ARTIFACTS / "axe" / "harness-self-test.json", SCREENSHOTS / "harness-self-test.png"
    assert report.is_file() and shot.is_file()
    report.unlink()  # not a page anyone needs to look at
    shot.unlink()
    if not any(report.parent.iterdir()):
        report.parent.rmdir()


def test_csp_violations_are_caught(page: Page) -> None:
    page.set_content(
        "<!doctype html><html lang='en'><head><meta http-equiv='Content-Security-Policy' content=\"style-src 'self'\">"
        "<title>CSP</title></head><body><p style='color: red'>Inline style</p></body></html>"
    )
    page.wait_for_function("() => document.readyState === 'complete'")
    with pytest.raises(AssertionError, match="Content Security Policy"):
        assert_no_page_problems(page)


def test_sideways_scrolling_is_caught_and_the_culprit_named(page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.set_content("<!doctype html><html lang='en'><body><div class='wide'>x</div>"
                     "<style>.wide { width: 500px; }</style></body></html>")
    with pytest.raises(AssertionError, match=r"div\.wide right edge"):
        assert_no_horizontal_scroll(page, "a wide block")


def test_missing_focus_indicator_is_caught(page: Page) -> None:
    page.set_content("<!doctype html><html lang='en'><body><a href='#a'>A link</a> <a href='#b' class='pale'>B</a>"
                     "<style>a:focus { outline: none; } .pale:focus { outline: 3px solid; background: #ffdd00;"
                     " color: #ffffff; }</style></body></html>")
    with pytest.raises(AssertionError) as failure:
        assert_focus_visible(page)
    assert "no visible focus indicator: <a href=\"#a\">" in str(failure.value)
    assert "focused text contrast 1.3" in str(failure.value)
