"""Running one question through the graph: progress events out, the Answer last, and on failure the
thread rolled back to where it was, so no conversation is left half-written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from videoqa.errors import QueryError
from videoqa.models.budget import Budget
from videoqa.results import Answer, ToolEvent
from videoqa.tools.context import ToolContext


def run_agent(graph, context: ToolContext, video_id: str, question: str, thread: str | None, budget: Budget,
              max_steps: int) -> Iterator[ToolEvent | Answer]:
    thread = thread or uuid.uuid4().hex[:12]
    config = {"configurable": {"thread_id": thread, "budget": budget, "max_steps": max_steps}}
    before = graph.get_state(config)
    if before.values.get("video") and before.values["video"] != video_id:
        raise QueryError(f"Thread {thread} is about another video ({before.values['video']}). Start a new thread for this one.")
    context.budget = budget
    try:
        for mode, chunk in graph.stream({"question": question, "video": video_id}, config, stream_mode=["custom", "updates"]):
            if mode == "custom" and chunk.get("event") == "tool":
                yield ToolEvent(chunk["name"], chunk.get("args", {}), chunk["summary"])
    except BaseException:
        _roll_back(graph, config, before)
        raise
    state = graph.get_state(config).values
    result = state["answer"]
    used = {e["id"] for m in result["moments"] for e_id in m["evidence_ids"] for e in state["evidence"] if e["id"] == e_id}
    evidence = [e for e in state["evidence"] if e["id"] in used] or state["evidence"][-10:]
    yield Answer(result["answer"], result["moments"], evidence, state.get("usage", {}), thread, "agent",
                 result["stop_reason"], result["dropped"])


def _roll_back(graph, config: dict, before) -> None:
    """Make the state before this question the thread's newest checkpoint again."""
    thread = config["configurable"]["thread_id"]
    if not before.values:
        graph.checkpointer.delete_thread(thread)
    else:
        graph.update_state(before.config, None)
