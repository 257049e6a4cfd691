"""The moment check: a moment stands only on evidence gathered for this question that overlaps it, carries
content (a search hit, a transcript/subtitle/OCR row, a caption of a short chunk, an inspection), is short
(a range-wide item backs nothing on its own) and relates to what the moment claims. Kept moments are
trimmed to their evidence; every refused moment is reported with its reason; no time is ever invented."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field

from videoqa.tools.evidence import CONTENT_SOURCES, Evidence
from videoqa.tools.quote import looks_like_instruction

from .claims import SHORT_ITEM, Claim
from .matching import related

OVERLAP_SLACK = 0.5  # seconds: rounding in a model's times
MAX_MOMENT = 60.0  # seconds: a longer moment, even trimmed to its evidence, points at nothing in particular
# A first sentence that says the thing does not happen ("There is no dog", "She never mentions Paris").
_NEGATIVE = re.compile(
    r"^\s*(no|none|nothing|never)\b|\bthere (is|are|was|were) no\b|\bno (such|mention|sign)\b|"
    r"\b(does not|doesn't|do not|don't|did not|didn't|is not|isn't|are not|aren't|was not|wasn't|never|cannot|can't|"
    r"could not|couldn't)\b[^.]{0,40}?\b(appear\w*|show\w*|happen\w*|mention\w*|visible|seen|found|find|say\w*|said|"
    r"occur\w*|present|contain\w*|in the video)\b", re.I)


@dataclass
class AnswerMoment:
    video: str
    start: float
    end: float
    why: str
    evidence_ids: list[str] = field(default_factory=list)


@dataclass
class Dropped:
    kind: str  # "moment" or "claim"
    reason: str
    start: float | None = None
    end: float | None = None
    claim: str = ""


def is_negative(answer: str) -> bool:
    """True when the answer's first sentence says the thing asked about does not happen."""
    first = re.split(r"(?<=[.!?])\s", answer.strip(), maxsplit=1)[0]
    return bool(_NEGATIVE.search(first))


def check_moments(proposed: list[dict], now: list[Evidence], earlier: list[Evidence], default_video: str,
                  durations: dict[str, float], answer: str = "") -> tuple[list[AnswerMoment], list[Dropped]]:
    """Keep the `proposed` moments that this question's evidence (`now`) backs; `earlier` is the thread's
    older evidence, which backs nothing but names the reason."""
    kept: list[AnswerMoment] = []
    dropped: list[Dropped] = []
    for raw in proposed:
        try:
            start, end = float(raw["start"]), float(raw.get("end") if raw.get("end") is not None else raw["start"])
        except (KeyError, TypeError, ValueError):
            dropped.append(Dropped("moment", f"no usable start/end in {json.dumps(raw, default=str)[:120]}"))
            continue
        if not (math.isfinite(start) and math.isfinite(end)):
            dropped.append(Dropped("moment", "a time is not a finite number", None, None))
            continue
        video = str(raw.get("video_id") or raw.get("video") or default_video)
        if video not in durations:
            dropped.append(Dropped("moment", f"unknown video {video!r}", start, end))
            continue
        duration = durations[video]
        start, end = min(start, end), max(start, end)
        if start >= duration or end < 0:
            dropped.append(Dropped("moment", f"outside the video (0-{duration:.1f} s)", start, end))
            continue
        start, end = max(0.0, start), min(duration, end)  # a moment that spills over an edge is clamped
        claim = f"{raw.get('why') or ''} {answer}"
        backing, reason = _backing(video, start, end, now, earlier, claim)
        if not backing:
            dropped.append(Dropped("moment", reason, start, end))
            continue
        kept.append(_trim(video, start, end, str(raw.get("why") or "")[:300], backing, raw.get("evidence_ids"), claim))
    return kept, dropped


def _backing(video: str, start: float, end: float, now: list[Evidence], earlier: list[Evidence], claim: str) -> tuple[list[Evidence], str]:
    """The items that back [start, end], or none and the reason."""
    def overlaps(e: Evidence) -> bool:
        return e["video"] == video and e["start"] - OVERLAP_SLACK <= end and e["end"] + OVERLAP_SLACK >= start

    near = [e for e in now if overlaps(e)]
    if not near:
        if any(overlaps(e) for e in earlier):
            return [], "only evidence from an earlier question covers this time"
        return [], "no evidence gathered for this question covers this time"
    content = [e for e in near if e["source"] in CONTENT_SOURCES]
    if not content:
        return [], f"only {', '.join(sorted({e['source'] for e in near}))} items (no content) cover this time"
    short = [e for e in content if e["end"] - e["start"] <= SHORT_ITEM]
    if not short:
        longest = max(e["end"] - e["start"] for e in content)
        return [], f"only range-wide evidence ({longest:.0f} s long) covers this time; it backs no moment on its own"
    clean = [e for e in short if not looks_like_instruction(e["text"])]
    if not clean:
        return [], "only video text that reads like an instruction to a model covers this time"
    relevant = [e for e in clean if related(claim, e["text"])]
    if not relevant:
        first = clean[0]
        return [], f"the evidence at this time ({first['id']}: {first['text'][:60]!r}) does not relate to the answer"
    return relevant, ""


def _trim(video: str, start: float, end: float, why: str, backing: list[Evidence], cited, claim: str) -> AnswerMoment:
    """The moment cut to the span its evidence covers (a point stays a point); cited ids first."""
    lo, hi = min(e["start"] for e in backing), max(e["end"] for e in backing)
    if end > start:
        start, end = max(start, lo), min(end, hi)
        if end < start:  # evidence only within the slack of the moment's edge
            start, end = lo, hi
    if end - start > MAX_MOMENT:
        best = backing[0]
        start, end = max(start, best["start"]), min(end, best["end"])
    cited = [i for i in (cited or []) if isinstance(i, str)]
    ids = [e["id"] for e in backing if e["id"] in cited] + [e["id"] for e in backing if e["id"] not in cited]
    return AnswerMoment(video, start, end, why, ids)


def unverified_note(claims: list[Claim]) -> str:
    missing = [c for c in claims if not c.verified]
    return ", ".join(f"{c.text!r} ({c.kind})" for c in missing)


_MOMENT_WORD = re.compile(r"(?:\b(?:at|from|to|until|till|around|about|between|and|by|after|before|starting|ending)|[-–])$")
_TIME = re.compile(r"\b(?:(\d{1,2}):)?(\d{1,2}):(\d{2}(?:\.\d+)?)\b|\b(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds)\b")


def moments_from_text(text: str) -> list[dict]:
    """Times written as points in a free-text answer ("at 0:17", "from 12.5 s to 15 s") as moments to be
    checked like any other. A duration ("lasts 2 seconds") is not a time."""
    found = []
    for match in _TIME.finditer(text):
        if match.group(4):
            before = text[: match.start()].rstrip().lower()
            if not _MOMENT_WORD.search(before):
                continue
            seconds = float(match.group(4))
        else:
            seconds = float(match.group(1) or 0) * 3600 + float(match.group(2)) * 60 + float(match.group(3))
        found.append({"start": seconds, "end": seconds, "why": "time named in the answer"})
    return found


def parse_final(content: str) -> tuple[str, list[dict]]:
    """An answer written as JSON ({"answer", "moments"}) or as plain text with times in it."""
    text = (content or "").strip()
    block = re.search(r"\{.*\}", text, re.S)
    if block:
        try:
            data = json.loads(block.group(0))
            if isinstance(data, dict) and "answer" in data:
                moments = data.get("moments") if isinstance(data.get("moments"), list) else []
                return str(data["answer"]), [m for m in moments if isinstance(m, dict)]
        except json.JSONDecodeError:
            pass
    return text, moments_from_text(text)


def as_dicts(items) -> list[dict]:
    return [asdict(i) for i in items]
