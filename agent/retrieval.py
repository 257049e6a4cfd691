"""Answering without a chat model: search for what the question is about and quote the best evidence
("On screen at 0:20–0:23: '…'"), never restating the question. In a thread, a temporal follow-up
("right after that", "before that", "what does she say next") reads the range next to the last moment."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from videoqa.memory.search import search
from videoqa.memory.store import Store
from videoqa.models.registry import IndexModels
from videoqa.tools.evidence import Evidence, Source, make_evidence

from .quoting import quote, span

_QUESTION_WORDS = set(
    "when where what which who whom whose why how does do did is are was were the a an at in on of to time "
    "point moment first last appear appears appeared show shows shown seen see happen happens video clip there "
    "can you tell me please find".split()
)
NO_MODEL_NOTE = ("Answered by retrieval only (no chat model configured); a model would give a fuller answer: set OPENAI_API_KEY, "
                 "or OPENAI_BASE_URL to a local OpenAI-compatible server, or use --chat local (see the README).")
FOLLOW_WINDOW = 15.0  # seconds read after (or before) the last moment for a temporal follow-up
_AFTER = re.compile(r"\b(after (that|this|it)|afterwards?|next|then|later|what follows|following)\b", re.I)
_BEFORE = re.compile(r"\b(before (that|this|it)|beforehand|earlier|previously|just before|prior to that)\b", re.I)
_WHEN = re.compile(r"^\s*(when|at what (time|point|moment)|what time|how long|find|show me)\b", re.I)
SPOKEN = (Source.SUBTITLE, Source.TRANSCRIPT)
TEXT_SOURCES = (*SPOKEN, Source.OCR, Source.CAPTION)


@dataclass
class RetrievalAnswer:
    text: str
    moments: list[dict]  # {video, start, end, why, evidence_ids}
    evidence: list[Evidence]
    query: str  # what was searched or read, for the progress line
    last: dict | None = field(default=None)  # the moment a follow-up in this thread would start from


def search_terms(question: str) -> str:
    """The words of a question that say what to look for ("when does the bird appear?" -> "bird")."""
    words = re.findall(r"[\w'-]+", question.lower())
    kept = [w for w in words if w not in _QUESTION_WORDS]
    return " ".join(kept) or question


def follow_up_direction(question: str) -> str | None:
    """"after" or "before" when the question is about the time next to the previous answer."""
    if _BEFORE.search(question):
        return "before"
    if _AFTER.search(question):
        return "after"
    return None


def retrieval_answer(store: Store, models: IndexModels, video_ids: list[str] | None, question: str,
                     last: dict | None = None, k: int = 3) -> RetrievalAnswer:
    """Answer `question` over `video_ids` (None: every indexed video); `last` is the thread's last moment."""
    direction = follow_up_direction(question)
    if last is not None and direction is not None:
        return _follow_up(store, last, direction)
    terms = search_terms(question)
    moments = search(store, models, terms, video_ids, k=5)
    if not moments:
        return RetrievalAnswer(f"Nothing in the index matches this question. {NO_MODEL_NOTE}", [], [], terms)
    if not _WHEN.search(question):
        # A what/who/where question is answered by words: hits found through text come before visual-tag hits.
        moments = sorted(moments, key=lambda m: (m.sources[0] not in TEXT_SOURCES, -m.score))
    best = moments[0].score
    chosen = [m for m in moments if m.score >= 0.8 * best][:k]
    evidence = [make_evidence(f"E{i + 1}", m.video, m.start, m.end, Source.SEARCH, m.text, m.thumbnail, via="+".join(m.sources))
                for i, m in enumerate(chosen)]
    names = {e["video"]: Path(store.video_row(e["video"]).path).name for e in evidence} if video_ids is None else {}
    quotes = [quote(e, 160, names.get(e["video"], "")) for e in evidence]
    if _WHEN.search(question):
        earliest = min(evidence, key=lambda e: (e["video"], e["start"]))
        where = f" in {names[earliest['video']]}" if names else ""
        text = f"The best match is at {span(evidence[0])}{where}. " + " ".join(q + "." for q in quotes)
        if earliest is not evidence[0]:
            text += f" The earliest match is at {span(earliest)}."
    else:
        text = " ".join(q + "." for q in quotes)
    out = [{"video": e["video"], "start": e["start"], "end": e["end"], "why": e["text"][:120], "evidence_ids": [e["id"]]} for e in evidence]
    return RetrievalAnswer(f"{text} {NO_MODEL_NOTE}", out, evidence, terms, out[0])


def _follow_up(store: Store, last: dict, direction: str) -> RetrievalAnswer:
    video = last["video"]
    duration = store.video_row(video).duration
    if direction == "after":
        start, end = last["end"], min(duration, last["end"] + FOLLOW_WINDOW)
        rows = [r for r in store.texts(video, start, end, SPOKEN + (Source.OCR,)) if r.start >= start - 0.1][:3]
    else:
        start, end = max(0.0, last["start"] - FOLLOW_WINDOW), last["start"]
        rows = [r for r in store.texts(video, start, end, SPOKEN + (Source.OCR,)) if r.end <= end + 0.1][-3:]
    label = "Right after that" if direction == "after" else "Just before that"
    if not rows:
        return RetrievalAnswer(f"{label}, nothing is said or written (read {start:.1f}-{end:.1f} s). {NO_MODEL_NOTE}", [], [],
                               f"{direction} {start:.1f}-{end:.1f} s", last)
    evidence = [make_evidence(f"E{i + 1}", video, r.start, r.end, r.source, r.text) for i, r in enumerate(rows)]
    text = f"{label}: " + " ".join(quote(e) + "." for e in evidence)
    first = evidence[0] if direction == "after" else evidence[-1]
    moment = {"video": video, "start": first["start"], "end": first["end"], "why": first["text"][:120], "evidence_ids": [first["id"]]}
    return RetrievalAnswer(f"{text} {NO_MODEL_NOTE}", [moment], evidence, f"{direction} {start:.1f}-{end:.1f} s", moment)
