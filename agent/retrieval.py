"""Answering without a chat model: search for what the question is about, cite the best moments."""

from __future__ import annotations

import re

from videoqa.memory.search import Moment, search
from videoqa.memory.store import Store
from videoqa.models.registry import IndexModels

from .state import Evidence

_QUESTION_WORDS = set(
    "when where what which who whom whose why how does do did is are was were the a an at in on of to time "
    "point moment first last appear appears appeared show shows shown seen see happen happens video clip there "
    "can you tell me please find".split()
)
NO_MODEL_NOTE = ("Answered by retrieval only (no chat model configured); a model would give a fuller answer: set OPENAI_API_KEY, "
                 "or OPENAI_BASE_URL to a local OpenAI-compatible server (see the README).")


def search_terms(question: str) -> str:
    """The words of a question that say what to look for ("when does the bird appear?" -> "bird")."""
    words = re.findall(r"[\w'-]+", question.lower())
    kept = [w for w in words if w not in _QUESTION_WORDS]
    return " ".join(kept) or question


def retrieval_answer(store: Store, models: IndexModels, video_id: str, question: str, k: int = 3) -> tuple[str, list[Moment], list[Evidence]]:
    terms = search_terms(question)
    moments = search(store, models, terms, [video_id], k=5)
    if not moments:
        return f"Nothing in the index matches {terms!r}. {NO_MODEL_NOTE}", [], []
    best = moments[0].score
    chosen = sorted([m for m in moments if m.score >= 0.8 * best][:k], key=lambda m: m.start)
    evidence = [Evidence(id=f"E{i + 1}", video=m.video, start=m.start, end=m.end, source="+".join(m.sources), text=m.text,
                         thumbnail=m.thumbnail) for i, m in enumerate(chosen)]
    spans = "; ".join(f"{_clock(m.start)}–{_clock(m.end)} ({', '.join(m.sources)}: {m.text[:60]})" for m in chosen)
    first = chosen[0]
    text = (f"The best matches for {terms!r} are at {spans}. The earliest is at {_clock(first.start)}. {NO_MODEL_NOTE}")
    return text, chosen, evidence


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"
