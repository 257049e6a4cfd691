"""Ingest, in resumable stages: subtitles; then one decoding pass that feeds scene detection, keyframe
choice, the frames layer, tags, vectors and on-screen text (committed a segment at a time), while speech is
transcribed beside it on its own thread (committed a window at a time). One lock serialises the writers."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

from videoqa.models.registry import IndexModels, load_models
from videoqa.results import IndexedVideo
from videoqa.settings import IndexSettings

from .enrich import MODEL_IMAGE_WIDTH, Enricher, KeyframeJob, SampleJob, thumbnail_writer
from .hashing import content_hash
from .keyframes import Candidate, pick_keyframes, signature
from .onscreen import GATE_STEP, TextRows, TextTracker, reopen
from .probe import check_video
from .readers import DecodedFrame, VideoInfo, open_reader
from .scenes import Segment, Segmenter
from .speech import SpeechWorker
from .store import Checkpoint, KeyframeRow, NewText, Store, TextRow, VideoRow
from .subtitles import embedded_cues, read_subtitle_file, sidecar_files
from .vectors import check_embedder

log = logging.getLogger(__name__)

CANDIDATES_PER_SECOND = 4  # keyframe candidates; enough to catch short scenes, cheap to keep
CHECKPOINT_SAMPLES = 16  # commit once this many frames-layer samples are waiting (batches the models)
MAX_PENDING_CHECKPOINTS = 2  # bounds memory: the pass waits for the worker beyond this


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


def models_for(settings: IndexSettings) -> IndexModels:
    return load_models(settings.text_model, settings.tags, settings.clip_model, settings.ocr, settings.speech_model)


def ingest_video(
    store: Store,
    path: str | Path,
    settings: IndexSettings,
    progress: ProgressCallback | None = None,
    subtitles: str | Path | bool | None = None,
    models: IndexModels | None = None,
) -> IndexedVideo:
    """Index `path` into `store` (a no-op if it is already indexed with these settings).
    `subtitles`: a subtitle file; None to use .srt/.vtt files beside the video; False for none."""
    resolved, info = check_video(path)
    if subtitles is False:
        subtitle_files = []
    elif subtitles:
        subtitle_files = [Path(subtitles).expanduser()]
    else:
        subtitle_files = sidecar_files(resolved)
    cues = [cue for f in subtitle_files for cue in read_subtitle_file(f)]  # bad subtitles fail before any write
    video_id = content_hash(resolved)
    fingerprint = settings.fingerprint()
    row = store.video_row(video_id)
    if row is not None and row.settings == fingerprint and row.status == "ready":
        if row.path != str(resolved):
            store.update_path(video_id, resolved)
        return store.indexed_video(video_id)
    models = models or models_for(settings)
    enricher = Enricher(models, 1.0 / settings.sample_fps)
    for modality, model in enricher.embedders().items():
        # By name, before any write: loading a model just to learn its size would cost seconds on every run.
        check_embedder(store.conn, modality, model, None, store.root)
    if row is None or row.settings != fingerprint:
        row = store.start_video(video_id, resolved, resolved.stat().st_size, info, fingerprint)
    elif row.path != str(resolved):
        store.update_path(video_id, resolved)
    done = store.stages(video_id)
    lock = threading.Lock()

    def commit(checkpoint: Checkpoint) -> list[int]:
        with lock:  # the picture's worker and the speech worker share one SQLite connection
            return store.commit(video_id, checkpoint)

    if "subtitles" not in done:
        _subtitles_stage(commit, resolved, cues, enricher)
    speech = None
    if "speech" not in done:
        if models.speech is not None and info.has_audio:
            speech = SpeechWorker(resolved, models.speech, enricher.embed, enricher.embedders(), commit, done)
        else:
            commit(Checkpoint(stage_done="speech"))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="videoqa-speech") as pool:
        running = pool.submit(speech.run) if speech is not None else None
        try:
            if "visual" not in done:
                _VisualPass(store, row, resolved, info, settings, enricher, progress, commit).run()
            if running is not None:
                _wait_for_speech(running, speech, info.duration, progress)
        finally:
            if speech is not None:
                speech.stop.set()  # after an error: stop at the next window instead of transcribing the rest
    store.finish_video(video_id)
    for modality in enricher.embedders():
        store.vector_index(modality).sync()
    return store.indexed_video(video_id)


def _subtitles_stage(commit, path: Path, cues, enricher: Enricher) -> None:
    texts = [NewText(TextRow(c.start, max(c.end, c.start), "subtitle", c.text, {"file": True})) for c in cues]
    try:
        texts += [NewText(TextRow(c.start, c.end, "subtitle", c.text, {"stream": True})) for c in embedded_cues(path)]
    except Exception as exc:  # an unreadable subtitle stream must not stop the ingest of the picture
        log.warning("skipping embedded subtitles of %s: %s", path, exc)
    enricher.embed(texts)
    commit(Checkpoint(texts=texts, embedders=enricher.embedders(), stage_done="subtitles"))


def _wait_for_speech(running: Future, speech: SpeechWorker, duration: float, progress: ProgressCallback | None) -> None:
    """The picture is done; show the transcript catching up."""
    started, shown = time.monotonic(), False
    while True:
        try:
            running.result(timeout=0.5)
            break
        except FutureTimeout:
            if progress:
                position, shown = min(duration, speech.position), True
                progress(Progress("speech", position, duration, 0, time.monotonic() - started, position))
    if progress and shown:
        progress(Progress("speech", duration, duration, 0, time.monotonic() - started, duration, done=True))


@dataclass
class _VisualPass:
    store: Store
    row: VideoRow
    path: Path
    info: VideoInfo
    settings: IndexSettings
    enricher: Enricher
    progress: ProgressCallback | None
    commit: Callable[[Checkpoint], list[int]]
    candidates: list[Candidate] = field(default_factory=list)
    samples: list[SampleJob] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    keyframes: list[KeyframeJob] = field(default_factory=list)

    def run(self) -> None:
        settings, row = self.settings, self.row
        reader_name = "pyav" if settings.reader == "auto" else settings.reader
        reader = open_reader(self.path, self.info, reader_name)
        self.segment_idx = self.store.segment_count(row.id)
        self.committed_segments = self.segment_idx
        self.write_thumbnail = thumbnail_writer(self.store, settings.thumbnail_width)
        ocr = self.enricher.models.ocr
        self.text = TextTracker(ocr, reopen(self.store.conn, row.id, row.resume_time)) if ocr is not None else None
        next_gate = math.ceil(row.resume_time / GATE_STEP - 1e-6) * GATE_STEP
        segmenter = Segmenter(settings, self.info.fps, row.resume_time, row.resume_frame, row.resume_shot)
        sample_step = 1.0 / settings.sample_fps
        candidate_step = 1.0 / CANDIDATES_PER_SECOND
        next_sample = math.ceil(row.resume_time / sample_step - 1e-6) * sample_step
        next_candidate = math.ceil(row.resume_time / candidate_step - 1e-6) * candidate_step
        self.started = time.monotonic()
        shown_at = -math.inf
        last: DecodedFrame | None = None
        previous_sample_signature = self._signature_before(reader, next_sample - sample_step) if row.resume_time > 0 else None
        self.pending: list[Future] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="videoqa-enrich") as worker:
            self.worker = worker
            try:
                for frame in reader.iter_frames(start_time=row.resume_time, start_index=row.resume_frame):
                    detect = frame.detect_image(settings.detect_width)
                    is_candidate = frame.time >= next_candidate - 1e-6
                    is_sample = frame.time >= next_sample - 1e-6
                    if is_candidate or is_sample:
                        frame_signature = signature(detect)
                    if is_candidate:
                        self.candidates.append(Candidate(frame, frame_signature))
                        next_candidate = (math.floor(frame.time / candidate_step + 1e-6) + 1) * candidate_step
                    if is_sample:
                        change = None if previous_sample_signature is None else float(abs(frame_signature - previous_sample_signature).mean())
                        previous_sample_signature = frame_signature
                        self.samples.append(SampleJob(frame.time, frame.index, frame.rgb(MODEL_IMAGE_WIDTH), frame_signature, change))
                        next_sample = (math.floor(frame.time / sample_step + 1e-6) + 1) * sample_step
                    if self.text is not None and frame.time >= next_gate - 1e-6:
                        self.text.feed(frame)
                        next_gate = (math.floor(frame.time / GATE_STEP + 1e-6) + 1) * GATE_STEP
                    for segment in segmenter.push(frame.time, frame.index, detect):
                        self._close(segment)
                    if self.segments and len([s for s in self.samples if s.time < self.segments[-1].end]) >= CHECKPOINT_SAMPLES:
                        self._checkpoint(segmenter.shot)
                    last = frame
                    if self.progress and frame.time - shown_at >= 1.0:
                        shown_at = frame.time
                        self._report(frame.time)
            finally:
                reader.close()
            if last is None:
                end, end_frame = max(row.resume_time, self.info.duration), row.resume_frame
            else:
                frame_step = 1.0 / self.info.fps if self.info.fps else 0.0
                end, end_frame = max(self.info.duration, last.time + frame_step), last.index + 1
            for segment in segmenter.finish(end, end_frame):
                self._close(segment)
            self._checkpoint(segmenter.shot, duration=end, stage_done="visual")
            for future in self.pending:
                future.result()
        if self.progress:
            self._report(end, done=True)

    def _signature_before(self, reader, sample_time: float):
        """On resume: the signature of the last sample before the resume point, so the first sample's
        motion is measured as in an uninterrupted run."""
        for frame in reader.iter_frames(start_time=max(0.0, sample_time - 1e-6)):
            if frame.time >= sample_time - 1e-6:
                return signature(frame.detect_image(self.settings.detect_width))
        return None

    def _report(self, position: float, done: bool = False) -> None:
        assert self.progress is not None
        self.progress(Progress(
            "decode+scenes+tags", position, max(self.info.duration, position), self.segment_idx,
            time.monotonic() - self.started, position - self.row.resume_time, done,
        ))

    def _close(self, segment: Segment) -> None:
        idx = self.segment_idx
        self.segment_idx += 1
        self.segments.append(segment)
        inside = [c for c in self.candidates if segment.start - 1e-6 <= c.frame.time < segment.end - 1e-6]
        if not inside and self.candidates:  # a segment shorter than the candidate step
            inside = [min(self.candidates, key=lambda c: abs(c.frame.time - segment.start))]
        # Keep the newest candidate: a following short segment may have none of its own.
        self.candidates = [c for c in self.candidates if c.frame.time >= segment.end - 1e-6] or self.candidates[-1:]
        folder = self.store.thumbnail_dir(self.row.id).relative_to(self.store.root)
        chosen = pick_keyframes(inside, segment.end - segment.start, self.settings.keyframes_per_chunk)
        width = max(self.settings.thumbnail_width, MODEL_IMAGE_WIDTH)
        for candidate, change in chosen:
            frame = candidate.frame
            row = KeyframeRow(idx, frame.time, frame.index, change, str(folder / f"{frame.index:08d}.jpg"))
            self.keyframes.append(KeyframeJob(frame.time, frame.rgb(width), candidate.signature, row))

    def _checkpoint(self, next_shot: int, duration: float | None = None, stage_done: str | None = None) -> None:
        """Hand everything before the end of the last closed segment to the worker, which commits it."""
        if not self.segments and stage_done is None:
            return
        resume_time = self.segments[-1].end if self.segments else self.row.resume_time
        resume_frame = self.segments[-1].end_frame if self.segments else self.row.resume_frame
        samples = [s for s in self.samples if s.time < resume_time - 1e-6]
        self.samples = self.samples[len(samples):]
        segments, first, keyframes = self.segments, self.committed_segments, self.keyframes
        self.segments, self.keyframes = [], []
        self.committed_segments = self.segment_idx
        resume = (resume_time, resume_frame, next_shot)
        # The last checkpoint takes every line, also one seen on the very last frame.
        text_rows = self.text.rows(math.inf if stage_done else resume_time) if self.text is not None else TextRows()
        while len(self.pending) >= MAX_PENDING_CHECKPOINTS:
            self.pending.pop(0).result()
        self.pending.append(self.worker.submit(
            self._enrich_and_commit, segments, first, keyframes, samples, text_rows, resume, duration, stage_done))

    def _enrich_and_commit(self, segments, first, keyframes, samples, text_rows: TextRows, resume, duration, stage_done) -> None:
        frames, new_keyframes, texts = self.enricher.frames(samples, keyframes, self.write_thumbnail)
        self.enricher.embed(text_rows.new)
        # Checkpoints commit in order on this one thread, so a line written by an earlier one has its id now.
        extend = [(line.text_id, end) for line, end in text_rows.extend]
        checkpoint = Checkpoint(
            segments=segments, first_segment_idx=first, keyframes=new_keyframes, frames=frames, texts=texts + text_rows.new,
            extend_texts=extend, embedders=self.enricher.embedders(), resume=resume, duration=duration, stage_done=stage_done,
        )
        ids = self.commit(checkpoint)
        for line, text_id in zip(text_rows.lines, ids[len(texts):]):
            line.text_id = text_id
