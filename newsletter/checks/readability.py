"""Plain-English warnings for the words the team writes.

Many families reading the Local Offer news read English as a second language, have a learning
disability themselves, or read on a phone while caring for a child. Long paragraphs, long
sentences and long words all make that harder, so these are warnings the officer sees before
sending; they are never errors, because sometimes a long official name cannot be avoided.

Only running text is checked: the fields a block type marks as `Markdown` (newsletter/issues/blocks.py),
such as a text block, a story's body or a quote, so a new block type with prose is checked without
a change here. Headings, buttons and link labels are short by nature and would only produce noise.

The Flesch reading ease score uses textstat's word and sentence counts with textstat's English
constants, but counts syllables with Pyphen (the hyphenation dictionary textstat itself falls
back to). textstat's own `flesch_reading_ease` fetches the CMU pronouncing dictionary from the
internet on first use; on a council server without that access it raises instead of scoring, and
a check that needs the network at send time is not one we want. Pyphen slightly undercounts
syllables in some long words, so scores read a little kinder than textstat's.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import pyphen
import textstat
from markdown_it import MarkdownIt

from newsletter.checks.report import Finding
from newsletter.issues.blocks import IssueDocument
from newsletter.render.markdown import NAME_TAG

MAX_PARAGRAPH_WORDS = 100
MAX_SENTENCE_WORDS = 25
DEFAULT_MINIMUM_SCORE = 60.0
# Flesch scores swing wildly on a handful of words ("Great stuff!" or one long name), so a block
# needs this many words before it is scored for a warning.
MIN_WORDS_TO_SCORE = 20

# Flesch's 1948 English constants, the ones textstat uses for "en".
_FRE_BASE, _FRE_SENTENCE, _FRE_SYLLABLE = 206.835, 1.015, 84.6

# A sentence ends at . ! or ? (optionally closed by a quote or bracket) before a space and a capital,
# digit or opening quote, so "e.g. a form" and "£1.50" do not split.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


@dataclass(frozen=True)
class TextPart:
    """The plain words of one text-bearing block, split into paragraphs (list items count as one each)."""

    block: int  # 1-based position in the issue
    block_type: str
    paragraphs: list[str]

    @property
    def text(self) -> str:
        # Each paragraph ends a sentence, so a list of short items is not scored as one long sentence.
        return " ".join(p if p[-1] in ".!?" else p + "." for p in self.paragraphs if p)


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})


@functools.cache
def _hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_GB")


def paragraphs(markdown: str) -> list[str]:
    """Plain paragraphs of a markdown field, as readers see them (a reader's name reads as 'there')."""
    found: list[str] = []
    for token in _parser().parse(markdown):
        if token.type != "inline":
            continue
        parts: list[str] = []
        for child in token.children or []:
            if child.type in ("text", "text_special", "code_inline"):
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
        text = " ".join(NAME_TAG.sub("there", "".join(parts)).split())
        if text:
            found.append(text)
    return found


def text_parts(doc: IssueDocument) -> list[TextPart]:
    """The blocks whose running text is checked: every block type with a field marked Markdown."""
    found: list[TextPart] = []
    for position, block in enumerate(doc.blocks, start=1):
        if not block.markdown_fields():
            continue
        found.append(TextPart(position, block.type, [p for source in block.prose() for p in paragraphs(source)]))
    return found


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def sentences(paragraph: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(paragraph) if part.strip()]


def syllables(word: str) -> int:
    """Syllables in one word, by Pyphen's hyphenation points (textstat's own fallback method)."""
    return len(_hyphenator().positions(word.lower())) + 1


def flesch_reading_ease(text: str) -> float:
    """Flesch reading ease: 100 is very easy, 60-70 is plain English, below 30 is very hard."""
    word_count = textstat.lexicon_count(text)
    if word_count == 0:
        return 100.0
    sentence_count = max(1, textstat.sentence_count(text))
    syllable_count = sum(syllables(word) for word in words(text))
    return _FRE_BASE - _FRE_SENTENCE * (word_count / sentence_count) - _FRE_SYLLABLE * (syllable_count / word_count)


def reading_age(score: float) -> str:
    """Roughly what age a fluent reader must be to follow the text, from Flesch's grade bands (US grade + 5)."""
    if score >= 90:
        return "10 to 11"
    if score >= 80:
        return "11 to 12"
    if score >= 70:
        return "12 to 13"
    if score >= 60:
        return "13 to 15"
    if score >= 50:
        return "15 to 18"
    if score >= 30:
        return "18 to 21"
    return "21 and over"


def block_readability(doc: IssueDocument) -> list[tuple[int, float]]:
    """(1-based block position, Flesch reading ease) for each text block, short ones included."""
    return [(part.block, round(flesch_reading_ease(part.text), 1)) for part in text_parts(doc) if part.paragraphs]


def _start(text: str, count: int = 8) -> str:
    found = text.split()
    return " ".join(found[:count]) + (" …" if len(found) > count else "")


def readability_findings(doc: IssueDocument, minimum_score: float = DEFAULT_MINIMUM_SCORE) -> list[Finding]:
    """Warnings for long paragraphs, long sentences and hard-to-read blocks.

    English only: the Flesch formula and the syllable counts are English ones and would give
    meaningless scores for a Welsh or Arabic issue, so other languages get no readability findings.
    """
    if doc.language.split("-")[0].lower() != "en":
        return []
    findings: list[Finding] = []
    for part in text_parts(doc):
        for paragraph in part.paragraphs:
            paragraph_words = len(words(paragraph))
            if paragraph_words > MAX_PARAGRAPH_WORDS:
                findings.append(
                    Finding(
                        "warning",
                        "long-paragraph",
                        f'The paragraph starting "{_start(paragraph)}" has {paragraph_words} words. Long '
                        "paragraphs are hard to follow on a phone or with a screen magnifier; split it into "
                        f"paragraphs of {MAX_PARAGRAPH_WORDS} words or fewer, one idea each.",
                        part.block,
                    )
                )
            for sentence in sentences(paragraph):
                sentence_words = len(words(sentence))
                if sentence_words > MAX_SENTENCE_WORDS:
                    findings.append(
                        Finding(
                            "warning",
                            "long-sentence",
                            f'The sentence starting "{_start(sentence)}" has {sentence_words} words. Aim for '
                            f"{MAX_SENTENCE_WORDS} words or fewer: split it into two sentences, or turn a list "
                            "of things into bullet points.",
                            part.block,
                        )
                    )
        text = part.text
        if len(words(text)) < MIN_WORDS_TO_SCORE:
            continue
        score = flesch_reading_ease(text)
        if score < minimum_score:
            findings.append(
                Finding(
                    "warning",
                    "hard-to-read",
                    f"This text scores {score:.0f} for reading ease (aim for {minimum_score:.0f} or more), "
                    f"roughly a reading age of {reading_age(score)}. Many of our readers read "
                    "English as a second language: use shorter sentences and everyday words (for example "
                    '"help" rather than "assistance", "about" rather than "regarding").',
                    part.block,
                )
            )
    return findings
