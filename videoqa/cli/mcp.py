"""`videoqa mcp`: an MCP server over stdio for AI assistants (list, index, search, ask)."""

from __future__ import annotations

import argparse
import logging
import sys

from videoqa.api import VideoQA
from videoqa.errors import VideoQAError


def add_commands(commands: argparse._SubParsersAction) -> None:
    mcp = commands.add_parser("mcp", help="an MCP server over stdio (list, index, search, ask) for AI assistants")
    mcp.set_defaults(run=run_mcp)


def run_mcp(vqa: VideoQA, args: argparse.Namespace) -> int:
    try:
        from videoqa.mcp_server import serve_stdio
    except ImportError as exc:
        raise VideoQAError(str(exc)) from exc
    logging.getLogger().handlers[:] = [logging.StreamHandler(sys.stderr)]  # stdout carries the protocol
    serve_stdio(vqa)
    return 0
