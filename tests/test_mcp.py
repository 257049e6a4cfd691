"""`videoqa mcp` over stdio with the official MCP client, as a desktop assistant would start it: the tools
are listed with their schemas, and list, index, search and ask answer with the CLI's JSON documents."""

from __future__ import annotations

import json
import os
import sys

import anyio
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from .conftest import run_cli_json, video_path

TED_SAYS = (22.675, 25.567)  # test.srt cue 4: "You see, I teach entrepreneurship,"


def _document(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content if result.structured_content else json.loads(result.content[0].text)


async def _session(store, calls):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDEOQA_CHAT_MODEL")}
    server = StdioServerParameters(command=sys.executable, args=["-m", "videoqa.cli.main", "--store", str(store), "mcp"], env=env)
    async with Client(server, read_timeout_seconds=300) as client:
        return await calls(client)


def test_mcp_tools_list_index_search_ask(vqa, store_dir):
    ted = vqa.index(video_path("ted"))

    async def calls(client):
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        listed = _document(await client.call_tool("list_videos", {}))
        indexed = _document(await client.call_tool("index_video", {"path": str(video_path("counter"))}))
        found = _document(await client.call_tool("search", {"query": "teach entrepreneurship", "video": ted.id, "k": 3}))
        answer = _document(await client.call_tool("ask", {"video": ted.id, "question": "When does she say she teaches entrepreneurship?"}))
        missing = await client.call_tool("search", {"query": "bird", "video": "no-such-video"})
        return tools, listed, indexed, found, answer, missing

    tools, listed, indexed, found, answer, missing = anyio.run(_session, store_dir, calls)
    assert {"list_videos", "index_video", "search", "ask"} <= set(tools)
    assert set(tools["ask"].input_schema["required"]) == {"video", "question"} and "moments" in tools["ask"].description
    assert any(v["id"] == ted.id and v["status"] == "ready" for v in listed["videos"])
    assert abs(indexed["duration"] - 3.0) < 0.05 and indexed["frames"] >= 3
    assert found == run_cli_json("search", ted.id, "teach entrepreneurship", "-k", "3", store=store_dir)
    assert found["moments"][0]["start"] < TED_SAYS[1] and found["moments"][0]["end"] > TED_SAYS[0]
    assert answer["mode"] == "retrieval" and any(m["start"] < TED_SAYS[1] and m["end"] > TED_SAYS[0] for m in answer["moments"])
    assert missing.is_error and "No indexed video matches 'no-such-video'" in missing.content[0].text
