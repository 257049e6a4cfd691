"""Audio for speech recognition: the first audio track, decoded and resampled to 16 kHz mono float32."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16000


def audio_windows(path: Path, window_seconds: float = 600.0) -> Iterator[tuple[float, np.ndarray]]:
    """(offset, samples) windows of the audio track, so an hour of audio is never all in memory."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        held = 0
        offset = 0.0
        window = int(window_seconds * SAMPLE_RATE)
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue
            for frame in frames:
                for resampled in resampler.resample(frame):
                    samples = resampled.to_ndarray().reshape(-1)
                    chunks.append(samples)
                    held += len(samples)
            if held >= window:
                audio = np.concatenate(chunks)
                yield offset, audio[:window]
                chunks, held, offset = [audio[window:]], len(audio) - window, offset + window_seconds
        for resampled in resampler.resample(None):
            chunks.append(resampled.to_ndarray().reshape(-1))
        if chunks and sum(len(c) for c in chunks):
            yield offset, np.concatenate(chunks)
