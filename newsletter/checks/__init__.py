"""Checks an issue must pass before it is sent: accessibility of the email, theme contrast, plain English.

`check_issue` is imported on first use so that importing a single check module (say, contrast from
the theme settings page) does not pull in the whole render pipeline.
"""

from __future__ import annotations

from typing import Any

from newsletter.checks.report import CheckReport, Finding

__all__ = ["CheckReport", "Finding", "check_issue"]


def __getattr__(name: str) -> Any:
    if name == "check_issue":
        from newsletter.checks.runner import check_issue

        return check_issue
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
