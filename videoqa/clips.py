"""Clip export: the span [start, end) of a video as an MP4, cut with PyAV.

Cuts are exact: decoding starts at the keyframe before `start` and frames are re-encoded from `start` on
(a stream copy could only start at a keyframe, seconds early). Short clips re-encode in about real time
or faster. The file is written beside its destination and renamed into place, so a failed cut leaves
nothing half-written."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av

from videoqa.errors import QueryError, UnreadableVideoError, VideoNotFoundError

MAX_CLIP_SECONDS = 600.0  # a clip is a moment, not the film: longer spans are refused
_VIDEO_ENCODERS = ("libx264", "libopenh264", "h264", "mpeg4")  # first available; H.264 plays in every browser
_TIME_BASE = Fraction(1, 90000)


def clip_file_name(video_path: str | Path, start: float, end: float) -> str:
    """`talk_12.5-20.0.mp4`: the source's name and the span, so clips of one video sort by time."""
    return f"{Path(video_path).stem}_{start:.1f}-{end:.1f}.mp4"


def export_clip(source: str | Path, start: float, end: float, out: str | Path) -> Path:
    """Write [start, end) seconds of `source` to the MP4 file `out` and return its path. The end is clamped
    to the video's duration."""
    source, out = Path(source), Path(out)
    if not source.is_file():
        raise VideoNotFoundError(f"The video file {source} is missing. Index it again from where it is now.")
    if not (start >= 0 and end > start):
        raise QueryError(f"A clip needs 0 <= START < END (got {start:g} to {end:g}).")
    if end - start > MAX_CLIP_SECONDS:
        raise QueryError(f"A clip may be at most {MAX_CLIP_SECONDS:.0f} s long (asked for {end - start:.0f} s). Cut a shorter span.")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.part")
    try:
        with av.open(str(source)) as container:
            _cut(container, start, end, partial)
    except av.FFmpegError as exc:
        partial.unlink(missing_ok=True)
        raise UnreadableVideoError(f"Cannot cut {source.name}: {exc}. Check that the file plays.") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out)
    return out


def _cut(container: av.container.InputContainer, start: float, end: float, partial: Path) -> None:
    if not container.streams.video:
        raise UnreadableVideoError("The file has no video stream to cut.")
    video_in = container.streams.video[0]
    audio_in = container.streams.audio[0] if container.streams.audio else None
    duration = float(container.duration / av.time_base) if container.duration else None
    if duration is not None:
        if start >= duration:
            raise QueryError(f"The clip starts at {start:g} s, after the video's end ({duration:.1f} s).")
        end = min(end, duration)
    with av.open(str(partial), "w", format="mp4") as output:
        video = _VideoWriter(output, video_in, start)
        audio = _AudioWriter(output, audio_in, start) if audio_in is not None else None
        streams = [video_in] + ([audio_in] if audio_in is not None else [])
        container.seek(int(start / float(video_in.time_base)), stream=video_in, backward=True, any_frame=False)
        finished: set[int] = set()
        for packet in container.demux(streams):
            if packet.stream.index in finished:
                continue
            for frame in packet.decode():
                if frame.time is None or frame.time < start:
                    continue
                if frame.time >= end:
                    finished.add(packet.stream.index)
                    break
                (video if packet.stream.type == "video" else audio).write(frame)
            if len(finished) == len(streams):
                break
        video.flush()
        if audio is not None:
            audio.flush()
    if video.frames == 0:
        raise QueryError(f"No frame of the video lies in {start:g}–{end:g} s.")


class _VideoWriter:
    def __init__(self, output: av.container.OutputContainer, source: av.video.stream.VideoStream, start: float) -> None:
        codec = next(name for name in _VIDEO_ENCODERS if name in av.codecs_available)
        rate = source.average_rate or source.guessed_rate or Fraction(25)
        self.stream = output.add_stream(codec, rate=rate)
        self.stream.width = source.codec_context.width // 2 * 2  # yuv420p needs even sizes
        self.stream.height = source.codec_context.height // 2 * 2
        self.stream.pix_fmt = "yuv420p"
        self.stream.codec_context.time_base = _TIME_BASE
        if codec == "libx264":
            self.stream.options = {"preset": "veryfast", "crf": "23"}
        self.start = start
        self.last_pts = -1
        self.frames = 0

    def write(self, frame: av.VideoFrame) -> None:
        pts = round((frame.time - self.start) / _TIME_BASE)
        if pts <= self.last_pts:  # a repeated timestamp would stop the muxer
            return
        image = frame.reformat(width=self.stream.width, height=self.stream.height, format="yuv420p")
        image.pts, image.time_base = pts, _TIME_BASE
        self.last_pts = pts
        self.frames += 1
        self.stream.container.mux(self.stream.encode(image))

    def flush(self) -> None:
        self.stream.container.mux(self.stream.encode(None))


class _AudioWriter:
    """Re-encodes to AAC in the encoder's frame size, with timestamps counted in samples from the cut."""

    def __init__(self, output: av.container.OutputContainer, source: av.audio.stream.AudioStream, start: float) -> None:
        rate = source.codec_context.sample_rate or 48000
        layout = "stereo" if (source.codec_context.channels or 2) >= 2 else "mono"
        self.stream = output.add_stream("aac", rate=rate)
        self.stream.layout = layout
        self.resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        self.fifo = av.AudioFifo()
        self.rate = rate
        self.samples = 0
        self.start = start

    def write(self, frame: av.AudioFrame) -> None:
        for converted in self.resampler.resample(frame):
            converted.pts = None  # the FIFO only checks continuity of what we give it; we count samples ourselves
            self.fifo.write(converted)
        self._drain(self.stream.codec_context.frame_size or 1024)

    def _drain(self, size: int, final: bool = False) -> None:
        while self.fifo.samples >= size or (final and self.fifo.samples):
            chunk = self.fifo.read(min(size, self.fifo.samples))
            chunk.pts, chunk.time_base = self.samples, Fraction(1, self.rate)
            self.samples += chunk.samples
            self.stream.container.mux(self.stream.encode(chunk))

    def flush(self) -> None:
        self._drain(self.stream.codec_context.frame_size or 1024, final=True)
        self.stream.container.mux(self.stream.encode(None))
