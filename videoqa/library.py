"""Index a library on a Ray cluster. Workers (one Ray actor each, models loaded once) compute units of work
(memory/units.py): a video, or a keyframe-cut part of a long one. This process is the one writer: it
commits each finished unit in its own transaction, parts of a video in order, so SQLite stays
single-writer and a killed run resumes after the last committed unit. Ray restarts a worker that dies
and retries its unit; a video that fails is reported and the others go on."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from videoqa.errors import ClusterError, VideoInputError, VideoNotFoundError, VideoQAError
from videoqa.memory.ingest import compute_unit, finish_video, models_for, plan_video
from videoqa.memory.store import Checkpoint, Store
from videoqa.memory.units import StoreSink, Unit
from videoqa.settings import IndexSettings

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = {".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv", ".flv"}
INSTALL_HINT = "Library ingest runs on Ray, which is not installed: pip install 'videoqa[ray]' (or pip install ray)."
RETRIES = 3  # a worker that dies is restarted and its unit retried this often before the video counts as failed


@dataclass
class VideoReport:
    """One line of the summary."""

    path: str
    status: str  # "indexed", "already indexed" or "failed"
    duration: float = 0.0
    units: int = 0
    scenes: int = 0
    seconds: float = 0.0  # wall time its units took on the workers
    error: str = ""
    video_id: str = ""


@dataclass
class LibraryProgress:
    videos: int
    videos_done: int = 0
    failed: int = 0
    video_seconds: float = 0.0  # seconds of video to decode in this run
    video_seconds_done: float = 0.0
    elapsed: float = 0.0
    cpu_seconds: float = 0.0  # summed over the workers' units
    commit_seconds: float = 0.0  # the writer's time in commits (what bounds a very large cluster)
    message: str = ""  # a failure, to show on its own line

    @property
    def realtime_factor(self) -> float:
        return self.video_seconds_done / self.elapsed if self.elapsed > 0 else 0.0


LibraryCallback = Callable[[LibraryProgress], None]


def video_files(paths: Iterable[str | Path]) -> list[Path]:
    """Paths as given, with each directory replaced by the video files under it (sorted)."""
    found: list[Path] = []
    for path in paths:
        path = Path(path).expanduser()
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
            if not inside:
                raise VideoNotFoundError(f"{path} is a directory with no video files in it ({', '.join(sorted(VIDEO_SUFFIXES))}). "
                                         "Give video files, or a folder that holds some.")
            found += inside
        else:
            found.append(path)
    return found


class IngestWorker:
    """A Ray actor: builds the models once, then computes units for the writer."""

    def __init__(self, settings: IndexSettings) -> None:
        self.settings = settings
        self.models = models_for(settings)

    def compute(self, unit: Unit) -> tuple[Checkpoint, float, float]:
        """The unit as one checkpoint, with the CPU and wall seconds it took here."""
        cpu, wall = time.process_time(), time.monotonic()
        checkpoint = compute_unit(unit, self.settings, self.models)
        return checkpoint, time.process_time() - cpu, time.monotonic() - wall


def _ray():
    try:
        import ray
    except ImportError:
        raise ClusterError(INSTALL_HINT) from None
    return ray


def connect(workers: int | None, address: str | None) -> tuple[int, bool]:
    """Join the cluster at `address` (or $RAY_ADDRESS, "auto"), else start a local one with `workers` CPUs.
    Returns (workers to start, whether we started Ray here and must shut it down)."""
    ray = _ray()
    if ray.is_initialized():  # a caller (e.g. a test) already connected this process
        return workers or max(1, int(ray.cluster_resources().get("CPU", 1))), False
    address = address or os.environ.get("RAY_ADDRESS") or None
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False, "configure_logging": True}
    try:
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False, _node_ip_address="127.0.0.1", **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"Cannot reach the Ray cluster at {address}: {exc}. Start it with `ray start --head`, "
                           "or pass --workers N without --ray for a local one.") from exc
    return workers or max(1, int(ray.cluster_resources().get("CPU", 1))), True


@dataclass
class _Video:
    report: VideoReport
    units: list[Unit]
    ordered: list[Unit]  # parts still to commit, in order
    buffered: dict[int, Checkpoint] = field(default_factory=dict)
    left: int = 0
    seconds_done: float = 0.0  # of video, committed


def index_library(store: Store, paths: Iterable[str | Path], settings: IndexSettings, workers: int | None = None,
                  address: str | None = None, progress: LibraryCallback | None = None,
                  subtitles: bool | None = None) -> list[VideoReport]:
    """Index every video in `paths` (directories expanded) on a Ray cluster; return one report per video.
    `subtitles=False`: ignore subtitle files beside the videos."""
    ray = _ray()
    count, started_here = connect(workers, address)
    try:
        return _Run(ray, store, settings, progress).run(video_files(paths), count, subtitles)
    finally:
        if started_here:
            ray.shutdown()


class _Run:
    def __init__(self, ray, store: Store, settings: IndexSettings, progress: LibraryCallback | None) -> None:
        self.ray, self.store, self.settings, self.callback = ray, store, settings, progress
        self.models = models_for(settings)  # for model names only: weights load in the workers

    def run(self, files: list[Path], count: int, subtitles: bool | None) -> list[VideoReport]:
        self.state = LibraryProgress(videos=len(files))
        self.started = time.monotonic()
        videos: list[_Video] = []
        try:
            for path in files:
                videos.append(self._plan(path, subtitles))
            todo = [(v, u) for v in sorted(videos, key=lambda v: -v.report.duration) for u in v.units]
            self.state.video_seconds = sum(u.seconds for _, u in todo)
            self._show()
            if todo:
                self._compute(todo, count)
        finally:  # planning took each video's lease; finish_video gave back those of the videos it finished
            for video in videos:
                if video.report.video_id:
                    self.store.release_lease(video.report.video_id)
        return [v.report for v in videos]

    def _plan(self, path: Path, subtitles: bool | None) -> _Video:
        report = VideoReport(str(path), "indexed")
        try:
            job = plan_video(self.store, path, self.settings, False if subtitles is False else None, self.models)
        except VideoInputError as exc:
            return self._failed(_Video(report, [], []), str(exc))
        report.video_id = job.video_id
        video = _Video(report, job.units, [u for u in job.units if u.ordered], left=len(job.units))
        if job.ready:
            report.status = "already indexed"
        if not job.units:
            self._ready(video)
        else:
            report.duration = job.units[0].info.duration
            report.units = len(job.units)
        return video

    def _compute(self, todo: list[tuple[_Video, Unit]], count: int) -> None:
        ray = self.ray
        remote = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(IngestWorker)
        actors = [remote.remote(self.settings) for _ in range(min(count, len(todo)))]
        queue = list(todo)
        running: dict = {}

        def dispatch(actor) -> None:
            while queue:
                video, unit = queue.pop(0)
                if video.report.status == "failed":
                    continue
                running[actor.compute.remote(unit)] = (actor, video, unit)
                return

        for actor in actors:  # two units per worker: the next one is queued while the writer commits
            dispatch(actor)
            dispatch(actor)
        while running:
            (future,), _ = ray.wait(list(running), num_returns=1)
            actor, video, unit = running.pop(future)
            dispatch(actor)
            if video.report.status == "failed":
                continue
            try:
                checkpoint, cpu, wall = ray.get(future)
            except Exception as exc:  # a unit's own error arrives wrapped by Ray; show what it says
                self._failed(video, _reason(exc))
                continue
            self.state.cpu_seconds += cpu
            video.report.seconds += wall
            self._done(video, unit, checkpoint)

    def _done(self, video: _Video, unit: Unit, checkpoint: Checkpoint) -> None:
        if unit.ordered:
            video.buffered[unit.part] = checkpoint
            while video.ordered and video.ordered[0].part in video.buffered:
                part = video.ordered.pop(0)
                self._commit(video, part, video.buffered.pop(part.part))
        else:
            self._commit(video, unit, checkpoint)

    def _commit(self, video: _Video, unit: Unit, checkpoint: Checkpoint) -> None:
        started = time.process_time()
        StoreSink.after_committed(self.store, video.report.video_id, unit.join_at).commit(checkpoint)
        self.state.commit_seconds += time.process_time() - started
        video.left -= 1
        video.seconds_done += unit.seconds
        self.state.video_seconds_done += unit.seconds
        if video.left == 0:
            self._ready(video)
        self._show()

    def _ready(self, video: _Video) -> None:
        report = video.report
        if report.status != "already indexed":
            finish_video(self.store, report.video_id, self.models)
        indexed = self.store.indexed_video(report.video_id)
        report.duration, report.scenes = indexed.duration, len(indexed.scenes)
        self.state.videos_done += 1

    def _failed(self, video: _Video, message: str) -> _Video:
        video.report.status, video.report.error = "failed", message
        self.state.failed += 1
        self.state.video_seconds_done += sum(u.seconds for u in video.units) - video.seconds_done  # no longer to do
        self._show(message if video.report.path in message else f"{video.report.path}: {message}")
        return video

    def _show(self, message: str = "") -> None:
        self.state.elapsed = time.monotonic() - self.started
        self.state.message = message
        if self.callback:
            self.callback(self.state)


def _reason(exc: BaseException) -> str:
    """One line: our own error's message, else the exception's type and first line."""
    cause = getattr(exc, "cause", None) or exc
    if isinstance(cause, VideoQAError):
        return str(cause)
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[-1] if text else ''}".strip()
