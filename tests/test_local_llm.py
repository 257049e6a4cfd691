"""The packaged local chat model (Qwen2.5-Coder-0.5B GGUF from the local-llm extra) served by llama.cpp's
OpenAI-compatible server on 127.0.0.1: one real completion through our backend, then the real agent."""

from __future__ import annotations

import time

import pytest

from videoqa import VideoQA
from videoqa.models.base import ChatMessage
from videoqa.models.local_llm import MODEL_NAME, LocalLlamaServer
from videoqa.models.openai_backend import OpenAIBackend
from videoqa.results import ToolEvent
from videoqa.settings import ModelSettings, Settings

from .test_openai_backend import TOOLS


@pytest.fixture(scope="module")
def llama_server():
    with LocalLlamaServer(threads=2) as server:
        yield server


def test_one_real_completion_with_a_tool(llama_server):
    backend = OpenAIBackend(MODEL_NAME, base_url=llama_server.base_url, api_key="local", timeout=180)
    started = time.monotonic()
    reply = backend.chat([ChatMessage("system", "You find moments in videos with the search_memory tool."),
                          ChatMessage("user", "When does the red car appear? Call search_memory.")], TOOLS)
    seconds = time.monotonic() - started
    assert reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0
    assert reply.text.strip() or reply.tool_calls
    if reply.tool_calls:
        assert reply.tool_calls[0].name == "search_memory"
    print(f"\nlocal model: {seconds:.1f} s, {reply.usage.output_tokens} output tokens "
          f"({reply.usage.output_tokens / seconds:.1f} tokens/s), tool calls: {[c.name for c in reply.tool_calls]}")


def test_the_real_agent_with_the_local_model(llama_server, store_dir, indexed):
    settings = Settings(store=store_dir, models=ModelSettings(chat_model=MODEL_NAME, base_url=llama_server.base_url,
                                                              api_key="local", vlm="none", timeout=180, max_retries=0))
    with VideoQA(settings=settings) as api:
        started = time.monotonic()
        events = list(api.stream(indexed["ted"], "What is the speaker's name?", max_steps=4))
        seconds = time.monotonic() - started
    answer = events[-1]
    tool_events = [e for e in events if isinstance(e, ToolEvent)]
    assert tool_events, "the agent must look at the index at least once"
    evidence_ids = {e["id"] for e in answer.evidence}
    assert answer.moments, answer
    for moment in answer.moments:
        assert set(moment["evidence_ids"]) <= evidence_ids and moment["evidence_ids"]
        assert 0 <= moment["start"] <= moment["end"] <= indexed["ted"].duration
    print(f"\nlocal agent: {seconds:.1f} s, {answer.usage}, tools {[e.name for e in tool_events]}: {answer.text[:200]}")
