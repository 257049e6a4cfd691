"""Evidence quoted for a person: "On screen at 0:20–0:23: '…'", "Said at 1:02: '…'". Used when an answer
cannot be confirmed and by the retrieval-only path, which answers by quoting instead of restating the question."""

from __future__ import annotations

from videoqa.tools.evidence import Evidence, Source
from videoqa.tools.quote import looks_like_instruction
from videoqa.wording import clock

from .matching import content_words, found_in


def span(item: Evidence) -> str:
    start, end = clock(item["start"]), clock(item["end"])
    return start if start == end else f"{start}–{end}"


def quote(item: Evidence, limit: int = 160, video_name: str = "") -> str:
    """One evidence item as a sentence: where it is, what kind, and its words."""
    kind = item["via"].split("+")[0] if item.get("via") else item["source"]  # a search hit's text is its first source's
    if kind in (Source.SUBTITLE, Source.TRANSCRIPT):
        lead = f"Said at {span(item)}"
    elif kind == Source.OCR:
        lead = f"On screen at {span(item)}"
    elif kind in (Source.CAPTION, Source.FRAMES):
        lead = f"Seen at {span(item)}"
    elif kind in ("tags", "frame", Source.KEYFRAME):
        lead = f"Visual tags at {span(item)}"
    else:
        lead = f"At {span(item)}"
    text = " ".join(item["text"].split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    where = f" in {video_name}" if video_name else ""
    return f"{lead}{where}: '{text}'"


def most_relevant(items: list[Evidence], about: str, k: int = 2) -> list[Evidence]:
    """The `k` distinct items sharing the most content words with `about` (ties: earlier first); content items
    only, never text that reads like an instruction to a model."""
    wanted = list(dict.fromkeys(content_words(about)))

    def score(item: Evidence) -> int:
        return sum(found_in(word, item["text"], 0.85) for word in wanted)

    content = [e for e in items if e["source"] not in (Source.KEYFRAME, Source.INDEX, Source.ASSEMBLED)
               and not looks_like_instruction(e["text"])]
    ranked = sorted(enumerate(content), key=lambda pair: (-score(pair[1]), pair[0]))
    chosen: dict[tuple, Evidence] = {}
    for _, item in ranked:  # the same hit found by two searches is quoted once
        chosen.setdefault((item["video"], item["start"], item["end"], item["text"]), item)
        if len(chosen) == k:
            break
    return list(chosen.values())
