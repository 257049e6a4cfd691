"""Public result types: what crosses the API boundary. Plain dataclasses with a `to_dict` for --json."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Scene:
    """A scene, or a chunk of a long scene. Times in seconds; `end_frame` is exclusive."""

    start: float
    end: float
    start_frame: int
    end_frame: int
    shot: int = 0  # index of the camera shot (PySceneDetect scene) this chunk belongs to


@dataclass(frozen=True)
class IndexedVideo:
    id: str
    path: str
    duration: float
    fps: float
    width: int
    height: int
    scenes: list[Scene] = field(default_factory=list)
    keyframes: int = 0
    frames: int = 0
    status: str = "ready"  # "indexing" while an ingest is under way (or was interrupted), else "ready"

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["scenes"] = [
            {"start": s.start, "end": s.end, "start_frame": s.start_frame, "end_frame": s.end_frame, "shot": s.shot}
            for s in self.scenes
        ]
        return data


@dataclass
class Answer:
    """One answer of the agent (or of the retrieval-only path). Every moment is backed by evidence."""

    text: str
    moments: list[dict]  # {video, start, end, why, evidence_ids}
    evidence: list[dict]  # {id, video, start, end, source, text, thumbnail}
    usage: dict  # {steps, model_calls, frames_sent, input_tokens, output_tokens, seconds, cost_usd}
    thread: str | None = None
    mode: str = "agent"  # "agent", or "retrieval" when no chat model is configured
    stop_reason: str = "finished"
    dropped: list[dict] = field(default_factory=list)  # moments the check refused, with the reason

    def to_dict(self) -> dict[str, object]:
        return {"answer": self.text, "moments": self.moments, "evidence": self.evidence, "usage": self.usage,
                "thread": self.thread, "mode": self.mode, "stop_reason": self.stop_reason, "dropped": self.dropped}


@dataclass(frozen=True)
class ToolEvent:
    """Progress while answering: one per tool call, as it happens."""

    name: str
    args: dict
    summary: str
