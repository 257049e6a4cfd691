"""The planner's tools: their schemas (what the model reads) and one runner each, which calls the plain
tool functions and turns the result into an observation text plus evidence items."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from videoqa.memory.search import search
from videoqa.tools.browse import browse, overview, read_transcript
from videoqa.tools.caption import caption_chunk
from videoqa.tools.context import ToolContext
from videoqa.tools.inspect import inspect_frames

from .state import Evidence

_RANGE = {"start": {"type": "number", "description": "seconds"}, "end": {"type": "number", "description": "seconds"}}


def _schema(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {"type": "function", "function": {"name": name, "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required}}}


SCHEMAS = [
    _schema("search_memory", "Find the moments that best match a description (on-screen text, speech, subtitles, captions, visual tags). Start here.",
            {"query": {"type": "string", "description": "what to look for, in a few words"},
             "k": {"type": "integer", "description": "how many moments (default 5)"}}, ["query"]),
    _schema("overview", "The video's duration and its list of scenes with times (and captions already made).", {}, []),
    _schema("browse", "Scenes, keyframes and texts inside a time range.", _RANGE, ["start", "end"]),
    _schema("read_transcript", "What is said (speech, subtitles) and shown as text (OCR) inside a time range.", _RANGE, ["start", "end"]),
    _schema("caption_chunk", "Describe what happens in a scene (a time range), with a vision model when one is configured.", _RANGE, ["start", "end"]),
    _schema("inspect_frames", "Look closely at the frames of a short range (costly: use after search narrowed it down).",
            {**_RANGE, "fps": {"type": "number", "description": "frames per second (default 1)"},
             "question": {"type": "string", "description": "what to look for in the frames"}}, ["start", "end", "question"]),
    _schema("finish", "Give the final answer with the moments that support it.",
            {"answer": {"type": "string"},
             "moments": {"type": "array", "items": {"type": "object", "properties": {
                 "start": {"type": "number"}, "end": {"type": "number"}, "why": {"type": "string"},
                 "evidence_ids": {"type": "array", "items": {"type": "string"}}}, "required": ["start", "end"]}}},
            ["answer"]),
]
TOOL_NAMES = [s["function"]["name"] for s in SCHEMAS]


@dataclass
class ToolResult:
    text: str  # the observation the model reads
    evidence: list[Evidence]
    summary: str  # one line for progress displays


class EvidenceIds:
    def __init__(self, start: int) -> None:
        self.next = start

    def __call__(self) -> str:
        self.next += 1
        return f"E{self.next}"


def run_tool(ctx: ToolContext, video: str, name: str, args: dict, ids: EvidenceIds) -> ToolResult:
    runner = RUNNERS.get(name)
    if runner is None:
        raise ValueError(f"unknown tool {name!r}; the tools are: {', '.join(TOOL_NAMES)}")
    return runner(ctx, video, args, ids)


def _number(args: dict, key: str, default: float | None = None) -> float:
    value = args.get(key, default)
    if value is None:
        raise ValueError(f"missing argument {key!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"argument {key!r} must be a number of seconds, got {value!r}") from None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{secs:04.1f}"


def _search(ctx: ToolContext, video: str, args: dict, ids: EvidenceIds) -> ToolResult:
    query = str(args.get("query") or "").strip()
    k = int(args.get("k") or 5)
    moments = search(ctx.store, ctx.models, query, [video], max(1, min(k, 10)))
    evidence, lines = [], []
    for m in moments:
        item = Evidence(id=ids(), video=m.video, start=m.start, end=m.end, source="+".join(m.sources), text=m.text, thumbnail=m.thumbnail)
        evidence.append(item)
        lines.append(f"{item['id']} {m.start:.1f}-{m.end:.1f} s ({_clock(m.start)}) score {m.score:.2f} [{item['source']}]: {m.text[:160]}")
    return ToolResult("\n".join(lines) or "No moments found.", evidence, f"searching {query!r} … {_count(len(moments), 'moment')}")


def _overview(ctx: ToolContext, video: str, args: dict, ids: EvidenceIds) -> ToolResult:
    view = overview(ctx, video)
    lines = [f"duration {view.duration:.1f} s, {len(view.scenes)} scenes"]
    step = max(1, len(view.scenes) // 40)  # keep the observation short for long videos
    for i, scene in list(enumerate(view.scenes))[::step]:
        caption = f": {view.captions[i][:100]}" if i in view.captions else ""
        lines.append(f"scene {i}: {scene.start:.1f}-{scene.end:.1f} s{caption}")
    return ToolResult("\n".join(lines), [], f"overview … {len(view.scenes)} scenes")


def _texts_result(rows, video: str, ids: EvidenceIds, limit: int = 30) -> tuple[list[str], list[Evidence]]:
    lines, evidence = [], []
    for row in rows[:limit]:
        item = Evidence(id=ids(), video=video, start=row.start, end=row.end, source=row.source, text=row.text, thumbnail=None)
        evidence.append(item)
        lines.append(f"{item['id']} {row.start:.1f}-{row.end:.1f} s [{row.source}]: {row.text[:200]}")
    return lines, evidence


def _browse(ctx: ToolContext, video: str, args: dict, ids: EvidenceIds) -> ToolResult:
    view = browse(ctx, video, _number(args, "start"), _number(args, "end"))
    lines = ["scenes: " + ", ".join(f"{s.start:.1f}-{s.end:.1f}" for s in view.scenes[:30])]
    evidence = []
    for keyframe in view.keyframes[:12]:
        tags = ", ".join(ctx.store.keyframe_tags(view.video, keyframe.frame))
        item = Evidence(id=ids(), video=view.video, start=keyframe.time, end=keyframe.time, source="keyframe",
                        text=f"visual tags: {tags}", thumbnail=str(ctx.store.absolute(keyframe.thumbnail)))
        evidence.append(item)
        lines.append(f"{item['id']} keyframe at {keyframe.time:.1f} s, visual tags: {tags}")
    text_lines, text_evidence = _texts_result(view.texts, view.video, ids)
    return ToolResult("\n".join(lines + text_lines), evidence + text_evidence,
                      f"browsing {_clock(view.start)}–{_clock(view.end)} … {len(view.texts)} texts, {len(view.keyframes)} keyframes")


def _transcript(ctx: ToolContext, video: str, args: dict, ids: EvidenceIds) -> ToolResult:
    start, end = _number(args, "start"), _number(args, "end")
    rows = read_transcript(ctx, video, start, end)
    lines, evidence = _texts_result(rows, ctx.video(video).id, ids)
    return ToolResult("\n".join(lines) or "Nothing is said or written in that range.", evidence,
                      f"reading {_clock(start)}–{_clock(end)} … {_count(len(rows), 'line')}")


def _caption(ctx: ToolContext, video: str, args: dict, ids: EvidenceIds) -> ToolResult:
    caption = caption_chunk(ctx, video, _number(args, "start"), _number(args, "end"))
    item = Evidence(id=ids(), video=caption.video, start=caption.start, end=caption.end, source=caption.source, text=caption.text, thumbnail=None)
    return ToolResult(f"{item['id']} {caption.start:.1f}-{caption.end:.1f} s [{caption.source}]: {caption.text}", [item],
                      f"captioning {_clock(caption.start)}–{_clock(caption.end)} … {'cached' if caption.cached else caption.source}")


def _inspect(ctx: ToolContext, video: str, args: dict, ids: EvidenceIds) -> ToolResult:
    fps = _number(args, "fps", 1.0)
    observation = inspect_frames(ctx, video, _number(args, "start"), _number(args, "end"), fps, str(args.get("question") or ""))
    item = Evidence(id=ids(), video=observation.video, start=observation.start, end=observation.end,
                    source="frames" if observation.source == "vlm" else "index", text=observation.text, thumbnail=None)
    return ToolResult(f"{item['id']} {observation.start:.1f}-{observation.end:.1f} s: {observation.text}", [item],
                      f"inspecting {_clock(observation.start)}–{_clock(observation.end)} at {fps:g} fps, {observation.frames_sent or len(observation.timestamps)} frames")


RUNNERS: dict[str, Callable[[ToolContext, str, dict, EvidenceIds], ToolResult]] = {
    "search_memory": _search, "overview": _overview, "browse": _browse, "read_transcript": _transcript,
    "caption_chunk": _caption, "inspect_frames": _inspect,
}


def describe_args(args: dict) -> str:
    return json.dumps(args, ensure_ascii=False)[:200]
