"""Server-sent events: `event: NAME` and one JSON line of data per event."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from fastapi.responses import StreamingResponse


def sse_message(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse_response(events: Iterable[tuple[str, dict]]) -> StreamingResponse:
    def encoded() -> Iterator[str]:
        for name, data in events:
            yield sse_message(name, data)

    # no-cache and no proxy buffering: each event must reach the page as it happens
    return StreamingResponse(encoded(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
