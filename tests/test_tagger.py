"""The visual tagger: the ONNX export it runs on must tag real frames as PyTorch does."""

from __future__ import annotations

import av
import numpy as np

from videoqa.models.efficientnet_tagger import EfficientNetTagger

from .conftest import video_path


def _frames(name: str, every: int) -> list[np.ndarray]:
    with av.open(str(video_path(name))) as container:
        return [f.to_ndarray(format="rgb24") for i, f in enumerate(container.decode(video=0)) if i % every == 0]


def test_onnx_export_tags_real_frames_like_pytorch(tmp_path):
    images = _frames("bikes", 25)
    onnx = EfficientNetTagger(runtime="onnx", cache=tmp_path).tag(images)
    assert len(list(tmp_path.glob("efficientnet-lite0-*.onnx"))) == 1  # exported once, kept for the next run
    torch = EfficientNetTagger(runtime="torch", cache=tmp_path).tag(images)
    for a, b in zip(onnx, torch):
        assert a.labels[0][0] == b.labels[0][0]
        assert abs(a.labels[0][1] - b.labels[0][1]) < 1e-3
        assert float(a.features @ b.features) > 0.9999
    # bikes.mp4 shows a street with a taxi around 2.5-3.1 s: the frame at 3 s is tagged as one
    assert any(name == "taxicab" for name, _ in onnx[3].labels), onnx[3].labels
    reloaded = EfficientNetTagger(runtime="onnx", cache=tmp_path)
    assert reloaded.tag(images[:1])[0].labels == onnx[0].labels
