"""Entry point for LangGraph's own tooling (langgraph.json): the agent over the default store and the
configured models (OPENAI_API_KEY / OPENAI_BASE_URL). Input: {"video": id, path or file name, "question"};
limits have defaults in the state, and LangGraph's server brings its own checkpointer."""

from __future__ import annotations

from videoqa.errors import ModelUnavailableError
from videoqa.memory.ingest import models_for
from videoqa.memory.store import Store
from videoqa.models.registry import load_chat, load_vlm
from videoqa.settings import Settings
from videoqa.tools.context import ToolContext

from videoqa.agent.graph import build_graph  # absolute: LangGraph loads this file by path, outside the package


def make_graph(config: dict | None = None):
    settings = Settings()
    chat = load_chat(settings.models)
    if chat is None:
        raise ModelUnavailableError("No chat model configured: set OPENAI_API_KEY or OPENAI_BASE_URL.")
    context = ToolContext(Store(settings.store), models_for(settings.index), load_vlm(settings.models))
    return build_graph(chat, context)
