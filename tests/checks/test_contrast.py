"""Contrast maths against known WCAG values, and the theme check on good and bad themes."""

from __future__ import annotations

import pytest

from newsletter.checks.contrast import THEME_PAIRS, contrast_ratio, relative_luminance, theme_findings
from newsletter.theme import Theme


def test_black_on_white_is_21():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#000", "#fff") == pytest.approx(21.0)


def test_grey_777_on_white_is_just_under_the_minimum():
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_known_values():
    # Reference values from the WCAG formula (as WebAIM's checker reports them).
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#0000ff", "#ffffff") == pytest.approx(8.59, abs=0.01)
    assert contrast_ratio("#ff0000", "#ffffff") == pytest.approx(4.0, abs=0.01)


def test_order_and_case_do_not_matter():
    assert contrast_ratio("#FFFFFF", "#1d4f91") == pytest.approx(contrast_ratio("#1d4f91", "#ffffff"))


def test_same_colour_is_1():
    assert contrast_ratio("#1d4f91", "#1d4f91") == pytest.approx(1.0)


def test_luminance_ends():
    assert relative_luminance("#000000") == pytest.approx(0.0)
    assert relative_luminance("#ffffff") == pytest.approx(1.0)


def test_not_a_colour_is_refused():
    with pytest.raises(ValueError):
        contrast_ratio("grey", "#ffffff")


def test_default_theme_passes():
    assert theme_findings(Theme()) == []


@pytest.mark.parametrize(("foreground", "background"), [(pair[0], pair[1]) for pair in THEME_PAIRS])
def test_each_pair_is_checked(foreground: str, background: str):
    # A pale foreground on white: only this pair may be reported. Light pairs set the background pale.
    theme = Theme(**{background: "#ffffff", foreground: "#999999"})
    findings = theme_findings(theme)
    assert findings, f"{foreground} on {background} was not checked"
    assert all(f.level == "error" and f.code == "low-contrast" for f in findings)
    assert any(foreground in f.message and background in f.message for f in findings)


def test_just_under_fails_and_just_over_passes():
    assert [f.code for f in theme_findings(Theme(muted_colour="#777777"))] == ["low-contrast", "low-contrast"]
    assert theme_findings(Theme(muted_colour="#595959")) == []


def test_message_says_which_way_to_change():
    grey_button = theme_findings(Theme(button_text_colour="#aaaaaa"))
    assert len(grey_button) == 1
    assert "button_text_colour lighter" in grey_button[0].message
    pale_text = theme_findings(Theme(text_colour="#aaaaaa"))
    assert pale_text and all("text_colour darker" in f.message for f in pale_text)
