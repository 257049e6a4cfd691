"""The reader interface: one sequential pass for ingest, random access for inspecting moments."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


LOOKBACK_SECONDS = 1.0  # frames_at starts decoding this far before the first time it is asked for


@dataclass(frozen=True)
class VideoInfo:
    duration: float
    fps: float  # nominal (average) rate; frame times come from presentation timestamps
    width: int
    height: int
    frame_count: int  # estimate from the container
    has_audio: bool
    subtitle_streams: int


class DecodedFrame(ABC):
    """One decoded frame. Images are produced on demand, so a pass pays only for what it uses."""

    index: int
    time: float

    @abstractmethod
    def rgb(self, width: int) -> np.ndarray:
        """The frame as an RGB uint8 array `width` pixels wide (aspect kept)."""

    def detect_image(self, width: int) -> np.ndarray:
        """A small BGR image for scene detection (PySceneDetect's detectors expect BGR)."""
        return cv2.cvtColor(self.rgb(width), cv2.COLOR_RGB2BGR)


class VideoReader(ABC):
    BACKEND_NAME: str = ""

    def __init__(self, path: Path, info: VideoInfo, skim: bool = False) -> None:
        """`skim`: the reader serves a pass that looks at every frame once, small (ingest's), and may decode
        less exactly where that saves work (see `PyAVReader`); a backend with nothing to save ignores it."""
        self.path = path
        self.info = info
        self.skim = skim

    @abstractmethod
    def iter_frames(self, start_time: float = 0.0, start_index: int = 0) -> Iterator[DecodedFrame]:
        """Every frame from `start_time` on, in presentation order. `start_index` numbers the first one
        (the caller knows it when resuming at a frame it has seen before)."""

    def frames_at(self, times: Sequence[float], width: int) -> list[tuple[float, np.ndarray]]:
        """The frames showing at `times` (sorted ascending), as (frame time, RGB image) pairs: for each time, the
        last frame starting at or before it (the first frame for a time before the video starts)."""
        wanted = sorted(times)
        if not wanted:
            return []
        # Start a little before the first time, so the frame already showing then is seen; where that frame
        # starts earlier still (a long gap in a variable-rate file, a time past the end), look further back.
        lookback = LOOKBACK_SECONDS
        while True:
            start = max(0.0, min(wanted[0], self.info.duration) - lookback)
            found = self._showing(wanted, width, start)
            if found is not None:
                return found
            lookback *= 4

    def _showing(self, wanted: list[float], width: int, start: float) -> list[tuple[float, np.ndarray]] | None:
        found: list[tuple[float, np.ndarray]] = []
        previous: DecodedFrame | None = None
        pending = iter(wanted)
        target = next(pending)
        for frame in self.iter_frames(start_time=start):
            if previous is None and start > 0 and frame.time > target + 1e-6:
                return None  # the frame showing at `target` started before `start`
            while target is not None and frame.time > target + 1e-6:
                chosen = previous if previous is not None else frame
                found.append((chosen.time, chosen.rgb(width)))
                target = next(pending, None)
            if target is None:
                break
            previous = frame
        if previous is None and start > 0:
            return None  # no frame at or after `start`: the last one started before it
        while target is not None and previous is not None:
            found.append((previous.time, previous.rgb(width)))
            target = next(pending, None)
        return found

    def close(self) -> None:  # optional hook
        pass


def scaled_size(width: int, height: int, target_width: int) -> tuple[int, int]:
    """(w, h) `target_width` wide with the aspect kept, both even (codecs and scalers like even sizes)."""
    target_width = min(target_width, width)
    target_height = max(2, round(height * target_width / width / 2) * 2)
    return max(2, target_width // 2 * 2), target_height
