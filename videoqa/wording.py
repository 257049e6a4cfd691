"""Words for people, shared by every layer that writes them (progress lines, tool summaries, the CLI)."""

from __future__ import annotations


def count(n: int, noun: str) -> str:
    """'1 scene', '3 scenes'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def clock(seconds: float) -> str:
    """'1:02', '1:00:05': a time in the video, to the second."""
    hours, rest = divmod(int(max(0.0, seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
