"""`videoqa clip VIDEO START END -o FILE`: a moment as an MP4; and the clips of an answer's moments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from videoqa.api import VideoQA
from videoqa.clips import clip_file_name, export_clip
from videoqa.errors import QueryError
from videoqa.results import Answer

from .output import emit_json


def seconds(text: str) -> float:
    """`83.5`, `1:23.5` or `0:01:23.5` as seconds."""
    try:
        value = 0.0
        for part in text.split(":"):
            value = value * 60 + float(part)
        return value
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time: use seconds (83.5) or m:ss (1:23.5)") from None


def add_commands(commands: argparse._SubParsersAction) -> None:
    clip = commands.add_parser("clip", help="cut a span of a video into an MP4 file")
    clip.add_argument("video", help="video id, path or file name (an indexed video, or any video file)")
    clip.add_argument("start", type=seconds, help="start time: seconds or m:ss")
    clip.add_argument("end", type=seconds, help="end time: seconds or m:ss")
    clip.add_argument("-o", "--output", help="the MP4 file to write (default: NAME_START-END.mp4 here)")
    clip.set_defaults(run=run_clip)


def _source(vqa: VideoQA, ref: str) -> Path:
    path = Path(ref).expanduser()
    return path if path.is_file() else Path(vqa.video(ref).path)


def run_clip(vqa: VideoQA, args: argparse.Namespace) -> int:
    source = _source(vqa, args.video)
    out = Path(args.output) if args.output else Path(clip_file_name(source, args.start, args.end))
    if out.suffix.lower() != ".mp4":
        raise QueryError(f"The clip is written as MP4: give -o a name ending in .mp4 (got {out.name}).")
    written = export_clip(source, args.start, args.end, out)
    if args.json:
        emit_json({"clip": str(written), "start": args.start, "end": args.end})
    elif not args.quiet:
        print(written)
    return 0


def export_answer_clips(vqa: VideoQA, answer: Answer, directory: str | Path) -> list[Path]:
    """One MP4 per moment of the answer in `directory`; each path is reported on stderr."""
    written = []
    for moment in answer.moments:
        source = Path(vqa.video(moment["video"]).path)
        path = export_clip(source, moment["start"], moment["end"], Path(directory) / clip_file_name(source, moment["start"], moment["end"]))
        print(f"clip {path}", file=sys.stderr)
        written.append(path)
    return written
