"""Every error a person reads derives from `NewsletterError`, so the command line reports it in one place.

Read from the source with `ast`: each exception class in newsletter/ and subscribers/ either derives
from NewsletterError or is named below as one that only steers the code.
"""

from __future__ import annotations

import ast
import builtins

import pytest
from click.testing import CliRunner

from newsletter.errors import NewsletterError, NotAllowed
from tests.conftest import ROOT

# Errors no person reads: the code catches them and decides what to do (retry, slow down, skip a
# server), or they guard against a programming mistake.
STEERING = {
    "DeliveryError": "the transport's report of a mail server's reply; callers say what it means",
    "TemporaryFailure": "a 4xx reply or lost connection: retried",
    "PermanentFailure": "a 5xx reply: the row bounces",
    "LimiterUnavailable": "the shared rate limit cannot be reached: the worker waits",
    "DailyQuotaReached": "the day's quota is used: the worker waits",
    "_ServerUnreachable": "one SMTP server is down: its rows go back to the queue",
    "FormMismatch": "a block form that does not fit its model; raised when the module loads",
    "ConsentLogIsAppendOnly": "guards the consent log against an update or delete in code",
}
BUILT_IN = {name for name, value in vars(builtins).items()
            if isinstance(value, type) and issubclass(value, BaseException)}


def _exception_classes() -> dict[str, list[str]]:
    """Every class in the two packages whose bases name an exception, with its base names."""
    classes: dict[str, list[str]] = {}
    for package in ("newsletter", "subscribers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    bases = [base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                             for base in node.bases]
                    classes.setdefault(node.name, []).extend(bases)  # two classes of one name: either's bases
    return classes


def _is_exception(name: str, classes: dict[str, list[str]]) -> bool:
    return name in BUILT_IN or any(_is_exception(base, classes) for base in classes.get(name, ()))


def _reaches(name: str, target: str, classes: dict[str, list[str]]) -> bool:
    return name == target or any(_reaches(base, target, classes) for base in classes.get(name, ()))


def test_every_error_a_person_reads_is_a_newsletter_error() -> None:
    classes = _exception_classes()
    errors = {name for name in classes if _is_exception(name, classes)}
    assert {"SendRefused", "InvalidIssue", "SubscribersError", "HeaderValueError", "SettingsError"} <= errors
    outside = sorted(name for name in errors if not _reaches(name, "NewsletterError", classes)
                     and not any(_reaches(name, steering, classes) for steering in STEERING))
    assert outside == []


def test_header_value_error_is_still_a_value_error() -> None:
    from newsletter.headersafe import HeaderValueError

    assert issubclass(HeaderValueError, ValueError) and issubclass(HeaderValueError, NewsletterError)


def test_there_is_one_not_allowed() -> None:
    from newsletter.issues import workflow
    from subscribers import errors

    assert workflow.NotAllowed is errors.NotAllowed is NotAllowed


@pytest.mark.parametrize("exit_code, error", [(2, "SettingsError"), (1, "NotAllowed")])
def test_the_command_line_reports_any_newsletter_error_as_one_line(exit_code: int, error: str) -> None:
    from newsletter.cli import main
    from newsletter.config import SettingsError

    kind = {"SettingsError": SettingsError, "NotAllowed": NotAllowed}[error]

    @main.command("raise-for-test")
    def raise_for_test() -> None:
        raise kind("a sentence for the person at the terminal")

    try:
        result = CliRunner().invoke(main, ["raise-for-test"])
    finally:
        main.commands.pop("raise-for-test")
    assert result.exit_code == exit_code
    assert result.output.strip() == "Error: a sentence for the person at the terminal"
