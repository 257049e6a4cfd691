"""Checks a file before anything is written: every way a file can fail becomes one clear error."""

from __future__ import annotations

from pathlib import Path

import av

from videoqa.errors import UnreadableVideoError, VideoNotFoundError

from .readers import NoVideoStream, VideoInfo, probe


def check_video(path: str | Path) -> tuple[Path, VideoInfo]:
    """Resolve `path` and read its metadata, or raise a VideoInputError saying what is wrong."""
    resolved = Path(path).expanduser()
    if not resolved.exists():
        raise VideoNotFoundError(f"{path}: no such file. Check the path.")
    if resolved.is_dir():
        raise VideoNotFoundError(f"{path} is a directory. Give video files instead, e.g. videoqa index {path}/*.mp4")
    resolved = resolved.resolve()
    if resolved.stat().st_size == 0:
        raise UnreadableVideoError(f"{path} is empty (0 bytes). Copy or download it again.")
    try:
        info = probe(resolved)
    except NoVideoStream:
        raise UnreadableVideoError(f"{path} has no video stream (audio or data only). Give a file with video.") from None
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise UnreadableVideoError(
            f"{path} is not a video file that can be read ({_reason(exc)}). It may be truncated or of another type; "
            "check it plays, or re-download it."
        ) from exc
    _check_decodes(resolved, info, str(path))
    return resolved, info


def _check_decodes(path: Path, info: VideoInfo, shown: str) -> None:
    """Decode a frame at the start and one near the end: a truncated file fails the second."""
    for fraction in (0.0, 0.97):
        target = info.duration * fraction
        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                if target > 0:
                    container.seek(int(target / stream.time_base) + (stream.start_time or 0), stream=stream)
                if _first_frame(container, stream) is None:
                    raise UnreadableVideoError(
                        f"{shown}: no picture can be decoded {'at the start' if fraction == 0 else 'near the end'}; "
                        "the file looks truncated or corrupt. Re-download or re-encode it."
                    )
        except av.FFmpegError as exc:
            raise UnreadableVideoError(
                f"{shown} cannot be decoded ({_reason(exc)}); the file looks truncated or corrupt. Re-download or re-encode it."
            ) from exc


def _first_frame(container: av.container.InputContainer, stream: av.VideoStream):
    for packet in container.demux(stream):
        try:
            for frame in packet.decode():
                return frame
        except av.FFmpegError:
            continue
    return None


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(";")[0].strip().rstrip(".")
