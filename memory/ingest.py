"""Ingest, in resumable stages: subtitles; one decoding pass that feeds scene detection, keyframe choice,
the frames layer, tags, vectors and on-screen text (committed a segment at a time); and speech, transcribed
from its own decoding of the audio (committed a window at a time) beside the picture.

The work is cut into units (memory/units.py): `run_unit` computes one and hands its checkpoints to a sink.
`ingest_video` runs the units in order, committing as it goes; a library ingest computes them on workers
(`compute_unit`) and one writer commits each whole."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2

from videoqa.models.registry import IndexModels, load_models
from videoqa.results import IndexedVideo
from videoqa.settings import IndexSettings

from .enrich import MODEL_IMAGE_WIDTH, Enricher, KeyframeJob, SampleJob, thumbnail_writer
from .hashing import content_hash
from .keyframes import Candidate, pick_keyframes, signature
from .onscreen import GATE_STEP, TextRows, TextThread, TextTracker, lines_at
from .probe import check_video
from .readers import DecodedFrame, open_reader
from .scenes import Segment, Segmenter
from .speech import SpeechWorker, windows_done
from .store import Checkpoint, KeyframeRow, NewText, Store, TextRow, thumbnail_folder
from .subtitles import embedded_cues, read_subtitle_file, sidecar_files, sources_fingerprint
from .units import MemorySink, Sink, StoreSink, Unit, plan_units
from .vectors import check_embedder

log = logging.getLogger(__name__)

CANDIDATES_PER_SECOND = 4  # keyframe candidates; enough to catch short scenes, cheap to keep
CHECKPOINT_SAMPLES = 16  # commit once this many frames-layer samples are waiting (batches the models)
MAX_PENDING_CHECKPOINTS = 2  # bounds memory: the pass waits for the worker beyond this
PRIME_SECONDS = 2.0  # a unit that starts mid-video first shows the detector this much of what came before


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


@dataclass(frozen=True)
class VideoJob:
    """What is left to do for one video, found before any model weights load."""

    video_id: str
    path: Path
    units: list[Unit]
    ready: bool  # indexed already with these settings


def plan_video(store: Store, path: str | Path, settings: IndexSettings, subtitles: str | Path | bool | None = None,
               models: IndexModels | None = None) -> VideoJob:
    """Check `path`, create or update its row, and list the units left (none when it is indexed).
    `subtitles`: a subtitle file; None to use .srt/.vtt files beside the video; False for none.
    When there is work, the video's lease is taken (a StoreError names the process that holds it) and held
    until `finish_video`; whoever gives up before that calls `store.release_lease(video_id)`."""
    resolved, info = check_video(path)
    if subtitles is False:
        subtitle_files = []
    elif subtitles:
        subtitle_files = [Path(subtitles).expanduser()]
    else:
        subtitle_files = sidecar_files(resolved)
    cues = tuple(cue for f in subtitle_files for cue in read_subtitle_file(f))  # bad subtitles fail before any write
    video_id = content_hash(resolved)
    # The subtitle files are part of what a video was indexed from: adding one indexes it.
    fingerprint = {**settings.fingerprint(), SUBTITLES: sources_fingerprint(subtitle_files)}
    row = store.video_row(video_id)
    if row is not None and row.settings == fingerprint and row.status == "ready":
        if row.path != str(resolved):
            store.update_path(video_id, resolved)
        return VideoJob(video_id, resolved, [], True)
    for modality, model in embedders(models or models_for(settings)).items():
        # By name, before any write: loading a model just to learn its size would cost seconds on every run.
        check_embedder(store.conn, modality, model, None, store.root)
    store.acquire_lease(video_id, str(path))
    try:
        row = store.video_row(video_id)  # again, under the lease: another process may have finished it meanwhile
        if row is None or _picture_settings(row.settings) != _picture_settings(fingerprint):
            row = store.start_video(video_id, resolved, resolved.stat().st_size, info, fingerprint)
        elif row.settings != fingerprint:  # only the subtitle files changed: index them again, not the picture
            store.restart_source(video_id, "subtitle", "subtitles", fingerprint)
        if row.path != str(resolved):
            store.update_path(video_id, resolved)
        done = store.stages(video_id)
        units = [_resume_state(store, unit, done)
                 for unit in plan_units(store.video_row(video_id), resolved, info, settings.split_seconds, done, cues)]
    except BaseException:
        store.release_lease(video_id)
        raise
    return VideoJob(video_id, resolved, units, False)


SUBTITLES = "subtitles"  # the fingerprint's key for the subtitle files


def _picture_settings(fingerprint: dict) -> dict:
    """Everything but the subtitle files: a change here re-indexes the whole video."""
    return {key: value for key, value in fingerprint.items() if key != SUBTITLES}


def _resume_state(store: Store, unit: Unit, done: set[str]) -> Unit:
    """What a resumed unit needs from the store: the text lines on screen where it starts, and the speech
    windows already committed (units themselves never read the store)."""
    if "speech" in unit.stages:
        unit = replace(unit, windows_done=windows_done(done))
    if "visual" in unit.stages and unit.start > 0 and not unit.boundary:
        unit = replace(unit, text_open=lines_at(store.conn, unit.video_id, unit.start))
    return unit


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
    job = plan_video(store, path, settings, subtitles, models)
    try:
        if not job.ready:
            _run_units(store, job, settings, models or models_for(settings), progress)
    finally:
        store.release_lease(job.video_id)
    return store.indexed_video(job.video_id)


def _run_units(store: Store, job: "VideoJob", settings: IndexSettings, models: IndexModels, progress: ProgressCallback | None) -> None:
    # Speech runs on its own thread beside the picture; the lock keeps the two writers' transactions apart
    # (they share one SQLite connection).
    lock = threading.Lock()
    speech = [replace(u, stages=("speech",)) for u in job.units if "speech" in u.stages]
    rest = [replace(u, stages=tuple(s for s in u.stages if s != "speech")) for u in job.units if set(u.stages) - {"speech"}]
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="videoqa-speech") as pool:
        heard = [pool.submit(run_unit, u, settings, models, _LockedSink(StoreSink.after_committed(store, job.video_id), lock),
                             None, 0, stop) for u in speech]
        try:
            for unit in rest:
                with lock:
                    sink = StoreSink.after_committed(store, job.video_id, unit.join_at)
                run_unit(unit, settings, models, _LockedSink(sink, lock), progress, sink.first_scene)
            for future in heard:
                _wait_for_speech(future, job.units[0].info.duration, progress)
        finally:
            stop.set()  # after an error: the speech worker stops at its next window
    finish_video(store, job.video_id, models)


def _no_rows() -> Future:
    done: Future = Future()
    done.set_result(TextRows())
    return done


@dataclass
class _LockedSink:
    sink: Sink
    lock: threading.Lock

    def commit(self, checkpoint: Checkpoint) -> list[int]:
        with self.lock:
            return self.sink.commit(checkpoint)


def _wait_for_speech(running: Future, duration: float, progress: ProgressCallback | None) -> None:
    """The picture is done: show the transcript catching up, and always that it is done (it may have
    finished before the picture did)."""
    started = time.monotonic()
    while True:
        try:
            running.result(timeout=0.5)
            break
        except FutureTimeout:
            if progress:
                progress(Progress("speech", 0.0, duration, 0, time.monotonic() - started, 0.0))
    if progress:  # no rate: the transcript was made beside the picture, not in the time waited here
        progress(Progress("speech", duration, duration, 0, time.monotonic() - started, 0.0, done=True))


def finish_video(store: Store, video_id: str, models: IndexModels) -> None:
    """Mark a video whose stages are all committed as ready, let go of its lease, and bring the vector
    indexes up to date."""
    store.finish_video(video_id)
    store.release_lease(video_id)
    for modality in embedders(models):
        store.vector_index(modality).sync()


def embedders(models: IndexModels) -> dict[str, str]:
    """Modality -> model name, for every vector ingest with these models makes."""
    return Enricher(models, 1.0).embedders()


def run_unit(unit: Unit, settings: IndexSettings, models: IndexModels, sink: Sink,
             progress: ProgressCallback | None = None, first_scene: int = 0, stop: threading.Event | None = None) -> None:
    """Compute one unit, handing each checkpoint to `sink`. A fresh enricher per unit: nothing carries over
    from the unit before, so a unit computes the same wherever and whenever it runs."""
    enricher = Enricher(models, 1.0 / settings.sample_fps)
    if "subtitles" in unit.stages:
        _subtitles_stage(sink, unit, enricher)
    if "visual" in unit.stages:
        _VisualPass(sink, unit, settings, enricher, progress, first_scene).run()
    if "speech" in unit.stages:
        _speech_stage(sink, unit, models, enricher, stop or threading.Event())


def compute_unit(unit: Unit, settings: IndexSettings, models: IndexModels) -> Checkpoint:
    """One unit as one checkpoint, without touching a store (what a worker returns to the writer)."""
    sink = MemorySink()
    run_unit(unit, settings, models, sink)
    return sink.merged()


def _subtitles_stage(sink: Sink, unit: Unit, enricher: Enricher) -> None:
    texts = [NewText(TextRow(c.start, max(c.end, c.start), "subtitle", c.text, {"file": True})) for c in unit.cues]
    try:
        texts += [NewText(TextRow(c.start, c.end, "subtitle", c.text, {"stream": True})) for c in embedded_cues(Path(unit.path))]
    except Exception as exc:  # an unreadable subtitle stream must not stop the ingest of the picture
        log.warning("skipping embedded subtitles of %s: %s", unit.path, exc)
    if unit.info.duration > 0:  # cues after the end are not about this video (spans are clamped at commit)
        texts = [t for t in texts if t.row.start < unit.info.duration]
    enricher.embed(texts)
    sink.commit(Checkpoint(texts=texts, embedders=enricher.embedders(), stage_done="subtitles"))


def _speech_stage(sink: Sink, unit: Unit, models: IndexModels, enricher: Enricher, stop: threading.Event) -> None:
    if models.speech is None or not unit.info.has_audio:
        sink.commit(Checkpoint(embedders=enricher.embedders(), stage_done="speech"))
        return
    SpeechWorker(Path(unit.path), models.speech, enricher.embed, enricher.embedders(), sink.commit, unit.windows_done, stop).run()


@dataclass
class _VisualPass:
    sink: Sink
    unit: Unit
    settings: IndexSettings
    enricher: Enricher
    progress: ProgressCallback | None
    first_scene: int = 0  # scenes committed before this unit (for the progress display)
    candidates: list[Candidate] = field(default_factory=list)
    samples: list[SampleJob] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    keyframes: list[KeyframeJob] = field(default_factory=list)

    def run(self) -> None:
        settings, unit = self.settings, self.unit
        # Ingest's own threads keep the cores busy; OpenCV's pool only added a worker that spun (sched_yield)
        # waiting for the next small image: 0.5 CPU-s of bbb.mp4's ingest for nothing.
        cv2.setNumThreads(1)
        reader_name = "pyav" if settings.reader == "auto" else settings.reader
        reader = open_reader(Path(unit.path), unit.info, reader_name, skim=True)
        self.segment_idx = self.committed_segments = 0
        segmenter = Segmenter(settings, unit.info.fps, unit.start, unit.start_frame, 0, cut_at_start_is_new_shot=unit.boundary,
                              detector_state=unit.detector_state)
        ocr = self.enricher.models.ocr
        self.text = TextThread(TextTracker(ocr, unit.text_open)) if ocr is not None else None
        next_gate = math.ceil(unit.start / GATE_STEP - 1e-6) * GATE_STEP
        sample_step = 1.0 / settings.sample_fps
        candidate_step = 1.0 / CANDIDATES_PER_SECOND
        # Read from a little before the start: the detector, the sample grid and the first sample's motion
        # then see what one pass over the whole video would have shown them.
        read_from = max(0.0, unit.start - max(PRIME_SECONDS, 1.5 * sample_step)) if unit.start > 0 else 0.0
        next_sample = math.ceil(read_from / sample_step - 1e-6) * sample_step
        next_candidate = math.ceil(read_from / candidate_step - 1e-6) * candidate_step
        limit = math.inf if unit.end is None else unit.end
        self.started = time.monotonic()
        shown_at = -math.inf
        last: DecodedFrame | None = None
        end_frame: int | None = None
        previous_sample_signature = None
        count = 0
        self.pending: list[Future] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="videoqa-enrich") as worker:
            self.worker = worker
            try:
                for frame in reader.iter_frames(start_time=read_from):
                    detect = frame.detect_image(settings.detect_width)
                    priming = frame.time < unit.start - 1e-6
                    if not priming:
                        frame.index = unit.start_frame + count  # numbered from the unit's first frame
                        count += 1
                    if frame.time >= limit - 1e-6:  # reading ahead: only cuts before the limit count
                        end_frame = frame.index if end_frame is None else end_frame
                        if frame.time > limit + segmenter.read_ahead:
                            break
                        for segment in segmenter.push(frame.time, frame.index, detect, limit):
                            self._close(segment)
                        continue
                    is_candidate = frame.time >= next_candidate - 1e-6
                    is_sample = frame.time >= next_sample - 1e-6
                    if is_candidate or is_sample:
                        frame_signature = signature(detect)
                    if is_candidate:
                        if not priming:
                            self.candidates.append(Candidate(frame, frame_signature))
                        next_candidate = (math.floor(frame.time / candidate_step + 1e-6) + 1) * candidate_step
                    if is_sample:
                        change = None if previous_sample_signature is None else float(abs(frame_signature - previous_sample_signature).mean())
                        previous_sample_signature = frame_signature
                        if not priming:
                            self.samples.append(SampleJob(frame.time, frame.index, frame.rgb(MODEL_IMAGE_WIDTH), frame_signature, change))
                        next_sample = (math.floor(frame.time / sample_step + 1e-6) + 1) * sample_step
                    if priming:
                        segmenter.prime(frame.time, detect)
                        continue
                    if self.text is not None and frame.time >= next_gate - 1e-6:
                        self.text.feed(frame)
                        next_gate = (math.floor(frame.time / GATE_STEP + 1e-6) + 1) * GATE_STEP
                    for segment in segmenter.push(frame.time, frame.index, detect, limit):
                        self._close(segment)
                    if self.segments and len([s for s in self.samples if s.time < self.segments[-1].end]) >= CHECKPOINT_SAMPLES:
                        self._checkpoint(segmenter.shot)
                    last = frame
                    if self.progress and frame.time - shown_at >= 1.0:
                        shown_at = frame.time
                        self._report(frame.time)
            except BaseException:
                if self.text is not None:
                    self.text.close()
                raise
            finally:
                reader.close()
            if unit.end is not None:
                end, end_frame = unit.end, unit.end_frame if unit.end_frame is not None else end_frame
            elif last is None:
                end, end_frame = max(unit.start, unit.info.duration), unit.start_frame
            else:
                frame_step = 1.0 / unit.info.fps if unit.info.fps else 0.0
                end, end_frame = max(unit.info.duration, last.time + frame_step), last.index + 1
            for segment in segmenter.finish(end, end_frame):
                self._close(segment)
            final = unit.end is None
            self._checkpoint(segmenter.shot, duration=end if final else None, stage_done="visual" if final else None)
            try:
                for future in self.pending:
                    future.result()
            finally:
                if self.text is not None:
                    self.text.close()
        if self.progress:
            self._report(end, done=True)

    def _report(self, position: float, done: bool = False) -> None:
        assert self.progress is not None
        self.progress(Progress(
            "decode+scenes+tags", position, max(self.unit.info.duration, position), self.first_scene + self.segment_idx,
            time.monotonic() - self.started, position - self.unit.start, done,
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
        folder = Path(thumbnail_folder(self.unit.video_id))
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
        resume_time = self.segments[-1].end if self.segments else self.unit.start
        resume_frame = self.segments[-1].end_frame if self.segments else self.unit.start_frame
        samples = [s for s in self.samples if s.time < resume_time - 1e-6]
        self.samples = self.samples[len(samples):]
        segments, first, keyframes = self.segments, self.committed_segments, self.keyframes
        self.segments, self.keyframes = [], []
        self.committed_segments = self.segment_idx
        resume = (resume_time, resume_frame, next_shot)
        # The video's last checkpoint takes every line, also one seen on its very last frame.
        text_future = self.text.rows(math.inf if stage_done else resume_time) if self.text is not None else _no_rows()
        while len(self.pending) >= MAX_PENDING_CHECKPOINTS:
            self.pending.pop(0).result()
        self.pending.append(self.worker.submit(
            self._enrich_and_commit, segments, first, keyframes, samples, text_future, resume, duration, stage_done))

    def _enrich_and_commit(self, segments, first, keyframes, samples, text_future: Future, resume, duration, stage_done) -> None:
        files: dict[str, bytes] = {}
        frames, new_keyframes, texts = self.enricher.frames(samples, keyframes, thumbnail_writer(files, self.settings.thumbnail_width))
        text_rows: TextRows = text_future.result()  # the text thread reads beside the tagger
        self.enricher.embed(text_rows.new)
        # Checkpoints commit in order on this one thread, so a line written by an earlier one has its id now.
        extend = [(line.text_id, end) for line, end in text_rows.extend]
        checkpoint = Checkpoint(
            segments=segments, first_segment_idx=first, keyframes=new_keyframes, frames=frames, texts=texts + text_rows.new,
            extend_texts=extend, embedders=self.enricher.embedders(), resume=resume, duration=duration, stage_done=stage_done,
            files=files,
        )
        ids = self.sink.commit(checkpoint)
        for line, text_id in zip(text_rows.lines, ids[len(texts):]):
            line.text_id = text_id
