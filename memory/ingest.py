"""Ingest: one decoding pass feeds scene detection, keyframe choice and the frames layer, committing a
checkpoint each time a segment closes, so a killed run resumes where the last checkpoint ended."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from videoqa.results import IndexedVideo
from videoqa.settings import IndexSettings

from .hashing import content_hash
from .keyframes import Candidate, pick_keyframes, signature
from .probe import check_video
from .readers import DecodedFrame, VideoInfo, open_reader
from .scenes import Segment, Segmenter
from .store import KeyframeRow, Store, VideoRow

log = logging.getLogger(__name__)

CANDIDATES_PER_SECOND = 4  # keyframe candidates; enough to catch short scenes, cheap to keep


@dataclass
class Progress:
    """What a progress display needs. `position` and `total` are seconds of video."""

    stage: str
    position: float
    total: float
    scenes: int = 0
    elapsed: float = 0.0
    processed: float = 0.0  # seconds of video this run decoded (a resumed run starts part-way)
    done: bool = False

    @property
    def realtime_factor(self) -> float:
        return self.processed / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallback = Callable[[Progress], None]


def ingest_video(store: Store, path: str | Path, settings: IndexSettings, progress: ProgressCallback | None = None) -> IndexedVideo:
    """Index `path` into `store` (a no-op if it is already indexed with these settings)."""
    resolved, info = check_video(path)
    video_id = content_hash(resolved)
    fingerprint = settings.fingerprint()
    row = store.video_row(video_id)
    if row is not None and row.settings == fingerprint and row.status == "ready":
        if row.path != str(resolved):
            store.update_path(video_id, resolved)
        return store.indexed_video(video_id)
    if row is None or row.settings != fingerprint:
        row = store.start_video(video_id, resolved, resolved.stat().st_size, info, fingerprint)
    elif row.path != str(resolved):
        store.update_path(video_id, resolved)
    _Pass(store, row, resolved, info, settings, progress).run()
    store.finish_video(video_id)
    return store.indexed_video(video_id)


@dataclass
class _Pass:
    store: Store
    row: VideoRow
    path: Path
    info: VideoInfo
    settings: IndexSettings
    progress: ProgressCallback | None
    candidates: list[Candidate] = field(default_factory=list)
    samples: list[DecodedFrame] = field(default_factory=list)

    def run(self) -> None:
        settings, row = self.settings, self.row
        reader_name = "pyav" if settings.reader == "auto" else settings.reader
        reader = open_reader(self.path, self.info, reader_name)
        self.segment_idx = self.store.segment_count(row.id)
        segmenter = Segmenter(settings, self.info.fps, row.resume_time, row.resume_frame, row.resume_shot)
        sample_step = 1.0 / settings.sample_fps
        candidate_step = 1.0 / CANDIDATES_PER_SECOND
        next_sample = math.ceil(row.resume_time / sample_step - 1e-6) * sample_step
        next_candidate = math.ceil(row.resume_time / candidate_step - 1e-6) * candidate_step
        started = time.monotonic()
        shown_at = -math.inf
        last: DecodedFrame | None = None
        try:
            for frame in reader.iter_frames(start_time=row.resume_time, start_index=row.resume_frame):
                detect = frame.detect_image(settings.detect_width)
                if frame.time >= next_candidate - 1e-6:
                    self.candidates.append(Candidate(frame, signature(detect)))
                    next_candidate = (math.floor(frame.time / candidate_step + 1e-6) + 1) * candidate_step
                if frame.time >= next_sample - 1e-6:
                    self.samples.append(frame)
                    next_sample = (math.floor(frame.time / sample_step + 1e-6) + 1) * sample_step
                closed = segmenter.push(frame.time, frame.index, detect)
                if closed:
                    self._commit(closed, segmenter.shot)
                last = frame
                if self.progress and frame.time - shown_at >= 1.0:
                    shown_at = frame.time
                    self._report(frame.time, started)
        finally:
            reader.close()
        if last is None:
            end, end_frame = max(row.resume_time, self.info.duration), row.resume_frame
        else:
            frame_step = 1.0 / self.info.fps if self.info.fps else 0.0
            end, end_frame = max(self.info.duration, last.time + frame_step), last.index + 1
        self._commit(segmenter.finish(end, end_frame), segmenter.shot, duration=end)
        if self.progress:
            self._report(end, started, done=True)

    def _report(self, position: float, started: float, done: bool = False) -> None:
        assert self.progress is not None
        self.progress(Progress(
            "decode+scenes", position, max(self.info.duration, position), self.segment_idx,
            time.monotonic() - started, position - self.row.resume_time, done,
        ))

    def _commit(self, segments: list[Segment], next_shot: int, duration: float | None = None) -> None:
        keyframes: list[KeyframeRow] = []
        for offset, segment in enumerate(segments):
            keyframes += self._keyframes(segment, self.segment_idx + offset)
        resume_time = segments[-1].end if segments else self.row.resume_time
        frames = [(f.time, f.index) for f in self.samples if f.time < resume_time - 1e-6]
        self.samples = [f for f in self.samples if f.time >= resume_time - 1e-6]
        self.store.commit_progress(
            self.row.id, segments, self.segment_idx, keyframes, frames, resume_time,
            segments[-1].end_frame if segments else self.row.resume_frame, next_shot, duration=duration,
        )
        self.segment_idx += len(segments)

    def _keyframes(self, segment: Segment, segment_idx: int) -> list[KeyframeRow]:
        inside = [c for c in self.candidates if segment.start - 1e-6 <= c.frame.time < segment.end - 1e-6]
        if not inside and self.candidates:  # a segment shorter than the candidate step
            inside = [min(self.candidates, key=lambda c: abs(c.frame.time - segment.start))]
        # Keep the newest candidate: a following short segment may have none of its own.
        self.candidates = [c for c in self.candidates if c.frame.time >= segment.end - 1e-6] or self.candidates[-1:]
        rows = []
        folder = self.store.thumbnail_dir(self.row.id)
        folder.mkdir(parents=True, exist_ok=True)
        for candidate, change in pick_keyframes(inside, segment.end - segment.start, self.settings.keyframes_per_chunk):
            frame = candidate.frame
            target = folder / f"{frame.index:08d}.jpg"
            image = cv2.cvtColor(frame.rgb(self.settings.thumbnail_width), cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(target), image, [cv2.IMWRITE_JPEG_QUALITY, 85])
            rows.append(KeyframeRow(segment_idx, frame.time, frame.index, change, str(target.relative_to(self.store.root))))
        return rows
