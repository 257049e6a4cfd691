"""caption_chunk and inspect_frames on real indexed videos, with a VLM served over the OpenAI wire format
by a loopback server, and without any VLM (facts assembled from the index)."""

from __future__ import annotations

import pytest

from videoqa.errors import BudgetExceededError, ModelServerError
from videoqa.models.budget import Budget
from videoqa.models.openai_backend import OpenAIBackend
from videoqa.tools.caption import ASSEMBLED_LABEL, caption_chunk
from videoqa.tools.context import ToolContext, ToolRun
from videoqa.tools.evidence import EvidenceIds
from videoqa.tools.inspect import inspect_frames
from videoqa.tools.toolkit import run_tool

from .openai_server import ScriptedOpenAIServer


def _context(vqa, server=None, **budget):
    vlm = OpenAIBackend("test-model", base_url=server.base_url, api_key="k") if server else None
    return ToolContext(store=vqa.store, models=vqa.models(), vlm=vlm, budget=Budget(**budget))


def test_caption_chunk_is_made_once_then_cached(vqa, indexed):
    video = indexed["bbb"]
    scene = next(s for s in video.scenes if s.start >= 15.0)  # a real scene near the bird
    with ScriptedOpenAIServer([{"content": "A small bird sits on a branch in a sunny forest."}]) as server:
        first = caption_chunk(_context(vqa, server), video.id, scene.start, scene.end)
        calls = len(server.requests)
        second = caption_chunk(_context(vqa, server), video.id, scene.start, scene.end)
        assert len(server.requests) == calls == 1  # the second call made no model call
    assert first.source == "caption" and not first.cached and second.cached and second.text == first.text
    assert first.model == second.model == "test-model"  # the cached caption keeps who wrote it
    # ... and says so to the planner, inside the fence
    result = run_tool(ToolRun(_context(vqa), video.id, EvidenceIds(0)), "caption_chunk", {"start": scene.start, "end": scene.end})
    assert result.evidence[0]["origin"] == "vlm:test-model, cached" and "written by vlm:test-model, cached" in result.text
    rows = [t for t in vqa.store.texts(video.id, scene.start, scene.end, sources=["caption"]) if abs(t.start - scene.start) < 0.05]
    assert len(rows) == 1 and rows[0].meta["model"] == "test-model"
    sent = server.requests[0]["body"]["messages"][0]["content"]
    assert 1 <= sum(p["type"] == "image_url" for p in sent) <= 4
    # the caption is searchable afterwards
    moments = vqa.search(video, "small bird on a branch", k=3)
    assert any("caption" in m.sources for m in moments)


def test_inspect_frames_respects_the_frame_budget_and_spreads_frames(vqa, indexed):
    video = indexed["bbb"]
    with ScriptedOpenAIServer([{"content": "The bunny walks through the meadow."}]) as server:
        context = _context(vqa, server, max_frames=16)
        observation = inspect_frames(context, video.id, 60.0, 120.0, fps=2.0, question="What does the bunny do?")
    sent_images = sum(p["type"] == "image_url" for r in server.requests for p in r["body"]["messages"][0]["content"])
    assert observation.frames_sent == sent_images <= 16 and context.budget.frames_sent == sent_images
    times = observation.timestamps
    assert times == tuple(sorted(set(times))) and times[0] == 60.0 and times[-1] >= 115.0
    assert len(server.requests) == 2  # two sliding windows of 8 frames
    prompt_text = " ".join(p["text"] for p in server.requests[0]["body"]["messages"][0]["content"] if p["type"] == "text")
    assert "[frame at 60.00 s]" in prompt_text and "What does the bunny do?" in prompt_text
    with pytest.raises(BudgetExceededError):
        inspect_frames(context, video.id, 200.0, 210.0, fps=1.0, question="and now?")


def test_frames_are_counted_when_sent_even_if_the_model_then_fails(vqa, indexed):
    with ScriptedOpenAIServer([{"status": 401}]) as server:
        context = _context(vqa, server, max_frames=16)
        with pytest.raises(ModelServerError):
            inspect_frames(context, indexed["ted"].id, 10.0, 14.0, fps=1.0, question="who?")
    assert context.budget.frames_sent == 4 and server.requests  # sent, so spent


def test_without_a_vlm_tools_assemble_facts_and_say_so(vqa, indexed):
    video = indexed["ted"]
    context = _context(vqa)
    caption = caption_chunk(context, video.id, 12.0, 22.0)
    assert caption.source == "assembled" and caption.text.startswith(ASSEMBLED_LABEL)
    assert "decades" in caption.text  # from the transcript/subtitles of that range
    assert not [t for t in vqa.store.texts(video.id, sources=["caption"])]  # never stored as a model caption
    observation = inspect_frames(context, video.id, 10.0, 20.0, fps=1.0, question="who speaks?")
    assert observation.source == "index" and observation.frames_sent == 0 and len(observation.timestamps) == 10
    assert "TINASEELIG" in observation.text or "TINA" in observation.text
