"""`videoqa index`, `videoqa list`, `videoqa info`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from videoqa.api import VideoQA
from videoqa.documents import videos_document
from videoqa.errors import VideoInputError
from videoqa.library import video_files
from videoqa.memory.ingest import Progress
from videoqa.settings import DETECTORS, READERS, Settings
from videoqa.wording import clock, count

from .library import run_library
from .output import emit_json, error


def add_commands(commands: argparse._SubParsersAction) -> None:
    index = commands.add_parser("index", help="index video files (resumable; a no-op for indexed files)")
    index.add_argument("paths", nargs="+", metavar="PATH", help="video files, or directories of them")
    index.add_argument("--detector", choices=DETECTORS, help="scene detector (default: content)")
    index.add_argument("--threshold", type=float, help="scene detector threshold (default: the detector's own)")
    index.add_argument("--max-chunk", type=float, help="split scenes longer than this many seconds (default 30)")
    index.add_argument("--fps", type=float, help="frames layer sample rate (default 1)")
    index.add_argument("--reader", choices=READERS, help="decoding backend (default auto)")
    index.add_argument("--subtitles", help="a subtitle file (.srt/.vtt) for the video (default: one beside it with the same name)")
    index.add_argument("--no-subtitles", action="store_true", help="ignore subtitle files beside the video")
    index.add_argument("--clip", metavar="MODEL", help="also embed frames with this CLIP model (Hugging Face id; downloads once)")
    index.add_argument("--no-tags", action="store_true", help="skip visual tags")
    index.add_argument("--no-ocr", action="store_true", help="skip on-screen text")
    index.add_argument("--no-speech", action="store_true", help="skip speech recognition")
    index.add_argument("--speech-model", help="faster-whisper model name (default: the packaged Whisper base)")
    index.add_argument("--split", type=float, metavar="SECONDS",
                       help="cut videos longer than this at keyframes into parts indexed at once (default 1200)")
    index.add_argument("--workers", type=int, metavar="N", help="index on a local Ray cluster of N workers (needs the ray extra)")
    index.add_argument("--ray", nargs="?", const="env", metavar="ADDRESS",
                       help="index on the Ray cluster at ADDRESS (default: $RAY_ADDRESS, else auto: the one running here)")
    index.set_defaults(run=run_index, configure=index_settings)

    listing = commands.add_parser("list", help="list indexed videos")
    listing.set_defaults(run=run_list)

    info = commands.add_parser("info", help="show a video's scenes")
    info.add_argument("video", help="video id, path or file name")
    info.set_defaults(run=run_info)


class ProgressBar:
    """Indexing progress on stderr: a tqdm bar over seconds of video on a terminal; where stderr is a log
    (a file, a pipe, CI) a plain line per tenth of the video or per stage, never a redrawn bar."""

    LOG_STEP = 0.1  # a log line each time another tenth of the video is done

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name = name
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.bar: tqdm | None = None
        self.stage = ""
        self.logged_fraction = -1.0

    def _line(self, report: Progress) -> str:
        line = f"{clock(report.position)}/{clock(report.total)}  {report.stage}"
        if report.stage != "speech":  # the transcript has no scenes, and catches up on its own clock
            line += f"  scenes {report.scenes}"
        if report.processed > 0 and report.elapsed >= 1.0:  # a rate over less than a second is noise
            line += f"  ({report.realtime_factor:.0f}x realtime)"
        return line

    def __call__(self, report: Progress) -> None:
        if self.interactive:
            self._draw(report)
        else:
            self._log(report)
        self.stage = report.stage

    def _draw(self, report: Progress) -> None:
        if self.bar is None or report.stage != self.stage:
            self.close()
            self.bar = tqdm(total=round(report.total, 1), file=self.stream, mininterval=0.25, dynamic_ncols=True,
                            bar_format=f"indexing {self.name} {{bar:24}} {{desc}}")
        self.bar.n = round(min(report.position, report.total), 1)
        self.bar.set_description_str(self._line(report), refresh=True)
        if report.done:
            self.close()

    def _log(self, report: Progress) -> None:
        fraction = min(report.position, report.total) / report.total if report.total > 0 else 1.0
        if report.stage != self.stage:
            self.logged_fraction = -1.0
        if report.done or fraction >= self.logged_fraction + self.LOG_STEP:
            self.logged_fraction = fraction
            print(f"indexing {self.name}  {self._line(report)}{'  done' if report.done else ''}", file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def index_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    """The flags given, over the environment's settings (validated: a bad value is one line naming the flag)."""
    options = {
        "detector": args.detector, "detector_threshold": args.threshold, "max_chunk_seconds": args.max_chunk,
        "sample_fps": args.fps, "reader": args.reader, "clip_model": args.clip, "speech_model": args.speech_model,
        "tags": False if args.no_tags else None, "ocr": False if args.no_ocr else None, "split_seconds": args.split,
    }
    changes = {name: value for name, value in options.items() if value is not None}
    if args.no_speech:
        changes["speech_model"] = None
    return settings.replace(index=settings.index.replace(**changes))


def run_index(vqa: VideoQA, args: argparse.Namespace) -> int:
    if args.workers is not None or args.ray is not None:
        return run_library(vqa, args)
    videos, failures = [], 0
    for path in video_files(args.paths):
        try:
            bar = None if args.json or args.quiet else ProgressBar(Path(path).name)
            video = vqa.index(path, progress=bar, subtitles=False if args.no_subtitles else args.subtitles)
        except VideoInputError as exc:
            failures += 1
            error(str(exc))
            continue
        videos.append(video)
        if not args.json:
            print(f"{video.id}  {Path(video.path).name}  {clock(video.duration)}  {count(len(video.scenes), 'scene')}  "
                  f"{count(video.keyframes, 'keyframe')}  {count(video.frames, 'frame')}")
    if args.json:
        emit_json(videos_document(videos))
    return 1 if failures else 0


def run_list(vqa: VideoQA, args: argparse.Namespace) -> int:
    videos = vqa.videos(include_indexing=True)
    if args.json:
        emit_json(videos_document(videos))
        return 0
    if not videos:
        print("No videos indexed yet. Try: videoqa index VIDEO")
    for v in videos:
        status = "" if v.status == "ready" else f"  ({v.status})"
        print(f"{v.id}  {clock(v.duration):>8}  {len(v.scenes):4d} scenes  {v.path}{status}")
    return 0


def run_info(vqa: VideoQA, args: argparse.Namespace) -> int:
    video = vqa.video(args.video)
    if args.json:
        emit_json(video.to_dict())
        return 0
    print(f"{video.path}\n  id {video.id}  {clock(video.duration)}  {video.width}x{video.height}  {video.fps:.3f} fps  "
          f"{video.keyframes} keyframes  {video.frames} frames")
    for i, s in enumerate(video.scenes):
        print(f"  {i:4d}  {s.start:9.3f}–{s.end:9.3f} s  frames {s.start_frame}–{s.end_frame}  shot {s.shot}")
    return 0
