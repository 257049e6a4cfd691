"""/api/search and /api/ask: the same documents as `videoqa search --json` and `videoqa ask --json`;
/api/ask/stream sends each step of the agent as a server-sent event, then the answer."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from videoqa.documents import answer_document, search_document, stream_event
from videoqa.errors import QueryError, VideoQAError

from .errors import status_of
from .sse import sse_response

router = APIRouter(tags=["questions"])


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video: str = Field(description="video id, id prefix, path or file name")
    question: str = Field(description="what to ask about the video")
    thread: str | None = Field(None, description="continue this conversation (the `thread` of an earlier answer)")


@router.get("/search")
def search(request: Request, q: str = Query(description="what to look for"),
           video: str | None = Query(None, description="a video; none: the whole library"),
           k: int = Query(5, ge=1, le=100, description="number of moments")) -> dict:
    """Ranked moments for a query; no language model needed."""
    library = request.app.state.library
    with library.lock:
        return search_document(" ".join(q.split()), library.vqa.search(video, q, k))


@router.post("/ask")
def ask(request: Request, body: Question) -> dict:
    """One answer with moments and the evidence behind them."""
    library = request.app.state.library
    with library.lock:
        return answer_document(library.vqa.ask(body.video, body.question, body.thread))


@router.post("/ask/stream")
def ask_stream(request: Request, body: Question):
    """Server-sent events: `tool` for each tool call as it happens, then `answer` (the /api/ask document);
    `error` with {"error", "status"} if the question fails part-way."""
    library = request.app.state.library
    if not " ".join(body.question.split()):
        raise QueryError("The question is empty. Ask something about the video, e.g. \"when does the bird appear?\"")
    library.vqa.video(body.video)  # an unknown video is refused with its status before the stream starts

    def events() -> Iterator[tuple[str, dict]]:
        with library.lock:
            try:
                for item in library.vqa.stream(body.video, body.question, body.thread):
                    yield stream_event(item)
            except VideoQAError as exc:
                yield "error", {"error": str(exc), "status": status_of(exc)}

    return sse_response(events())
