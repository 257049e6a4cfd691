"""Build long test videos by concatenating real clips (stream copy with PyAV: no re-encoding)."""

from __future__ import annotations

from pathlib import Path

import av

SHARED = Path(__file__).resolve().parents[2] / "shared" / "videos"
if not SHARED.exists():
    SHARED = Path("/work/shared/videos")


def concatenate(parts: list[Path], target: Path) -> Path:
    """Concatenate the video streams of `parts` (same codec and size) into `target`, timestamps shifted."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.mp4")
    with av.open(str(partial), "w") as out:
        template = None
        offset = 0
        for part in parts:
            with av.open(str(part)) as src:
                stream = src.streams.video[0]
                if template is None:
                    template = out.add_stream_from_template(stream)
                last = 0
                for packet in src.demux(stream):
                    if packet.dts is None:
                        continue
                    packet.stream = template
                    packet.pts = (packet.pts or 0) + offset
                    packet.dts += offset
                    last = max(last, packet.pts + (packet.duration or 0))
                    out.mux(packet)
                offset = last
    partial.rename(target)
    return target
