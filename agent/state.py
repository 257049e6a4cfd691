"""The graph's state: a TypedDict with reducers. Evidence accumulates over a conversation; the step
counter, usage and answer belong to the current question."""

from __future__ import annotations

from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class Evidence(TypedDict):
    id: str
    video: str
    start: float
    end: float
    source: str
    text: str
    thumbnail: str | None


def add_evidence(existing: list[Evidence] | None, new: list[Evidence] | None) -> list[Evidence]:
    """Append new items; an item with an id already present replaces nothing (ids are unique)."""
    known = {e["id"] for e in existing or []}
    return list(existing or []) + [e for e in new or [] if e["id"] not in known]


class AgentState(TypedDict, total=False):
    question: str
    video: str  # the conversation's video id
    messages: Annotated[list[AnyMessage], add_messages]
    evidence: Annotated[list[Evidence], add_evidence]
    steps: int  # planner steps for the current question
    turn_start: int  # how many evidence items existed when the current question began
    usage: dict  # model calls, frames, tokens, seconds for the current question
    stop_reason: str  # why planning stopped: finished | no_tool_call | max_steps | budget:<what>
    answer: dict  # {"answer", "moments", "dropped", "stop_reason"}
