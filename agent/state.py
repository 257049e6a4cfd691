"""The graph's state: a TypedDict with reducers. Evidence accumulates over a conversation; the step
counter, limits, usage and answer belong to the current question, so the graph needs nothing but its
input ({"video", "question"}) to run, and concurrent threads never share a budget."""

from __future__ import annotations

from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from videoqa.tools.evidence import Evidence


def add_evidence(existing: list[Evidence] | None, new: list[Evidence] | None) -> list[Evidence]:
    """Append new items; an item with an id already present replaces nothing (ids are unique)."""
    known = {e["id"] for e in existing or []}
    return list(existing or []) + [e for e in new or [] if e["id"] not in known]


class AgentState(TypedDict, total=False):
    question: str
    video: str  # in: an id, a path or a file name ("" or "*": every indexed video); `begin` makes it an id
    messages: Annotated[list[AnyMessage], add_messages]
    evidence: Annotated[list[Evidence], add_evidence]
    limits: dict  # Budget.limits(): max_frames, max_tokens, max_seconds, max_cost_usd, max_model_calls, max_steps
    usage: dict  # Budget.usage(): what the current question has spent so far
    steps: int  # planner steps for the current question
    turn_start: int  # how many evidence items existed when the current question began
    stop_reason: str  # why planning stopped: finished | no_answer | max_steps | budget:<what>
    answer: dict  # {"answer", "moments", "dropped", "stop_reason"}
