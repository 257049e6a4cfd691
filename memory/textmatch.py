"""Text as OCR and speech give it: normalised so that spacing, case and the usual OCR confusions do not
stop a match, and compared fuzzily (RapidFuzz) so one wrong letter does not either."""

from __future__ import annotations

import re

from rapidfuzz import fuzz

# Characters OCR confuses, mapped to one of each family: l/I/1/| and O/0 look alike on screen.
_CONFUSIONS = str.maketrans({"l": "i", "1": "i", "|": "i", "0": "o", "5": "s", "8": "b"})


MEANINGFUL = 8  # squashed characters: a shorter scrap of text is not matched inside a longer query


def squash(text: str) -> str:
    """Lower case letters and digits only, OCR look-alikes folded: "Big Buck BUNNY" -> "bigbuckbunny"."""
    return "".join(re.findall(r"[a-z0-9|]+", text.lower())).translate(_CONFUSIONS)


def similarity(a: str, b: str) -> float:
    """0-100: RapidFuzz ratio of the two texts squashed."""
    return fuzz.ratio(squash(a), squash(b))


def same_words(a: str, b: str, threshold: float) -> bool:
    """Whether two texts say the same once squashed: `similarity` at least `threshold`, so two reads of one
    line that differ by a letter agree."""
    return similarity(a, b) >= threshold


def fuzzy_containment(query: str, text: str) -> float:
    """0-1: how well the squashed query appears inside the squashed text (1 = verbatim, as a substring).
    A best-matching window of the text is compared, so a short name inside a long credits line counts."""
    q, t = squash(query), squash(text)
    if len(q) < 3 or not t:
        return 0.0
    if q in t:
        return 1.0
    if len(t) < len(q):
        # Text shorter than the query (one line of a card the query quotes whole): how well it appears inside
        # the query, weighed by how much of the query it covers. A scrap too short to mean much is compared whole.
        similarity = fuzz.partial_ratio(q, t) if len(t) >= MEANINGFUL else fuzz.ratio(q, t)
        return similarity / 100.0 * (len(t) / len(q)) ** 0.5
    return fuzz.partial_ratio(q, t) / 100.0
