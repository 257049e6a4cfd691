"""Subtitles: sidecar .srt/.vtt files (parsed with `srt` and `webvtt-py`) and subtitle streams inside
the container (decoded with PyAV)."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import av

from videoqa.errors import VideoInputError

log = logging.getLogger(__name__)
_TAGS = re.compile(r"<[^>]+>|\{[^}]*\}")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def sidecar_files(video: Path) -> list[Path]:
    """Subtitle files beside the video with the same stem (talk.srt, talk.en.vtt, ...)."""
    by_name: dict[str, Path] = {}
    for candidate in sorted(video.parent.glob(f"{glob_escape(video.stem)}*")):
        if candidate.suffix.lower() in (".srt", ".vtt") and candidate.stem.split(".")[0] == video.stem:
            # talk.srt and talk.vtt are the same subtitles twice: keep one (SRT sorts first).
            by_name.setdefault(candidate.stem.lower(), candidate)
    return list(by_name.values())


def glob_escape(text: str) -> str:
    return re.sub(r"([\[\]*?])", r"[\1]", text)


def read_subtitle_file(path: Path) -> list[Cue]:
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise VideoInputError(f"Cannot read subtitles {path}: {exc.strerror}. Check the path.") from exc
    try:
        if path.suffix.lower() == ".vtt":
            import webvtt

            # Not start_in_seconds: webvtt-py 0.6 rounds it down to whole seconds.
            cues = [Cue(_vtt_seconds(c.start), _vtt_seconds(c.end), c.text) for c in webvtt.from_string(text)]
        else:
            import srt

            cues = [Cue(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in srt.parse(text)]
    except Exception as exc:  # both parsers raise their own error types for malformed files
        raise VideoInputError(f"{path} is not a valid subtitle file ({exc}). Fix it or leave it out.") from exc
    return [c for c in (_clean(c) for c in cues) if c.text]


def _vtt_seconds(timestamp: str) -> float:
    """"01:02:03.500" or "02:03.500" -> seconds."""
    return sum(float(part) * 60**i for i, part in enumerate(reversed(timestamp.split(":"))))


def sources_fingerprint(files: list[Path]) -> list[dict[str, str]]:
    """What the subtitle files given are (path and content hash), kept in the video's fingerprint so that
    adding, changing or dropping one re-indexes the subtitles."""
    return [{"path": str(f.resolve()), "sha256": hashlib.sha256(f.read_bytes()).hexdigest()[:20]} for f in files]


def embedded_cues(video: Path) -> list[Cue]:
    """Text cues of every text subtitle stream in the container."""
    cues: list[Cue] = []
    with av.open(str(video)) as container:
        streams = [s for s in container.streams.subtitles]
        if not streams:
            return cues
        for packet in container.demux(*streams):
            if packet.pts is None:
                continue
            try:
                subtitles = packet.decode()
            except av.FFmpegError as exc:
                log.debug("undecodable subtitle packet: %s", exc)
                continue
            start = float(packet.pts * packet.time_base)
            end = start + float((packet.duration or 0) * packet.time_base)
            for subtitle in subtitles:
                for rect in subtitle.rects if hasattr(subtitle, "rects") else subtitle:
                    text = getattr(rect, "text", None) or _ass_text(getattr(rect, "ass", b""))
                    if text:
                        cues.append(_clean(Cue(start, max(end, start), text)))
    return [c for c in cues if c.text]


def _ass_text(ass: bytes | str) -> str:
    line = ass.decode("utf-8", "replace") if isinstance(ass, bytes) else str(ass)
    # ASS dialogue lines: the text is after the eighth comma.
    parts = line.split(",", 8)
    return parts[-1].replace("\\N", " ") if len(parts) == 9 else line


def _clean(cue: Cue) -> Cue:
    return Cue(cue.start, cue.end, " ".join(_TAGS.sub("", cue.text).split()))
