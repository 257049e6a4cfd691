"""The coarse and middle levels: overview of a video, browse a range, read what was said or shown."""

from __future__ import annotations

from dataclasses import dataclass

from videoqa.memory.store import KeyframeRow, TextRow
from videoqa.results import Scene

from .context import ToolContext

TEXT_SOURCES = ("subtitle", "transcript", "ocr", "caption")


@dataclass(frozen=True)
class Overview:
    video: str
    path: str
    duration: float
    scenes: list[Scene]
    captions: dict[int, str]  # scene index -> cached caption


def overview(ctx: ToolContext, video: str) -> Overview:
    """The coarse level: the video's duration and scene list, with any captions already made."""
    row = ctx.video(video)
    scenes = ctx.store.scenes(row.id)
    captions = {}
    for caption in ctx.store.texts(row.id, sources=["caption"]):
        for i, scene in enumerate(scenes):
            if abs(scene.start - caption.start) < 0.05:
                captions[i] = caption.text
    return Overview(row.id, row.path, row.duration, scenes, captions)


@dataclass(frozen=True)
class RangeView:
    video: str
    start: float
    end: float
    scenes: list[Scene]
    keyframes: list[KeyframeRow]
    texts: list[TextRow]


def browse(ctx: ToolContext, video: str, start: float, end: float) -> RangeView:
    """The middle level: scenes, keyframes and texts (speech, subtitles, on-screen text, captions) in a range."""
    row = ctx.video(video)
    start, end = max(0.0, float(start)), min(row.duration, float(end))
    scenes = [s for s in ctx.store.scenes(row.id) if s.end > start and s.start < end]
    return RangeView(row.id, start, end, scenes, ctx.store.keyframes(row.id, start, end), ctx.store.texts(row.id, start, end, TEXT_SOURCES))


def read_transcript(ctx: ToolContext, video: str, start: float, end: float) -> list[TextRow]:
    """What is said (transcript, subtitles) and written on screen (OCR) between `start` and `end` seconds."""
    row = ctx.video(video)
    return ctx.store.texts(row.id, max(0.0, float(start)), min(row.duration, float(end)), ("subtitle", "transcript", "ocr"))
