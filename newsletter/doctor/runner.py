"""Every doctor check, in the order a person would fix things; a check that breaks is a finding."""

from __future__ import annotations

import logging
from collections.abc import Callable

from newsletter.config import Settings
from newsletter.doctor import database, disk, mail_dns, settings as settings_checks, smtp, theme, workers
from newsletter.doctor.findings import Finding, error

log = logging.getLogger(__name__)

Check = Callable[[Settings], list[Finding]]

CHECKS: list[tuple[str, Check]] = [
    ("secret-key", settings_checks.secret_key),
    ("base-url", settings_checks.base_url),
    ("database", database.database),
    ("redis", workers.redis_server),
    ("workers", workers.celery_workers),
    ("scheduler", workers.scheduler),
    ("smtp", smtp.smtp_servers),
    ("dkim", mail_dns.dkim_key),
    ("from-domain", mail_dns.sender_domain),
    ("theme", theme.theme),
    ("disk", disk.disk),
]


def run_all(settings: Settings) -> list[Finding]:
    findings: list[Finding] = []
    for name, check in CHECKS:
        try:
            findings += check(settings)
        except Exception as problem:  # noqa: BLE001 — one broken check must not hide the others' findings
            log.warning("doctor check %s failed", name, exc_info=True)
            findings.append(error(name, f"This check could not run: {type(problem).__name__}: {problem}"))
    return findings


def healthy(findings: list[Finding]) -> bool:
    return not any(finding.level == "error" for finding in findings)


__all__ = ["CHECKS", "healthy", "run_all"]
