"""PyAV reader: decodes everything, tolerates corrupt packets, gives exact presentation times."""

from __future__ import annotations

import heapq
import logging
import queue
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from .base import DecodedFrame, VideoInfo, VideoReader, scaled_size

log = logging.getLogger(__name__)

REORDER_DEPTH = 8  # frames; H.264 reorders fewer than this in practice (see _display_times)
AHEAD = 8  # frames a skimming reader decodes ahead of its caller (~1.4 MB each at 720p)


class PyAVFrame(DecodedFrame):
    def __init__(self, frame: av.VideoFrame, index: int, time: float) -> None:
        self._frame = frame
        self.index = index
        self.time = time

    def rgb(self, width: int) -> np.ndarray:
        w, h = scaled_size(self._frame.width, self._frame.height, width)
        return _scaler(w, h).reformat(self._frame, width=w, height=h, format="rgb24").to_ndarray()

    def detect_image(self, width: int) -> np.ndarray:
        frame = self._frame
        if frame.format.name not in ("yuv420p", "yuvj420p"):
            return super().detect_image(width)
        # Shrink the planes directly: much cheaper than a scaler call on every frame of the video.
        w, h = scaled_size(frame.width, frame.height, width)
        half = ((frame.height + 1) // 2, (frame.width + 1) // 2)
        planes = [_shrunk(_plane(frame, 0, frame.height, frame.width), w, h),
                  _shrunk(_plane(frame, 1, *half), w, h), _shrunk(_plane(frame, 2, *half), w, h)]
        return cv2.transform(cv2.merge(planes), _LIMITED_RANGE_YUV_TO_BGR)


# BT.601 with video (16-235) levels, as FFmpeg's scaler converts; OpenCV's YUV2BGR assumes full range, which
# shifts hue and saturation enough to hide real cuts from the content detector. Rows: B, G, R from Y, U, V, 1.
_LIMITED_RANGE_YUV_TO_BGR = np.array([
    [1.164, 2.018, 0.0, -16 * 1.164 - 128 * 2.018],
    [1.164, -0.391, -0.813, -16 * 1.164 + 128 * (0.391 + 0.813)],
    [1.164, 0.0, 1.596, -16 * 1.164 - 128 * 1.596],
], np.float32)


_scalers = threading.local()


def _scaler(width: int, height: int) -> VideoReformatter:
    """This thread's scaler to `width` x `height`. `frame.reformat` sets up a scaler context for every frame
    (0.5-0.7 ms of a 1.2-2 ms conversion of a 720p frame); one kept per thread and output size is set up once
    and converts to the same pixels. Per thread: a context is used without the GIL, and two threads sharing
    one crashed the process (SIGSEGV)."""
    kept = _scalers.__dict__.setdefault("by_size", {})
    if (width, height) not in kept:
        kept[(width, height)] = VideoReformatter()
    return kept[(width, height)]


def _shrunk(plane: np.ndarray, width: int, height: int) -> np.ndarray:
    """`plane` averaged down to width x height. Four or more times larger, every other pixel is skipped first:
    the average over what is left differs little (the detectors compare whole-frame statistics), and reading
    a quarter of the pixels halves the cost on every frame of the video."""
    if plane.shape[1] >= 4 * width and plane.shape[0] >= 4 * height:
        plane = plane[::2, ::2]
    return cv2.resize(plane, (width, height), interpolation=cv2.INTER_AREA)


def _plane(frame: av.VideoFrame, i: int, rows: int, cols: int) -> np.ndarray:
    plane = frame.planes[i]
    return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:rows, :cols]


class PyAVReader(VideoReader):
    """With `skim` (ingest's pass over every frame: scene cuts, the text gate), frames that no other frame is
    predicted from are not deblocked. That is 8% of decoding bbb.mp4 (its B-frames); the frames differ by a
    fraction of a grey level, and every other frame decodes exactly, as nothing is predicted from the ones
    left blockier. bbb.mp4's scenes, keyframes and samples come out the same. A skimming reader also decodes
    on a thread of its own, a few frames ahead of the pass (see `_decoded_ahead`)."""

    BACKEND_NAME = "pyav"

    def iter_frames(self, start_time: float = 0.0, start_index: int = 0) -> Iterator[DecodedFrame]:
        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            if self.skim:
                stream.thread_count = 1  # see _decoded_ahead
                stream.codec_context.options = {"skip_loop_filter": "noref"}
            else:
                stream.thread_type = "AUTO"
            time_base = float(stream.time_base)
            origin = (stream.start_time or 0) * time_base
            if start_time > 0:
                container.seek(int((start_time + origin) / time_base), stream=stream, backward=True)
            index = start_index
            last_time = -1.0
            step = 1.0 / (self.info.fps or 25.0)
            depth = REORDER_DEPTH if stream.codec_context.has_b_frames else 0
            frames = _decoded_ahead(container, stream) if self.skim else _decoded(container, stream)
            try:
                for frame, pts in _display_times(frames, depth):
                    time = last_time + step if pts is None else pts * time_base - origin
                    if time < start_time - 1e-6 or time <= last_time:
                        continue
                    last_time = time
                    yield PyAVFrame(frame, index, time)
                    index += 1
            finally:
                frames.close()  # the decoding thread stops before the container closes


def _decoded(container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.FFmpegError as exc:  # a corrupt packet: skip it, keep the rest of the video
            log.debug("skipping undecodable packet at %s: %s", packet.pts, exc)
            continue
        yield from frames


_END = object()


def _decoded_ahead(container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
    """`_decoded`, run on a thread of its own a few frames ahead of the caller. The decoder itself then runs on
    one thread: FFmpeg's frame threads cost 15 CPU-s to decode bbb.mp4 where one thread takes 12, and decoding
    still runs beside the caller's work on each frame (FFmpeg calls run without the GIL)."""
    frames: queue.Queue = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()

    def put(item: object) -> bool:
        """Hand `item` to the caller; False once the caller has stopped reading."""
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for frame in _decoded(container, stream):
                if not put(frame):
                    return
            put(_END)
        except BaseException as exc:  # raised again on the caller's thread
            put(exc)

    worker = threading.Thread(target=produce, name="videoqa-decode", daemon=True)
    worker.start()
    try:
        while (item := frames.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _display_times(frames: Iterator[av.VideoFrame], depth: int) -> Iterator[tuple[av.VideoFrame, int | None]]:
    """Each frame with its presentation timestamp. The decoder emits frames in display order, but a container
    without real presentation times (AVI with B-frames) labels them in decode order (1, 2, 4, 3, 6, 5, ...):
    within a window of `depth` frames the k-th frame out takes the smallest timestamp not yet given, which
    leaves files with proper timestamps exactly as they are."""
    waiting: deque[av.VideoFrame] = deque()
    stamps: list[int] = []
    for frame in frames:
        waiting.append(frame)
        if frame.pts is not None:
            heapq.heappush(stamps, frame.pts)
        if len(waiting) > depth:
            yield waiting.popleft(), heapq.heappop(stamps) if stamps else None
    while waiting:
        yield waiting.popleft(), heapq.heappop(stamps) if stamps else None


class NoVideoStream(Exception):
    """The container opened but holds no video stream."""


def probe(path: Path) -> VideoInfo:
    """Read the container's metadata; raises av errors for files that are not videos."""
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise NoVideoStream(str(path))
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        if container.duration:
            duration = container.duration / av.time_base
        elif stream.duration:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = 0.0
        frame_count = stream.frames or int(round(duration * fps))
        return VideoInfo(
            duration=duration,
            fps=fps,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            frame_count=frame_count,
            has_audio=bool(container.streams.audio),
            subtitle_streams=len(container.streams.subtitles),
        )
