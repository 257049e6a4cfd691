"""Evidence: what a tool saw, as the one item type the agent gathers and the answer check reads.

Every item is made by `make_evidence`, so sources are always one of `Source` and the provenance of model
text (which VLM, cached or not) travels with it."""

from __future__ import annotations

from enum import StrEnum
from typing import TypedDict


class Source(StrEnum):
    SEARCH = "search"  # a ranked search hit; `via` says which modalities matched (e.g. "ocr+subtitle")
    OCR = "ocr"
    SUBTITLE = "subtitle"
    TRANSCRIPT = "transcript"
    CAPTION = "caption"  # a vision-language model's words about a chunk
    ASSEMBLED = "assembled"  # facts from the index put together without a model
    KEYFRAME = "keyframe"  # a keyframe and its visual tags
    FRAMES = "frames"  # a vision-language model looked at the frames
    INDEX = "index"  # the index's facts for a range (no vision model)


# Items that carry what was said, written or seen at their time (a keyframe's ImageNet tags do not).
CONTENT_SOURCES = frozenset({Source.SEARCH, Source.OCR, Source.SUBTITLE, Source.TRANSCRIPT, Source.CAPTION, Source.FRAMES})


class Evidence(TypedDict):
    id: str
    video: str
    start: float
    end: float
    source: str  # a Source value
    text: str
    thumbnail: str | None
    via: str  # search hits: the modalities that matched; other items: ""
    origin: str  # who wrote the text: "index", or the model that captioned/inspected ("vlm:NAME", "+cached")


def make_evidence(id: str, video: str, start: float, end: float, source: Source | str, text: str,
                  thumbnail: str | None = None, via: str = "", origin: str = "index") -> Evidence:
    return Evidence(id=id, video=video, start=float(start), end=float(end), source=Source(source).value, text=str(text),
                    thumbnail=thumbnail, via=via, origin=origin)


class EvidenceIds:
    """Hands out the next id ("E7") of a conversation; one per tool-running step, never shared across threads."""

    def __init__(self, start: int) -> None:
        self.next = start

    def __call__(self) -> str:
        self.next += 1
        return f"E{self.next}"
