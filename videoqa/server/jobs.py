"""Indexing jobs for the HTTP server: one worker thread indexes the queued files in turn (two cores do
not gain from two ingests at once), and each job keeps its progress for JSON polls and event streams."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from videoqa.api import VideoQA
from videoqa.errors import VideoQAError
from videoqa.memory.ingest import Progress

log = logging.getLogger(__name__)


@dataclass
class Job:
    """One file to index. `state`: queued, indexing, done or failed; `error` says why it failed."""

    id: str
    video: str
    path: str
    state: str = "queued"
    stage: str = ""
    position: float = 0.0
    total: float = 0.0
    scenes: int = 0
    error: str | None = None
    updated: float = field(default_factory=time.time)

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    def to_dict(self) -> dict:
        return {**asdict(self), "fraction": round(self.position / self.total, 4) if self.total else (1.0 if self.state == "done" else 0.0)}


class JobQueue:
    """Queued ingests, run by one worker on its own `VideoQA` (its own SQLite connection; the models are
    shared through the registry's cache). Requests read the same store while a job writes it."""

    def __init__(self, open_api: Callable[[], VideoQA]) -> None:
        self._open_api = open_api
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._changed = threading.Condition()
        self._worker: threading.Thread | None = None

    def submit(self, path: Path, video_id: str) -> Job:
        job = Job(uuid.uuid4().hex[:12], video_id, str(path))
        with self._changed:
            self._jobs[job.id] = job
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="videoqa-index", daemon=True)
                self._worker.start()
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def active(self) -> list[Job]:
        return [job for job in self._jobs.values() if not job.finished]

    def follow(self, job: Job, timeout: float = 15.0) -> Iterator[dict]:
        """The job's state each time it changes (and at least every `timeout` s), ending with the last."""
        seen = -1.0
        while True:
            with self._changed:
                if job.updated == seen:
                    self._changed.wait(timeout)
                snapshot, seen = job.to_dict(), job.updated
            yield snapshot
            if snapshot["state"] in ("done", "failed"):
                return

    def close(self) -> None:
        if self._worker is not None:
            self._queue.put(None)

    def _update(self, job: Job, **changes: object) -> None:
        with self._changed:
            for name, value in changes.items():
                setattr(job, name, value)
            job.updated = time.time()
            self._changed.notify_all()

    def _run(self) -> None:
        with self._open_api() as vqa:
            while (job := self._queue.get()) is not None:
                self._update(job, state="indexing", stage="loading models")

                def progress(report: Progress, job: Job = job) -> None:
                    self._update(job, stage=report.stage, position=report.position, total=report.total, scenes=report.scenes)

                try:
                    video = vqa.index(job.path, progress=progress)
                    self._update(job, state="done", stage="ready", position=video.duration, total=video.duration,
                                 scenes=len(video.scenes))
                except VideoQAError as exc:
                    self._update(job, state="failed", error=str(exc))
                except Exception as exc:  # the worker must outlive a bad file; the job says what happened
                    log.exception("indexing %s failed", job.path)
                    self._update(job, state="failed", error=f"unexpected error: {type(exc).__name__}: {exc}")
