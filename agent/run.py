"""Running one question through the graph: progress events out, the Answer last, and on failure the
thread rolled back to where it was, so no conversation is left half-written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from videoqa.errors import QueryError
from videoqa.models.budget import Budget
from videoqa.results import Answer, ToolEvent


def run_agent(graph, video_id: str, question: str, thread: str | None, budget: Budget) -> Iterator[ToolEvent | Answer]:
    """`video_id` "" asks over every indexed video. The budget's limits go in with the question (state)."""
    thread = thread or uuid.uuid4().hex[:12]
    config = {"configurable": {"thread_id": thread}}
    before = graph.get_state(config)
    if before.values and before.values.get("video", "") != video_id:
        raise QueryError(f"Thread {thread} is about {before.values.get('video') or 'the whole library'}, not this. Start a new thread.")
    try:
        for mode, chunk in graph.stream({"question": question, "video": video_id, "limits": budget.limits()}, config,
                                        stream_mode=["custom", "updates"]):
            if mode == "custom" and chunk.get("event") == "tool":
                yield ToolEvent(chunk["name"], chunk.get("args", {}), chunk["summary"])
    except BaseException:
        _roll_back(graph, config, before)
        raise
    state = graph.get_state(config).values
    result = state["answer"]
    now = state["evidence"][state.get("turn_start", 0):]
    used = {i for m in result["moments"] for i in m["evidence_ids"]}
    evidence = [e for e in now if e["id"] in used] or now[-10:]
    usage = {k: v for k, v in state.get("usage", {}).items() if k != "started"}
    yield Answer(result["answer"], result["moments"], evidence, usage, thread, "agent", result["stop_reason"], result["dropped"])


def _roll_back(graph, config: dict, before) -> None:
    """Make the state before this question the thread's newest checkpoint again."""
    thread = config["configurable"]["thread_id"]
    if not before.values:
        graph.checkpointer.delete_thread(thread)
    else:
        graph.update_state(before.config, None)
