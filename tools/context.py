"""What every tool needs, injected by the caller (never part of a tool's schema)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from videoqa.errors import VideoNotFoundError
from videoqa.memory.readers import VideoReader, open_reader, probe
from videoqa.memory.store import Store, VideoRow
from videoqa.models.base import VisionLanguageModel
from videoqa.models.budget import Budget
from videoqa.models.registry import IndexModels

from .evidence import EvidenceIds


@dataclass
class ToolContext:
    """The store and models, shared by every question; `budget` is the current question's (see `for_question`)."""

    store: Store
    models: IndexModels
    vlm: VisionLanguageModel | None = None
    budget: Budget = field(default_factory=Budget)
    frames_per_call: int = 8  # frames in one VLM request; longer spans go in sliding windows
    frame_width: int = 512  # frames are decoded this wide for the VLM
    _readers: dict = field(default_factory=dict)

    def for_question(self, budget: Budget) -> "ToolContext":
        """The same store, models and open readers with this question's own budget, so concurrent
        questions never charge each other."""
        return replace(self, budget=budget)

    def video(self, video_id: str) -> VideoRow:
        return self.store.resolve(video_id)

    def reader(self, video: VideoRow) -> VideoReader:
        """A random-access reader (decord, else PyAV) on the video file, kept open for the question."""
        if video.id not in self._readers:
            path = Path(video.path)
            if not path.exists():
                raise VideoNotFoundError(f"{path} is gone (moved or deleted). Index it at its new place: videoqa index NEWPATH")
            info = probe(path)
            self._readers[video.id] = open_reader(path, info, "auto")
        return self._readers[video.id]


@dataclass
class ToolRun:
    """One step's tool calls: the context, the conversation's video ("" when asking over the whole library)
    and the evidence id counter. Injected into every tool, hidden from the model."""

    ctx: ToolContext
    video: str
    ids: EvidenceIds

    def video_for(self, video_id: str = "") -> VideoRow:
        """The conversation's video; over the library, the one a tool call names (an id from a search result)."""
        if self.video:
            return self.ctx.video(self.video)
        if not video_id:
            raise ValueError("this question is over the whole library: pass video_id (from a search_memory result)")
        return self.ctx.video(video_id)
