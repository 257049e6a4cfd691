"""The claim check: names, numbers, quoted words and times in an answer must be found in the evidence
gathered for this question (fuzzily, OCR-tolerant), or they are unverified.

Evidence that reads like an instruction to a model (a likely prompt injection in the video) supports
nothing. Words the user's own question contains are not claims of the answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from videoqa.tools.evidence import CONTENT_SOURCES, Evidence
from videoqa.tools.quote import looks_like_instruction

from .matching import STOP, found_in, squash, words

TIME_SLACK = 1.0  # seconds: a time named in the answer must lie this close to a content item of this question
SHORT_ITEM = 30.0  # seconds: an item longer than this (a whole-range caption, a long inspection) backs no time
_QUOTE = re.compile(r'"([^"]{2,200})"|“([^”]{2,200})”|(?<![\w])\'([^\']{3,200})\'(?![\w])')
_CLOCK = re.compile(r"\b(?:(\d{1,2}):)?(\d{1,2}):(\d{2})(?:\.\d+)?\b")
_SECONDS = re.compile(r"\b(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds)\b")
_RANGE = re.compile(r"\b(\d+(?:\.\d+)?)\s*[-–]\s*(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds)\b")
_EVIDENCE_ID = re.compile(r"\bE\d+\b")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")
_NAME_RUN = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of|de|van|von|la|du)?\s*[A-Z][\w'’.-]*)*")
NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty".split())}
NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
                     "hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000})
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|\n)$")


@dataclass(frozen=True)
class Claim:
    text: str  # as the answer wrote it
    kind: str  # "name", "number", "quote" or "time"
    verified: bool
    reason: str = ""  # why not verified


def extract(answer: str) -> list[tuple[str, str]]:
    """(text, kind) of each checkable claim in `answer`: quotes, times, numbers and names, in that order."""
    claims: list[tuple[str, str]] = []
    rest = _EVIDENCE_ID.sub(" ", answer)
    for match in _QUOTE.finditer(rest):
        claims.append((next(g for g in match.groups() if g), "quote"))
    rest = _QUOTE.sub(" ", rest)
    for pattern in (_RANGE, _CLOCK, _SECONDS):
        for match in pattern.finditer(rest):
            claims.append((match.group(0), "time"))
        rest = pattern.sub(" ", rest)
    for match in _NUMBER.finditer(rest):
        claims.append((match.group(0), "number"))
    for word in words(rest):
        if word in NUMBER_WORDS and NUMBER_WORDS[word] >= 2:
            claims.append((word, "number"))
    for match in _NAME_RUN.finditer(rest):
        parts = match.group(0).split()
        while parts and parts[0].lower() in STOP:  # "The Louvre" -> "Louvre"; "She" -> nothing
            parts = parts[1:]
        if not parts:
            continue
        at_start = _SENTENCE_START.search(rest[: match.start()]) is not None
        if at_start and len(parts) == 1 and not parts[0].isupper() and parts[0] == match.group(0).split()[0]:
            continue  # a capitalised first word of a sentence is usually just a word
        claims.append((" ".join(parts).strip(".'’"), "name"))
    return list(dict.fromkeys(claims))


def check_claims(answer: str, evidence: list[Evidence], question: str = "") -> list[Claim]:
    """Each claim of `answer`, verified or not against this question's `evidence`."""
    usable = [e for e in evidence if not looks_like_instruction(e["text"])]
    suspect = [e for e in evidence if looks_like_instruction(e["text"])]
    texts = [e["text"] for e in usable]
    checked = []
    for text, kind in extract(answer):
        if kind != "time" and found_in(text, question, 1.0):
            checked.append(Claim(text, kind, True))  # the user said it: not the answer's claim
            continue
        if kind == "time":
            ok = _time_backed(text, usable)
        elif kind == "number":
            ok = _number_found(text, texts)
        else:
            ok = any(found_in(text, t) for t in texts)
        if ok:
            checked.append(Claim(text, kind, True))
        elif kind != "time" and any(found_in(text, e["text"]) for e in suspect):
            checked.append(Claim(text, kind, False, "only found in video text that reads like an instruction to a model"))
        else:
            what = "nothing gathered for this question is at that time" if kind == "time" else "not found in the evidence gathered for this question"
            checked.append(Claim(text, kind, False, what))
    return checked


def claim_times(text: str) -> list[float]:
    """The seconds a time claim names ("0:17", "12.5 s", "12-15 s" -> both ends)."""
    if match := _RANGE.fullmatch(text):
        return [float(match.group(1)), float(match.group(2))]
    if match := _CLOCK.fullmatch(text):
        return [float(match.group(1) or 0) * 3600 + float(match.group(2)) * 60 + float(match.group(3))]
    if match := _SECONDS.fullmatch(text):
        return [float(match.group(1))]
    return []


def _time_backed(text: str, evidence: list[Evidence]) -> bool:
    times = claim_times(text)
    content = [e for e in evidence if e["source"] in CONTENT_SOURCES and e["end"] - e["start"] <= SHORT_ITEM]
    return bool(times) and all(any(e["start"] - TIME_SLACK <= t <= e["end"] + TIME_SLACK for e in content) for t in times)


def _number_found(text: str, texts: list[str]) -> bool:
    forms = {squash(text)}
    value = NUMBER_WORDS.get(text.lower())
    if value is not None:
        forms.add(str(value))
    elif text.isdigit():
        forms.update(w for w, v in NUMBER_WORDS.items() if str(v) == text)
    return any(form in words(t) or form in set(words(t.replace(",", ""))) for t in texts for form in forms)
