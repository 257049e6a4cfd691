"""Units of ingest work. A video is one unit; a video longer than `IndexSettings.split_seconds` is cut at
codec keyframes into parts that can be computed at the same time (each primed with the frames before it),
plus one unit for its speech. A unit is computed without touching the store and handed to one writer, so
the serial ingest and the library ingest on Ray run the same units and write the same rows."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import av

from .onscreen import SAME_LINE
from .readers import VideoInfo
from .store import Checkpoint, NewKeyframe, Store, VideoRow
from .subtitles import Cue
from .textmatch import same_words

STAGES = ("subtitles", "visual", "speech")


@dataclass(frozen=True)
class Unit:
    """One task: a time range of one video and the stages run on it. Scene and shot numbers inside a
    unit's checkpoints count from 0; the writer shifts them after what the store holds."""

    video_id: str
    path: str
    info: VideoInfo
    part: int  # which keyframe-cut part of the video (0 for a whole video and for its speech)
    parts: int
    start: float
    start_frame: int
    end: float | None  # where the next part starts; None: to the end of the video
    end_frame: int | None
    stages: tuple[str, ...]
    boundary: bool  # `start` is where a part begins (not a resume point): a cut found exactly there opens a shot
    cues: tuple[Cue, ...] = ()  # from subtitle files, read before anything was written
    detector_state: bytes | None = None  # resuming at `start`: the scene detector as it was there (memory/scenes.py)
    # Resuming: the on-screen text lines showing at `start` ((text id, start, end, text) of their rows) and
    # the speech windows already committed, read from the store by the planner.
    text_open: tuple[tuple[int, float, float, str], ...] = ()
    windows_done: tuple[int, ...] = ()

    @property
    def join_at(self) -> float | None:
        """Where this unit's text rows may continue rows of the part before (see StoreSink); None: nowhere."""
        return self.start if self.boundary else None

    @property
    def seconds(self) -> float:
        """Seconds of video this unit decodes."""
        if "visual" not in self.stages:
            return 0.0
        return max(0.0, (self.info.duration if self.end is None else self.end) - self.start)

    @property
    def ordered(self) -> bool:
        """Its scenes must be committed after those of the parts before it."""
        return "visual" in self.stages


def split_points(path: Path, info: VideoInfo, split_seconds: float) -> list[tuple[float, int]]:
    """(time, frame number) of the codec keyframes where a long video is cut into parts of about equal
    length; [] when it is not longer than `split_seconds`. Reads packet headers only (no decoding)."""
    if split_seconds <= 0 or info.duration <= split_seconds:
        return []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        time_base = float(stream.time_base)
        origin = (stream.start_time or 0) * time_base
        times: set[float] = set()
        keyframes: list[float] = []
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            times.add(packet.pts * time_base - origin)
            if packet.is_keyframe:
                keyframes.append(packet.pts * time_base - origin)
    ordered, keyframes = sorted(times), sorted(keyframes)
    parts = math.ceil(info.duration / split_seconds)
    points: list[tuple[float, int]] = []
    for i in range(1, parts):
        at = bisect.bisect_left(keyframes, i * info.duration / parts - 1e-6)
        if at == len(keyframes) or (points and keyframes[at] <= points[-1][0]) or keyframes[at] <= 0:
            continue
        # A frame's number is how many frames come before it in presentation order, as a reader counts them.
        points.append((keyframes[at], bisect.bisect_left(ordered, keyframes[at] - 1e-6)))
    return points


def plan_units(row: VideoRow, path: Path, info: VideoInfo, split_seconds: float, done: set[str],
               cues: tuple[Cue, ...]) -> list[Unit]:
    """The units left to do for a video, from what its row says is committed."""
    pending = [s for s in STAGES if s not in done]
    if not pending:
        return []
    points = [(0.0, 0), *split_points(path, info, split_seconds)] if "visual" in pending else [(0.0, 0)]
    base = dict(video_id=row.id, path=str(path), info=info, parts=len(points), cues=cues)
    if len(points) == 1:
        return [Unit(part=0, start=row.resume_time, start_frame=row.resume_frame, end=None, end_frame=None,
                     stages=tuple(pending), boundary=False, detector_state=row.detector_state, **base)]
    units = []
    for part, (start, start_frame) in enumerate(points):
        end, end_frame = points[part + 1] if part + 1 < len(points) else (None, None)
        stages = ("subtitles",) if part == 0 and "subtitles" in pending else ()
        if end is None or end > row.resume_time + 1e-6:
            stages += ("visual",)
        if not stages:
            continue
        resumed = row.resume_time > start + 1e-6
        units.append(Unit(part=part, start=row.resume_time if resumed else start, start_frame=row.resume_frame if resumed else start_frame,
                          end=end, end_frame=end_frame, stages=stages, boundary=part > 0 and not resumed,
                          detector_state=row.detector_state if resumed else None, **base))
    if "speech" in pending:
        units.append(Unit(part=0, start=0.0, start_frame=0, end=None, end_frame=None, stages=("speech",), boundary=False, **base))
    return units


class Sink(Protocol):
    """Where a unit's checkpoints go. Returns the ids of the checkpoint's texts, in order."""

    def commit(self, checkpoint: Checkpoint) -> list[int]: ...


JOINED_SOURCES = ("ocr", "tags")  # rows a pass builds over consecutive frames (cues and speech have their own times)
JOIN_GAP = 0.5 + 1e-3  # seconds: one gate step (OCR) or half a sample step (tags), as one pass would have joined them


@dataclass
class StoreSink:
    """Commits each checkpoint at once, numbered after what the store holds (the serial ingest, and the
    writer of a library ingest). A part that begins at a boundary (`join_at`) read the text on screen there
    afresh: its rows that continue a row of the part before (same words, no gap) lengthen that row instead."""

    store: Store
    video_id: str
    first_scene: int
    first_shot: int
    join_at: float | None = None

    @classmethod
    def after_committed(cls, store: Store, video_id: str, join_at: float | None = None) -> "StoreSink":
        row = store.video_row(video_id)
        assert row is not None
        return cls(store, video_id, store.segment_count(video_id), row.resume_shot, join_at)

    def commit(self, checkpoint: Checkpoint) -> list[int]:
        checkpoint = shifted(checkpoint, self.first_scene, self.first_shot)
        continues = self._continued(checkpoint) if self.join_at is not None else {}
        if not continues:
            return self.store.commit(self.video_id, checkpoint)
        kept = [t for i, t in enumerate(checkpoint.texts) if i not in continues]
        extend = checkpoint.extend_texts + [(continues[i], t.row.end) for i, t in enumerate(checkpoint.texts) if i in continues]
        ids = iter(self.store.commit(self.video_id, replace(checkpoint, texts=kept, extend_texts=extend)))
        return [continues[i] if i in continues else next(ids) for i in range(len(checkpoint.texts))]

    def _continued(self, checkpoint: Checkpoint) -> dict[int, int]:
        """{index of a new text: id of the stored row it continues across the boundary}."""
        at = self.join_at
        assert at is not None
        starting = [(i, t.row) for i, t in enumerate(checkpoint.texts)
                    if t.row.source in JOINED_SOURCES and t.row.start <= at + JOIN_GAP]
        if not starting:
            return {}
        before = self.store.texts_ending(self.video_id, at - JOIN_GAP, at + 1e-6, JOINED_SOURCES)
        found: dict[int, int] = {}
        for i, row in starting:
            for text_id, old in before:
                if (text_id not in found.values() and old.source == row.source and row.start - old.end <= JOIN_GAP
                        and (same_words(old.text, row.text, SAME_LINE) if row.source == "ocr" else old.text == row.text)):
                    found[i] = text_id
                    break
        return found


@dataclass
class MemorySink:
    """Keeps checkpoints in memory (a worker's result). The text ids it hands out are provisional:
    -1 is the unit's first text, -2 its second."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    texts: int = 0

    def commit(self, checkpoint: Checkpoint) -> list[int]:
        self.checkpoints.append(checkpoint)
        ids = [-(self.texts + i + 1) for i in range(len(checkpoint.texts))]
        self.texts += len(checkpoint.texts)
        return ids

    def merged(self) -> Checkpoint:
        """The unit as one checkpoint, so the writer commits it in one transaction."""
        cps = self.checkpoints
        texts = [t for c in cps for t in c.texts]
        extend: list[tuple[int, float]] = []
        for c in cps:
            for text_id, end in c.extend_texts:
                if text_id < 0:  # a text of this unit: lengthen it before it is written
                    texts[-text_id - 1].row = replace(texts[-text_id - 1].row, end=end)
                else:
                    extend.append((text_id, end))
        with_segments = [c for c in cps if c.segments]
        return Checkpoint(
            segments=[s for c in cps for s in c.segments],
            first_segment_idx=with_segments[0].first_segment_idx if with_segments else 0,
            keyframes=[k for c in cps for k in c.keyframes], frames=[f for c in cps for f in c.frames], texts=texts,
            extend_texts=extend, embedders={m: n for c in cps for m, n in c.embedders.items()},
            resume=next((c.resume for c in reversed(cps) if c.resume is not None), None),
            duration=next((c.duration for c in reversed(cps) if c.duration is not None), None),
            stage_done=tuple(c.stage_done for c in cps if isinstance(c.stage_done, str)) or None,
            files={name: data for c in cps for name, data in c.files.items()},
        )


def shifted(checkpoint: Checkpoint, first_scene: int, first_shot: int) -> Checkpoint:
    """A unit's checkpoint renumbered to follow `first_scene` scenes, its first shot numbered `first_shot`."""
    if not first_scene and not first_shot:
        return checkpoint
    c = checkpoint
    return replace(
        c, segments=[replace(s, shot=s.shot + first_shot) for s in c.segments], first_segment_idx=c.first_segment_idx + first_scene,
        keyframes=[NewKeyframe(replace(k.row, scene_idx=k.row.scene_idx + first_scene), k.tags, k.vectors) for k in c.keyframes],
        resume=None if c.resume is None else (c.resume[0], c.resume[1], c.resume[2] + first_shot),
    )
