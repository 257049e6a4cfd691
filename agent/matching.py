"""Fuzzy, OCR-tolerant text matching for the answer check: is this name, number or phrase in that evidence?

OCR drops spaces ("TINASEELIG") and confuses letters, so text is compared lower-cased, without spaces and
punctuation, and a phrase matches when some window of the evidence is at least `MATCH` similar."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

MATCH = 0.8
# Words that say nothing about which evidence an answer rests on.
STOP = frozenset(
    "a an the and or but if then than that this these those there here it its it's is are was were be been being am do does "
    "did done has have had having of in on at to from by for with without about into onto over under after before during "
    "between through up down out off again further once only own same so too very can could will would shall should may "
    "might must not no nor yes all any both each few more most other some such what which who whom whose when where why how "
    "i me my we our you your he him his she her they them their video clip scene screen shown shows show seen see appears "
    "appear appeared says said say speaker person people text moment moments time times second seconds minute minutes "
    "evidence answer question about around also just like one first last then".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def squash(text: str) -> str:
    """Lower-case letters and digits only: 'Tina Seelig!' and 'TINASEELIG' both become 'tinaseelig'."""
    return "".join(_WORD.findall(text.lower()))


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if len(w) >= 3 and w not in STOP]


def found_in(phrase: str, text: str, threshold: float = MATCH) -> bool:
    """True when `phrase` occurs in `text` once squashed: exactly, or for 6+ letters with about one OCR slip
    per six letters (`threshold` at least)."""
    needle, hay = squash(phrase), squash(text)
    if not needle or not hay:
        return False
    if needle in hay:
        return True
    if len(needle) < 6 or len(hay) < len(needle) - 1:
        return False
    size = len(needle)
    threshold = max(threshold, 1 - 1.01 / size)
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(needle)  # b is the fixed side: SequenceMatcher caches its index
    for start in range(0, max(1, len(hay) - size + 1)):
        window = hay[start : start + size]
        matcher.set_seq1(window)
        if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold and matcher.ratio() >= threshold:
            return True
    return False


def related(claim: str, text: str) -> bool:
    """True when a content word of `claim` (a moment's why, an answer) is found in `text`."""
    return any(found_in(word, text, 0.85) for word in dict.fromkeys(content_words(claim)))
