"""Model interfaces. Each backend implements one or two methods; heavy weights load lazily on first use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


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


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
