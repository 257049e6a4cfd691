"""CLIP image-text embeddings through transformers, by Hugging Face id (e.g. openai/clip-vit-base-patch32).
No CLIP ships in any package, so this needs a network or a local cache; offline, visual search uses tags."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .base import LazyModel, loading, normalise, require


class ClipEmbedder(LazyModel):
    def __init__(self, model: str = "openai/clip-vit-base-patch32", *, loaded=None, processor=None, tokenizer=None) -> None:
        """`loaded`, `processor` and `tokenizer` let a caller hand over objects it built itself
        (a model from a config, a local tokenizer) instead of loading `model` from the hub."""
        super().__init__()
        self.name = model
        self.dim = int(loaded.config.projection_dim) if loaded is not None else 512
        if loaded is not None:
            self._loaded = (loaded, processor, tokenizer)

    def _load(self):
        transformers = require("transformers", "CLIP needs transformers: pip install transformers")
        with loading(f"CLIP model {self.name!r}", "It downloads from the Hugging Face hub on first use: connect to the "
                     "internet once, or leave --clip unset to search with visual tags."):
            model = transformers.CLIPModel.from_pretrained(self.name).eval()
            processor = transformers.CLIPImageProcessor.from_pretrained(self.name)
            tokenizer = transformers.AutoTokenizer.from_pretrained(self.name)
        self.dim = int(model.config.projection_dim)
        return model, processor, tokenizer

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        import torch

        model, processor, _ = self.loaded()
        pixels = processor(images=list(images), return_tensors="pt")["pixel_values"]
        with torch.inference_mode():
            vectors = model.get_image_features(pixel_values=pixels)
        return normalise(_tensor(vectors).numpy())

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        model, _, tokenizer = self.loaded()
        tokens = tokenizer(list(texts), padding=True, truncation=True, max_length=77, return_tensors="pt")
        with torch.inference_mode():
            vectors = model.get_text_features(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"])
        return normalise(_tensor(vectors).numpy())


def _tensor(output):
    # transformers 5 may return a model output object instead of a tensor.
    return output if hasattr(output, "numpy") else output.pooler_output
