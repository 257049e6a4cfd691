"""Model interfaces. Each backend implements one or two methods; heavy weights load lazily on first use."""

from __future__ import annotations

import contextlib
import importlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Generic, Protocol, TypeVar, runtime_checkable

import numpy as np
from platformdirs import user_cache_dir

from videoqa.errors import ModelUnavailableError

Loaded = TypeVar("Loaded")


def model_cache() -> Path:
    """Where models assembled or exported from packaged weights are kept (once per machine)."""
    return Path(user_cache_dir("videoqa")) / "models"


@runtime_checkable
class TextEmbedder(Protocol):
    """Sentences in, L2-normalised vectors out."""

    name: str
    dim: int

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class ImageTextEmbedder(Protocol):
    """CLIP-like: images and text queries in one space, both L2-normalised."""

    name: str
    dim: int

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray: ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class FrameTags:
    labels: list[tuple[str, float]]  # (label, probability), best first
    features: np.ndarray  # L2-normalised visual features, for "more like this frame"


@runtime_checkable
class VisualTagger(Protocol):
    name: str
    dim: int

    def tag(self, images: Sequence[np.ndarray]) -> list[FrameTags]: ...


@dataclass(frozen=True)
class OcrLine:
    text: str
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the image


@runtime_checkable
class TextReader(Protocol):
    """On-screen text (OCR)."""

    name: str

    def read(self, image: np.ndarray) -> list[OcrLine]: ...


@dataclass(frozen=True)
class SpeechSegment:
    start: float
    end: float
    text: str


@runtime_checkable
class SpeechRecognizer(Protocol):
    name: str

    def transcribe(self, audio: np.ndarray, sample_rate: int) -> list[SpeechSegment]: ...


# Models exported to ONNX on first use (the tagger, the packaged MiniLM) build a PyTorch model and trace it;
# PyTorch's exporter keeps global state, and ingest's threads may load both at once: one export at a time.
TORCH_EXPORT = threading.Lock()


class LazyModel(ABC, Generic[Loaded]):
    """A backend whose weights load once, on first use, under a lock (tools and ingest threads share one
    instance). Subclasses implement `_load`; `loaded()` returns its result, loading it the first time."""

    def __init__(self) -> None:
        self._loaded: Loaded | None = None
        self._load_lock = threading.Lock()

    @abstractmethod
    def _load(self) -> Loaded:
        """Import the runtime (`require`) and build the model (inside `loading`)."""

    def loaded(self) -> Loaded:
        if self._loaded is None:
            with self._load_lock:
                if self._loaded is None:
                    self._loaded = self._load()
        return self._loaded


def require(module: str, install: str) -> ModuleType:
    """Import an optional dependency, or say in one line what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelUnavailableError(install) from exc


@contextlib.contextmanager
def loading(what: str, hint: str = "") -> Iterator[None]:
    """Turn whatever a loader raises (hub, cache, file and format errors come in many types) into one line."""
    try:
        yield
    except ModelUnavailableError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:160]
        detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        raise ModelUnavailableError(f"Cannot load {what} ({detail}).{' ' + hint if hint else ''}") from exc


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


# -- chat and vision-language models ------------------------------------------------------------------


@dataclass
class Usage:
    """What model calls cost. Added up per question so budgets can be enforced."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    images: int = 0
    seconds: float = 0.0
    cost_usd: float = 0.0

    def add(self, other: "Usage") -> None:
        self.calls += other.calls
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.images += other.images
        self.seconds += other.seconds
        self.cost_usd += other.cost_usd


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict
    raw_arguments: str = ""  # as the model wrote it (kept to report malformed JSON back to it)
    error: str | None = None  # set when the arguments could not be parsed


@dataclass
class ChatMessage:
    role: str  # system | user | assistant | tool
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None


@dataclass
class ChatReply:
    text: str
    tool_calls: list[ToolCall]
    usage: Usage


@dataclass(frozen=True)
class TimedFrame:
    time: float  # seconds into the video
    image: np.ndarray  # RGB uint8


@runtime_checkable
class ChatModel(Protocol):
    """Messages and tool schemas (OpenAI function format) in; text and/or tool calls out."""

    name: str

    def chat(self, messages: Sequence[ChatMessage], tools: Sequence[dict] | None = None) -> ChatReply: ...


@runtime_checkable
class VisionLanguageModel(Protocol):
    """A prompt and timestamped frames in; text out."""

    name: str

    def describe(self, prompt: str, frames: Sequence[TimedFrame]) -> tuple[str, Usage]: ...
