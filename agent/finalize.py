"""The answer node's last step: check the answer's claims, settle its moments, and write what the user
reads. An answer whose claims the evidence does not confirm is not presented as fact: it says what could
not be confirmed and quotes the evidence instead."""

from __future__ import annotations

from pathlib import Path

from videoqa.tools.context import ToolContext
from videoqa.tools.evidence import Evidence, Source

from .answer import AnswerMoment, Dropped, as_dicts, check_moments, is_negative
from .claims import check_claims
from .quoting import most_relevant, quote

UNCONFIRMED = "I could not confirm the answer from the video"


def asserted(text: str) -> str:
    """The part of a presented answer stated as fact: without the note listing what could not be confirmed."""
    if text.startswith(UNCONFIRMED):
        return text.split(". ", 1)[1] if ". " in text else ""
    return text


def compose_answer(text: str, question: str, stop: str, moments: list[AnswerMoment], dropped: list[Dropped],
                   proposed_any: bool, now: list[Evidence], earlier: list[Evidence], video: str,
                   durations: dict[str, float], context: ToolContext) -> dict:
    """{"answer", "moments", "dropped", "stop_reason"} for the thread's state and the Answer."""
    names = _names(video, now, context)
    negative = bool(text) and is_negative(text)
    if negative:
        dropped += [Dropped("moment", "the answer says this does not happen, so no moment shows it", m.start, m.end) for m in moments]
        moments = []
    claims = check_claims(text, now, question) if text else []
    unverified = [c for c in claims if not c.verified]
    dropped += [Dropped("claim", c.reason, claim=c.text) for c in unverified]
    if not text:
        best = most_relevant([e for e in now if e["source"] == Source.SEARCH] or now, question, 3)
        text = "I could not finish the analysis" + (f" ({_why(stop)})" if stop not in ("finished", "no_answer") else "") + "."
        if best:
            text += " The most relevant evidence found: " + " ".join(quote(e, 100, names.get(e["video"], "")) + "." for e in best)
            moments, _ = check_moments(_points_at(best), now, earlier, video, durations, question)
    elif unverified:
        injected = [c for c in unverified if c.reason.startswith("only found in video text")]
        plain = [c for c in unverified if c not in injected]
        parts = []
        if plain:
            parts.append("not found in the evidence: " + ", ".join(f"{c.text!r}" for c in plain))
        if injected:
            parts.append(f"{len(injected)} found only in video text that reads like an instruction to a model")
        shown = most_relevant(now, f"{question} {text}", 2)
        text = (f"{UNCONFIRMED} ({'; '.join(parts)}). "
                + ("What the evidence shows: " + " ".join(quote(e, 160, names.get(e["video"], "")) + "." for e in shown)
                   if shown else "Nothing gathered for this question shows it."))
        if not moments:  # the quoted evidence is what the user can open
            moments, _ = check_moments(_points_at(shown), now, earlier, video, durations, question)
    elif stop.startswith("budget") or stop == "max_steps":
        text += f" (Stopped early: {_why(stop)}; this answer uses what was found so far.)"
    if not moments and not proposed_any and not negative and not unverified:
        # The answer named no time: point at the search hit that best relates to it, if any does.
        hits = most_relevant([e for e in now if e["source"] == Source.SEARCH], f"{question} {text}", 1)
        moments, _ = check_moments(_points_at(hits), now, earlier, video, durations, f"{question} {text}")
    return {"answer": text, "moments": as_dicts(moments), "dropped": as_dicts(dropped), "stop_reason": stop}


def _points_at(items: list[Evidence]) -> list[dict]:
    return [{"start": e["start"], "end": e["end"], "why": "the most relevant evidence gathered", "evidence_ids": [e["id"]],
             "video_id": e["video"]} for e in items]


def _names(video: str, now: list[Evidence], context: ToolContext) -> dict[str, str]:
    """Video id -> file name, only when asking over the library (answers there must name their video)."""
    if video:
        return {}
    return {v: Path(context.video(v).path).name for v in {e["video"] for e in now}}


def _why(stop: str) -> str:
    if stop == "max_steps":
        return "the step limit was reached"
    if stop.startswith("budget:"):
        return f"the {stop.split(':', 1)[1]} budget ran out"
    return stop
