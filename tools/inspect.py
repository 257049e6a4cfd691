"""inspect_frames: look closely at a time range, frame by frame, within the frame budget."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videoqa.errors import QueryError
from videoqa.models.base import TimedFrame
from videoqa.prompts import render

from .context import ToolContext

MAX_FRAMES_PER_INSPECTION = 16


@dataclass(frozen=True)
class Observation:
    video: str
    start: float
    end: float
    text: str
    timestamps: tuple[float, ...]  # the frames the observation is about
    frames_sent: int  # frames sent to a vision model (0 without one)
    source: str  # "vlm", or "index" when no vision model is configured


def plan_timestamps(start: float, end: float, fps: float, most: int) -> list[float]:
    """Frame times at `fps` over [start, end); thinned evenly over the whole range when more than `most`."""
    count = max(1, int(np.floor((end - start) * fps + 1e-9)))
    times = [start + i / fps for i in range(count)]
    if len(times) > most:
        picks = np.linspace(0, len(times) - 1, most).round().astype(int)
        times = [times[i] for i in sorted(set(picks))]
    return times


def inspect_frames(ctx: ToolContext, video: str, start: float, end: float, fps: float = 1.0, question: str = "") -> Observation:
    """Look at the frames between `start` and `end` seconds (at `fps` frames per second, thinned to the
    frame budget) and answer `question` about them. The fine level: use it on short ranges where the
    index's coarse evidence is not enough."""
    row = ctx.video(video)
    start, end = max(0.0, float(start)), min(row.duration, float(end))
    if end <= start:
        raise QueryError(f"inspect_frames needs start < end inside the video (0-{row.duration:.1f} s); got {start}-{end}.")
    if fps <= 0:
        raise QueryError("inspect_frames needs fps > 0.")
    if ctx.vlm is None:
        times = plan_timestamps(start, end, fps, MAX_FRAMES_PER_INSPECTION)
        return Observation(row.id, start, end, _index_facts(ctx, row.id, times, start, end), tuple(times), 0, "index")
    most = min(MAX_FRAMES_PER_INSPECTION, ctx.budget.frames_left())
    if most < 1:
        ctx.budget.charge_frames(1)  # raises: the frame budget is spent
    times = plan_timestamps(start, end, fps, most)
    ctx.budget.charge_frames(len(times))
    frames = [TimedFrame(t, image) for t, image in ctx.reader(row).frames_at(times, ctx.frame_width)]
    notes = []
    for i in range(0, len(frames), ctx.frames_per_call):  # sliding windows over long spans
        window = frames[i : i + ctx.frames_per_call]
        prompt = render("inspect", count=len(window), start=f"{window[0].time:.1f} s", end=f"{window[-1].time:.1f} s",
                        fps=f"{fps:g}", question=question or "What happens in these frames?")
        text, usage = ctx.vlm.describe(prompt, window)
        ctx.budget.record(usage, ctx.vlm.name)
        notes.append(f"[{window[0].time:.1f}-{window[-1].time:.1f} s] {' '.join(text.split())}")
    return Observation(row.id, start, end, "\n".join(notes), tuple(f.time for f in frames), len(frames), "vlm")


def _index_facts(ctx: ToolContext, video_id: str, times: list[float], start: float, end: float) -> str:
    lines = ["No vision-language model is configured: these are the index's facts (tags, on-screen text, speech) for those times."]
    for t in times:
        nearest = ctx.store.nearest_frame_tags(video_id, t)
        if nearest:
            lines.append(f"{t:.1f} s: {', '.join(nearest[1]) or '(no tags)'}")
    for text in ctx.store.texts(video_id, start, end, sources=["ocr", "subtitle", "transcript", "caption"]):
        lines.append(f"{text.source} {text.start:.1f}-{text.end:.1f} s: {text.text}")
    return "\n".join(lines)
