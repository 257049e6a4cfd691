"""Settings: one dataclass, filled from defaults, then environment variables, then explicit arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from platformdirs import user_cache_dir

STORE_ENV = "VIDEOQA_STORE"


def default_store_dir() -> Path:
    """The store directory: $VIDEOQA_STORE if set, else the user's cache dir."""
    env = os.environ.get(STORE_ENV)
    return Path(env).expanduser() if env else Path(user_cache_dir("videoqa")) / "store"


@dataclass(frozen=True)
class IndexSettings:
    """How a video is indexed. Stored with each video so a later run can tell what it was built with."""

    reader: str = "auto"  # "auto" (decord, PyAV where decord cannot open the file), "decord" or "pyav"
    detector: str = "content"  # PySceneDetect detector: content, adaptive, hash, histogram, threshold
    detector_threshold: float | None = None  # None: the detector's own default
    min_scene_len: int = 15  # frames, as PySceneDetect counts them
    max_chunk_seconds: float = 30.0  # longer scenes are split into chunks of at most this long
    split_seconds: float = 1200.0  # longer videos are cut at keyframes into parts computed at once (0: never)
    sample_fps: float = 1.0  # the frames layer
    keyframes_per_chunk: int = 3  # at most; short chunks get fewer
    thumbnail_width: int = 320
    detect_width: int = 160  # scene detection runs on frames this wide
    text_model: str = "all-MiniLM-L6-v2"  # packaged offline; any sentence-transformers name online
    tags: bool = True  # visual tags and features (EfficientNet-Lite0, packaged)
    clip_model: str | None = None  # e.g. "openai/clip-vit-base-patch32" (downloads from the hub)
    ocr: bool = True  # on-screen text on keyframes (RapidOCR, packaged)
    speech_model: str | None = "whisper-base-packaged"  # None: no transcript; or any faster-whisper name

    def fingerprint(self) -> dict[str, object]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class ModelSettings:
    """Chat and vision models. A chat model counts as configured when OPENAI_API_KEY or OPENAI_BASE_URL is set."""

    chat_model: str = field(default_factory=lambda: _env("VIDEOQA_CHAT_MODEL") or "gpt-4o")
    base_url: str | None = field(default_factory=lambda: _env("OPENAI_BASE_URL"))
    api_key: str | None = field(default_factory=lambda: _env("OPENAI_API_KEY"))
    # VLM: "" = the chat server's model when one is configured; "none"; "openai:MODEL"; "transformers:HF_ID"
    vlm: str = field(default_factory=lambda: _env("VIDEOQA_VLM") or "")
    timeout: float = 60.0
    max_retries: int = 2
    image_size: int = 512  # long side of frames sent to a VLM
    image_detail: str = "low"

    @property
    def chat_configured(self) -> bool:
        return bool(self.api_key or self.base_url)


@dataclass(frozen=True)
class Settings:
    store: Path = field(default_factory=default_store_dir)
    index: IndexSettings = field(default_factory=IndexSettings)
    models: ModelSettings = field(default_factory=ModelSettings)

    def with_store(self, store: str | Path | None) -> "Settings":
        return self if store is None else replace(self, store=Path(store).expanduser())
