"""Audio for speech recognition: the first audio track, decoded on its own (not in the picture's pass) and
resampled to 16 kHz mono float32, in windows that each know where they start in the video."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16000


@dataclass
class AudioWindow:
    index: int
    start: float  # seconds on the video's clock: the presentation time of the window's first packet
    samples: np.ndarray  # 16 kHz mono float32


def audio_windows(path: Path, window_seconds: float = 60.0, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[AudioWindow]:
    """Windows of about `window_seconds` (cut at packet boundaries, so the same file always gives the same
    windows), so an hour of audio is never all in memory. Times come from packet timestamps, measured from
    the video stream's start time as frame times are (not from counting samples, which drifts when the
    audio starts late or has gaps). Windows in `skip` are decoded but not resampled or yielded."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return
        stream = container.streams.audio[0]
        clock = container.streams.video[0] if container.streams.video else stream
        origin = float((clock.start_time or 0) * clock.time_base)
        chunks: list[np.ndarray] = []
        start: float | None = None
        index = 0
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        for packet in container.demux(stream):
            if packet.pts is None and packet.size == 0:
                continue  # the demuxer's flush packet
            begins = float(packet.pts * packet.time_base) - origin if packet.pts is not None else None
            if start is None and begins is not None:
                start = max(0.0, begins)
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue
            if index not in skip:
                for frame in frames:
                    chunks.extend(r.to_ndarray().reshape(-1) for r in resampler.resample(frame))
            ends = begins + float((packet.duration or 0) * packet.time_base) if begins is not None else None
            if start is not None and ends is not None and ends - start >= window_seconds:
                if index not in skip:
                    yield _window(index, start, chunks, resampler)
                # A fresh resampler per window: a window decodes the same whether or not the ones before it were.
                resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
                chunks, start, index = [], None, index + 1
        if index not in skip and start is not None:
            window = _window(index, start, chunks, resampler)
            if len(window.samples):
                yield window


def _window(index: int, start: float, chunks: list[np.ndarray], resampler: av.AudioResampler) -> AudioWindow:
    chunks = chunks + [r.to_ndarray().reshape(-1) for r in resampler.resample(None)]
    return AudioWindow(index, start, np.concatenate(chunks) if chunks else np.zeros(0, np.float32))
