"""Acronyms and jargon: warnings for words many families will not know.

SEND services run on acronyms (EHCP, SENCO, CAMHS). A parent new to the system, or reading in a
second language, cannot look them up mid-sentence, so the first use of an acronym in an issue
should spell it out: "education, health and care plan (EHCP)". After that the short form is fine.
Some officer words have everyday ones that say the same thing; the warning offers them.

Everything here is a warning, never an error: the team decides. Only English issues are checked.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from newsletter.checks.report import Finding
from newsletter.issues.blocks import IssueDocument
from newsletter.render.markdown import strip_markup

# What the team's readers will meet most; used to suggest the words to write out.
KNOWN_ACRONYMS = {
    "ADHD": "attention deficit hyperactivity disorder",
    "ASC": "autism spectrum condition",
    "ASD": "autism spectrum disorder",
    "CAMHS": "child and adolescent mental health services",
    "CYP": "children and young people",
    "DLA": "Disability Living Allowance",
    "EHC": "education, health and care",
    "EHCP": "education, health and care plan",
    "EP": "educational psychologist",
    "IASS": "information, advice and support service",
    "LA": "local authority",
    "OT": "occupational therapist",
    "PCF": "parent carer forum",
    "PFA": "preparing for adulthood",
    "PIP": "Personal Independence Payment",
    "SALT": "speech and language therapy",
    "SEN": "special educational needs",
    "SENCO": "special educational needs co-ordinator",
    "SEND": "special educational needs and disabilities",
    "SENDIASS": "SEND information, advice and support service",
    "SEMH": "social, emotional and mental health",
}
# Short forms everyone reading a UK council newsletter already knows.
EVERYDAY_ACRONYMS = frozenset({"UK", "NHS", "GP", "OK", "TV", "PDF", "FAQ", "AM", "PM", "BBC", "ID", "URL", "A", "I"})

# Officer words and the everyday words that say the same.
PLAINER_WORDS = {
    "signpost": "point you to",
    "signposting": "pointing people to",
    "provision": "support (or say which service)",
    "facilitate": "help, run",
    "stakeholders": "people involved (say who)",
    "cohort": "group",
    "utilise": "use",
    "commence": "start",
    "in receipt of": "getting",
    "prior to": "before",
    "in order to": "to",
    "going forward": "from now on",
}

_ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Z&]{1,7})(s?)(?![\w-])")
_PHRASES = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(PLAINER_WORDS, key=len, reverse=True)) + r")\b",
                      re.IGNORECASE)


def _plain(markdown: str) -> str:
    return html.unescape(strip_markup(markdown))


def visible_text(doc: IssueDocument) -> Iterator[tuple[int | None, str]]:
    """(1-based block or None for the issue's own fields, text) in reading order."""
    yield None, doc.title
    if doc.preheader:
        yield None, doc.preheader
    # Each block type marks the fields a reader sees (Words, Markdown) on its model, links included.
    for position, block in enumerate(doc.blocks, start=1):
        for value, is_markdown in block.visible_words():
            yield position, _plain(value) if is_markdown else value


def _explained(text: str, start: int, end: int) -> bool:
    """The acronym at text[start:end] comes with its long form: "long form (ACR)" or "ACR (long form)"."""
    before = text[max(0, start - 1):start]
    after = text[end:end + 2]
    return before == "(" or after.startswith(" (") or after.startswith("(")


def _acronym_finding(acronym: str, block: int | None, *, explained_later: bool) -> Finding:
    long_form = KNOWN_ACRONYMS.get(acronym)
    example = f'"{long_form} ({acronym})"' if long_form else f'the words in full, then "({acronym})"'
    if explained_later:
        message = (f"{acronym} is spelled out, but only after it is first used here. Move the long form to "
                   f"its first use: {example}.")
    else:
        message = (f"{acronym} is used without being spelled out. Many families will not know it: the first "
                   f"time, write {example}; after that {acronym} on its own is fine.")
    return Finding("warning", "acronym", message, block)


def jargon_findings(doc: IssueDocument) -> list[Finding]:
    """One warning per acronym not spelled out at its first use, and per officer word.

    The title and preview text are exempt from the order rule (they are short by nature, and the
    reader meets the explanation straight after), but an acronym they use must be explained somewhere.
    """
    if doc.language.split("-")[0].lower() != "en":
        return []
    findings: list[Finding] = []
    first_use: dict[str, int | None] = {}
    first_in_body: dict[str, int] = {}
    explained: set[str] = set()
    late: dict[str, int | None] = {}
    said: set[str] = set()
    for block, text in visible_text(doc):
        for match in _ACRONYM.finditer(text):
            acronym = match.group(1)
            if acronym in EVERYDAY_ACRONYMS or "&" in acronym:
                continue
            here = _explained(text, match.start(), match.end())
            if acronym not in first_use:
                first_use[acronym] = block
            if block is not None and acronym not in first_in_body:
                first_in_body[acronym] = block
            if here and acronym not in explained:
                explained.add(acronym)
                first = first_in_body.get(acronym)
                if first is not None and first != block:
                    late[acronym] = first
        for match in _PHRASES.finditer(text):
            word = match.group(1).lower()
            if word in said:
                continue
            said.add(word)
            findings.append(Finding(
                "warning", "jargon",
                f'"{match.group(1)}" is an officer word. Try "{PLAINER_WORDS[word]}" instead.',
                block,
            ))
    for acronym, block in first_use.items():
        if acronym not in explained:
            findings.append(_acronym_finding(acronym, block, explained_later=False))
        elif acronym in late:
            findings.append(_acronym_finding(acronym, late[acronym], explained_later=True))
    return findings
