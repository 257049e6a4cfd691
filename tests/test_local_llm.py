"""The packaged local chat model (Qwen2.5-Coder-0.5B GGUF from the local-llm extra) served by llama.cpp's
OpenAI-compatible server on 127.0.0.1: one real completion through our backend, the real agent, and
`videoqa ask --chat local`, which starts and stops the server itself."""

from __future__ import annotations

import json
import time

import pytest

from videoqa import VideoQA
from videoqa.agent.claims import check_claims
from videoqa.agent.finalize import asserted
from videoqa.models.base import ChatMessage
from videoqa.models.local_llm import MODEL_NAME, LocalLlamaServer
from videoqa.models.openai_backend import OpenAIBackend
from videoqa.results import ToolEvent
from videoqa.settings import ModelSettings, Settings

from .conftest import run_cli
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
    assert reply.text.strip() or reply.tool_calls  # a 0.5B model may answer in text instead of calling the tool
    assert all(c.name == "search_memory" and c.error is None for c in reply.tool_calls), reply.tool_calls
    print(f"\nlocal model: {seconds:.1f} s, {reply.usage.output_tokens} output tokens "
          f"({reply.usage.output_tokens / seconds:.1f} tokens/s), tool calls: {[c.name for c in reply.tool_calls]}")


def test_the_real_agent_with_the_local_model_states_only_what_evidence_shows(llama_server, store_dir, indexed):
    settings = Settings(store=store_dir, models=ModelSettings(chat_model=MODEL_NAME, base_url=llama_server.base_url,
                                                              api_key="local", vlm="none", timeout=180, max_retries=0))
    question = "What is the speaker's name?"
    with VideoQA(settings=settings) as api:
        started = time.monotonic()
        events = list(api.stream(indexed["ted"], question, thread="local-agent", max_steps=4))
        seconds = time.monotonic() - started
        graph = api._graph(api.chat_model())
        gathered = graph.get_state({"configurable": {"thread_id": "local-agent"}}).values["evidence"]
    answer = events[-1]
    # what the answer states as fact rests on evidence (a 0.5B model may still answer vaguely: see the benchmark)
    assert all(c.verified for c in check_claims(asserted(answer.text), gathered, question)), answer.text
    evidence = {e["id"]: e for e in answer.evidence}
    for moment in answer.moments:
        backing = [evidence[i] for i in moment["evidence_ids"]]
        assert backing and all(e["start"] - 0.5 <= moment["end"] and e["end"] + 0.5 >= moment["start"] for e in backing)
    tools = [e.name for e in events if isinstance(e, ToolEvent)]
    print(f"\nlocal agent: {seconds:.1f} s, {answer.usage}, tools {tools}: {answer.text[:200]}")


def test_ask_chat_local_runs_the_packaged_model_for_the_command(store_dir, indexed):
    started = time.monotonic()
    result = run_cli("ask", "--chat", "local", "test.mp4", "What does the speaker teach?", "--json", "--max-steps", "3",
                     store=store_dir, timeout=900)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["mode"] == "agent" and document["usage"]["model_calls"] >= 1
    print(f"\nask --chat local: {time.monotonic() - started:.1f} s: {document['answer'][:200]}")
