"""Entry point for LangGraph's own tooling (langgraph.json): the agent over the default store and the
configured models (OPENAI_API_KEY / OPENAI_BASE_URL)."""

from __future__ import annotations

from videoqa.api import VideoQA
from videoqa.errors import ModelUnavailableError

from .graph import build_graph


def make_graph(config: dict | None = None):
    vqa = VideoQA()
    chat = vqa.chat_model()
    if chat is None:
        raise ModelUnavailableError("No chat model configured: set OPENAI_API_KEY or OPENAI_BASE_URL.")
    # LangGraph's server brings its own checkpointer.
    return build_graph(chat, vqa.tool_context())
