"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 speaking the wire format."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from videoqa.errors import ModelServerError
from videoqa.models.base import ChatMessage, TimedFrame
from videoqa.models.openai_backend import OpenAIBackend

from .openai_server import ScriptedOpenAIServer

TOOLS = [{"type": "function", "function": {"name": "search_memory", "description": "search",
          "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}]


def _backend(server, **options):
    return OpenAIBackend("test-model", base_url=server.base_url, api_key="sk-test", **options)


def test_chat_sends_tools_and_parses_tool_calls_and_usage():
    replies = [{"content": None, "tool_calls": [{"name": "search_memory", "arguments": {"query": "red car"}},
                                                {"name": "search_memory", "arguments": "{not json"}]}]
    with ScriptedOpenAIServer(replies) as server:
        reply = _backend(server).chat([ChatMessage("system", "plan"), ChatMessage("user", "when is the red car?")], TOOLS)
    sent = server.requests[0]
    assert sent["path"].endswith("/chat/completions") and sent["auth"] == "Bearer sk-test"
    assert sent["body"]["tools"][0]["function"]["name"] == "search_memory"
    assert [m["role"] for m in sent["body"]["messages"]] == ["system", "user"]
    good, bad = reply.tool_calls
    assert good.name == "search_memory" and good.arguments == {"query": "red car"} and good.error is None
    assert bad.error and "not valid JSON" in bad.error and bad.raw_arguments == "{not json"
    assert reply.usage.calls == 1 and reply.usage.input_tokens > 0 and reply.usage.output_tokens == 7


def test_describe_sends_each_frame_as_a_jpeg_part_with_its_timestamp():
    frames = [TimedFrame(t, np.full((720, 1280, 3), 40 * i, np.uint8)) for i, t in enumerate((1.5, 2.0, 12.25))]
    with ScriptedOpenAIServer([{"content": "A grey screen that brightens."}]) as server:
        text, usage = _backend(server, image_size=256, detail="low").describe("What happens?", frames)
    assert text == "A grey screen that brightens." and usage.images == 3
    parts = server.requests[0]["body"]["messages"][0]["content"]
    images = [p for p in parts if p["type"] == "image_url"]
    stamps = [p["text"] for p in parts if p["type"] == "text" and p["text"].startswith("[frame at")]
    assert len(images) == 3 and stamps == ["[frame at 1.50 s]", "[frame at 2.00 s]", "[frame at 12.25 s]"]
    for part in images:
        url = part["image_url"]["url"]
        assert url.startswith("data:image/jpeg;base64,") and part["image_url"]["detail"] == "low"
        picture = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert picture.format == "JPEG" and picture.size == (256, 144)


@pytest.mark.parametrize(
    "reply, expected, requests",
    [
        ({"status": 500}, "HTTP 500 after 2 tries", 2),  # retried once, then gave up
        ({"status": 429, "message": "slow down"}, "rate-limiting us (HTTP 429) after 2 tries: slow down", 2),
        ({"sleep": 3}, "did not answer within 1 s (2 tries)", 2),
        ({"status": 401, "message": "bad key"}, "API key (401)", 1),  # not retried: retrying cannot help
        ({"status": 400, "message": "too many images"}, "rejected the request (400): too many images", 1),
        ({"raw": "this is { not json"}, "malformed response", 1),
    ],
)
def test_server_failures_become_one_clear_line(reply, expected, requests):
    with ScriptedOpenAIServer([reply]) as server:
        with pytest.raises(ModelServerError) as caught:
            _backend(server, timeout=1.0, max_retries=1).chat([ChatMessage("user", "hi")])
    message = str(caught.value)
    assert expected in message and "\n" not in message
    assert len(server.requests) == requests


def test_unknown_model_and_server_down():
    with ScriptedOpenAIServer([{"content": "x"}], model="other-model") as server:
        with pytest.raises(ModelServerError, match="no model 'test-model'"):
            _backend(server).chat([ChatMessage("user", "hi")])
        url = server.base_url
    with pytest.raises(ModelServerError, match="Cannot reach"):
        OpenAIBackend("test-model", base_url=url, max_retries=0, timeout=2).chat([ChatMessage("user", "hi")])


def test_retry_after_a_transient_error_then_success():
    with ScriptedOpenAIServer([{"status": 503}, {"content": "fine"}]) as server:
        reply = _backend(server, max_retries=2).chat([ChatMessage("user", "hi")])
    assert reply.text == "fine" and len(server.requests) == 2
    assert server.requests[1]["at"] - server.requests[0]["at"] < 1.5  # the SDK's own backoff: 0.5 s at most, jittered


def test_a_429_waits_as_long_as_retry_after_says():
    # The SDK's own first backoff is under 0.5 s; waiting 2 s shows Retry-After was read and obeyed.
    with ScriptedOpenAIServer([{"status": 429, "headers": {"Retry-After": "2"}}, {"content": "after the wait"}]) as server:
        reply = _backend(server, max_retries=2).chat([ChatMessage("user", "hi")])
    assert reply.text == "after the wait" and len(server.requests) == 2
    waited = server.requests[1]["at"] - server.requests[0]["at"]
    assert 1.9 <= waited < 4.0, waited
    assert reply.usage.seconds >= 1.9  # the wait counts against the question's time budget


def test_no_retries_when_told_so():
    with ScriptedOpenAIServer([{"status": 503}, {"content": "never reached"}]) as server:
        with pytest.raises(ModelServerError, match="HTTP 503 after 1 try"):
            _backend(server, max_retries=0).chat([ChatMessage("user", "hi")])
    assert len(server.requests) == 1
