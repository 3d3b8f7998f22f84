"""Spreadsheet-safe CSV cells, shared by the export and the import's problems file.

Names come from a public form, so a "name" such as `=HYPERLINK(...)` would run as a formula when an
officer opens the export in Excel (OWASP "CSV injection"). Such cells are written with a leading
apostrophe, which spreadsheets show as text; the importer removes it again, so an export can be
re-imported unchanged. Column headings get the same treatment: an imported file's headings become
attribute names, and those are the export's headings.
"""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def protect(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def unprotect(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2] and value[1:].startswith(_FORMULA_START) else value
