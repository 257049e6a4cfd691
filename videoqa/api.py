"""The Python face of videoqa: `VideoQA` owns a store and the settings; the CLI is a thin layer over it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from videoqa.memory.ingest import ProgressCallback, ingest_video, models_for
from videoqa.memory.search import Moment
from videoqa.memory.search import search as search_moments
from videoqa.errors import QueryError
from videoqa.inputs import check_text
from videoqa.library import LibraryCallback, VideoReport, index_library
from videoqa.models.base import ChatModel
from videoqa.models.budget import Budget

# The agent (LangGraph) is imported where a question is asked: `videoqa index`/`search` never pay for it.
DEFAULT_MAX_STEPS = Budget().max_steps
from videoqa.models.registry import IndexModels, load_chat, load_vlm
from videoqa.tools.context import ToolContext
from videoqa.memory.integrity import Report as StoreReport
from videoqa.memory.integrity import verify as verify_store
from videoqa.memory.store import Store
from videoqa.results import Answer, IndexedVideo, ToolEvent
from videoqa.settings import IndexSettings, Settings
from videoqa.wording import count

VideoRef = str | Path | IndexedVideo


class VideoQA:
    """Index videos once, then search and ask about them.

    >>> vqa = VideoQA(store="~/.cache/videoqa/store")
    >>> video = vqa.index("talk.mp4")
    """

    def __init__(self, store: str | Path | None = None, settings: Settings | None = None, index: IndexSettings | None = None) -> None:
        self.settings = (settings or Settings()).with_store(store)
        if index is not None:
            self.settings = self.settings.replace(index=index)
        self.store = Store(self.settings.store)
        self._context: ToolContext | None = None
        self._compiled = None
        self._checkpointer = None

    def configure_index(self, **changes: object) -> None:
        """Change how later `index` calls work (e.g. `detector="adaptive"`, `sample_fps=2`)."""
        self.settings = self.settings.replace(index=self.settings.index.replace(**changes))

    def index(self, path: str | Path, progress: ProgressCallback | None = None, subtitles: str | Path | bool | None = None) -> IndexedVideo:
        """Index one video file (resumes an interrupted run; a no-op when already indexed). Subtitles come
        from `subtitles` if given, else from .srt/.vtt files beside the video with the same name
        (`subtitles=False`: none)."""
        return ingest_video(self.store, path, self.settings.index, progress, subtitles=subtitles)

    def index_many(self, paths: Iterable[str | Path], progress: ProgressCallback | None = None) -> list[IndexedVideo]:
        return [self.index(p, progress) for p in paths]

    def index_library(self, paths: Iterable[str | Path], workers: int | None = None, address: str | None = None,
                      progress: LibraryCallback | None = None, subtitles: bool | None = None) -> list[VideoReport]:
        """Index every video in `paths` (directories expanded) on Ray: a local cluster of `workers` CPUs, or
        the one at `address` ("auto" finds a running one). The index equals a serial run's. Needs the `ray` extra."""
        return index_library(self.store, paths, self.settings.index, workers, address, progress, subtitles)

    def search(self, video: VideoRef | None, query: str, k: int = 5) -> list[Moment]:
        """Ranked moments for `query` in one video, or across the whole store when `video` is None."""
        ids = None if video is None else [self.video(video).id]
        return search_moments(self.store, self.models(), query, ids, k)

    def models(self) -> IndexModels:
        return models_for(self.settings.index)

    # -- asking -----------------------------------------------------------------------------------
    def chat_model(self) -> ChatModel | None:
        return load_chat(self.settings.models)

    def use_chat(self, model: str, base_url: str | None = None, api_key: str | None = None, vlm: str | None = None) -> None:
        """Answer with this chat model from now on (e.g. on a server started for this process). `base_url`
        and `api_key` default to the configured ones; `vlm` "none" keeps frames away from a text-only model."""
        models = self.settings.models
        self.settings = self.settings.replace(models=models.replace(
            chat_model=model, base_url=base_url or models.base_url, api_key=api_key or models.api_key,
            vlm=models.vlm if vlm is None else vlm))
        self._context = None
        self._compiled = None

    def tool_context(self) -> ToolContext:
        if self._context is None:
            self._context = ToolContext(self.store, self.models(), load_vlm(self.settings.models))
        return self._context

    def ask(self, video: VideoRef | None, question: str, thread: str | None = None, budget: Budget | None = None,
            max_steps: int = DEFAULT_MAX_STEPS) -> Answer:
        """Answer a question about a video (None: about every indexed video; moments name their video), with
        timestamped moments and the evidence behind them. Questions in the same `thread` continue one
        conversation (kept on disk)."""
        result = None
        for item in self.stream(video, question, thread, budget, max_steps):
            result = item
        assert isinstance(result, Answer)
        return result

    def stream(self, video: VideoRef | None, question: str, thread: str | None = None, budget: Budget | None = None,
               max_steps: int = DEFAULT_MAX_STEPS) -> Iterator[ToolEvent | Answer]:
        """Like `ask`, yielding a ToolEvent per tool call as it happens, then the Answer."""
        question = check_text(question)
        if video is None and not self.videos():
            raise QueryError("No video is indexed yet. Index one first: videoqa index PATH")
        video_id = "" if video is None else self.video(video).id
        budget = replace(budget or Budget(), max_steps=max_steps)
        chat = self.chat_model()
        if chat is None:
            yield from self._retrieval(video_id, question, thread)
            return
        from videoqa.agent.run import run_agent

        yield from run_agent(self._graph(chat), video_id, question, thread, budget)

    def _retrieval(self, video_id: str, question: str, thread: str | None) -> Iterator[ToolEvent | Answer]:
        from videoqa.agent.checkpoint import last_moment, remember_moment
        from videoqa.agent.retrieval import retrieval_answer

        saver = self._saver()
        last = last_moment(saver, thread) if thread else None
        if last is not None and video_id and last["video"] != video_id:
            last = None  # the thread was about another video
        found = retrieval_answer(self.store, self.models(), [video_id] if video_id else None, question, last)
        yield ToolEvent("search_memory", {"query": found.query}, f"searching {found.query!r} … {count(len(found.moments), 'moment')}")
        if thread and found.last is not None:
            remember_moment(saver, thread, found.last)
        usage = {"steps": 0, "model_calls": 0, "frames_sent": 0, "input_tokens": 0, "output_tokens": 0, "seconds": 0.0}
        yield Answer(found.text, found.moments, found.evidence, usage, thread, "retrieval")

    def _saver(self):
        if self._checkpointer is None:
            from videoqa.agent.checkpoint import open_checkpointer

            self._checkpointer = open_checkpointer(self.settings.store)
        return self._checkpointer

    def _graph(self, chat: ChatModel):
        from videoqa.agent.graph import build_graph

        if self._compiled is None or self._compiled[0] != chat.name:
            self._compiled = (chat.name, build_graph(chat, self.tool_context(), self._saver()))
        return self._compiled[1]

    def evaluate(self, dataset: str | Path, mode: str = "search", videos: str | Path | None = None, format: str = "auto",
                 baseline_frames: int = 16, progress=None):
        """Run a question set and report per question and in total (see videoqa.eval)."""
        from videoqa.eval.runner import evaluate

        return evaluate(self, dataset, mode, videos, format, baseline_frames, progress)

    def remove(self, video: VideoRef) -> str:
        """Delete a video's index (rows, vectors, thumbnails); the video file is not touched. Returns its path.
        Refused while another process indexes it."""
        row = self.store.resolve(video.id if isinstance(video, IndexedVideo) else str(video))
        with self.store.lease(row.id, row.path):
            self.store.remove_video(row.id)
        return row.path

    def verify(self) -> StoreReport:
        """Check the store (database, vector caches, thumbnails) and repair what is derived; see memory/integrity.py."""
        return verify_store(self.store)

    def videos(self, include_indexing: bool = False) -> list[IndexedVideo]:
        """Indexed videos; with `include_indexing`, also those whose ingest is under way or was interrupted."""
        return [replace(self.store.indexed_video(row.id), status=row.status) for row in self.store.videos()
                if include_indexing or row.status == "ready"]

    def video(self, ref: VideoRef) -> IndexedVideo:
        """An indexed video by id, id prefix, path or file name."""
        if isinstance(ref, IndexedVideo):
            return ref
        return self.store.indexed_video(self.store.resolve(str(ref)).id)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.conn.close()
        self.store.close()

    def __enter__(self) -> "VideoQA":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
