"""The Python face of videoqa: `VideoQA` owns a store and the settings; the CLI is a thin layer over it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from videoqa.memory.ingest import ProgressCallback, ingest_video, models_for
from videoqa.memory.search import Moment
from videoqa.memory.search import search as search_moments
from videoqa.models.registry import IndexModels
from videoqa.memory.store import Store
from videoqa.results import IndexedVideo
from videoqa.settings import IndexSettings, Settings

VideoRef = str | Path | IndexedVideo


class VideoQA:
    """Index videos once, then search and ask about them.

    >>> vqa = VideoQA(store="~/.cache/videoqa/store")
    >>> video = vqa.index("talk.mp4")
    """

    def __init__(self, store: str | Path | None = None, settings: Settings | None = None, index: IndexSettings | None = None) -> None:
        self.settings = (settings or Settings()).with_store(store)
        if index is not None:
            self.settings = Settings(store=self.settings.store, index=index)
        self.store = Store(self.settings.store)

    def configure_index(self, **changes: object) -> None:
        """Change how later `index` calls work (e.g. `detector="adaptive"`, `sample_fps=2`)."""
        self.settings = replace(self.settings, index=replace(self.settings.index, **changes))

    def index(self, path: str | Path, progress: ProgressCallback | None = None, subtitles: str | Path | bool | None = None) -> IndexedVideo:
        """Index one video file (resumes an interrupted run; a no-op when already indexed). Subtitles come
        from `subtitles` if given, else from .srt/.vtt files beside the video with the same name
        (`subtitles=False`: none)."""
        return ingest_video(self.store, path, self.settings.index, progress, subtitles=subtitles)

    def index_many(self, paths: Iterable[str | Path], progress: ProgressCallback | None = None) -> list[IndexedVideo]:
        return [self.index(p, progress) for p in paths]

    def search(self, video: VideoRef | None, query: str, k: int = 5) -> list[Moment]:
        """Ranked moments for `query` in one video, or across the whole store when `video` is None."""
        ids = None if video is None else [self.video(video).id]
        return search_moments(self.store, self.models(), query, ids, k)

    def models(self) -> IndexModels:
        return models_for(self.settings.index)

    def videos(self) -> list[IndexedVideo]:
        return [self.store.indexed_video(row.id) for row in self.store.videos() if row.status == "ready"]

    def video(self, ref: VideoRef) -> IndexedVideo:
        """An indexed video by id, id prefix, path or file name."""
        if isinstance(ref, IndexedVideo):
            return ref
        return self.store.indexed_video(self.store.resolve(str(ref)).id)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "VideoQA":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
