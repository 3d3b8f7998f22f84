"""No example details left in the footer every email carries (the same check that stops a send)."""

from __future__ import annotations

from newsletter.checks.placeholders import placeholder_findings
from newsletter.config import Settings, SettingsError
from newsletter.doctor.findings import Finding, error, ok
from newsletter.theme import load_theme, with_overrides


def theme(settings: Settings) -> list[Finding]:
    try:
        base = load_theme(settings.theme_file)
    except SettingsError as problem:
        return [error("theme", f"{problem}.")]
    current = with_overrides(base, settings.database_url)
    found = [error("theme", finding.message) for finding in placeholder_findings(current)]
    return found or [ok("theme", f"The theme's footer has your own details ({current.organisation}).")]


__all__ = ["theme"]
