"""`newsletter doctor`: is this installation ready to send, and what to do about anything that is not."""

from __future__ import annotations

import json
import sys
import textwrap

import click

from newsletter.cli.environment import EXIT_PROBLEM, settings

_MARKS = {"error": "ERROR  ", "warning": "WARNING", "ok": "OK     "}


@click.command()
@click.option("--json", "as_json", is_flag=True, help='Print {"ok": ..., "findings": [...]} for scripts.')
def doctor(as_json: bool) -> None:
    """Check the installation as configured: secret key, address, database, Redis, workers, SMTP, DKIM, SPF,
    DMARC, theme and disk. Exits 1 when anything is an error."""
    from newsletter.config import SettingsError
    from newsletter.doctor.findings import error
    from newsletter.doctor.runner import healthy, run_all

    try:
        findings = run_all(settings())
    except SettingsError as problem:  # a setting that stops every command is the first finding
        findings = [error("settings", str(problem))]
    ok = healthy(findings)
    if as_json:
        click.echo(json.dumps({"ok": ok, "findings": [finding.as_dict() for finding in findings]}, indent=2,
                              ensure_ascii=False))
    else:
        for finding in findings:
            click.echo(_shown(finding.level, finding.check, finding.message))
        errors = sum(finding.level == "error" for finding in findings)
        warnings = sum(finding.level == "warning" for finding in findings)
        click.echo(f"\n{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}.")
    if not ok:
        sys.exit(EXIT_PROBLEM)


def _shown(level: str, check: str, message: str) -> str:
    """Wrapped for a terminal, except the DNS record lines (indented), which must be copied whole."""
    lines = []
    for number, paragraph in enumerate(message.split("\n")):
        if paragraph.startswith("    "):
            lines.append("        " + paragraph.strip())
            continue
        first = f"{_MARKS[level]} {check}: " if number == 0 else " " * 9
        lines.append(textwrap.fill(paragraph, width=100, initial_indent=first, subsequent_indent=" " * 9))
    return "\n".join(lines)
