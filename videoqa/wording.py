"""Words for people, shared by every layer that writes them (progress lines, tool summaries, the CLI)."""

from __future__ import annotations


def count(n: int, noun: str) -> str:
    """'1 scene', '3 scenes'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
