"""The answer check: every moment must lie inside its video and overlap gathered evidence. Moments that
fail are repaired (clamped into the video) or dropped, with the reason kept; no time is ever invented."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from .state import Evidence

SUPPORT_SLACK = 2.0  # seconds: a moment this close to an evidence item counts as backed by it
_TIME = re.compile(r"\b(?:(\d{1,2}):)?(\d{1,2}):(\d{2}(?:\.\d+)?)\b|\b(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds)\b")


@dataclass
class AnswerMoment:
    video: str
    start: float
    end: float
    why: str
    evidence_ids: list[str] = field(default_factory=list)


@dataclass
class Dropped:
    start: float | None
    end: float | None
    reason: str


def check_moments(proposed: list[dict], evidence: list[Evidence], default_video: str, durations: dict[str, float]) -> tuple[list[AnswerMoment], list[Dropped]]:
    by_id = {e["id"]: e for e in evidence}
    kept: list[AnswerMoment] = []
    dropped: list[Dropped] = []
    for raw in proposed:
        try:
            start, end = float(raw["start"]), float(raw.get("end", raw["start"]))
        except (KeyError, TypeError, ValueError):
            dropped.append(Dropped(None, None, f"no usable start/end in {json.dumps(raw)[:120]}"))
            continue
        video = str(raw.get("video") or default_video)
        if video not in durations:
            dropped.append(Dropped(start, end, f"unknown video {video!r}"))
            continue
        duration = durations[video]
        if end < start:
            start, end = end, start
        if start >= duration or end < 0:
            dropped.append(Dropped(start, end, f"outside the video (0-{duration:.1f} s)"))
            continue
        start, end = max(0.0, start), min(duration, end)  # repair: clamp a moment that spills over an edge
        cited = [i for i in raw.get("evidence_ids") or [] if isinstance(i, str) and i in by_id]
        backing = [e for e in evidence if e["video"] == video and _near(e, start, end)]
        cited = [i for i in cited if _near(by_id[i], start, end)] or [e["id"] for e in backing]
        if not cited:
            dropped.append(Dropped(start, end, "no gathered evidence covers this time"))
            continue
        kept.append(AnswerMoment(video, start, end, str(raw.get("why") or "")[:300], cited))
    return kept, dropped


def _near(item: Evidence, start: float, end: float) -> bool:
    return item["start"] - SUPPORT_SLACK <= end and item["end"] + SUPPORT_SLACK >= start


def moments_from_text(text: str) -> list[dict]:
    """Times written in a free-text answer ("at 0:17", "12.5 s"), as moments to be checked like any other."""
    found = []
    for match in _TIME.finditer(text):
        if match.group(4):
            seconds = float(match.group(4))
        else:
            hours = float(match.group(1) or 0)
            seconds = hours * 3600 + float(match.group(2)) * 60 + float(match.group(3))
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
