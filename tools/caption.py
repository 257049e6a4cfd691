"""caption_chunk: what happens in a scene or chunk, from the VLM (cached), or assembled from the index."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from videoqa.memory.store import Checkpoint, NewText, TextRow
from videoqa.models.base import TimedFrame
from videoqa.prompts import render

from .context import ToolContext

MAX_CAPTION_FRAMES = 4
ASSEMBLED_LABEL = "Assembled from the index (no vision-language model configured)"


@dataclass(frozen=True)
class Caption:
    video: str
    start: float
    end: float
    text: str
    source: str  # "caption" (a VLM's words) or "assembled" (facts from the index, not a model caption)
    model: str = ""  # the VLM that wrote a caption (kept with the cached row, so its provenance survives)
    cached: bool = False
    frames: tuple[float, ...] = ()


def caption_chunk(ctx: ToolContext, video: str, start: float, end: float) -> Caption:
    """Describe what happens in the video between `start` and `end` seconds (a scene or chunk).
    Uses a cached caption when there is one; a new one costs a vision-model call on a few keyframes."""
    row = ctx.video(video)
    start, end = max(0.0, float(start)), min(row.duration, float(end))
    for cached in ctx.store.texts(row.id, start, end, sources=["caption"]):
        if abs(cached.start - start) < 0.05 and abs(cached.end - end) < 0.05:
            return Caption(row.id, start, end, cached.text, "caption", str(cached.meta.get("model", "unknown")), cached=True, frames=tuple(cached.meta.get("frames", ())))
    if ctx.vlm is None:
        return Caption(row.id, start, end, assemble(ctx, row.id, start, end), "assembled")
    keyframes = ctx.store.keyframes(row.id, start, end) or ([k] if (k := ctx.store.nearest_keyframe(row.id, (start + end) / 2)) else [])
    times = [k.time for k in keyframes]
    if len(times) > MAX_CAPTION_FRAMES:
        step = len(times) / MAX_CAPTION_FRAMES
        times = [times[int(i * step)] for i in range(MAX_CAPTION_FRAMES)]
    ctx.budget.charge_frames(len(times))
    frames = [TimedFrame(t, image) for t, image in ctx.reader(row).frames_at(times, ctx.frame_width)]
    prompt = render("caption", count=len(frames), start=f"{start:.1f} s", end=f"{end:.1f} s")
    text, usage = ctx.vlm.describe(prompt, frames)
    ctx.budget.record(usage, ctx.vlm.name)
    text = " ".join(text.split())
    caption = NewText(TextRow(start, end, "caption", text, {"model": ctx.vlm.name, "frames": [f.time for f in frames]}))
    caption.vectors["text"] = ctx.models.text.embed_texts([text])[0]
    ctx.store.commit(row.id, Checkpoint(texts=[caption], embedders={"text": ctx.models.text.name}))
    return Caption(row.id, start, end, text, "caption", ctx.vlm.name, frames=tuple(f.time for f in frames))


def assemble(ctx: ToolContext, video_id: str, start: float, end: float) -> str:
    """A description built only from what the index holds: tags, colours, on-screen text, speech."""
    words = Counter(w for _, tags in ctx.store.frame_tags(video_id, start, end) for w in tags)
    texts = ctx.store.texts(video_id, start, end, sources=["ocr", "subtitle", "transcript"])
    parts = [f"{ASSEMBLED_LABEL}, {start:.1f}-{end:.1f} s."]
    if words:
        parts.append("Visual tags (ImageNet labels, often wrong on cartoons): " + ", ".join(w for w, _ in words.most_common(8)) + ".")
    on_screen = _unique(t.text for t in texts if t.source == "ocr")
    if on_screen:
        parts.append("On-screen text: " + " | ".join(f'"{t}"' for t in on_screen[:5]) + ".")
    spoken = _unique(t.text for t in texts if t.source in ("transcript", "subtitle"))
    if spoken:
        parts.append("Speech: " + " ".join(spoken[:8]))
    if len(parts) == 1:
        parts.append("The index holds nothing else for this range.")
    return " ".join(parts)


def _unique(items) -> list[str]:
    seen, out = set(), []
    for item in items:
        key = item.lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
