"""The JSON documents videoqa hands to programs. The CLI's `--json`, the HTTP API and the MCP server all
build their bodies here, so the three never drift apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, is_dataclass

from videoqa.memory.search import Moment
from videoqa.results import Answer, IndexedVideo


def videos_document(videos: Sequence[IndexedVideo]) -> dict:
    """`videoqa list --json`, `GET /api/videos`."""
    return {"videos": [v.to_dict() for v in videos]}


def search_document(query: str, moments: Sequence[Moment]) -> dict:
    """`videoqa search --json`, `GET /api/search`."""
    return {"query": query, "moments": [m.to_dict() for m in moments]}


def answer_document(answer: Answer) -> dict:
    """`videoqa ask --json`, `POST /api/ask`."""
    return answer.to_dict()


def stream_event(item: object) -> tuple[str, dict]:
    """One item of `VideoQA.stream` as (event name, document): "answer" for the Answer; for a progress
    event its class name without "Event" ("tool" for ToolEvent), so new event types need no change here."""
    if isinstance(item, Answer):
        return "answer", answer_document(item)
    name = type(item).__name__.removesuffix("Event").lower() or "event"
    if hasattr(item, "to_dict"):
        return name, item.to_dict()
    if is_dataclass(item):
        return name, asdict(item)
    raise TypeError(f"cannot serialise a {type(item).__name__} stream item")
