"""decord reader: fast random access by frame index, decoding at a reduced size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from videoqa.errors import UnreadableVideoError

from .base import DecodedFrame, VideoInfo, VideoReader, scaled_size

try:
    import decord
except ImportError:  # pragma: no cover - decord has no wheel for some platforms
    decord = None

# Frames are decoded at this width: enough for thumbnails, taggers and VLM inputs, and much cheaper
# than full resolution.
DECODE_WIDTH = 640


class DecordFrame(DecodedFrame):
    def __init__(self, image: np.ndarray, index: int, time: float) -> None:
        self._image = image
        self.index = index
        self.time = time

    def rgb(self, width: int) -> np.ndarray:
        h, w = self._image.shape[:2]
        if width >= w:
            return self._image
        tw, th = scaled_size(w, h, width)
        return cv2.resize(self._image, (tw, th), interpolation=cv2.INTER_AREA)

    def detect_image(self, width: int) -> np.ndarray:
        return cv2.cvtColor(self.rgb(width), cv2.COLOR_RGB2BGR)


class DecordReader(VideoReader):
    BACKEND_NAME = "decord"

    def __init__(self, path: Path, info: VideoInfo, skim: bool = False) -> None:
        if decord is None:
            raise ImportError("decord is not installed: pip install decord")
        super().__init__(path, info, skim)
        w, h = scaled_size(info.width, info.height, DECODE_WIDTH)
        self._reader = decord.VideoReader(str(path), width=w, height=h, num_threads=2)
        # Presentation times of every frame, so variable-frame-rate files are timed right.
        self._times = self._reader.get_frame_timestamp(range(len(self._reader)))[:, 0].astype(float)
        if not len(self._times) or self._times[0] < -1e-3 or np.any(np.diff(self._times) <= 0):
            # e.g. an AVI with B-frames: decord reports no usable times there, where PyAV reconstructs them.
            raise UnreadableVideoError(f"decord cannot tell when the frames of {path.name} are shown; use --reader pyav or auto.")

    def iter_frames(self, start_time: float = 0.0, start_index: int = 0) -> Iterator[DecodedFrame]:
        first = int(np.searchsorted(self._times, start_time - _slack(start_time)))
        if first >= len(self._times):
            return
        self._reader.seek(first)
        for offset, position in enumerate(range(first, len(self._times))):
            image = self._reader.next().asnumpy()
            yield DecordFrame(image, start_index + offset, float(self._times[position]))

    def frames_at(self, times: Sequence[float], width: int) -> list[tuple[float, np.ndarray]]:
        if not times:
            return []
        wanted = np.asarray(sorted(times), dtype=float)
        positions = np.clip(np.searchsorted(self._times, wanted + _slack(wanted)) - 1, 0, len(self._times) - 1)
        batch = self._reader.get_batch(list(map(int, positions))).asnumpy()
        return [(float(self._times[p]), DecordFrame(img, int(p), 0.0).rgb(width)) for p, img in zip(positions, batch)]

    def close(self) -> None:
        del self._reader


def _slack(seconds):
    """How far decord's times may sit from the exact ones: it keeps them as float32, whose rounding reaches
    3e-5 s ten minutes in, so the exact time of a frame (as PyAV and the index have it) may fall just before
    decord's copy of it. Two float32 steps, far below any frame interval."""
    return 1e-6 + 2 * np.spacing(np.abs(np.float32(seconds)), dtype=np.float32).astype(float)
