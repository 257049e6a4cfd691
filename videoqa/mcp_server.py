"""`videoqa mcp`: the library as MCP tools over stdio (the official SDK's MCPServer, formerly FastMCP),
so desktop AI assistants can list, index, search and ask local videos. Each tool is a typed function:
the signature is the schema and the docstring what the assistant reads. Results are the CLI's --json
documents. Nothing may be printed to stdout: it carries the protocol (the SDK also diverts stray writes)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

from videoqa.api import VideoQA
from videoqa.documents import answer_document, search_document, videos_document
from videoqa.errors import VideoQAError

try:
    from mcp.server import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
except ImportError as exc:  # the mcp extra is optional
    raise ImportError("The MCP server needs the mcp extra: pip install 'videoqa[mcp]'") from exc

F = TypeVar("F", bound=Callable)

INSTRUCTIONS = (
    "videoqa answers questions about local video files with timestamped moments. Call list_videos first; "
    "index_video a file before searching or asking about it (indexing takes about a tenth of the video's length); "
    "search finds moments without a language model; ask answers a question with moments and evidence."
)


def build_server(vqa: VideoQA) -> MCPServer:
    server = MCPServer("videoqa", instructions=INSTRUCTIONS)
    lock = threading.Lock()  # tools run on worker threads; one VideoQA answers one call at a time

    def tool(function: F) -> F:
        @functools.wraps(function)
        def guarded(*args, **kwargs):
            with lock:
                try:
                    return function(*args, **kwargs)
                except VideoQAError as exc:  # the assistant reads our one-line message, not "tool failed"
                    raise ToolError(str(exc)) from exc

        server.tool()(guarded)
        return function

    @tool
    def list_videos() -> dict:
        """The videos in the local library: id, path, duration, scenes, and status ("ready" or "indexing")."""
        return videos_document(vqa.videos(include_indexing=True))

    @tool
    def index_video(path: str) -> dict:
        """Index a video file on this computer so it can be searched and asked about. Returns the indexed
        video (use its id later). A file already indexed returns at once."""
        return vqa.index(path).to_dict()

    @tool
    def search(query: str, video: str | None = None, k: int = 5) -> dict:
        """Find the k moments that best match a description (e.g. "a red car", "the results slide"), in one
        video (id, path or file name) or, with no video, the whole library. Times are in seconds."""
        return search_document(" ".join(query.split()), vqa.search(video, query, k))

    @tool
    def ask(video: str, question: str, thread: str | None = None) -> dict:
        """Answer a question about a video with timestamped moments and the evidence behind them. Pass the
        `thread` of an earlier answer to ask a follow-up in the same conversation."""
        return answer_document(vqa.ask(video, question, thread))

    return server


def serve_stdio(vqa: VideoQA) -> None:
    build_server(vqa).run("stdio")
