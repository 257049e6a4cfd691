"""CLIP image-text embeddings through transformers, by Hugging Face id (e.g. openai/clip-vit-base-patch32).
No CLIP ships in any package, so this needs a network or a local cache; offline, visual search uses tags."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from videoqa.errors import ModelUnavailableError

from .base import normalise


class ClipEmbedder:
    def __init__(self, model: str = "openai/clip-vit-base-patch32", *, loaded=None, processor=None, tokenizer=None) -> None:
        """`loaded`, `processor` and `tokenizer` let a caller hand over objects it built itself
        (a model from a config, a local tokenizer) instead of loading `model` from the hub."""
        self.name = model
        self._model, self._processor, self._tokenizer = loaded, processor, tokenizer
        self.dim = int(loaded.config.projection_dim) if loaded is not None else 512
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                try:
                    from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel
                except ImportError as exc:
                    raise ModelUnavailableError("CLIP needs transformers: pip install transformers") from exc
                try:
                    self._model = CLIPModel.from_pretrained(self.name).eval()
                    self._processor = CLIPImageProcessor.from_pretrained(self.name)
                    self._tokenizer = AutoTokenizer.from_pretrained(self.name)
                except Exception as exc:  # network, cache and format errors come in many types
                    raise ModelUnavailableError(
                        f"Cannot load CLIP model {self.name!r} ({type(exc).__name__}). It downloads from the Hugging Face hub "
                        "on first use: connect to the internet once, or leave --clip unset to search with visual tags."
                    ) from exc
                self.dim = int(self._model.config.projection_dim)
        return self._model

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        model = self._load()
        pixels = self._processor(images=list(images), return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            vectors = model.get_image_features(pixel_values=pixels)
        return normalise(_tensor(vectors).numpy())

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        model = self._load()
        tokens = self._tokenizer(list(texts), padding=True, truncation=True, max_length=77, return_tensors="pt")
        with torch.inference_mode():
            vectors = model.get_text_features(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"])
        return normalise(_tensor(vectors).numpy())


def _tensor(output):
    # transformers 5 may return a model output object instead of a tensor.
    return output if hasattr(output, "numpy") else output.pooler_output
